"""The optional ``archive`` object of a package: carried along, never read by evaluation."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from kaoping.engine.cli import main, run
from kaoping.engine.errors import PackageError
from kaoping.engine.package import ARCHIVE_FORMAT, dump_package, load_package

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "branch_annual.json"


def example() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return data


def archived() -> dict[str, Any]:
    data = example()
    stored = run(copy.deepcopy(data), explanations=False)["results"]
    data["archive"] = {
        "format": ARCHIVE_FORMAT,
        "fingerprint": "0" * 64,
        "results": [{"target": r["target"], "total": r["total"]} for r in stored],
        "evidence": [{"sha256": "a" * 64, "size": 1, "uses": []}],
    }
    return data


def test_an_archive_evaluates_to_the_same_numbers(tmp_path: Path) -> None:
    data = archived()
    path, out = tmp_path / "archive.json", tmp_path / "result.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert main([str(path), "--out", str(out)]) == 0
    again = json.loads(out.read_text(encoding="utf-8"))["results"]
    assert [(r["target"], r["total"]) for r in again] == [
        (r["target"], r["total"]) for r in data["archive"]["results"]
    ]
    assert "archive" not in json.dumps(again)  # evaluation ignores the archive


def test_load_keeps_the_archive_and_dump_writes_it_back() -> None:
    data = archived()
    pkg = load_package(data)
    assert pkg.archive == data["archive"]
    dumped = dump_package(pkg.tree, pkg.targets, pkg.inputs, pkg.settings, archive=pkg.archive)
    assert dumped["archive"] == data["archive"]
    assert "archive" not in dump_package(pkg.tree, pkg.targets, pkg.inputs, pkg.settings)
    assert load_package(example()).archive is None


@pytest.mark.parametrize(
    ("archive", "path"),
    [([], "$.archive"), ({}, "$.archive.format"), ({"format": "x/1"}, "$.archive.format")],
)
def test_a_malformed_archive_is_refused(archive: Any, path: str) -> None:
    data = example()
    data["archive"] = archive
    with pytest.raises(PackageError) as err:
        load_package(data)
    assert str(err.value).startswith(path)


def test_other_unknown_top_level_fields_are_still_errors() -> None:
    data = example()
    data["archives"] = {}
    with pytest.raises(PackageError, match=r"\$\.archives"):
        load_package(data)
