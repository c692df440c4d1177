"""A target sees its own published result: its unit's 单位填报员, and a person target (a
secretary) through their own account whatever their roles."""

from __future__ import annotations

import pytest

from kaoping.accounts.models import Role
from kaoping.campaigns import services as campaign_services
from kaoping.campaigns.models import Stage, Target
from kaoping.results import services

from ..factories import PersonFactory, UserFactory, grant
from ..results_fixtures import scored_campaign


@pytest.fixture
def published(tree, organizer):
    setup = scored_campaign(tree, organizer)
    services.compute(actor=organizer, campaign=setup.campaign)
    services.submit(actor=organizer, campaign=setup.campaign)
    services.approve(actor=setup.extra["approver"], campaign=setup.campaign)
    return setup


def _publish(setup, organizer):
    campaign_services.transition(
        actor=organizer, campaign=setup.campaign, to_stage=Stage.PUBLICATION
    )


def test_unit_sees_its_own_result_only_once_published(client, published, organizer):
    submitter = published.submitters["a1"]
    client.force_login(submitter)
    assert "暂无已公示" in client.get("/results/mine/").content.decode()
    _publish(published, organizer)
    page = client.get("/results/mine/").content.decode()
    assert published.targets["a1"].name in page and published.targets["b1"].name not in page


def test_person_target_with_only_member_role_sees_own_result(client, published, organizer, tree):
    person = PersonFactory(name="书记甲", organization=tree["a1"])
    campaign = published.campaign
    target = Target.objects.create(
        campaign=campaign, person=person, code="P001", name=person.name, group_code="a"
    )
    user = UserFactory(username="sec_a1", full_name="书记甲", person=person)
    grant(user, Role.MEMBER)
    services.compute(actor=organizer, campaign=campaign)  # the new target gets a result
    services.submit(actor=organizer, campaign=campaign)
    services.approve(actor=published.extra["approver"], campaign=campaign)
    client.force_login(user)
    url = f"/results/campaign/{campaign.pk}/target/{target.pk}/"
    assert client.get(url).status_code == 403  # not yet published
    _publish(published, organizer)
    resp = client.get(url)
    assert resp.status_code == 200 and "书记甲" in resp.content.decode()
    other = published.targets["a2"]
    assert client.get(f"/results/campaign/{campaign.pk}/target/{other.pk}/").status_code == 404
    assert "书记甲" in client.get("/results/mine/").content.decode()


def test_result_page_offers_an_appeal_during_publication(client, published, organizer):
    submitter = published.submitters["a1"]
    target = published.targets["a1"]
    _publish(published, organizer)
    client.force_login(submitter)
    page = client.get(f"/results/campaign/{published.campaign.pk}/target/{target.pk}/")
    assert f"/results/targets/{target.pk}/appeal/" in page.content.decode()
    client.force_login(organizer)
    page = client.get(f"/results/campaign/{published.campaign.pk}/target/{target.pk}/")
    assert "提出申诉" not in page.content.decode()
