"""A campaign with every kind of input, in its 汇总 (consolidation) stage, ready to compute.

``scored_campaign`` extends the collection campaign (tests/collection_fixtures.py; targets a1,
a2 under 第一党总支 and b1 under 第二党总支):

* a1: the reviewer's submitted sheet (1.1 rating 8, 1.2 grade 较好, 1.3 one 支委会 missed, 2.3
  rating 30) — the reviewer's scores count;
* a2: no reviewer; its submitted self-assessment counts for the self-assessed leaves (1.1 = 9,
  1.3 nothing missed, 2.3 = 35);
* b1: a submitted self-assessment with 1.1 = 6 and 2.3 = 20, and one 平时考核纪实 city award
  (2.2 bonus);
* quantitative 2.1 (党员发展计划完成率): a1 95, a2 80, b1 60.

Also a leader account (``approver``) with approval rights over the whole tree.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from kaoping.accounts.models import Role
from kaoping.campaigns.models import Campaign, Stage
from kaoping.collection.models import (
    AssessmentStatus,
    DailyRecord,
    QuantBatch,
    QuantValue,
    ReviewScore,
    ReviewSheet,
    SelfAssessment,
    SelfAssessmentItem,
    SheetStatus,
)

from .collection_fixtures import CampaignSetup, campaign_in_self_assessment
from .factories import UserFactory, grant


def _self(setup: CampaignSetup, key: str, items: dict[str, Any]) -> None:
    sa = SelfAssessment.objects.create(target=setup.targets[key], status=AssessmentStatus.SUBMITTED)
    for code, value in items.items():
        ind = setup.indicators[code]
        if isinstance(value, dict):
            SelfAssessmentItem.objects.create(assessment=sa, indicator=ind, occurrences=value)
        elif isinstance(value, str):
            SelfAssessmentItem.objects.create(assessment=sa, indicator=ind, grade=value)
        else:
            SelfAssessmentItem.objects.create(assessment=sa, indicator=ind, score=Decimal(value))


def scored_campaign(tree: dict[str, Any], organizer: Any, *, version: Any = None) -> CampaignSetup:
    """``version``: another published version holding the same leaves (e.g. plus a veto)."""
    setup = campaign_in_self_assessment(
        tree, organizer=organizer, status=Stage.CONSOLIDATION, version=version
    )
    ind = setup.indicators
    sheet = ReviewSheet.objects.create(
        campaign=setup.campaign, reviewer=setup.reviewer, status=SheetStatus.SUBMITTED
    )
    a1 = setup.targets["a1"]
    ReviewScore.objects.create(sheet=sheet, target=a1, indicator=ind["1.1"], score=Decimal(8))
    ReviewScore.objects.create(sheet=sheet, target=a1, indicator=ind["1.2"], grade="较好")
    ReviewScore.objects.create(sheet=sheet, target=a1, indicator=ind["1.3"], occurrences={"a": 1})
    ReviewScore.objects.create(sheet=sheet, target=a1, indicator=ind["2.3"], score=Decimal(30))
    _self(setup, "a1", {"1.1": 10, "2.3": 40})  # the reviewer's scores win
    _self(setup, "a2", {"1.1": 9, "1.3": {}, "2.3": 35})
    _self(setup, "b1", {"1.1": 6, "2.3": 20})
    batch = QuantBatch.objects.create(campaign=setup.campaign, source_name="组织部统计", rows=3)
    for key, value in (("a1", 95), ("a2", 80), ("b1", 60)):
        QuantValue.objects.create(
            batch=batch, target=setup.targets[key], indicator=ind["2.1"], value=Decimal(value)
        )
    DailyRecord.objects.create(
        organization=tree["b1"],
        indicator_code="2.2",
        item_code="city",
        kind="bonus",
        occurrences=1,
        occurred_on=dt.date(2025, 6, 1),
        description="获市级先进基层党组织表彰",
    )
    approver = UserFactory(username=f"leader_{setup.campaign.pk}", full_name="党委书记王")
    grant(approver, Role.LEADER, tree["root"])
    setup.extra["approver"] = approver
    setup.extra["sheet"] = sheet
    return setup


def campaign_stage(campaign: Campaign) -> str:
    campaign.refresh_from_db()
    return campaign.status
