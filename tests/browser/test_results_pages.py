"""The result pages in the browser: the organizer computes (a background job whose progress the
page polls), sorts the ranking, opens a target's result (explanation tree, radar chart) and
submits; the approver (a leader, a second account) signs in and approves."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from kaoping.results.models import ResultSet, ResultStatus

from ..factories import PASSWORD
from ..results_fixtures import scored_campaign
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_compute_rank_explain_submit_approve(page, tree, organizer):
    setup = scored_campaign(tree, organizer)
    campaign = setup.campaign
    approver = setup.extra["approver"]
    ranking = f"/results/campaign/{campaign.pk}/"

    login(page, "organizer", PASSWORD)
    page.goto(f"/campaigns/{campaign.pk}/")
    page.get_by_test_id("tab-results").click()
    expect(page.get_by_test_id("no-results")).to_be_visible()
    page.get_by_label("计算原因").fill("评审结束后首次计算")
    page.get_by_test_id("compute").click()
    # the job runs in a thread; the page polls it and reloads with the result
    expect(page.get_by_text(re.compile("已完成第 1 次计算"))).to_be_visible()
    rows = page.get_by_test_id("ranking").get_by_test_id("row")
    expect(rows).to_have_count(3)
    expect(page.get_by_test_id("rs-card").get_by_test_id("rs-status")).to_have_text("待提交")
    expect(page.locator("#kp-grade-chart canvas")).to_have_count(1)

    # sort by total, lowest first (HTMX swaps the table and keeps the URL)
    page.get_by_test_id("sort-total").click()
    expect(page).to_have_url(re.compile(r"sort=total"))
    totals = [
        float(t) for t in page.get_by_test_id("ranking").get_by_test_id("total").all_inner_texts()
    ]
    assert totals == sorted(totals)

    # the best target's result: explanation tree and radar chart
    page.get_by_test_id("sort-total").click()
    expect(page).to_have_url(re.compile(r"sort=-total"))
    rows.first.get_by_role("link").click()
    expect(page.get_by_test_id("explanation")).to_be_visible()
    expect(page.locator("#kp-radar canvas")).to_have_count(1)
    leaf = page.locator('details[data-code="1.1"]')
    leaf.locator("summary").click()
    expect(leaf.get_by_text("评分标准：按计划开展理论学习")).to_be_visible()
    page.goto(ranking)

    page.goto(ranking)
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("rs-card").get_by_test_id("rs-status")).to_have_text("待审批")

    page.context.clear_cookies()
    login(page, approver.username, PASSWORD)
    page.goto(ranking)
    expect(page.get_by_test_id("ranking").get_by_test_id("row")).to_have_count(3)
    page.get_by_label("审批意见").fill("同意公示")
    page.get_by_test_id("approve").click()
    expect(page.get_by_test_id("rs-card").get_by_test_id("rs-status")).to_have_text("已审批")
    rs = ResultSet.objects.get(campaign=campaign)
    assert rs.status == ResultStatus.APPROVED and rs.approved_by == approver
    assert rs.submitted_by == organizer and rs.review_comment == "同意公示"
