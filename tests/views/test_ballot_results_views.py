"""Results, paper entry and 述职评议 pages: organizer, outsider (404), no role (403)."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kaoping.accounts.models import Role
from kaoping.audit.models import AuditEntry
from kaoping.ballots.models import Ballot, PaperEntry

from ..ballot_fixtures import add_ballot, ballot_campaign, make_appraisal
from ..factories import UserFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def appraisal(organizer, tree):
    # Over 第一党总支's two branches only: the outsider (第二党总支) does not see the campaign.
    appraisal = make_appraisal(ballot_campaign(organizer, tree, root="a"), min_breakdown=3)
    targets = list(appraisal.targets.order_by("code"))
    for g in [0, 0, 1, 2, 0]:
        add_ballot(appraisal, {targets[0]: {"Q1": g, "overall": g}})
    add_ballot(appraisal, {targets[1]: {"Q1": 3}})
    return appraisal


PAGES = ["ballots:results", "ballots:results_export", "ballots:paper_entry",
         "ballots:paper_mismatches"]  # fmt: skip


def test_results_page_for_the_organizer(client, organizer, appraisal):
    client.force_login(organizer)
    response = client.get(reverse("ballots:results", args=[appraisal.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "计票结果" in body and "数据异常提示" in body and "票数不足 3 张，不显示分项" in body
    assert response.context["tally"].ballots == 6
    assert "vendor/echarts/echarts.min.js" in body and "ballots/results.js" in body
    assert "不会因此删除" in body


@pytest.mark.parametrize("name", PAGES)
def test_outsider_gets_404_and_no_role_403(client, outsider, norole, appraisal, name):
    url = reverse(name, args=[appraisal.pk])
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(norole)
    assert client.get(url).status_code == 403


def test_a_viewer_who_does_not_run_the_campaign_gets_403(client, tree, appraisal):
    leader = UserFactory(username="leader")
    grant(leader, Role.LEADER, tree["root"])
    client.force_login(leader)
    assert client.get(reverse("ballots:results", args=[appraisal.pk])).status_code == 403


def test_export_is_an_audited_workbook(client, organizer, appraisal):
    client.force_login(organizer)
    response = client.get(reverse("ballots:results_export", args=[appraisal.pk]))
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[2][:5] == ("编码", "考核对象", "所属", "题目", "票数")
    hidden = [r for r in rows[3:] if r[5] == "票数不足 3 张，不显示分项"]
    assert len(hidden) == 2  # one target below 3 ballots, two questions
    first = rows[3]
    assert first[4] == 5 and first[5:9] == (3, 1, 1, 0)
    assert AuditEntry.objects.filter(action="data.export", object_id=str(appraisal.pk)).exists()


def test_campaign_results_page(client, organizer, outsider, appraisal):
    url = reverse("ballots:campaign_results", args=[appraisal.campaign_id])
    client.force_login(organizer)
    response = client.get(url)
    assert response.status_code == 200 and "按考核对象和评价主体" in response.content.decode()
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_paper_entry_by_form(client, organizer, tree, appraisal):
    second = UserFactory(username="teller2")
    grant(second, Role.ASSESSMENT_ADMIN, tree["root"])
    url = reverse("ballots:paper_entry", args=[appraisal.pk])
    targets = list(appraisal.targets.order_by("code"))
    data = {"sheet_no": "12"}
    data.update({f"g-{t.pk}-Q1": "1" for t in targets})
    data.update({f"g-{t.pk}-overall": "2" for t in targets})
    client.force_login(organizer)
    page = client.get(url)
    assert page.status_code == 200 and 'data-grades="4"' in page.content.decode()
    assert client.post(url, data).status_code == 302
    client.force_login(second)
    response = client.post(url, data, follow=True)
    assert "两遍录入一致，已计入票数" in response.content.decode()
    assert Ballot.objects.filter(source="paper").count() == 1
    bad = dict(data, sheet_no="13", **{f"g-{targets[0].pk}-Q1": "9"})
    response = client.post(url, bad)
    assert response.status_code == 200 and "1 至 4" in response.content.decode()
    assert not PaperEntry.objects.filter(sheet_no=13).exists()


def test_mismatch_page_and_resolution(client, organizer, tree, appraisal):
    from kaoping.ballots import paper

    a = UserFactory(username="t_a")
    b = UserFactory(username="t_b")
    for u in (a, b):
        grant(u, Role.ASSESSMENT_ADMIN, tree["root"])
    targets = list(appraisal.targets.order_by("code"))
    paper.enter_sheet(actor=a, appraisal=appraisal, sheet_no=5,
                      answers={str(t.pk): {"Q1": 0} for t in targets})  # fmt: skip
    paper.enter_sheet(actor=b, appraisal=appraisal, sheet_no=5,
                      answers={str(t.pk): {"Q1": 1} for t in targets})  # fmt: skip
    client.force_login(organizer)
    url = reverse("ballots:paper_mismatches", args=[appraisal.pk])
    body = client.get(url).content.decode()
    assert "票号 5" in body and "2 处不一致" in body
    entry = PaperEntry.objects.filter(sheet_no=5).order_by("id").first()
    resolve = reverse("ballots:paper_resolve", args=[appraisal.pk, 5])
    response = client.post(resolve, {"choice": str(entry.pk)}, follow=True)
    assert "已裁定并计入票数" in response.content.decode()
    assert Ballot.objects.filter(source="paper").count() == 1


def test_debriefing_pages(client, organizer, outsider, norole, tree):
    from kaoping.organizations import services as org_services

    from ..campaign_helpers import published_version
    from ..evidence_samples import pdf_bytes, upload
    from ..factories import PersonFactory
    from ..services.test_debriefing import debriefing_campaign

    person = PersonFactory(name="书记甲", organization=tree["a1"])
    org_services.appoint(actor=organizer, organization=tree["a1"], person=person, title="secretary")
    secretary = UserFactory(username="sec", person=person)
    grant(secretary, Role.MEMBER)
    version = published_version(organizer, tree["root"], name="书记述职", target_kind="cadre")
    campaign = debriefing_campaign(organizer, tree, version)
    target = campaign.targets.get(person=person)
    report_url = reverse("ballots:debriefing_report", args=[campaign.pk, target.pk])
    client.force_login(secretary)
    assert "书记甲" in client.get(reverse("ballots:debriefing_mine")).content.decode()
    response = client.post(
        report_url, {"summary": "述职要点", "report": upload("述职.pdf", pdf_bytes("x"))}
    )
    assert response.status_code == 302 and target.debriefing.report_id
    meeting = reverse("ballots:debriefing_meeting", args=[campaign.pk])
    assert client.get(meeting).status_code == 403  # a member has no campaign view
    client.force_login(organizer)
    body = client.get(meeting).content.decode()
    assert "述职要点" in body and "上年度整改情况：暂无整改记录" in body
    comment = reverse("ballots:debriefing_comment", args=[campaign.pk, target.pk])
    assert client.post(comment, {"comment": "讲得实在"}).status_code == 302
    target.debriefing.refresh_from_db()
    assert target.debriefing.leader_comment == "讲得实在"
    client.force_login(outsider)
    assert client.get(meeting).status_code == 404
    assert client.get(report_url).status_code == 404
    client.force_login(norole)
    assert client.get(meeting).status_code == 403
    assert client.get(reverse("ballots:debriefing_mine")).status_code == 403
