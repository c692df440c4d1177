import json
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from kaoping.audit.actions import Action
from kaoping.audit.models import AuditEntry
from kaoping.indicators.models import Indicator, Scheme
from kaoping.indicators.scheme_doc import canonical_json, version_document
from tests.indicator_workbooks import build

pytestmark = pytest.mark.django_db


def test_import_export_round_trip_by_extension(tree, tmp_path, capsys):
    src = tmp_path / "细则.xlsx"
    build().save(src)
    call_command("scheme", "import", str(src), "--name", "支部考核")
    assert "已导入为新指标体系“支部考核”第 1 版：28 个指标" in capsys.readouterr().out
    scheme = Scheme.objects.get(name="支部考核")
    assert scheme.owner == tree["root"]
    entry = AuditEntry.objects.get(action=Action.IMPORT)
    assert entry.actor_id is None and entry.actor_name == "命令行"
    for fmt in ("xlsx", "json"):
        out = tmp_path / f"out.{fmt}"
        call_command("scheme", "export", "支部考核", str(out), "--version", "1")
        assert "28 个指标" in capsys.readouterr().out
        call_command("scheme", "import", str(out), "--name", "支部考核")
        assert "新草稿" in capsys.readouterr().out
    v1, v2, v3 = scheme.versions.order_by("number")
    assert canonical_json(version_document(v1)) == canonical_json(version_document(v2))
    assert canonical_json(version_document(v1)) == canonical_json(version_document(v3))
    assert json.loads((tmp_path / "out.json").read_text())["format"] == "kaoping.scheme/1"
    assert AuditEntry.objects.filter(action=Action.EXPORT).count() == 2


def test_errors_are_listed_and_nothing_is_written(tree, tmp_path, capsys):
    wb = build()
    wb.active["D4"] = "五分"
    src = tmp_path / "bad.xlsx"
    wb.save(src)
    with pytest.raises(CommandError, match="发现 1 个问题，未写入任何数据"):
        call_command("scheme", "import", str(src), "--name", "坏的")
    out = capsys.readouterr().out
    assert "分值“五分”不是数字" in out and "4" in out
    assert not Scheme.objects.exists() and not Indicator.objects.exists()


def test_warnings_dry_run_and_owner(tree, tmp_path, capsys):
    src = tmp_path / "细则.xlsx"
    build(total=90).save(src)
    call_command("scheme", "import", str(src), "--name", "甲", "--owner", "ZZ1", "--dry-run")
    out = capsys.readouterr().out
    assert "提醒" in out and "合计行为 90 分" in out and "检查通过" in out
    assert not Scheme.objects.exists()
    call_command("scheme", "import", str(src), "--name", "甲", "--owner", "ZZ1")
    assert Scheme.objects.get(name="甲").owner == tree["a"]
    with pytest.raises(CommandError, match="没有编码为"):
        call_command("scheme", "import", str(src), "--name", "乙", "--owner", "NOPE")


def test_bad_arguments(tree, tmp_path):
    with pytest.raises(CommandError, match="只能导入"):
        call_command("scheme", "import", str(tmp_path / "a.csv"), "--name", "x")
    with pytest.raises(CommandError, match="无法打开文件"):
        call_command("scheme", "import", str(tmp_path / "missing.xlsx"), "--name", "x")
    with pytest.raises(CommandError, match="没有名为"):
        call_command("scheme", "export", "无此体系", str(tmp_path / "a.xlsx"))
    with pytest.raises(CommandError, match="扩展名"):
        call_command("scheme", "export", "无此体系", str(tmp_path / "a.txt"))


def test_library_list_and_install(tree, capsys):
    call_command("scheme", "library")
    out = capsys.readouterr().out
    assert "branch_annual" in out and "党组织书记抓基层党建工作述职评议" in out
    call_command("scheme", "install", "branch_annual")
    assert "已从指标库新建“党支部年度工作考核”第 1 版" in capsys.readouterr().out
    call_command("scheme", "install", "branch_annual", "--owner", "ZZ2", "--name", "二总支考核")
    assert Scheme.objects.get(name="二总支考核").owner == tree["b"]
    with pytest.raises(CommandError, match="已有名为"):
        call_command("scheme", "install", "branch_annual")
    with pytest.raises(CommandError, match="指标库中没有"):
        call_command("scheme", "install", "nope")


def test_exit_code_is_1_on_invalid_input(tmp_path):
    bad = tmp_path / "a.csv"
    bad.write_text("x")
    proc = subprocess.run(
        [sys.executable, "-m", "kaoping", "scheme", "import", str(bad), "--name", "x"],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "KAOPING_VAR": str(tmp_path)},
    )
    assert proc.returncode == 1 and "只能导入" in proc.stderr
