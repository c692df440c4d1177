"""The demo's campaign in progress: set up through the services, in 自评, with work under way."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from kaoping.accounts.models import User
from kaoping.campaigns import selectors, services
from kaoping.campaigns.demo import CAMPAIGN_NAME
from kaoping.campaigns.models import Campaign, Stage
from kaoping.collection.models import QuantValue, ReviewScore, SelfAssessment
from kaoping.core.demo import build_demo
from kaoping.organizations.models import BRANCH_TYPES, Organization, OrgStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        summary = build_demo()
        yield summary
        call_command("flush", interactive=False, verbosity=0)


def test_campaign_in_self_assessment_over_every_active_branch(demo):
    campaign = Campaign.objects.get(name=CAMPAIGN_NAME)
    assert campaign.status == Stage.SELF_ASSESSMENT and campaign.scheme_version.is_published
    branches = Organization.objects.filter(org_type__in=BRANCH_TYPES, status=OrgStatus.ACTIVE)
    assert set(campaign.targets.values_list("organization", flat=True)) == set(
        branches.values_list("pk", flat=True)
    )
    assert demo.counts["考核对象"] == branches.count()
    assert campaign.result_rules and campaign.stages.filter(deadline__isnull=False).count() >= 5


def test_reviewers_cover_every_target_without_conflicts(demo):
    campaign = Campaign.objects.get(name=CAMPAIGN_NAME)
    for target in campaign.targets.prefetch_related("assignments__reviewer__person__organization"):
        reviewers = [a.reviewer for a in target.assignments.all()]
        assert len(reviewers) == 2, target.name
        assert all(services.conflict_of_interest(r, target) is None for r in reviewers)
    assert {a.reviewer.username for a in campaign.assignments.all()} == {
        "reviewer", "reviewer2", "reviewer3",
    }  # fmt: skip


def test_work_under_way(demo):
    campaign = Campaign.objects.get(name=CAMPAIGN_NAME)
    statuses = list(
        SelfAssessment.objects.filter(target__campaign=campaign).values_list("status", flat=True)
    )
    assert statuses.count("submitted") >= len(statuses) // 2
    assert "draft" in statuses and "returned" in statuses
    submitted = SelfAssessment.objects.filter(target__campaign=campaign, status="submitted")
    assert all(sa.items.filter(evidence__isnull=False).exists() for sa in submitted)
    assert ReviewScore.objects.filter(sheet__campaign=campaign).exists()
    assert QuantValue.objects.filter(batch__campaign=campaign).exists()
    data = selectors.progress(campaign)
    stage = next(s for s in data["stages"] if s["stage"] == "self_assessment")
    assert 0 < stage["done"] < stage["total"]


def test_demo_accounts_have_work_to_do(demo):
    submitter = User.objects.get(username="submitter")
    items = selectors.todo_for(submitter)
    own = [i for i in items if i["kind"] == "自评"]
    assert len(own) == 1 and "业务一处党支部" in own[0]["text"]
    # and the unit's rectification tasks from last year's 述职评议 that ran past their deadline
    assert {i["kind"] for i in items} == {"自评", "整改"}
    organizer = User.objects.get(username="organizer")
    assert any(i["campaign"].name == CAMPAIGN_NAME for i in selectors.todo_for(organizer))


def test_demo_pages_render(demo, client):
    campaign = Campaign.objects.get(name=CAMPAIGN_NAME)
    client.force_login(User.objects.get(username="organizer"))
    for name in ("detail", "targets", "weights", "reviewers", "progress"):
        response = client.get(f"/campaigns/{campaign.pk}/{'' if name == 'detail' else name + '/'}")
        assert response.status_code == 200, name
    client.force_login(User.objects.get(username="submitter"))
    home = client.get("/").content.decode()
    assert "填写并提交“业务一处党支部”的自评" in home
