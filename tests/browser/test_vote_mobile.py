"""A member votes on a phone: opens the slip's URL, rates the targets card by card, reloads
half-way and finds the answers kept, reviews, submits, sees the thank-you page; the same URL
then says the ballot is used."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kaoping.ballots.models import Ballot, BallotAnswer

from ..ballot_helpers import appraisal_campaign, open_appraisal

pytestmark = pytest.mark.django_db(transaction=True)

GRADES = ["好", "较好", "一般", "差"]


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def _rate_card(page, grade_of_question):
    card = page.locator("section.kp-target:visible")
    questions = card.locator("fieldset.kp-q")
    for i in range(questions.count()):
        questions.nth(i).get_by_text(grade_of_question(i), exact=True).tap()


def test_vote_on_a_phone(phone, tree, organizer):
    page = phone
    campaign = appraisal_campaign(organizer, tree)
    appraisal, pairs = open_appraisal(organizer, campaign, count=1)
    url = f"/v/{pairs[0][0]}/"
    page.goto(url)
    expect(page.locator("section.kp-target:visible h2")).to_have_text("办公室党支部")
    expect(page.locator("#kp-step-text")).to_have_text("第 1 / 4 个")

    # Next without answers: the missing questions are flagged and the card stays.
    page.get_by_role("button", name="下一个").tap()
    expect(page.locator("section.kp-target:visible fieldset.kp-missing")).to_have_count(3)
    _rate_card(page, lambda i: GRADES[i])  # 好, 较好, 一般
    page.locator("section.kp-target:visible textarea").fill("希望多组织主题党日活动")
    page.get_by_role("button", name="下一个").tap()
    expect(page.locator("section.kp-target:visible h2")).to_have_text("财务处党支部")
    page.locator("section.kp-target:visible fieldset.kp-q").first.get_by_text(
        "差", exact=True
    ).tap()

    page.reload()  # the phone reloads the page half-way
    expect(page.locator("section.kp-target:visible h2")).to_have_text("财务处党支部")
    first_q = page.locator("section.kp-target:visible fieldset.kp-q").first
    expect(first_q.locator("input:checked")).to_have_value("3")
    page.get_by_role("button", name="上一个").tap()
    expect(page.locator("section.kp-target:visible textarea")).to_have_value(
        "希望多组织主题党日活动"
    )
    expect(page.locator("#kp-done-text")).to_have_text("已完成 1 / 4")
    page.get_by_role("button", name="下一个").tap()
    _rate_card(page, lambda i: "差" if i == 0 else "好")
    for _ in range(2):
        page.get_by_role("button", name="下一个").tap()
        _rate_card(page, lambda i: "较好")
    page.get_by_role("button", name="核对").tap()

    review = page.locator("#kp-review")
    expect(review).to_be_visible()
    expect(review).to_contain_text("办公室党支部")
    expect(review).to_contain_text("总体评价：一般")
    expect(review).to_contain_text("意见建议：希望多组织主题党日活动")
    page.get_by_role("button", name="提交选票").tap()

    expect(page.locator("h1")).to_have_text("感谢参与！")
    assert (
        page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('kp-vote')).length") == 0
    )
    assert Ballot.objects.count() == 1
    assert BallotAnswer.objects.filter(grade__isnull=False).count() == 4 * 3
    assert BallotAnswer.objects.get(question="comment").comment == "希望多组织主题党日活动"

    page.goto(url)
    expect(page.locator("h1")).to_have_text("该票已使用")
    assert Ballot.objects.count() == 1
