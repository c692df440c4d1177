"""Builders for reviewer-scoring and quantitative-data tests.

``review_setup`` is the shared collection campaign (tests/collection_fixtures.py) moved to its
review stage. ``build_grid`` makes a campaign of any size in bulk (targets × indicators of mixed
rule kinds, with scores, self-assessment items and evidence) for the query-count test and the
benchmark.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kaoping.accounts.models import Role
from kaoping.campaigns.models import (
    Campaign,
    CampaignStage,
    CampaignType,
    ReviewerAssignment,
    Stage,
    Target,
)
from kaoping.collection.models import (
    Evidence,
    EvidenceFile,
    ReviewScore,
    ReviewSheet,
    SelfAssessment,
    SelfAssessmentItem,
)
from kaoping.indicators.constants import DataSource
from kaoping.indicators.models import Indicator, Scheme, SchemeVersion, VersionStatus

from .collection_fixtures import CampaignSetup, campaign_in_self_assessment
from .factories import UserFactory, grant


def review_setup(tree: dict[str, Any], organizer: Any) -> CampaignSetup:
    """The collection campaign in its review stage; the reviewer is assigned a1 and a2."""
    setup = campaign_in_self_assessment(tree, organizer=organizer, status=Stage.REVIEW)
    ReviewerAssignment.objects.create(
        campaign=setup.campaign, reviewer=setup.reviewer, target=setup.targets["a2"]
    )
    return setup


# Rule kinds cycled over the leaves of a built grid.
KINDS: list[tuple[str, dict[str, Any]]] = [
    ("rating", {"max": 10}),
    ("grade", {}),
    ("deduction", {"max": 5, "items": [{"code": "a", "name": "未按时召开", "per": 1}]}),
    (
        "deduction",
        {
            "max": 5,
            "items": [
                {"code": "a", "name": "未按时召开支委会", "per": 1},
                {"code": "b", "name": "未开展主题党日", "per": 2},
            ],
        },
    ),
    ("bonus", {"cap": 3, "items": [{"code": "x", "name": "获得表彰", "per": 1}]}),
]


@dataclass
class Built:
    campaign: Campaign
    reviewer: Any
    targets: list[Target]
    leaves: list[Indicator]


def build_grid(
    owner: Any,
    unit: Any,
    *,
    targets: int,
    indicators: int,
    scores: bool = True,
    name: str = "",
) -> Built:
    """A campaign in review with ``targets`` targets (all of ``unit``) × ``indicators`` leaves
    (under 6 parents), a reviewer assigned to every target, and — with ``scores`` — every cell
    scored and half of them self-assessed with one piece of evidence."""
    name = name or f"网格{targets}x{indicators}"
    scheme = Scheme.objects.create(name=f"{name}体系", owner=owner)
    version = SchemeVersion.objects.create(scheme=scheme, number=1)
    parents = Indicator.objects.bulk_create(
        [
            Indicator(version=version, code=str(p + 1), name=f"一级指标{p + 1}", level=1,
                      position=p)
            for p in range(6)
        ]
    )  # fmt: skip
    leaves = []
    for n in range(indicators):
        kind, params = KINDS[n % len(KINDS)]
        parent = parents[n % 6]
        leaves.append(
            Indicator(
                version=version,
                parent=parent,
                code=f"{parent.code}.{n // 6 + 1}",
                name=f"二级指标{n + 1}",
                level=2,
                position=n,
                points=Decimal(params.get("max", 10) if kind != "bonus" else 3),
                rule_kind=kind,
                rule_params=params,
                criteria=f"评分标准 {n + 1}：按要求完成得满分，每缺一项扣分。",
                data_source=DataSource.REVIEWER if n % 2 else DataSource.SELF,
            )
        )
    leaves = Indicator.objects.bulk_create(leaves)
    SchemeVersion.objects.filter(pk=version.pk).update(status=VersionStatus.PUBLISHED)
    campaign = Campaign.objects.create(
        name=name,
        campaign_type=CampaignType.ANNUAL,
        period_start=dt.date(2025, 1, 1),
        period_end=dt.date(2025, 12, 31),
        purpose="检验成效",
        owner=owner,
        scheme_version=version,
        status=Stage.REVIEW,
    )
    CampaignStage.objects.bulk_create([CampaignStage(campaign=campaign, stage=s) for s in Stage])
    made = Target.objects.bulk_create(
        [
            Target(campaign=campaign, organization=unit, code=f"T{i:03d}", name=f"第{i + 1}党支部")
            for i in range(targets)
        ]
    )
    reviewer = UserFactory(full_name="评审员")
    grant(reviewer, Role.REVIEWER, owner)
    ReviewerAssignment.objects.bulk_create(
        [ReviewerAssignment(campaign=campaign, reviewer=reviewer, target=t) for t in made]
    )
    if scores:
        _fill(campaign, reviewer, made, leaves, unit)
    return Built(campaign, reviewer, made, leaves)


def _value(ind: Indicator, i: int) -> dict[str, Any]:
    if ind.rule_kind == "rating":
        return {"score": Decimal(10 - i % 3), "reason": "材料不全" if i % 3 else ""}
    if ind.rule_kind == "grade":
        return {"grade": ["好", "较好"][i % 2], "reason": "一般化" if i % 2 else ""}
    codes = [it["code"] for it in ind.rule_params["items"]]
    count = i % 2
    reason = "有扣分" if count and ind.rule_kind == "deduction" else ""
    return {"occurrences": {c: count for c in codes}, "reason": reason}


def _fill(
    campaign: Campaign, reviewer: Any, targets: list[Target], leaves: list[Indicator], unit: Any
) -> None:
    sheet = ReviewSheet.objects.create(campaign=campaign, reviewer=reviewer)
    ReviewScore.objects.bulk_create(
        [
            ReviewScore(sheet=sheet, target=t, indicator=ind, **_value(ind, i + j))
            for i, t in enumerate(targets)
            for j, ind in enumerate(leaves)
        ]
    )
    stored = EvidenceFile.objects.create(
        sha256=f"{campaign.pk:064d}", file="evidence/x.pdf", size=1, content_type="application/pdf"
    )
    evidence = Evidence.objects.create(organization=unit, file=stored, name="会议记录.pdf")
    assessments = SelfAssessment.objects.bulk_create([SelfAssessment(target=t) for t in targets])
    items = SelfAssessmentItem.objects.bulk_create(
        [
            SelfAssessmentItem(
                assessment=a, indicator=ind, narrative="按要求开展。", **{
                    k: v for k, v in _value(ind, j).items() if k != "reason"
                }
            )
            for a in assessments
            for j, ind in enumerate(leaves)
            if j % 2 == 0
        ]
    )  # fmt: skip
    through = SelfAssessmentItem.evidence.through
    through.objects.bulk_create(
        [through(selfassessmentitem_id=it.pk, evidence_id=evidence.pk) for it in items]
    )
