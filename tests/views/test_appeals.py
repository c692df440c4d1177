"""Appeal pages: the target's side files and follows its appeals; the organizer lists, rejects
and upholds (with correction rows added on the page); corrections during 汇总; evidence only
to those who see the appeal; pages lock results whose period ended; 404 outside scope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kaoping.results import appeal_services as svc
from kaoping.results import services as results
from kaoping.results.models import Appeal, AppealStatus, ResultSet, ResultStatus

from ..appeal_fixtures import in_consolidation, published_campaign
from ..evidence_samples import pdf_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(tree, organizer):
    return published_campaign(tree, organizer)


def _appeal(setup, key="a1", **kw):
    return svc.file_appeal(
        actor=setup.submitters[key], target=setup.targets[key], reason="有异议", **kw
    )


def test_the_unit_sees_its_result_and_files_an_appeal(client, setup):
    a1 = setup.targets["a1"]
    client.force_login(setup.submitters["a1"])
    mine = client.get(reverse("results:my_appeals")).content.decode()
    assert a1.name in mine and reverse("results:appeal_file", args=[a1.pk]) in mine
    assert setup.targets["a2"].name not in mine
    url = reverse("results:appeal_file", args=[a1.pk])
    page = client.get(url).content.decode()
    assert "1.1 学习贯彻党的创新理论" in page and "提交申诉" in page
    refused = client.post(url, {"reason": "", "indicator": "1.1"})
    assert refused.status_code == 400 and "请填写申诉理由" in refused.content.decode()
    response = client.post(
        url,
        {"reason": "学习记录漏看", "indicator": "1.1", "files": [upload("记录.pdf", pdf_bytes())]},
    )
    appeal = Appeal.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "results:appeal_detail", args=[appeal.pk]
    )
    detail = client.get(response["Location"]).content.decode()
    assert "学习记录漏看" in detail and "记录.pdf" in detail and "等待考核组织者处理" in detail
    # the evidence opens for the appeal's viewers
    ev = appeal.evidence.get()
    got = client.get(reverse("results:appeal_evidence", args=[appeal.pk, ev.pk]))
    assert got.status_code == 200 and got["Content-Type"] == "application/pdf"
    # a second one is refused while the first is open
    again = client.post(url, {"reason": "再次"})
    assert again.status_code == 400 and "尚未处理" in again.content.decode()


def test_the_person_files_for_a_cadre_target(client, setup):
    cadre = setup.targets["cadre"]
    client.force_login(setup.extra["cadre_user"])
    assert cadre.name in client.get(reverse("results:my_appeals")).content.decode()
    response = client.post(reverse("results:appeal_file", args=[cadre.pk]), {"reason": "不服"})
    assert response.status_code == 302
    appeal = Appeal.objects.get(target=cadre)
    assert client.get(reverse("results:appeal_detail", args=[appeal.pk])).status_code == 200


def test_appeals_are_404_outside_scope(client, setup, outsider, member, norole):
    appeal = _appeal(setup, indicator_code="1.1", uploads=[upload("a.pdf", pdf_bytes())])
    ev = appeal.evidence.get()
    for user in (setup.submitters["a2"], outsider, member, norole, setup.extra["cadre_user"]):
        client.force_login(user)
        assert client.get(reverse("results:appeal_detail", args=[appeal.pk])).status_code == 404
        assert (
            client.get(reverse("results:appeal_evidence", args=[appeal.pk, ev.pk])).status_code
            == 404
        )
        assert (
            client.get(reverse("results:appeal_file", args=[setup.targets["a1"].pk])).status_code
            == 404
        )
    client.force_login(norole)
    assert client.get(reverse("results:my_appeals")).status_code == 403


def test_the_target_side_cannot_decide(client, setup):
    appeal = _appeal(setup)
    client.force_login(setup.submitters["a1"])
    assert (
        client.post(reverse("results:appeal_reject", args=[appeal.pk]), {"decision": "x"})
    ).status_code == 403
    assert (
        client.post(reverse("results:appeal_uphold", args=[appeal.pk]), {"action": "uphold"})
    ).status_code == 403
    # the campaign's 申诉 tab shows the unit its own appeals only
    page = client.get(reverse("results:appeal_list", args=[setup.campaign.pk])).content.decode()
    assert 'data-testid="own-appeals"' in page and setup.targets["a2"].name not in page


def test_organizer_lists_filters_and_rejects(client, setup, organizer):
    appeal = _appeal(setup)
    _appeal(setup, "a2")
    client.force_login(organizer)
    url = reverse("results:appeal_list", args=[setup.campaign.pk])
    page = client.get(url).content.decode()
    assert setup.targets["a1"].name in page and setup.targets["a2"].name in page
    assert reverse("results:corrections", args=[setup.campaign.pk]) in page
    reject = reverse("results:appeal_reject", args=[appeal.pk])
    refused = client.post(reject, {"decision": ""})
    assert refused.status_code == 400 and "请填写驳回理由" in refused.content.decode()
    assert client.post(reject, {"decision": "材料不足"}).status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.REJECTED
    filtered = client.get(url + "?status=rejected").content.decode()
    assert 'data-testid="appeal-ZB11"' in filtered and 'data-testid="appeal-ZB12"' not in filtered
    detail = client.get(reverse("results:appeal_detail", args=[appeal.pk])).content.decode()
    assert "材料不足" in detail and "已驳回" in detail


def test_organizer_upholds_with_rows_added_on_the_page(client, setup, organizer):
    a1 = setup.targets["a1"]
    appeal = _appeal(setup, indicator_code="1.1")
    before = results.current_set(setup.campaign).results.get(target=a1).total
    client.force_login(organizer)
    detail = client.get(reverse("results:appeal_detail", args=[appeal.pk])).content.decode()
    assert 'data-testid="correction-1.1"' in detail and "依据：评分 8" in detail
    url = reverse("results:appeal_uphold", args=[appeal.pk])
    base = {"c-0-indicator": "1.1", "c-0-score": "10", "c-0-reason": "漏看记录"}
    added = client.post(url, {**base, "action": "add", "add_indicator": "1.3"})
    text = added.content.decode()
    assert 'data-testid="correction-1.3"' in text and 'name="c-1-occ-a"' in text
    assert 'value="10"' in text  # what was entered stays
    bad = client.post(url, {**base, "c-0-score": "12", "action": "uphold"})
    assert bad.status_code == 400
    assert "评分应在 0 至 10 分之间，不能填 12" in bad.content.decode()
    done = client.post(
        url,
        {**base, "c-1-indicator": "1.3", "c-1-occ-a": "0", "c-1-reason": "按时召开",
         "decision": "申诉成立", "action": "uphold"},
    )  # fmt: skip
    assert done.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.UPHELD
    after = results.current_set(setup.campaign).results.get(target=a1).total
    assert after == pytest.approx(before + 3)
    page = client.get(done["Location"]).content.decode()
    assert 'data-testid="diff-own"' in page and f"{after:.2f}" in page
    # the unit sees the decision and the new total
    client.force_login(setup.submitters["a1"])
    page = client.get(done["Location"]).content.decode()
    assert "申诉成立" in page and f"{after:.2f}" in page


def test_pages_lock_results_whose_period_ended(client, setup, organizer):
    appeal = _appeal(setup)
    rs = results.current_set(setup.campaign)
    ResultSet.objects.filter(pk=rs.pk).update(publication_ends=timezone.now() - timedelta(hours=1))
    client.force_login(organizer)
    page = client.get(reverse("results:appeal_detail", args=[appeal.pk])).content.decode()
    rs.refresh_from_db()
    assert rs.status == ResultStatus.FINAL
    assert "考核结果已锁定" in page and 'data-testid="uphold-form"' not in page
    response = client.post(reverse("results:appeal_reject", args=[appeal.pk]), {"decision": "x"})
    assert response.status_code == 400 and "已锁定" in response.content.decode()
    client.force_login(setup.submitters["a2"])
    page = client.get(reverse("results:appeal_file", args=[setup.targets["a2"].pk]))
    assert "已锁定，不能再提出申诉" in page.content.decode()


def test_corrections_page_during_consolidation(client, tree, organizer, sub_organizer):
    setup = in_consolidation(tree, organizer)
    b1 = setup.targets["b1"]
    url = reverse("results:corrections", args=[setup.campaign.pk])
    client.force_login(sub_organizer)
    assert client.get(url).status_code == 403
    client.force_login(organizer)
    page = client.get(url + f"?target={b1.pk}&indicator=2.3").content.decode()
    assert 'data-testid="correction-2.3"' in page and "依据：评分 20" in page
    form = {"target": b1.pk, "c-0-indicator": "2.3", "c-0-score": "30", "action": "correct"}
    missing = client.post(url, form)
    assert missing.status_code == 400 and "请填写更正理由" in missing.content.decode()
    done = client.post(url, {**form, "c-0-reason": "录入错误"}, follow=True)
    text = done.content.decode()
    assert "数据已更正" in text and "录入错误" in text and "直接更正" in text
    assert results.current_set(setup.campaign).number == 2


def test_corrections_page_refuses_during_publication(client, setup, organizer):
    client.force_login(organizer)
    page = client.get(reverse("results:corrections", args=[setup.campaign.pk])).content.decode()
    assert "公示期间只能通过处理申诉更正数据" in page
