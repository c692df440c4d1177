import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from kaoping.audit.actions import Action
from kaoping.audit.models import AuditEntry
from kaoping.organizations import workbook as wbk
from kaoping.organizations.exporting import export_workbook
from kaoping.organizations.importing import import_workbook
from kaoping.organizations.models import Organization, OrgStatus, Person, Post, PostTitle
from tests.factories import PersonFactory
from tests.xlsx import PERSON_HEADER, make_xlsx

pytestmark = pytest.mark.django_db

OS, PS = wbk.ORG_SHEET, wbk.PERSON_SHEET


def run(source, actor=None, **kw):
    return import_workbook(actor=actor, source=source, filename="t.xlsx", **kw)


def where(report):
    return {(e.sheet, e.row, e.column) for e in report.errors}


def person(staff_no, name, org, status="正式党员", **kw):
    row = dict(
        zip(
            PERSON_HEADER,
            [staff_no, name, "男", org, status, "", "否", "", "", "", "是"],
            strict=True,
        )
    )
    row.update(kw)
    return list(row.values())


def test_template_is_importable_as_is(db):
    buf = io.BytesIO()
    wbk.template_workbook().save(buf)
    buf.seek(0)
    report = run(buf)
    assert report.ok and report.written
    assert report.counts["orgs"] == {"created": 0, "updated": 0, "unchanged": 0}


def test_good_file_creates_everything_children_before_parents(tree, organizer):
    orgs = [
        # the branch comes before its general branch; the general branch's parent is in the DB
        ["ZB31", "人事处党支部", "党支部", "ZZ3", "人事处", "2020/1/1", "", "", "P001", ""],
        ["ZZ3", "第三党总支", "党总支", "JG", "", dt.date(2019, 5, 1), "正常", None, None, "备注"],
    ]
    people = [
        person("P001", "王书记", "ZB31", 手机号="13800138000"),
        person("P002", "李四", "ZB31", 政治面貌="预备党员", 性别="女"),
        person("P003", "赵群众", "ZB31", 政治面貌="群众", 是否领导干部="是", 干部级别="处级"),
    ]
    report = run(make_xlsx(orgs, people), actor=organizer)
    assert report.ok, report.errors
    assert report.counts == {
        "orgs": {"created": 2, "updated": 0, "unchanged": 0},
        "people": {"created": 3, "updated": 0, "unchanged": 0},
    }
    zz3 = Organization.objects.get(code="ZZ3")
    zb31 = Organization.objects.get(code="ZB31")
    assert zz3.path == f"{tree['root'].path}{zz3.pk:08d}/" and zz3.depth == 1
    assert zb31.path == f"{zz3.path}{zb31.pk:08d}/" and zb31.depth == 2
    assert zb31.founded_on == dt.date(2020, 1, 1) and zz3.note == "备注"
    assert zb31.pinyin_initials == "rscdzb"
    p3 = Person.objects.get(staff_no="P003")
    assert (p3.political_status, p3.is_leading_cadre, p3.cadre_level) == (
        "masses",
        True,
        "division",
    )
    assert Person.objects.get(staff_no="P002").gender == "F"
    post = Post.objects.get(organization=zb31, title=PostTitle.SECRETARY)
    assert post.person.staff_no == "P001" and post.ended_on is None
    entries = AuditEntry.objects.filter(action=Action.IMPORT)
    assert entries.count() == 1
    entry = entries.get()
    assert entry.actor_id == organizer.pk
    assert entry.data["人员"]["created"] == 3 and len(entry.data["明细"]) == 5


def test_bad_rows_report_every_error_and_write_nothing(tree, organizer):
    orgs = [
        ["X1", "甲支部", "党支部", "NOPE", "", "", "", "", "", ""],  # unknown parent
        ["X2", "乙支部", "党支部", "ZB11", "", "2020-13-45", "", "", "", ""],  # type, date
        ["X2", "重复", "党支部", "ZZ1", "", "", "", "", "", ""],  # duplicate code
        ["X3", "丙", "党小组", "ZZ1", "", "", "", "", "", ""],  # unknown type
        ["C1", "循环一", "党委", "C2", "", "", "", "", "", ""],
        ["C2", "循环二", "党委", "C1", "", "", "", "", "", ""],
        ["X4", "", "党支部", "ZZ1", "", "", "已撤销", "", "", ""],  # name, dissolved date
    ]
    people = [
        person("Q1", "张三", "ZB11", 手机号="12345"),  # bad phone
        person("Q1", "张三二", "ZB11"),  # duplicate staff number
        person("Q2", "李四", "ZB11", 政治面貌="党外人士"),  # unknown choice
        person("Q3", "", "ZB11"),  # missing name
        person("Q4", "王五", "ZB11", 干部级别="处级"),  # cadre level for a non-cadre
        person("Q5", "赵六", "NOWHERE"),  # unknown organization
        person("Q6", "钱七", "ZB11", 在册="也许"),  # bad bool
    ]
    before = (Organization.objects.count(), Person.objects.count(), AuditEntry.objects.count())
    report = run(make_xlsx(orgs, people), actor=organizer)
    assert not report.ok and not report.written
    assert where(report) >= {
        (OS, 2, "上级组织编码"),
        (OS, 3, "上级组织编码"),
        (OS, 3, "成立日期"),
        (OS, 4, "组织编码"),
        (OS, 5, "组织类型"),
        (OS, 6, "上级组织编码"),
        (OS, 7, "上级组织编码"),
        (OS, 8, "组织名称"),
        (OS, 8, "撤销日期"),
        (PS, 2, "手机号"),
        (PS, 3, "工号"),
        (PS, 4, "政治面貌"),
        (PS, 5, "姓名"),
        (PS, 6, "干部级别"),
        (PS, 7, "所在党组织编码"),
        (PS, 8, "在册"),
    }
    messages = {}
    for e in report.errors:
        messages[(e.sheet, e.row, e.column)] = (
            messages.get((e.sheet, e.row, e.column), "") + e.message
        )
    assert "NOPE" in messages[(OS, 2, "上级组织编码")]
    assert "党支部不能隶属于党支部" in messages[(OS, 3, "上级组织编码")]
    assert "与第 3 行重复" in messages[(OS, 4, "组织编码")]
    assert "循环" in messages[(OS, 6, "上级组织编码")]
    assert "格式不正确" in messages[(PS, 2, "手机号")]
    assert "与第 2 行重复" in messages[(PS, 3, "工号")]
    after = (Organization.objects.count(), Person.objects.count(), AuditEntry.objects.count())
    assert before == after


def test_reimport_updates_by_code_and_staff_number(tree):
    PersonFactory(staff_no="S1", name="张三", organization=tree["a1"], phone="13800000000")
    PersonFactory(staff_no="S2", name="李四", organization=tree["a1"])
    orgs = [["ZB11", "办公室第一党支部", "党支部", "ZZ1", "", "", "", "", "", ""]]
    people = [
        person("S1", "张三", "ZB12", 手机号="13900000000"),  # moved and new phone
        person("S2", "李四", "ZB11"),  # unchanged
        person("S3", "新人", "ZB11"),
    ]
    report = run(make_xlsx(orgs, people))
    assert report.ok, report.errors
    assert report.counts == {
        "orgs": {"created": 0, "updated": 1, "unchanged": 0},
        "people": {"created": 1, "updated": 1, "unchanged": 1},
    }
    tree["a1"].refresh_from_db()
    assert tree["a1"].name == "办公室第一党支部" and tree["a1"].pinyin_initials.startswith("bgs")
    s1 = Person.objects.get(staff_no="S1")
    assert s1.organization == tree["a2"] and s1.phone == "13900000000"
    entry = AuditEntry.objects.get(action=Action.IMPORT)
    assert entry.actor_name == "命令行"
    changed = [d for d in entry.data["明细"] if d["编号"] == "S1"][0]
    assert changed["变更"]["手机号"] == ["13800000000", "13900000000"]


def test_moving_an_organization_repaths_its_subtree(tree):
    orgs = [
        ["ZZ1", "第一党总支", "党总支", "DW", "", "", "", "", "", ""],  # moved under a new 党委
        ["DW", "直属党委", "党委", "JG", "", "", "", "", "", ""],
    ]
    report = run(make_xlsx(orgs))
    assert report.ok, report.errors
    assert report.counts["orgs"] == {"created": 1, "updated": 1, "unchanged": 0}
    dw = Organization.objects.get(code="DW")
    a, a1 = (Organization.objects.get(code=c) for c in ("ZZ1", "ZB11"))
    assert (
        a.parent == dw and a.path == f"{tree['root'].path}{dw.pk:08d}/{a.pk:08d}/" and a.depth == 2
    )
    assert a1.path == f"{a.path}{a1.pk:08d}/" and a1.depth == 3


def test_title_rows_above_the_header_are_skipped(tree):
    buf = make_xlsx(
        None,
        [PERSON_HEADER, person("S1", "张三", "ZB11")],
        person_header=["2024 年机关党员名册"],
    )
    report = run(buf)
    assert report.ok, report.errors
    assert Person.objects.filter(staff_no="S1").exists()


def test_export_then_import_changes_nothing(tree, organizer):
    PersonFactory(staff_no="007", name="王书记", organization=tree["a1"], phone="010-12345678")
    PersonFactory(staff_no="S2", name="群众乙", organization=tree["b1"], political_status="masses")
    PersonFactory(staff_no="S3", name="调离丙", organization=tree["a2"], is_active=False)
    PersonFactory(
        staff_no="S4", name="处长丁", organization=tree["a2"], is_leading_cadre=True,
        cadre_level="division", business_department="财务处", position="处长",
    )  # fmt: skip
    Post.objects.create(organization=tree["a1"], person=Person.objects.get(staff_no="007"),
                        title=PostTitle.SECRETARY, started_on=dt.date(2020, 1, 1))  # fmt: skip
    dissolved = Organization.objects.get(code="ZB22")
    Organization.objects.filter(pk=dissolved.pk).update(
        status=OrgStatus.DISSOLVED, dissolved_on=dt.date(2023, 6, 30), founded_on="2001-07-01"
    )
    buf = io.BytesIO()
    counts = export_workbook(actor=organizer, target=buf)
    assert counts == {"orgs": 7, "people": 4}
    buf.seek(0)
    report = run(buf, actor=organizer)
    assert report.ok, report.errors
    assert report.counts == {
        "orgs": {"created": 0, "updated": 0, "unchanged": 7},
        "people": {"created": 0, "updated": 0, "unchanged": 4},
    }
    assert report.secretaries == 0
    assert AuditEntry.objects.filter(action=Action.EXPORT).count() == 1


def test_sub_organizer_cannot_import_into_another_subtree(tree, sub_organizer):
    PersonFactory(staff_no="B1", name="外支部", organization=tree["b1"])
    orgs = [
        ["ZB13", "新支部", "党支部", "ZZ1", "", "", "", "", "", ""],  # in scope
        ["ZB23", "越权支部", "党支部", "ZZ2", "", "", "", "", "", ""],  # outside
        ["ZZ2", "改名", "党总支", "JG", "", "", "", "", "", ""],  # outside, existing
        ["ZB12", "财务处党支部", "党支部", "ZZ2", "", "", "", "", "", ""],  # moved out
        ["TOP", "新机关党委", "机关党委", "", "", "", "", "", "", ""],  # new top level
    ]
    people = [
        person("A1", "本支部", "ZB13"),
        person("A2", "越权人", "ZB21"),
        person("B1", "外支部", "ZB11"),  # pulling someone in from outside
    ]
    report = run(make_xlsx(orgs, people), actor=sub_organizer)
    assert where(report) == {
        (OS, 3, "上级组织编码"),
        (OS, 4, "组织编码"),
        (OS, 5, "上级组织编码"),
        (OS, 6, "上级组织编码"),
        (PS, 3, "所在党组织编码"),
        (PS, 4, "工号"),
    }
    assert not Organization.objects.filter(code="ZB13").exists()
    # the same user may import their own subtree
    report = run(make_xlsx(orgs[:1], people[:1]), actor=sub_organizer)
    assert report.ok and Person.objects.get(staff_no="A1").organization.code == "ZB13"


def test_header_variants_labels_and_date_formats(tree):
    orgs = [["ZB14", "党支部", "ZZ1", "2020年1月1日"]]
    people = [["S9", "陈九", "ZB14", "中共党员", "联系电话", 13800138000.0]]
    buf = make_xlsx(
        orgs,
        [r[:5] + [r[5]] for r in [[p[0], p[1], p[2], p[3], "是", p[5]] for p in people]],
        org_header=["编码", "组织类型", "上级编码", "成立时间"],
        person_header=["工号", "姓名", "所在组织编码", "政治面貌", "是否在册", "手机"],
    )
    report = run(buf)
    # 组织名称 is required: the header is missing
    assert (OS, 1, "组织名称") in where(report)
    buf = make_xlsx(
        [["ZB14", "新支部", "支部", "ZZ1", "2020年1月1日"]],
        [["S9", "陈九", "ZB14", "中共党员", "是", 13800138000]],
        org_header=["编码", "名称（必填）", "类型", "上级编码", "成立时间"],
        person_header=["工号*", "姓名", "所在组织编码", "政治面貌", "是否在册", "手机"],
    )
    report = run(buf)
    assert report.ok, report.errors
    assert Organization.objects.get(code="ZB14").founded_on == dt.date(2020, 1, 1)
    assert Person.objects.get(staff_no="S9").phone == "13800138000"


def test_dissolving_needs_no_active_people_and_ends_posts(tree):
    p = PersonFactory(staff_no="S1", organization=tree["b2"])
    Post.objects.create(organization=tree["b2"], person=p, title=PostTitle.SECRETARY)
    orgs = [["ZB22", "信息中心党支部", "党支部", "ZZ2", "", "", "已撤销", "2024-01-01", "", ""]]
    report = run(make_xlsx(orgs))
    assert where(report) == {(OS, 2, "状态")}
    people = [person("S1", p.name, "ZB21")]
    report = run(make_xlsx(orgs, people))
    assert report.ok, report.errors
    tree["b2"].refresh_from_db()
    assert tree["b2"].status == OrgStatus.DISSOLVED
    assert Post.objects.get(person=p).ended_on == dt.date(2024, 1, 1)


def test_type_change_must_fit_existing_children(tree):
    orgs = [["ZZ1", "第一党总支", "党支部", "JG", "", "", "", "", "", ""]]
    report = run(make_xlsx(orgs))
    assert where(report) == {(OS, 2, "组织类型")}


def test_secretary_changes_replace_the_current_one(tree):
    old = PersonFactory(staff_no="S1", organization=tree["a1"])
    PersonFactory(staff_no="S2", organization=tree["a1"])
    PersonFactory(staff_no="S3", organization=tree["a1"], political_status="masses")
    Post.objects.create(organization=tree["a1"], person=old, title=PostTitle.SECRETARY)
    row = ["ZB11", "办公室党支部", "党支部", "ZZ1", "", "", "", "", "S3", ""]
    assert where(run(make_xlsx([row]))) == {(OS, 2, "书记工号")}
    row[8] = "S2"
    report = run(make_xlsx([row]))
    assert report.ok and report.secretaries == 1 and report.counts["orgs"]["updated"] == 1
    current = Post.objects.get(organization=tree["a1"], ended_on__isnull=True)
    assert current.person.staff_no == "S2"


def test_corrupt_and_oversized_files_get_a_clear_message(db, settings):
    report = run(io.BytesIO(b"not an excel file"))
    assert not report.ok and ".xlsx" in report.errors[0].message
    settings.KAOPING_IMPORT_MAX_BYTES = 10
    report = run(make_xlsx([]))
    assert "超过" in report.errors[0].message


def test_dry_run_writes_nothing(tree):
    report = run(make_xlsx(None, [person("S1", "张三", "ZB11")]), dry_run=True)
    assert report.ok and not report.written and report.counts["people"]["created"] == 1
    assert not Person.objects.filter(staff_no="S1").exists()


def test_sub_organizer_round_trip_of_own_export(tree, sub_organizer):
    PersonFactory(staff_no="A1", organization=tree["a1"])
    buf = io.BytesIO()
    export_workbook(actor=sub_organizer, target=buf)
    buf.seek(0)
    report = run(buf, actor=sub_organizer)
    assert report.ok, report.errors
    assert report.counts == {
        "orgs": {"created": 0, "updated": 0, "unchanged": 3},
        "people": {"created": 0, "updated": 0, "unchanged": 1},
    }


def test_export_never_writes_formulas(tree, organizer):
    PersonFactory(staff_no="F1", name='=HYPERLINK("http://x")', organization=tree["a1"])
    buf = io.BytesIO()
    export_workbook(actor=organizer, target=buf)
    ws = load_workbook(io.BytesIO(buf.getvalue()))[PS]
    cell = ws["B2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    buf.seek(0)
    report = run(buf, actor=organizer)
    assert report.ok and report.counts["people"]["unchanged"] == 1
