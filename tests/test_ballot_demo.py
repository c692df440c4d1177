"""The demo's finished 述职评议: reports, comments, closed appraisals with online and paper
ballots, a non-empty tally."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from kaoping.accounts.models import Role, User
from kaoping.ballots.demo import CAMPAIGN_NAME, PAPER_SHEETS, VOTERS
from kaoping.ballots.models import Appraisal, Ballot, DebriefingReport, PaperEntry
from kaoping.ballots.tally import campaign_tally, tally
from kaoping.campaigns.models import Campaign, Stage
from kaoping.core.demo import build_demo
from kaoping.organizations.models import BRANCH_TYPES

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        summary = build_demo()
        yield summary
        call_command("flush", interactive=False, verbosity=0)


def test_finished_debriefing_over_branch_secretaries(demo):
    campaign = Campaign.objects.get(name=CAMPAIGN_NAME)
    assert campaign.status == Stage.ARCHIVED and campaign.campaign_type == "debriefing"
    targets = list(campaign.targets.select_related("person__organization"))
    assert len(targets) >= 30
    assert all(t.person.organization.org_type in BRANCH_TYPES for t in targets)
    reports = DebriefingReport.objects.filter(target__campaign=campaign)
    assert reports.count() == len(targets)
    assert all(r.report_id and r.summary and r.leader_comment and r.commented_by for r in reports)
    assert demo.counts["述职评议对象"] == len(targets)


def test_closed_appraisals_with_online_and_paper_ballots(demo):
    campaign = Campaign.objects.get(name=CAMPAIGN_NAME)
    appraisals = list(Appraisal.objects.filter(campaign=campaign))
    assert {a.rater_group for a in appraisals} == set(VOTERS)
    assert all(a.status == "closed" for a in appraisals)
    ballots = Ballot.objects.filter(appraisal__campaign=campaign)
    assert ballots.filter(source="online").count() == sum(VOTERS.values())
    assert ballots.filter(source="paper").count() == PAPER_SHEETS
    assert PaperEntry.objects.filter(counted=True).count() == 2 * PAPER_SHEETS
    # The second teller's temporary grant is gone: demo accounts keep their roles.
    assert (
        not User.objects.get(username="reviewer").grants.filter(role=Role.ASSESSMENT_ADMIN).exists()
    )


def test_tally_is_differentiated(demo):
    members = Appraisal.objects.get(campaign__name=CAMPAIGN_NAME, rater_group="members")
    t = tally(members)
    assert t.ballots == VOTERS["members"] + PAPER_SHEETS and t.main_question == "S1"
    rates = [r.main.cell.satisfaction_rate for r in t.rows if r.shown]
    assert len(rates) == len(t.rows)
    assert max(rates) > 0.85 and min(rates) < 0.75  # mostly 好/较好, a few weaker branches
    assert all(r.main.cell.converted is not None for r in t.rows)  # banded 5.1
    ct = campaign_tally(members.campaign)
    assert len(ct.groups) == 4 and ct.rows


def test_results_and_meeting_pages_render(demo, client):
    organizer = User.objects.get(username="organizer")
    client.force_login(organizer)
    members = Appraisal.objects.get(campaign__name=CAMPAIGN_NAME, rater_group="members")
    assert client.get(reverse("ballots:results", args=[members.pk])).status_code == 200
    campaign = members.campaign
    body = client.get(reverse("ballots:debriefing_meeting", args=[campaign.pk])).content.decode()
    assert "上年度整改情况：暂无整改记录" in body
