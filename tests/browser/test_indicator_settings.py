"""An organizer sets up a draft in the browser: the version settings (grades and thresholds with
rows added and removed, default rater-group weights with a live sum, the 民主测评 scale), direct
entry of points with a live sum that stays red until it matches, and evidence rows added and
removed in the indicator form."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from kaoping.accounts.models import Role
from kaoping.indicators import services
from kaoping.indicators.models import Indicator, SchemeVersion

from ..factories import PASSWORD, UserFactory, grant, make_tree
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)
RED, GREEN = re.compile(r"\btext-danger\b"), re.compile(r"\btext-success\b")


@pytest.fixture
def version(db):
    tree = make_tree()
    user = UserFactory(username="zhang", full_name="张组织")
    grant(user, Role.ASSESSMENT_ADMIN, tree["root"])
    v = services.create_scheme(actor=user, owner=tree["root"], name="党支部年度考核")
    d1 = services.add_indicator(actor=user, version=v, code="D1", name="政治建设", points=60)
    for code, name, points in [("D1.1", "理论学习", 30), ("D1.2", "学习成效", 10)]:
        services.add_indicator(
            actor=user, version=v, parent=d1, code=code, name=name, points=points,
            rule_kind="rating", rule_params={"max": points},
        )  # fmt: skip
    services.add_indicator(actor=user, version=v, code="D2", name="组织建设", points=40)
    return v


def test_settings_weights_and_evidence_rows(page, version):
    login(page, "zhang", PASSWORD)
    page.goto(reverse("indicators:version", args=[version.pk]))
    summary = page.get_by_test_id("version-settings")
    expect(summary).to_contain_text("等次 好/较好/一般/差")

    # ---- settings: grades with rows removed and added, rater weights with a live sum
    page.get_by_role("link", name="版本设置").click()
    page.get_by_label("版本名称").fill("2025 修订")
    page.get_by_role("button", name="删除等次 2", exact=True).click()
    expect(page.get_by_label("等次 2 名称", exact=True)).to_have_value("一般")
    expect(page.get_by_role("button", name="删除等次 4", exact=True)).to_have_count(0)
    grades = page.locator("fieldset", has_text="考核结果等次与分数线")
    grades.get_by_role("button", name="添加一行").click()
    expect(page.get_by_label("等次 4 名称", exact=True)).to_be_focused()
    page.get_by_label("等次 4 名称", exact=True).fill("很差")
    page.get_by_label("等次 3 分数线", exact=True).fill("70")  # above 一般: refused below

    rater_sum = page.get_by_test_id("rater-sum")
    expect(rater_sum).to_have_text("100%")
    expect(rater_sum).to_have_class(GREEN)
    page.get_by_label("机关党委").fill("60")
    expect(rater_sum).to_have_text("60%")
    expect(rater_sum).to_have_class(RED)
    page.get_by_label("党员", exact=True).fill("40")
    expect(rater_sum).to_have_text("100%")
    expect(rater_sum).to_have_class(GREEN)
    page.get_by_label("测评等次 4 系数").fill("20")

    page.get_by_role("button", name="保存设置").click()
    expect(page.locator("[data-field-error=grade_thresholds]")).to_contain_text("“一般”应高于“差”")
    expect(page.get_by_label("党员", exact=True)).to_have_value("40")  # what was typed stays
    page.get_by_label("等次 3 分数线", exact=True).fill("40")
    page.get_by_role("button", name="保存设置").click()
    expect(page.get_by_test_id("version-status")).to_have_text("草稿")
    page.get_by_test_id("version-settings").locator("summary").click()
    expect(page.get_by_test_id("settings-grades")).to_contain_text("差：≥ 40，< 60")
    expect(page.get_by_test_id("settings-grades")).to_contain_text("很差：< 40")
    expect(page.get_by_test_id("settings-raters")).to_contain_text("党员 40%")
    expect(page.get_by_test_id("settings-ballot")).to_contain_text("差 = 20")
    version.refresh_from_db()
    assert version.label == "2025 修订"
    assert version.options["grades"] == ["好", "一般", "差", "很差"]
    assert version.options["grade_thresholds"] == [90, 60, 40]

    # ---- direct entry of the level-1 points: red until they add up to the total
    page.get_by_role("link", name="一级指标分值（直接录入）").click()
    total = page.get_by_test_id("weights-sum")
    expect(total).to_have_text("100")
    expect(total).to_have_class(GREEN)
    page.get_by_label("政治建设").fill("70")
    expect(total).to_have_text("110")
    expect(total).to_have_class(RED)
    page.get_by_label("组织建设").fill("30")
    expect(total).to_have_text("100")
    expect(total).to_have_class(GREEN)
    page.get_by_role("button", name="保存分值").click()
    expect(page.get_by_test_id("row-D1")).to_contain_text("70")
    expect(page.get_by_test_id("sum-D1")).to_have_text("40 / 70")
    expect(page.get_by_test_id("sum-D1")).to_have_class(RED)

    # ---- and of D1's children: refused while they do not add up, saved when they do
    page.get_by_role("link", name="直接录入 D1 的下级指标分值").click()
    expect(total).to_have_text("40")
    expect(total).to_have_class(RED)
    page.get_by_role("button", name="保存分值").click()
    expect(page.get_by_test_id("weights-errors")).to_contain_text(
        "同级指标分值合计 40，应等于“政治建设”的分值 70"
    )
    page.get_by_label("理论学习").fill("52.5")
    page.get_by_label("学习成效").fill("17.5")
    expect(total).to_have_text("70")
    expect(total).to_have_class(GREEN)
    page.get_by_role("button", name="保存分值").click()
    expect(page.get_by_test_id("sum-D1")).to_have_text("70 / 70")
    expect(page.get_by_test_id("sum-D1")).to_have_class(GREEN)
    expect(page.get_by_test_id("root-totals")).to_contain_text("100")

    # ---- evidence rows: added and removed in the form, the 可选 boxes follow their rows
    page.get_by_role("button", name="编辑 D1.1", exact=True).click()
    form = page.locator("form.kp-indicator-form")
    expect(form.locator("input[name=evidence_what]")).to_have_count(1)
    form.get_by_role("button", name="添加一行").click()
    form.get_by_role("button", name="添加一行").click()
    form.get_by_label("佐证材料 1", exact=True).fill("学习记录")
    form.get_by_label("佐证材料 2", exact=True).fill("心得体会")
    form.get_by_label("佐证材料 3", exact=True).fill("考勤表")
    form.get_by_label("佐证材料 3 份数").fill("2")
    form.get_by_label("佐证材料 3 可选").check()
    form.get_by_role("button", name="删除佐证材料 2").click()
    expect(form.get_by_label("佐证材料 2", exact=True)).to_have_value("考勤表")
    expect(form.get_by_label("佐证材料 2 可选")).to_be_checked()
    form.get_by_role("button", name="保存").click()
    expect(page.locator("form.kp-indicator-form")).to_have_count(0)
    leaf = Indicator.objects.get(version=version, code="D1.1")
    assert leaf.evidence == [
        {"what": "学习记录", "count": 1, "optional": False},
        {"what": "考勤表", "count": 2, "optional": True},
    ]
    assert leaf.points == 52.5 and SchemeVersion.objects.get(pk=version.pk).label == "2025 修订"
