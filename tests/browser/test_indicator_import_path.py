"""The issue's path for a new user: import last year's messy 考核评分细则 workbook, fix what the
validation report finds, confirm the rules read from the criteria, set weights by AHP, publish,
and export again (the export imports back to the same system)."""

import pytest
from playwright.sync_api import expect

from kaoping.accounts.models import Role
from kaoping.indicators.models import Indicator, SchemeVersion
from kaoping.indicators.scheme_io import import_scheme
from kaoping.indicators.selectors import canonical

from ..factories import PASSWORD, UserFactory, grant, make_tree
from ..indicator_workbooks import messy_workbook
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def organizer(db):
    tree = make_tree()
    user = UserFactory(username="zhang", full_name="张组织")
    grant(user, Role.ASSESSMENT_ADMIN, tree["root"])
    return user, tree


def test_import_fix_weight_publish_export(page, organizer, tmp_path):
    user, tree = organizer
    login(page, "zhang", PASSWORD)
    page.get_by_role("link", name="指标体系").first.click()
    page.get_by_role("link", name="导入考核评分细则").click()
    page.get_by_label("新指标体系名称").fill("党支部年度考核（2025）")
    page.get_by_label("所属党组织").select_option(label="机关党委")
    page.set_input_files("input[type=file]", str(messy_workbook(tmp_path / "评分细则.xlsx")))
    page.get_by_role("button", name="上传并导入").click()

    # The import warns that 组织建设's items do not add up to its stated 20 points.
    expect(page.get_by_role("alert").filter(has_text="导入提醒")).to_contain_text(
        "一级指标“组织建设”标明 20 分，其下级指标分值合计 17 分"
    )
    version = SchemeVersion.objects.get(scheme__name="党支部年度考核（2025）")

    # Publishing is refused; the validation report names the problems.
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="发布").click()
    errors = page.get_by_test_id("publish-errors")
    expect(errors).to_contain_text("下级指标分值合计 17，与其分值 20 不一致")
    expect(errors).to_contain_text("末级指标未填写评分标准")
    page.get_by_role("link", name="校验报告").first.click()
    report = page.get_by_test_id("validation-report")
    expect(report.locator("#validation-errors")).to_contain_text("党费收缴")
    expect(report.locator("#coverage")).to_contain_text("党建业务融合")
    page.go_back()

    # Fix 党费收缴: its points (3 → 6) and its missing criteria, inline.
    dues = Indicator.objects.get(version=version, name="党费收缴")
    page.get_by_role("button", name=f"编辑 {dues.code}", exact=True).click()
    form = page.locator("form.kp-indicator-form")
    form.locator("[name=points]").fill("6")
    form.locator("[name=criteria]").fill("党费按时足额交纳，未按时交纳的每人次扣0.5分，扣完为止。")
    form.get_by_role("button", name="保存").click()
    expect(page.locator("form.kp-indicator-form")).to_have_count(0)
    organization = Indicator.objects.get(version=version, name__startswith="组织建设")
    expect(page.get_by_test_id(f"sum-{organization.code}")).to_have_text("20 / 20")

    # Confirm every rule read from the criteria text.
    confirm = page.get_by_role("button", name="确认采用")
    while confirm.count():
        before = confirm.count()
        confirm.first.click()
        expect(confirm).to_have_count(before - 1)
    assert not Indicator.objects.filter(version=version).exclude(proposed_rule={}).exists()

    # Weights of 政治建设's three items by AHP: a consistent matrix is applied as points.
    political = Indicator.objects.get(version=version, name__startswith="政治建设")
    page.goto(f"/schemes/versions/{version.pk}/ahp/?parent={political.pk}")
    page.locator("[name=a_0_1]").select_option("2")
    page.locator("[name=a_0_2]").select_option("2")
    page.locator("[name=a_1_2]").select_option("1")
    expect(page.get_by_test_id("ahp-message")).to_contain_text("一致性检验通过")
    page.get_by_role("button", name="应用权重").click()
    expect(page.get_by_test_id(f"sum-{political.code}")).to_have_text("15 / 15")
    points = sorted(
        Indicator.objects.filter(parent=political).values_list("points", flat=True), reverse=True
    )
    assert float(points[0]) == pytest.approx(7.5) and sum(points) == 15

    # Publish.
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="发布").click()
    expect(page.get_by_test_id("version-status")).to_have_text("已发布")
    version.refresh_from_db()
    assert version.is_published

    # Export, and the exported workbook imports back to the same system.
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").click()
    exported = tmp_path / "export.xlsx"
    download.value.save_as(exported)
    again = import_scheme(
        actor=user, source=str(exported), filename="export.xlsx", owner=tree["root"],
        name="回读",
    )  # fmt: skip
    assert again.ok and not again.warnings
    strip = lambda doc: doc["indicators"]  # noqa: E731
    assert strip(canonical(again.version)) == strip(canonical(version))
