"""整改 in the browser: the organizer generates proposals from the approved results and confirms
one; the branch secretary (an account with no role, only a person) finds it under 整改, writes
the plan, reports progress with a file, submits the completion with evidence; the organizer
verifies it (销号); the next campaign shows it as verified — on its 上期整改 page and beside
the secretary's 述职 report."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from kaoping.accounts.models import Role
from kaoping.campaigns.models import Campaign, Target
from kaoping.rectification.models import RectificationTask, TaskStatus

from ..evidence_samples import pdf_bytes
from ..factories import PASSWORD, UserFactory, grant, make_tree
from ..rectification_fixtures import approved_results, next_campaign
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(db):
    tree = make_tree()
    organizer = UserFactory(username="zhang", full_name="张组织")
    grant(organizer, Role.ASSESSMENT_ADMIN, tree["root"])
    s = approved_results(tree, organizer)
    nxt = next_campaign(tree, organizer)
    # the next cycle is a 述职评议 over the 书记, in its appraisal stage
    Campaign.objects.filter(pk=nxt.campaign.pk).update(
        campaign_type="debriefing", status="appraisal"
    )
    person = s.extra["secretaries"]["a1"][0]
    Target.objects.create(
        campaign=nxt.campaign, person=person, code=person.staff_no, name=person.name
    )
    s.extra.update(organizer=organizer, next=nxt.campaign, tree=tree)
    return s


def logout(page):
    page.context.clear_cookies()


def test_propose_confirm_report_verify_and_see_it_in_the_next_cycle(page, setup, tmp_path):
    organizer = setup.extra["organizer"]
    secretary = setup.extra["secretaries"]["a1"][1]
    campaign = setup.campaign
    meeting_pdf = tmp_path / "支委会记录.pdf"
    meeting_pdf.write_bytes(pdf_bytes("meeting"))
    done_pdf = tmp_path / "整改报告.pdf"
    done_pdf.write_bytes(pdf_bytes("done"))

    # 1. the organizer generates proposals and confirms the one of 办公室党支部
    login(page, organizer.username, PASSWORD)
    page.goto(reverse("campaigns:detail", args=[campaign.pk]))
    page.get_by_role("link", name="整改", exact=True).click()
    page.get_by_test_id("propose").click()
    expect(page.locator(".alert-success")).to_contain_text("新生成整改建议 5 项")
    row = page.get_by_test_id("task-row").filter(has_text="严格党的组织生活")
    expect(row).to_contain_text("办公室书记")
    expect(row.get_by_test_id("task-status")).to_have_text("待确认")
    row.get_by_role("checkbox").check()
    page.get_by_test_id("confirm").click()
    expect(page.locator(".alert-success")).to_contain_text("已确认下达 1 项整改任务")
    task = RectificationTask.objects.get(campaign=campaign, source_kind="deduction")
    assert task.status == TaskStatus.OPEN
    logout(page)

    # 2. the secretary: plan, progress with a file, completion with evidence
    login(page, secretary.username, PASSWORD)
    page.get_by_role("link", name="整改").first.click()
    expect(page.get_by_role("heading", name="我的整改任务")).to_be_visible()
    page.get_by_role("link", name="“严格党的组织生活”扣 1 分").click()
    expect(page.get_by_test_id("responsible")).to_contain_text("党支部书记（第一责任人）")
    page.get_by_label("整改措施").fill("建立支委会月度提醒制度，书记亲自督办")
    page.get_by_role("button", name="保存整改措施").click()
    expect(page.locator(".alert-success")).to_contain_text("已保存整改措施")
    page.get_by_label("进展情况").fill("已补开 3 月支委会")
    page.locator("#p-files").set_input_files(str(meeting_pdf))
    page.get_by_role("button", name="记录进展").click()
    expect(page.get_by_test_id("history")).to_contain_text("已补开 3 月支委会")
    expect(page.get_by_test_id("history")).to_contain_text("支委会记录.pdf")
    page.get_by_label("整改完成情况").fill("支委会已按月召开，建立提醒台账")
    page.locator("#s-files").set_input_files(str(done_pdf))
    page.get_by_test_id("submit").click()
    expect(page.locator(".alert-success")).to_contain_text("等待验收")
    expect(page.get_by_test_id("task-status")).to_have_text("完成待验收")
    expect(page.get_by_test_id("evidence")).to_contain_text("整改报告.pdf")
    logout(page)

    # 3. the organizer verifies (销号)
    login(page, organizer.username, PASSWORD)
    page.goto(reverse("rectification:campaign", args=[campaign.pk]) + "?status=submitted")
    page.get_by_role("link", name="“严格党的组织生活”扣 1 分").click()
    page.get_by_label("销号意见").fill("整改到位，予以销号")
    page.get_by_test_id("verify").click()
    expect(page.get_by_test_id("task-status")).to_have_text("已销号")
    expect(page.get_by_test_id("verified")).to_contain_text("整改到位，予以销号")

    # 4. the next cycle: 上期整改 and beside the secretary's 述职 report
    nxt = setup.extra["next"]
    page.goto(reverse("rectification:campaign", args=[nxt.pk]))
    page.get_by_test_id("previous-link").click()
    prev = page.get_by_test_id("previous-row").filter(has_text="严格党的组织生活")
    expect(prev.get_by_test_id("task-status")).to_have_text("已销号")
    page.goto(reverse("ballots:debriefing_meeting", args=[nxt.pk]))
    item = page.get_by_test_id("meeting-item").filter(has_text="办公室书记")
    expect(item.get_by_test_id("rectification")).to_contain_text("上年度整改任务 1 项：已销号 1 项")
    item.get_by_role("link", name="查看整改清单").click()
    expect(page.get_by_test_id("task-row")).to_have_count(1)
    expect(page.get_by_test_id("task-row").get_by_test_id("task-status")).to_have_text("已销号")
