import pytest
from django.core.management import CommandError, call_command

from kaoping.audit.actions import Action
from kaoping.audit.models import AuditEntry
from kaoping.organizations.models import Person
from tests.factories import PersonFactory
from tests.xlsx import make_xlsx

pytestmark = pytest.mark.django_db


def write(tmp_path, buf, name="in.xlsx"):
    path = tmp_path / name
    path.write_bytes(buf.getvalue())
    return str(path)


def row(staff_no, org="ZB11", phone=""):
    return [staff_no, "张三", "男", org, "正式党员", "", "否", "", "", phone, "是"]


def test_cli_import_then_export_round_trip(tree, tmp_path, capsys):
    path = write(tmp_path, make_xlsx(None, [row("C1"), row("C2", "ZB21")]))
    call_command("org", "import", path)
    assert "导入完成" in capsys.readouterr().out
    assert Person.objects.filter(staff_no__in=["C1", "C2"]).count() == 2
    entry = AuditEntry.objects.get(action=Action.IMPORT)
    assert entry.actor_id is None and entry.actor_name == "命令行"
    out = str(tmp_path / "out.xlsx")
    call_command("org", "export", out)
    assert "人员 2 人" in capsys.readouterr().out
    call_command("org", "import", out)
    assert "人员 新增 0、修改 0、未变 2" in capsys.readouterr().out


def test_cli_validation_errors_print_a_table_and_fail(tree, tmp_path, capsys):
    path = write(tmp_path, make_xlsx(None, [row("C1", phone="999"), row("C1")]))
    with pytest.raises(CommandError, match="发现 2 个问题"):
        call_command("org", "import", path)
    out = capsys.readouterr().out
    assert "工作表" in out and "手机号" in out and "与第 2 行重复" in out
    assert not Person.objects.filter(staff_no="C1").exists()


def test_cli_dry_run_and_as_user(tree, sub_organizer, tmp_path, capsys):
    path = write(tmp_path, make_xlsx(None, [row("C1")]))
    call_command("org", "import", path, "--dry-run")
    assert "只检查" in capsys.readouterr().out and not Person.objects.exists()
    outside = write(tmp_path, make_xlsx(None, [row("C2", "ZB21")]), "outside.xlsx")
    with pytest.raises(CommandError):
        call_command("org", "import", outside, "--as", "suborg")
    call_command("org", "import", path, "--as", "suborg")
    assert AuditEntry.objects.get(action=Action.IMPORT).actor_id == sub_organizer.pk
    with pytest.raises(CommandError, match="不存在"):
        call_command("org", "export", str(tmp_path / "x.xlsx"), "--as", "nobody")


def test_cli_export_as_user_is_scoped(tree, sub_organizer, tmp_path, capsys):
    PersonFactory(staff_no="B1", organization=tree["b1"])
    PersonFactory(staff_no="A1", organization=tree["a1"])
    call_command("org", "export", str(tmp_path / "x.xlsx"), "--as", "suborg")
    assert "党组织 3 个、人员 1 人" in capsys.readouterr().out


@pytest.mark.django_db
def test_org_init_creates_the_top_level_committee_once():
    from kaoping.organizations.models import Organization

    call_command("org", "init", "JG", "某某机关党委")
    root = Organization.objects.get(code="JG")
    assert root.parent_id is None and root.org_type == "agency_committee"
    assert root.path == f"/{root.pk:08d}/"
    with pytest.raises(CommandError, match="组织编码“JG”已存在"):
        call_command("org", "init", "JG", "重复")
