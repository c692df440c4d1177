"""An organizer builds an indicator system in the browser: create, add a tree, edit inline,
reorder, delete with confirmation, weights by AHP (an inconsistent matrix names the judgment to
revisit), fix what publishing reports, publish; editing is then refused and a new draft copies
the tree."""

import re

import pytest
from playwright.sync_api import expect

from kaoping.accounts.models import Role
from kaoping.indicators.models import SchemeVersion

from ..factories import PASSWORD, UserFactory, grant, make_tree
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def organizer(db):
    tree = make_tree()
    user = UserFactory(username="zhang", full_name="张组织")
    grant(user, Role.ASSESSMENT_ADMIN, tree["root"])
    return user


def open_form(page, button_name):
    page.get_by_role("button", name=button_name).click()
    form = page.locator("form.kp-indicator-form")
    expect(form).to_have_count(1)
    return form


def save(page, form):
    form.get_by_role("button", name="保存").click()
    expect(page.locator("form.kp-indicator-form")).to_have_count(0)


def fill_leaf(form, code, name, *, max_points="10"):
    form.locator("[name=code]").fill(code)
    form.locator("[name=name]").fill(name)
    form.locator("[name=rule_kind]").select_option("rating")
    form.locator("[name=r_max]").fill(max_points)  # shown only for the chosen kind
    form.locator("[name=criteria]").fill(f"{name}：根据实际成效评分")


def codes(page):
    rows = page.locator("#tree-body tr[data-testid^=row-]")
    return [
        t.removeprefix("row-") for t in rows.evaluate_all("rs => rs.map(r => r.dataset.testid)")
    ]


def test_build_weight_publish_and_copy(page, organizer):
    login(page, "zhang", PASSWORD)
    page.get_by_role("link", name="指标体系").first.click()
    page.get_by_role("link", name="新建指标体系").click()
    page.get_by_label("指标体系名称").fill("领导班子年度考核")
    page.get_by_label("考核对象").select_option("cadre")
    page.get_by_label("计分方式").select_option("weights")
    page.get_by_role("button", name="创建").click()
    expect(page.get_by_test_id("version-status")).to_have_text("草稿")

    # Add four level-1 indicators; the rule fields follow the chosen kind.
    for code, name in [("A", "政治建设"), ("B", "组织建设"), ("C", "作风建设"), ("X", "临时指标")]:
        form = open_form(page, "新增一级指标")
        expect(form.locator("[name=r_max]")).to_be_hidden()
        fill_leaf(form, code, name)
        expect(form.locator("[data-example]")).to_contain_text('"max"')
        save(page, form)
    assert codes(page) == ["A", "B", "C", "X"]

    # A child under X, then a field error shown in place, then inline edit.
    page.get_by_role("button", name="添加下级 X", exact=True).click()
    form = page.locator("form.kp-indicator-form")
    fill_leaf(form, "A", "重复编码")
    form.get_by_role("button", name="保存").click()
    expect(form.locator("[data-field-error=code]")).to_contain_text("已存在")
    form.locator("[name=code]").fill("X.1")
    save(page, form)
    assert codes(page) == ["A", "B", "C", "X", "X.1"]
    page.get_by_test_id("row-B").get_by_role("link", name="组织建设").click()
    form = page.locator("form.kp-indicator-form")
    form.locator("[name=name]").fill("组织建设（含党员队伍）")
    save(page, form)
    expect(page.get_by_test_id("row-B")).to_contain_text("组织建设（含党员队伍）")

    # Reorder and delete with a confirmation.
    page.get_by_role("button", name="下移 A", exact=True).click()
    expect(page.get_by_test_id("row-A")).to_have_attribute("data-testid", "row-A")
    page.wait_for_function("document.querySelector('#tree-body tr').dataset.testid === 'row-B'")
    page.get_by_role("button", name="上移 A", exact=True).click()
    page.wait_for_function("document.querySelector('#tree-body tr').dataset.testid === 'row-A'")
    messages = []
    page.once("dialog", lambda d: (messages.append(d.message), d.accept()))
    page.get_by_role("button", name="删除 X", exact=True).click()
    expect(page.get_by_test_id("row-X")).to_have_count(0)
    assert "确定删除“X 临时指标”及其全部下级指标吗" in messages[0]
    assert codes(page) == ["A", "B", "C"]

    # Publishing now is refused: the weights are missing.
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="发布").click()
    expect(page.get_by_test_id("publish-errors")).to_contain_text("未填写权重")

    # AHP: an inconsistent matrix names the judgment to revisit; a consistent one applies.
    page.get_by_role("link", name="一级指标权重（AHP）").click()
    message = page.get_by_test_id("ahp-message")
    page.locator("[name=a_0_1]").select_option("9")
    page.locator("[name=a_1_2]").select_option("9")
    page.locator("[name=a_0_2]").select_option("1/9")
    expect(page.locator("#r_2_0")).to_have_text("9")
    expect(message).to_contain_text("≥ 0.1，请重新考虑“")
    expect(message).to_have_text(re.compile(r"“(政治建设|组织建设（含党员队伍）|作风建设)”与“"))
    expect(page.get_by_role("button", name="应用权重")).to_be_disabled()
    page.locator("[name=a_0_1]").select_option("2")
    page.locator("[name=a_1_2]").select_option("2")
    page.locator("[name=a_0_2]").select_option("4")
    expect(page.locator("#r_1_0")).to_have_text("1/2")
    expect(message).to_contain_text("一致性检验通过")
    page.get_by_role("button", name="应用权重").click()
    expect(page.get_by_test_id("root-totals")).to_contain_text("100%")
    expect(page.get_by_test_id("row-A")).to_contain_text("57.14%")

    # Publish; the tree is then read-only.
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="发布").click()
    expect(page.get_by_test_id("version-status")).to_have_text("已发布")
    expect(page.get_by_role("button", name="编辑 A", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="新增一级指标")).to_have_count(0)
    version = SchemeVersion.objects.get(scheme__name="领导班子年度考核", number=1)
    assert version.is_published and len(version.fingerprint) == 64

    # A new draft copies the tree and can be edited again.
    page.get_by_label("新草稿名称").fill("2025 修订")
    page.get_by_role("button", name="基于此版新建草稿").click()
    expect(page.get_by_test_id("version-status")).to_have_text("草稿")
    assert codes(page) == ["A", "B", "C"]
    expect(page.get_by_role("button", name="编辑 A", exact=True)).to_have_count(1)
