"""Builders for rectification tests.

``approved_results(tree, organizer)``: the scored campaign of tests/results_fixtures.py with its
results computed, submitted and approved, the 书记 of 办公室党支部 (a1) and of 机关党委 (root)
appointed, each with an account of their own and no role (``setup.extra["secretaries"]``).
On those results the proposals are: a1 1.3 扣 1 分 (deduction), a2 2.1 weak (11.43 of 20),
b1 2.1 and 2.3 weak and b1 graded 差.

``next_campaign(tree, organizer)``: a 2026 campaign over the same units whose indicator system
has a 平时考核纪实 deduction leaf 2.4 with the item “反馈问题未按期整改” (or not, with
``record_item=False``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError

from kaoping.campaigns.models import Stage
from kaoping.indicators import services as ind_services
from kaoping.indicators.constants import DataSource
from kaoping.indicators.models import SchemeVersion, VersionStatus
from kaoping.organizations import services as org_services
from kaoping.results import services as result_services

from .collection_fixtures import INDICATORS, CampaignSetup, campaign_in_self_assessment
from .factories import PersonFactory, UserFactory
from .results_fixtures import scored_campaign

NEXT_PERIOD = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
RECORD_LEAF = (
    "2.4",
    "2",
    {
        "name": "问题整改",
        "points": 5,
        "rule_kind": "deduction",
        "rule_params": {
            "max": 5,
            "items": [{"code": "a", "name": "反馈问题未按期整改", "per": 2}],
        },
        "criteria": "上年度整改任务每有一项未按期完成扣 2 分。",
        "data_source": DataSource.DAILY_RECORD,
    },
)


def appoint_secretary(organizer: Any, org: Any, name: str, username: str) -> tuple[Any, Any]:
    person = PersonFactory(name=name, organization=org)
    org_services.appoint(actor=organizer, organization=org, person=person, title="secretary")
    user = UserFactory(username=username, full_name=name, person=person)
    return person, user


def approved_results(
    tree: dict[str, Any], organizer: Any, *, secretaries: bool = True, before: Any = None
) -> CampaignSetup:
    setup = scored_campaign(tree, organizer)
    if before is not None:
        before(setup)
    if secretaries:
        setup.extra["secretaries"] = {
            "a1": appoint_secretary(organizer, tree["a1"], "办公室书记", "sec_a1"),
            "root": appoint_secretary(organizer, tree["root"], "机关党委书记", "sec_root"),
        }
    rs, _ = result_services.compute(actor=organizer, campaign=setup.campaign)
    result_services.submit(actor=organizer, campaign=setup.campaign)
    result_services.approve(actor=setup.extra["approver"], campaign=setup.campaign)
    rs.refresh_from_db()
    setup.extra["result_set"] = rs
    return setup


def next_version(owner: Any, organizer: Any, *, record_item: bool = True) -> SchemeVersion:
    version = ind_services.create_scheme(actor=organizer, owner=owner, name="2026 年度考核指标体系")
    made: dict[str, Any] = {}
    rows = [*INDICATORS, RECORD_LEAF] if record_item else INDICATORS
    for code, parent, fields in rows:
        made[code] = ind_services.add_indicator(
            actor=organizer, version=version, parent=made.get(parent or ""), code=code, **fields
        )
    try:
        ind_services.publish(actor=organizer, version=version)
    except ValidationError:
        SchemeVersion.objects.filter(pk=version.pk).update(status=VersionStatus.PUBLISHED)
    version.refresh_from_db()
    return version


def next_campaign(
    tree: dict[str, Any],
    organizer: Any,
    *,
    record_item: bool = True,
    status: str = Stage.CONSOLIDATION,
) -> CampaignSetup:
    version = next_version(tree["root"], organizer, record_item=record_item)
    return campaign_in_self_assessment(
        tree,
        organizer=organizer,
        name="2026 年度党建工作考核",
        version=version,
        status=status,
        period=NEXT_PERIOD,
    )
