"""Building blocks for campaign tests: a small published indicator system and a campaign over
the test tree's 党支部 (usable by any test that needs a running campaign)."""

from __future__ import annotations

import datetime as dt

from kaoping.accounts.models import Role
from kaoping.campaigns import rules, services
from kaoping.campaigns.models import Campaign, Stage
from kaoping.indicators import services as ind_services
from kaoping.indicators.constants import REQUIRED_DIMENSIONS, DataSource
from kaoping.organizations.models import OrgType

from .factories import PersonFactory, UserFactory, grant

SHARES = [15, 15, 15, 10, 10, 10, 10, 15]


def published_version(actor, owner, name="党支部年度考核", target_kind="organization"):
    """Eight dimensions with one leaf each (the last one quantitative), published."""
    version = ind_services.create_scheme(
        actor=actor, owner=owner, name=name, target_kind=target_kind
    )
    for i, (dim, pts) in enumerate(zip(REQUIRED_DIMENSIONS, SHARES, strict=True)):
        top = ind_services.add_indicator(
            actor=actor, version=version, code=f"D{i + 1}", name=dim.label, dimension=dim,
            points=pts,
        )  # fmt: skip
        source = DataSource.QUANTITATIVE if i == 7 else DataSource.REVIEWER
        ind_services.add_indicator(
            actor=actor, version=version, parent=top, code=f"D{i + 1}.1",
            name=f"{dim.label}成效", points=pts, rule_kind="rating",
            rule_params={"max": pts}, criteria="根据实际成效评分", data_source=source,
        )  # fmt: skip
    return ind_services.publish(actor=actor, version=version)


def make_campaign(actor, owner, version, **kw) -> Campaign:
    fields = {
        "name": "2026年度党支部工作考核",
        "campaign_type": "annual",
        "period_start": dt.date(2026, 1, 1),
        "period_end": dt.date(2026, 12, 31),
        "purpose": "检验党支部全年党建工作成效，推动党建与业务融合",
        "result_rules": rules.DEFAULT_RULES,
        "scheme_version": version,
        "target_kind": "organization",
    }
    fields.update(kw)
    return services.create_campaign(actor=actor, owner=owner, **fields)


def reviewer_user(username, org=None, name=None):
    """A 评审员 whose own person sits in ``org`` (None: no person)."""
    person = PersonFactory(name=name or username, organization=org) if org else None
    user = UserFactory(username=username, full_name=name or username, person=person)
    grant(user, Role.REVIEWER, None)
    return user


def running_campaign(organizer, tree, reviewer, *, stage=Stage.SELF_ASSESSMENT, version=None):
    """A published campaign over the four 党支部, ``reviewer`` assigned to all, at ``stage``."""
    version = version or published_version(organizer, tree["root"])
    campaign = make_campaign(organizer, tree["root"], version)
    services.add_targets_by_subtree(
        actor=organizer, campaign=campaign, root=tree["root"], org_types=[OrgType.BRANCH]
    )
    services.assign_reviewer(
        actor=organizer, campaign=campaign, reviewer=reviewer, targets=campaign.targets.all()
    )
    for s in (Stage.PUBLISHED, Stage.SELF_ASSESSMENT, Stage.REVIEW):
        if campaign.status == stage:
            break
        services.transition(actor=organizer, campaign=campaign, to_stage=s, confirm=True)
    campaign.refresh_from_db()
    return campaign
