"""Result-use pages and exports: who may open them (organizer and approver only), 404s for
unknown campaigns and targets, the not-yet-approved state, the files served."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kaoping.accounts.models import Role
from kaoping.audit.models import AuditEntry

from ..factories import UserFactory, grant
from ..result_use_fixtures import use_campaign

PAGES = ["results:use", "results:use_awards", "results:use_accountability", "results:use_cadres"]
EXPORTS = [f"results:use_{k}_{f}" for k in ("awards", "accountability", "cadres")
           for f in ("xlsx", "pdf")]  # fmt: skip


@pytest.fixture
def setup(tree, organizer):
    return use_campaign(tree, organizer)


def _urls(setup):
    pk = setup.campaign.pk
    t = setup.targets["a1"].pk
    return [reverse(n, args=[pk]) for n in PAGES + EXPORTS] + [
        reverse("results:use_cadre", args=[pk, t]),
        reverse("results:use_cadre_pdf", args=[pk, t]),
    ]


def test_organizer_and_approver_open_every_page_and_file(client, setup, organizer):
    for user in (organizer, setup.extra["approver"]):
        client.force_login(user)
        for url in _urls(setup):
            response = client.get(url)
            assert response.status_code == 200, (user, url)
    assert AuditEntry.objects.filter(action="result_use.export").count() == 2 * (len(EXPORTS) + 1)


def test_others_are_refused(client, setup, tree, sub_organizer, outsider, norole, member):
    unit = setup.submitters["a1"]
    reviewer = setup.reviewer
    leader_b = UserFactory(username="leader_b")
    grant(leader_b, Role.LEADER, tree["b"])  # sees b1's results, approves nothing here
    for user in (sub_organizer, outsider, norole, member, unit, reviewer, leader_b):
        client.force_login(user)
        for url in _urls(setup):
            assert client.get(url).status_code in (403, 404), (user.username, url)
    assert not AuditEntry.objects.filter(action="result_use.export").exists()


def test_anonymous_goes_to_login(client, setup):
    for url in _urls(setup):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_unknown_campaign_and_targets_are_404(client, setup, organizer, tree):
    client.force_login(organizer)
    pk = setup.campaign.pk
    assert client.get(reverse("results:use", args=[987654])).status_code == 404
    assert client.get(reverse("results:use_awards_pdf", args=[987654])).status_code == 404
    assert client.get(reverse("results:use_cadre", args=[pk, 987654])).status_code == 404
    assert client.get(reverse("results:use_cadre_pdf", args=[pk, 987654])).status_code == 404
    # a target of another campaign
    other = setup.extra["debriefing"].targets.get()
    assert client.get(reverse("results:use_cadre", args=[pk, other.pk])).status_code == 404
    assert client.get(reverse("results:use_cadre_pdf", args=[pk, other.pk])).status_code == 404


def test_pages_show_the_lists(client, setup, organizer, tree):
    client.force_login(organizer)
    pk = setup.campaign.pk
    page = client.get(reverse("results:use", args=[pk])).content.decode()
    assert "评定等次为“好” → 具备评先评优资格" in page and 'data-testid="n-awards">1<' in page
    assert "结果运用</a>" in page  # the campaign tab
    page = client.get(reverse("results:use_awards", args=[pk])).content.decode()
    assert f'data-code="{tree["a1"].code}"' in page and "发生严重违纪违法问题" in page
    page = client.get(reverse("results:use_accountability", args=[pk])).content.decode()
    assert "评定等次为“差”" in page and "须整改" in page
    page = client.get(reverse("results:use_cadres", args=[pk])).content.decode()
    assert "李书记" in page and "（未登记现任书记）" in page and "66.7%" in page
    url = reverse("results:use_cadre", args=[pk, setup.targets["a1"].pk])
    page = client.get(url).content.decode()
    assert "抓党建思路清晰，整改落实到位" in page and "2024 年度党建工作考核" in page


def test_before_approval_the_pages_say_why_and_exports_go_back(client, tree, organizer):
    s = use_campaign(tree, organizer, approve=False)
    client.force_login(organizer)
    pk = s.campaign.pk
    for name in PAGES:
        page = client.get(reverse(name, args=[pk])).content.decode()
        assert 'data-testid="use-unavailable"' in page and "审批通过后才能生成" in page
    page = client.get(reverse("results:use_cadre", args=[pk, s.targets["a1"].pk]))
    assert "审批通过后才能生成" in page.content.decode()
    response = client.get(reverse("results:use_awards_xlsx", args=[pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("results:use_awards", args=[pk])
    assert "审批通过后才能生成" in response.content.decode()
    assert not AuditEntry.objects.filter(action="result_use.export").exists()


def test_excel_download(client, setup, organizer, tree):
    client.force_login(organizer)
    response = client.get(reverse("results:use_accountability_xlsx", args=[setup.campaign.pk]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    names = [r[2] for r in ws.iter_rows(min_row=7, values_only=True)]
    assert names == [tree["a2"].name, tree["b1"].name]


def test_pdf_download(client, setup, organizer):
    client.force_login(organizer)
    url = reverse("results:use_cadre_pdf", args=[setup.campaign.pk, setup.targets["a1"].pk])
    response = client.get(url)
    data = b"".join(response.streaming_content)
    assert response["Content-Type"] == "application/pdf" and data.startswith(b"%PDF")
    assert b"NotoSansCJKsc-Regular" in data


def test_a_large_combined_cadre_pdf_is_made_by_a_job(
    client, setup, organizer, monkeypatch, django_capture_on_commit_callbacks
):
    from kaoping.jobs.models import Job, JobStatus
    from kaoping.results import use_exports

    monkeypatch.setattr(use_exports, "SYNC_CADRE_FILES", 2)  # three files: more than that
    client.force_login(organizer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("results:use_cadres_pdf", args=[setup.campaign.pk]))
    job = Job.objects.get(kind="results.use_export")
    assert response.status_code == 302 and response["Location"] == reverse("jobs:status",
                                                                          args=[job.pk])  # fmt: skip
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["rows"] == 3 and job.progress_total >= 1
    data = b"".join(client.get(reverse("jobs:output", args=[job.pk])).streaming_content)
    assert data.startswith(b"%PDF") and b"NotoSansCJKsc-Regular" in data
    assert AuditEntry.objects.filter(action="result_use.export", actor_id=organizer.pk).count() == 1
