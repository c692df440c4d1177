"""Shared builders for collection tests: a published indicator system and a campaign whose
self-assessment stage is open, with targets, unit submitters and an assigned reviewer.

Use the builder directly (``campaign_in_self_assessment(tree, organizer=...)``) or the pytest
fixture ``self_assessment_campaign`` (import it into a test module or a conftest).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from kaoping.accounts.models import Role
from kaoping.campaigns.models import (
    Campaign,
    CampaignStage,
    CampaignType,
    ReviewerAssignment,
    Stage,
    Target,
)
from kaoping.indicators import services as ind_services
from kaoping.indicators.constants import DataSource, Dimension
from kaoping.indicators.models import Indicator, SchemeVersion, VersionStatus

from .factories import UserFactory, grant

PERIOD_START = dt.date(2025, 1, 1)
PERIOD_END = dt.date(2025, 12, 31)


@dataclass
class CampaignSetup:
    campaign: Campaign
    version: SchemeVersion
    indicators: dict[str, Indicator]  # by code
    targets: dict[str, Target]  # by tree key ("a1", "a2", "b1")
    submitters: dict[str, Any]  # by tree key: the 单位填报员 of that unit
    reviewer: Any  # 评审员 assigned to targets["a1"] only
    extra: dict[str, Any] = field(default_factory=dict)


# The indicator tree: (code, parent code, fields). Leaves cover the rule kinds a unit fills in
# (rating, grade, deduction, bonus) and the ones the system holds (quantitative, daily record).
INDICATORS: list[tuple[str, str | None, dict[str, Any]]] = [
    ("1", None, {"name": "政治建设", "dimension": Dimension.POLITICAL, "points": 40}),
    (
        "1.1",
        "1",
        {
            "name": "学习贯彻党的创新理论",
            "points": 10,
            "rule_kind": "rating",
            "rule_params": {"max": 10},
            "criteria": "按计划开展理论学习，每缺一次扣 2 分。",
            "data_source": DataSource.SELF,
            "evidence": [{"what": "党组织会议记录", "count": 1, "optional": False}],
        },
    ),
    (
        "1.2",
        "1",
        {
            "name": "落实意识形态工作责任制",
            "points": 20,
            "rule_kind": "grade",
            "rule_params": {},
            "criteria": "按好、较好、一般、差评定等次。",
            "data_source": DataSource.REVIEWER,
        },
    ),
    (
        "1.3",
        "1",
        {
            "name": "严格党的组织生活",
            "points": 10,
            "rule_kind": "deduction",
            "rule_params": {
                "max": 10,
                "items": [
                    {"code": "a", "name": "未按时召开支委会", "per": 1},
                    {"code": "b", "name": "未按时开展主题党日", "per": 2},
                ],
            },
            "criteria": "未按时召开支委会每次扣 1 分，未开展主题党日每次扣 2 分。",
            "data_source": DataSource.SELF,
        },
    ),
    ("2", None, {"name": "组织建设", "dimension": Dimension.ORGANIZATIONAL, "points": 60}),
    (
        "2.1",
        "2",
        {
            "name": "党员发展计划完成率",
            "points": 20,
            "rule_kind": "linear",
            "rule_params": {"floor": 60, "target": 95},
            "criteria": "完成率 60% 得 0 分，95% 及以上得满分。",
            "data_source": DataSource.QUANTITATIVE,
        },
    ),
    (
        "2.2",
        "2",
        {
            "name": "获得表彰",
            "points": 5,
            "rule_kind": "bonus",
            "rule_params": {
                "cap": 5,
                "items": [{"code": "city", "name": "获市级以上表彰", "per": 2}],
            },
            "criteria": "获市级以上表彰每次加 2 分，最多 5 分。",
            "data_source": DataSource.DAILY_RECORD,
        },
    ),
    (
        "2.3",
        "2",
        {
            "name": "党建与业务融合",
            "points": 40,
            "rule_kind": "rating",
            "rule_params": {"max": 40},
            "criteria": "围绕中心、建设队伍、服务群众。",
            "data_source": DataSource.SELF,
            "evidence": [{"what": "融合工作案例", "count": 1, "optional": True}],
        },
    ),
]


def published_version(owner: Any, *, actor: Any = None, name: str = "党支部年度考核") -> Any:
    """A published indicator system (see ``INDICATORS``) owned by ``owner``."""
    version = ind_services.create_scheme(actor=actor, owner=owner, name=name)
    made: dict[str, Indicator] = {}
    for code, parent, fields in INDICATORS:
        made[code] = ind_services.add_indicator(
            actor=actor, version=version, parent=made.get(parent or ""), code=code, **fields
        )
    try:
        ind_services.publish(actor=actor, version=version)
    except ValidationError:
        # The small tree leaves most dimensions uncovered (a blocking finding of the validation
        # report); the collection tests only need a frozen version.
        SchemeVersion.objects.filter(pk=version.pk).update(status=VersionStatus.PUBLISHED)
    version.refresh_from_db()
    return version


def campaign_in_self_assessment(
    tree: dict[str, Any],
    *,
    organizer: Any = None,
    keys: tuple[str, ...] = ("a1", "a2", "b1"),
    name: str = "2025 年度党建工作考核",
    version: Any = None,
    status: str = Stage.SELF_ASSESSMENT,
    period: tuple[dt.date, dt.date] = (PERIOD_START, PERIOD_END),
) -> CampaignSetup:
    """A campaign owned by the root organization, in its self-assessment stage, with one
    organization target per ``keys`` entry, a submitter per target unit, and a reviewer
    assigned to the first target."""
    root = tree["root"]
    version = version or published_version(root, actor=organizer, name=f"{name}指标体系")
    campaign = Campaign.objects.create(
        name=name,
        campaign_type=CampaignType.ANNUAL,
        period_start=period[0],
        period_end=period[1],
        purpose="检验全年党建工作成效，结果用于评先评优。",
        owner=root,
        scheme_version=version,
        status=status,
        created_by=organizer,
    )
    for stage in Stage:
        CampaignStage.objects.create(campaign=campaign, stage=stage)
    targets: dict[str, Target] = {}
    submitters: dict[str, Any] = {}
    for key in keys:
        org = tree[key]
        targets[key] = Target.objects.create(
            campaign=campaign,
            organization=org,
            code=org.code,
            name=org.name,
            group_code=org.parent.code if org.parent_id else "",
            group_name=org.parent.name if org.parent_id else "",
        )
        user = UserFactory(username=f"tb_{key}_{campaign.pk}", full_name=f"{org.name}填报员")
        grant(user, Role.SUBMITTER, org)
        submitters[key] = user
    reviewer = UserFactory(username=f"reviewer_{campaign.pk}", full_name="评审员赵")
    grant(reviewer, Role.REVIEWER, root)
    first = targets[keys[0]]
    ReviewerAssignment.objects.create(campaign=campaign, reviewer=reviewer, target=first)
    indicators = {i.code: i for i in version.indicators.all()}
    return CampaignSetup(
        campaign=campaign,
        version=version,
        indicators=indicators,
        targets=targets,
        submitters=submitters,
        reviewer=reviewer,
    )


@pytest.fixture
def self_assessment_campaign(tree, organizer) -> CampaignSetup:
    return campaign_in_self_assessment(tree, organizer=organizer)
