"""A campaign whose results are published (公示), for the appeal tests.

``published_campaign(tree, organizer)`` builds ``results_fixtures.scored_campaign`` (targets a1,
a2, b1 with every input kind) plus a person target (a cadre of a1 with an account,
``setup.extra["cadre"]``/``["cadre_user"]``), then computes, submits, has the leader approve,
and moves the campaign to 公示. ``in_consolidation`` stops after computing.
"""

from __future__ import annotations

from typing import Any

from kaoping.accounts.models import Role
from kaoping.campaigns import services as campaign_services
from kaoping.campaigns.models import Stage, Target
from kaoping.results import services as results

from .collection_fixtures import CampaignSetup
from .factories import PersonFactory, UserFactory, grant
from .results_fixtures import scored_campaign


def in_consolidation(tree: dict[str, Any], organizer: Any) -> CampaignSetup:
    setup = scored_campaign(tree, organizer)
    person = PersonFactory(name="王书记", organization=tree["a1"])
    cadre = Target.objects.create(
        campaign=setup.campaign, person=person, code="P-WANG", name="王书记",
        group_code="ZB11", group_name=tree["a1"].name,
    )  # fmt: skip
    user = UserFactory(username=f"cadre_{setup.campaign.pk}", full_name="王书记", person=person)
    grant(user, Role.MEMBER)
    setup.targets["cadre"] = cadre
    setup.extra["cadre_user"] = user
    results.compute(actor=organizer, campaign=setup.campaign, reason="首次计算")
    return setup


def published_campaign(tree: dict[str, Any], organizer: Any) -> CampaignSetup:
    setup = in_consolidation(tree, organizer)
    results.submit(actor=organizer, campaign=setup.campaign)
    results.approve(actor=setup.extra["approver"], campaign=setup.campaign, comment="同意")
    campaign_services.transition(
        actor=organizer, campaign=setup.campaign, to_stage=Stage.PUBLICATION, confirm=True
    )
    setup.campaign.refresh_from_db()
    return setup
