"""Reviewer-scoring pages: scope (a reviewer sees only assigned targets), autosave answers,
submitting, and the organizer's reopen."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kaoping.accounts.models import Role
from kaoping.collection import review_services as services
from kaoping.collection.models import ReviewScore, SelfAssessment, SelfAssessmentItem, SheetStatus

from ..factories import UserFactory, grant
from ..review_fixtures import review_setup

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(tree, organizer):
    return review_setup(tree, organizer)


def _cell_url(setup, key, code):
    return reverse(
        "collection:review_cell",
        args=[setup.campaign.pk, setup.targets[key].pk, setup.indicators[code].pk],
    )


def _grid_url(setup):
    return reverse("collection:review_grid", args=[setup.campaign.pk])


def test_reviewer_sees_only_assigned_targets(client, setup):
    client.force_login(setup.reviewer)
    page = client.get(_grid_url(setup)).content.decode()
    assert "办公室党支部" in page and "财务处党支部" in page
    assert "法规处党支部" not in page
    assert 'aria-label="办公室党支部 1.1"' in page and "自动保存" in page


def test_unassigned_cell_is_not_found(client, setup):
    client.force_login(setup.reviewer)
    assert client.post(_cell_url(setup, "b1", "1.1"), {"value": "10"}).status_code == 404
    assert client.get(_cell_url(setup, "b1", "1.1")).status_code == 404
    other = reverse(
        "collection:review_cell", args=[setup.campaign.pk, setup.targets["a1"].pk, 987654]
    )
    assert client.post(other, {"value": "1"}).status_code == 404
    assert not ReviewScore.objects.exists()


def test_submitter_and_unassigned_reviewer_are_refused(client, setup, tree):
    client.force_login(setup.submitters["a1"])
    assert client.get(_grid_url(setup)).status_code == 403
    assert client.post(_cell_url(setup, "a1", "1.1"), {"value": "10"}).status_code == 403
    stranger = UserFactory(username="stranger")
    grant(stranger, Role.REVIEWER, tree["root"])
    client.force_login(stranger)
    assert client.get(_grid_url(setup)).status_code == 404
    assert client.post(_cell_url(setup, "a1", "1.1"), {"value": "10"}).status_code == 404


def test_autosave_answers_json(client, setup):
    client.force_login(setup.reviewer)
    url = _cell_url(setup, "a1", "1.1")
    ok = client.post(url, {"value": "10"}).json()
    assert ok == {"ok": True, "value": "10", "reason": "", "points": "10", "total": "10",
                  "filled": 1}  # fmt: skip
    refused = client.post(url, {"value": "12"})
    assert refused.status_code == 400 and refused.json()["error"] == "分数应在 0 至 10 之间"
    no_reason = client.post(url, {"value": "8"}).json()
    assert no_reason["code"] == "reason" and "扣分理由" in no_reason["error"]
    assert client.post(url, {"value": "8", "reason": "缺记录"}).json()["total"] == "8"
    items = _cell_url(setup, "a1", "1.3")
    res = client.post(items, {"occ_a": "1", "occ_b": "", "reason": "少开一次"}).json()
    assert res["value"] == "1 次" and res["points"] == "9" and res["total"] == "17"
    assert client.post(_cell_url(setup, "a1", "1.2"), {"value": "好"}).json()["total"] == "37"


def test_panel_shows_criteria_narrative_and_evidence(client, setup):
    assessment = SelfAssessment.objects.create(target=setup.targets["a1"])
    SelfAssessmentItem.objects.create(
        assessment=assessment,
        indicator=setup.indicators["1.1"],
        score=9,
        narrative="全年学习 11 次",
    )
    client.force_login(setup.reviewer)
    page = client.get(_cell_url(setup, "a1", "1.1")).content.decode()
    assert (
        "每缺一次扣 2 分" in page
        and "全年学习 11 次" in page
        and "自评：<strong>9</strong>" in page
    )
    assert 'name="reason"' in page


def test_submit_then_read_only_then_organizer_reopens(client, setup, organizer, sub_organizer):
    client.force_login(setup.reviewer)
    submit = reverse("collection:review_submit", args=[setup.campaign.pk])
    page = client.post(submit, follow=True).content.decode()
    assert "还有 8 项未评分" in page
    for key in ("a1", "a2"):
        for code, value in (("1.1", "10"), ("1.2", "好"), ("2.3", "40")):
            client.post(_cell_url(setup, key, code), {"value": value})
        client.post(_cell_url(setup, key, "1.3"), {"occ_a": "0", "occ_b": "0"})
    page = client.post(submit, follow=True).content.decode()
    assert "评分表已提交" in page and "已提交（只读）" in page and " disabled" in page
    assert client.post(_cell_url(setup, "a1", "1.1"), {"value": "9"}).status_code == 400
    sheet = setup.campaign.review_sheets.get()

    sheets = reverse("collection:review_sheets", args=[setup.campaign.pk])
    reopen = reverse("collection:review_reopen", args=[sheet.pk])
    client.force_login(setup.reviewer)
    assert client.get(sheets).status_code == 403
    assert client.post(reopen, {"reason": "x"}).status_code == 403
    client.force_login(sub_organizer)  # sees the campaign (targets in 第一党总支), does not run it
    assert client.get(sheets).status_code == 403
    assert client.post(reopen, {"reason": "x"}).status_code == 403
    client.force_login(organizer)
    listing = client.get(sheets).content.decode()
    assert "评审员赵" in listing and "8 / 8" in listing and "退回修改" in listing
    page = client.post(reopen, {"reason": "请复核 1.1"}, follow=True).content.decode()
    assert "已退回" in page
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.OPEN
    client.force_login(setup.reviewer)
    assert client.post(_cell_url(setup, "a1", "1.1"), {"value": "10"}).json()["ok"]


def test_outsider_cannot_reopen(client, setup, outsider):
    sheet = services.get_or_create_sheet(setup.campaign, setup.reviewer)
    client.force_login(outsider)
    reopen = reverse("collection:review_reopen", args=[sheet.pk])
    assert client.post(reopen, {"reason": "x"}).status_code in (403, 404)
    sheets = reverse("collection:review_sheets", args=[setup.campaign.pk])
    assert client.get(sheets).status_code in (403, 404)
