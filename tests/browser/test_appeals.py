"""An appeal in the browser: during 公示 a unit files an appeal against its result, with a PDF as
evidence; the organizer opens it from the campaign's 申诉 tab, upholds it with a corrected score,
and the appeal page shows the recomputed total and what changed."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from kaoping.accounts.models import Role
from kaoping.results import services as results
from kaoping.results.models import Appeal, AppealStatus

from ..appeal_fixtures import published_campaign
from ..evidence_samples import pdf_bytes
from ..factories import PASSWORD, UserFactory, grant, make_tree
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(db):
    tree = make_tree()
    organizer = UserFactory(username="zhang", full_name="张组织")
    grant(organizer, Role.ASSESSMENT_ADMIN, tree["root"])
    s = published_campaign(tree, organizer)
    s.extra["organizer"] = organizer
    return s


def test_file_uphold_and_see_the_changed_total(page, setup, tmp_path):
    a1 = setup.targets["a1"]
    before = results.current_set(setup.campaign).results.get(target=a1).total
    evidence = tmp_path / "理论学习记录.pdf"
    evidence.write_bytes(pdf_bytes("study"))

    # the unit files its appeal
    login(page, setup.submitters["a1"].username, PASSWORD)
    page.goto(reverse("results:my_appeals"))
    page.get_by_test_id(f"file-{a1.code}").click()
    expect(page.get_by_test_id("total")).to_have_text(f"{before:.2f}")
    page.get_by_label("申诉涉及的指标").select_option("1.1")
    page.get_by_label("申诉理由").fill("全年理论学习 12 次，记录齐全，评审时漏看")
    page.get_by_label("佐证材料（可多选）").set_input_files(str(evidence))
    page.get_by_role("button", name="提交申诉").click()
    expect(page.get_by_test_id("appeal-status")).to_have_text("待处理")
    expect(page.get_by_test_id("evidence")).to_contain_text("理论学习记录.pdf")
    appeal = Appeal.objects.get()

    # the organizer decides: upheld with a corrected score
    page.context.clear_cookies()
    login(page, setup.extra["organizer"].username, PASSWORD)
    page.goto(reverse("campaigns:detail", args=[setup.campaign.pk]))
    page.get_by_role("link", name="申诉", exact=True).click()
    row = page.get_by_test_id(f"appeal-{a1.code}")
    expect(row).to_contain_text("待处理")
    row.get_by_role("link", name="处理").click()
    expect(page.get_by_test_id("reason")).to_contain_text("评审时漏看")
    correction = page.get_by_test_id("correction-1.1")
    expect(correction).to_contain_text("依据：评分 8")
    correction.get_by_label("更正后的评分").fill("11")
    correction.get_by_label("更正理由").fill("记录齐全，应得满分")
    page.get_by_role("button", name="申诉成立，更正并重新计算").click()
    expect(page.get_by_test_id("uphold-errors")).to_contain_text(
        "1.1 学习贯彻党的创新理论：评分应在 0 至 10 分之间，不能填 11"
    )
    page.get_by_test_id("correction-1.1").get_by_label("更正后的评分").fill("10")
    page.get_by_role("button", name="申诉成立，更正并重新计算").click()
    expect(page.get_by_test_id("appeal-status")).to_have_text("申诉成立")
    expect(page.get_by_test_id("new-total")).to_have_text(f"{before + 2:.2f}")
    own = page.get_by_test_id("diff-own")
    expect(own).to_contain_text(f"{before:.2f} → {before + 2:.2f}")
    expect(own).to_contain_text("1.1 学习贯彻党的创新理论：8.00 → 10.00")
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.UPHELD

    # the unit sees the decision and the new total
    page.context.clear_cookies()
    login(page, setup.submitters["a1"].username, PASSWORD)
    page.goto(reverse("results:my_appeals"))
    expect(page.get_by_test_id(f"own-{a1.code}")).to_contain_text(f"{before + 2:.2f}")
    expect(page.get_by_test_id(f"own-{a1.code}")).to_contain_text("申诉成立")
