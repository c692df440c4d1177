"""A reviewer scores in the grid with the keyboard; autosave, bounds, reasons, submit; the
organizer reopens the sheet."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kaoping.collection import review_services as services

from ..factories import PASSWORD
from ..review_fixtures import review_setup
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def _td(page, label):
    return page.locator(f'td.kp-cell:has([aria-label="{label}"])')


def test_reviewer_grid_keyboard_autosave_reason_submit_reopen(page, tree, organizer):
    setup = review_setup(tree, organizer)
    reviewer = setup.reviewer
    login(page, reviewer.username, PASSWORD)
    page.goto(f"/collect/review/{setup.campaign.pk}/")
    expect(page.get_by_test_id("sheet-status")).to_contain_text("评分中")

    first = page.get_by_label("办公室党支部 1.1")
    first.click()
    first.fill("10")
    first.press("ArrowRight")  # leaving the cell saves it
    grade = page.get_by_label("办公室党支部 1.2")
    expect(grade).to_be_focused()
    expect(_td(page, "办公室党支部 1.1")).to_have_class(_has("kp-saved"))
    # The side panel follows the focus: criteria of 1.2.
    expect(page.get_by_test_id("review-panel")).to_contain_text("按好、较好、一般、差评定等次")
    page.keyboard.press("1")  # the first grade (好)
    expect(grade).to_have_value("好")
    expect(_td(page, "办公室党支部 1.2")).to_have_class(_has("kp-saved"))
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("财务处党支部 1.2")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    second = page.get_by_label("财务处党支部 1.1")
    expect(second).to_be_focused()

    second.fill("12")
    second.press("Enter")
    expect(_td(page, "财务处党支部 1.1").locator(".kp-err")).to_have_text("分数应在 0 至 10 之间")

    second.focus()
    second.fill("8")
    second.press("Enter")
    error = _td(page, "财务处党支部 1.1").locator(".kp-err")
    expect(error).to_contain_text("必须填写扣分理由")
    panel = page.get_by_test_id("review-panel")
    expect(panel).to_contain_text("财务处党支部")
    expect(panel).to_contain_text("每缺一次扣 2 分")
    panel.get_by_label("扣分理由").fill("学习记录缺一次")
    panel.get_by_role("button", name="保存").click()
    expect(_td(page, "财务处党支部 1.1")).to_have_class(_has("kp-saved"))
    expect(error).to_have_count(0)
    expect(page.locator('tr:has([aria-label="财务处党支部 1.1"]) [data-total]')).to_have_text("8")

    page.reload()
    expect(page.get_by_label("办公室党支部 1.1")).to_have_value("10")
    expect(page.get_by_label("财务处党支部 1.1")).to_have_value("8")
    expect(page.get_by_label("办公室党支部 1.2")).to_have_value("好")

    # The multi-item deduction is entered in the panel.
    page.get_by_label("办公室党支部 1.3").click()
    panel.get_by_label("未按时召开支委会（每次 1 分）").fill("0")
    panel.get_by_label("未按时开展主题党日（每次 2 分）").fill("0")
    panel.get_by_role("button", name="保存").click()
    expect(page.get_by_label("办公室党支部 1.3")).to_have_value("0")

    for code, kw in (("2.3", {"score": "40"}),):
        services.save_score(
            actor=reviewer, target=setup.targets["a1"], indicator=setup.indicators[code], **kw
        )
    for code, kw in (
        ("1.2", {"grade": "好"}),
        ("1.3", {"occurrences": {"a": 0, "b": 0}}),
        ("2.3", {"score": "40"}),
    ):
        services.save_score(
            actor=reviewer, target=setup.targets["a2"], indicator=setup.indicators[code], **kw
        )
    page.reload()
    expect(page.get_by_test_id("filled")).to_have_text("8")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="提交评分表").click()
    expect(page.get_by_test_id("sheet-status")).to_contain_text("已提交")
    expect(page.get_by_label("办公室党支部 1.1")).to_be_disabled()

    page.context.clear_cookies()
    login(page, organizer.username, PASSWORD)
    page.goto(f"/collect/review/{setup.campaign.pk}/sheets/")
    sheets = page.get_by_test_id("review-sheets")
    expect(sheets).to_contain_text("已提交")
    sheets.get_by_placeholder("退回理由").fill("请复核 1.1")
    sheets.get_by_role("button", name="退回修改").click()
    expect(page.get_by_role("alert").first).to_contain_text("已退回")

    page.context.clear_cookies()
    login(page, reviewer.username, PASSWORD)
    page.goto(f"/collect/review/{setup.campaign.pk}/")
    expect(page.get_by_test_id("sheet-status")).to_contain_text("评分中")
    expect(page.get_by_label("办公室党支部 1.1")).to_be_enabled()


def _has(cls):
    import re

    return re.compile(rf"(^|\s){cls}(\s|$)")
