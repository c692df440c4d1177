"""The JSON package format, the CLI and path-naming errors."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kaoping.engine import ENGINE_VERSION, evaluate
from kaoping.engine.cli import main, run
from kaoping.engine.package import FORMAT_VERSION, dump_package, load_package

from .helpers import random_case

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example(name: str = "branch_annual.json") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.name)
def test_examples_evaluate(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    assert main([str(path), "--out", str(out)]) == 0
    res = json.loads(out.read_text(encoding="utf-8"))
    assert res["format_version"] == "kaoping.result/1"
    assert res["engine_version"] == ENGINE_VERSION
    assert res["results"] and all("target" in r and "total" in r for r in res["results"])
    for r in res["results"]:
        assert abs(r["explanation"]["contribution"] - r["total"]) < 1e-9


def test_branch_example_numbers() -> None:
    res = run(example())
    by = {r["target"]: r for r in res["results"]}
    # B01: D1.1 trimmed means (committee 9.5, leaders 8.75, members (9+8+9)/3, masses 26/3)
    d11 = 10 * (0.4 * 0.95 + 0.2 * 0.875 + 0.3 * 26 / 30 + 0.1 * 26 / 30)
    assert by["B01"]["indicators"]["D1.1"] == pytest.approx(d11)
    assert by["B01"]["total"] == round(d11 + 10 + 30 + 30 + 20, 2)
    # B06 has no 三会一课 value: D2 renormalized over D2.2 (0.93 -> 6) and D2.3 (1/2 -> 2.5)
    assert by["B06"]["dimensions"]["D2"] == pytest.approx((6 + 2.5) * 30 / 15)
    # B04: D3.1 deduction 5*1 + 4*3 = 17 > 15 points: 0 (扣完为止)
    assert by["B04"]["indicators"]["D3.1"] == 0
    # B05 scores highest but its veto caps it at 一般; quota of 好 (34% of 6 = 2) kept
    assert by["B05"]["rank"] == 1 and by["B05"]["grade"] == "一般" and "veto" in by["B05"]["flags"]
    assert by["B03"]["grade"] == "好" and by["B01"]["grade"] == "较好"
    assert by["B03"]["group_rank"] == 1 and by["B01"]["group_rank"] == 2
    assert "too_few_ballots" in by["B02"]["flags"]
    assert res["settings"]["within_group"] == "trimmed_mean"


def test_result_is_deterministic(tmp_path: Path) -> None:
    src = EXAMPLES / "branch_annual.json"
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert main([str(src), "--out", str(a)]) == 0
    assert main([str(src), "--out", str(b)]) == 0
    assert a.read_bytes() == b.read_bytes()


def test_dump_load_round_trip_same_numbers() -> None:
    pkg = load_package(example())
    again = load_package(
        json.loads(
            json.dumps(
                dump_package(pkg.tree, pkg.targets, pkg.inputs, pkg.settings, campaign=pkg.campaign)
            )
        )
    )
    a = evaluate(pkg.tree, pkg.targets, pkg.inputs, pkg.settings)
    b = evaluate(again.tree, again.targets, again.inputs, again.settings)
    assert a.total.tolist() == b.total.tolist()
    assert a.grade.tolist() == b.grade.tolist()


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_dump_load_round_trip_random(seed: int) -> None:
    tree, tg, inputs, st = random_case(seed)
    data = json.loads(json.dumps(dump_package(tree, tg, inputs, st), allow_nan=False))
    pkg = load_package(data)
    a = evaluate(tree, tg, inputs, st)
    b = evaluate(pkg.tree, pkg.targets, pkg.inputs, pkg.settings)
    np.testing.assert_array_equal(a.total, b.total)
    assert a.rank.tolist() == b.rank.tolist()


def test_ahp_weights_in_package() -> None:
    data = {
        "format_version": FORMAT_VERSION,
        "indicators": [
            {"code": "ROOT_A", "ahp": {"matrix": [[1, 3], [1 / 3, 1]]}},
            {"code": "x", "parent": "ROOT_A", "rule": {"kind": "linear", "floor": 0, "target": 1}},
            {"code": "y", "parent": "ROOT_A", "rule": {"kind": "linear", "floor": 0, "target": 1}},
        ],
        "targets": [{"code": "t"}],
        "inputs": {"values": [{"target": "t", "indicator": "x", "value": 1}]},
    }
    res = run(data)
    assert res["results"][0]["total"] == pytest.approx(100)  # y missing: renormalized
    assert res["info"]["ahp"]["ROOT_A"]["weights"] == pytest.approx([0.75, 0.25])
    data["inputs"]["values"].append({"target": "t", "indicator": "y", "value": 0})
    assert run(data)["results"][0]["total"] == pytest.approx(75)


BAD: list[tuple[str, Any, str]] = [
    (
        "format_version",
        ("format_version", "kaoping.package/0"),
        "错误：$.format_version：必须是 'kaoping.package/1'（实际为 'kaoping.package/0'）",
    ),
    (
        "rule max",
        ("indicators", 1, "rule", "max", "ten"),
        "错误：$.indicators[1].rule.max：必须是数字",
    ),
    (
        "rule kind",
        ("indicators", 1, "rule", "kind", "magic"),
        "$.indicators[1].rule.kind：必须是以下之一：rating、grade、",
    ),
    ("parent", ("indicators", 1, "parent", "NOPE"), "$.indicators[1].parent：未知的指标：'NOPE'"),
    (
        "rating value",
        ("inputs", "ratings", 3, "value", 11),
        "$.inputs.ratings[3].value：必须在 0 到 10 之间",
    ),
    (
        "grade label",
        ("inputs", "ratings", 54, "value", "优"),
        "$.inputs.ratings[54].value：必须是以下之一：好、较好、一般、差",
    ),
    (
        "target",
        ("inputs", "values", 2, "target", "B99"),
        "$.inputs.values[2].target：未知的考核对象：'B99'",
    ),
    (
        "occurrence item",
        ("inputs", "occurrences", 0, "item", "x"),
        "$.inputs.occurrences[0].item：指标 D3.1 没有事项 'x'",
    ),
    (
        "ballot grade",
        ("inputs", "ballots", 0, "counts", {"优": 1}),
        "$.inputs.ballots[0].counts.优：未知的测评等次：'优'",
    ),
    (
        "setting",
        ("settings", "within_group", "mode"),
        "$.settings.within_group：必须是以下之一：mean、median、trimmed_mean",
    ),
    ("unknown field", ("indicators", 0, "weigth", 3), "$.indicators[0].weigth：不是已知的字段"),
    (
        "veto grade",
        ("indicators", 2, "veto", {"effect": "ceiling", "grade": "优"}),
        "$.indicators[2].veto.grade：必须是以下之一：好、较好、一般、差",
    ),
    (
        "bands",
        ("indicators", 5, "rule", "bands", [{"score": 3}]),
        "$.indicators[5].rule.bands[0].min：必须填写（越大越好的指标按下限 min 分档）",
    ),
]


def _set(data: Any, path: tuple[Any, ...]) -> None:
    *keys, last, value = path
    for k in keys:
        data = data[k]
    data[last] = value


@pytest.mark.parametrize(("name", "change", "message"), BAD, ids=[b[0] for b in BAD])
def test_malformed_packages_name_the_path(
    name: str,
    change: tuple[Any, ...],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = copy.deepcopy(example())
    _set(data, change)
    src = tmp_path / "bad.json"
    src.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert main([str(src), "--out", str(tmp_path / "out.json")]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert err.startswith("错误：$.") and err.count("\n") == 1, err
    assert not (tmp_path / "out.json").exists()


def test_invalid_json_and_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "bad.json"
    src.write_text("{", encoding="utf-8")
    assert main([str(src)]) == 2
    assert capsys.readouterr().err.startswith("错误：$：不是有效的 JSON（第 1 行第 2 列：")
    assert main([str(tmp_path / "none.json")]) == 2
    assert capsys.readouterr().err == f"错误：无法读取 {tmp_path / 'none.json'}：文件不存在\n"


def test_python_dash_m(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "kaoping.engine",
            str(EXAMPLES / "branch_annual.json"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["results"][0]["target"] == "B01"


def test_package_error_keeps_path_and_chinese_message() -> None:
    from kaoping.engine import PackageError

    data = copy.deepcopy(example())
    data["indicators"][1]["rule"]["max"] = "ten"
    with pytest.raises(PackageError) as exc:
        load_package(data)
    assert exc.value.path == "$.indicators[1].rule.max"
    assert exc.value.message == "必须是数字"
    assert str(exc.value) == "$.indicators[1].rule.max：必须是数字"


def test_every_engine_message_is_chinese() -> None:
    """Each EngineError / PackageError raised in the engine's source carries Chinese text."""
    import ast
    import re

    src = Path(__file__).resolve().parents[2] / "src" / "kaoping" / "engine"
    cjk = re.compile(r"[\u4e00-\u9fff]")
    # names bound to Chinese messages elsewhere (constants and helpers)
    indirect = {"one_of", "NEGATIVE_MESSAGE", "FINITE_MESSAGE", "WEIGHTING_MESSAGE", "str"}
    bad = []
    for path in sorted(src.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("EngineError", "PackageError")
                and node.args
            ):
                continue
            msg = node.args[-1]
            text = ast.unparse(msg)
            named = isinstance(msg, ast.Call | ast.Name) and any(n in text for n in indirect)
            if not (cjk.search(text) or named):
                bad.append(f"{path.name}:{node.lineno}: {text}")
    assert bad == []
