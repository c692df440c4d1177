"""Reads for daily records (平时考核纪实): what a campaign takes in for a target, who sees which
records, and the indicators a record may be made against."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from kaoping import policy
from kaoping.indicators.constants import RuleKind
from kaoping.indicators.models import Indicator, SchemeVersion, VersionStatus
from kaoping.organizations.models import OrgStatus
from kaoping.policy import Perm

from .models import DailyRecord, RecordKind

RECORD_RULE_KINDS = (RuleKind.DEDUCTION, RuleKind.BONUS, RuleKind.PENALTY, RuleKind.BASE_ADJUST)


def daily_records_for(campaign: Any, target: Any) -> QuerySet[DailyRecord]:
    """The records that feed ``campaign`` for ``target``: of the target's unit, dated within the
    campaign period, against an indicator code of the campaign's indicator system."""
    unit = target.unit
    if unit is None:
        return DailyRecord.objects.none()
    codes = campaign.scheme_version.indicators.values("code")
    return (
        DailyRecord.objects.filter(
            organization=unit,
            occurred_on__gte=campaign.period_start,
            occurred_on__lte=campaign.period_end,
            indicator_code__in=codes,
        )
        .select_related("evidence", "evidence__file", "recorded_by")
        .order_by("occurred_on", "id")
    )


def visible_records(user: Any) -> QuerySet[DailyRecord]:
    """Organizers and leaders: records of their subtree; a unit: its own records."""
    if not policy.has_perm(user, Perm.CAMPAIGN_VIEW):
        return DailyRecord.objects.none()
    q = policy.org_scope(user, Perm.CAMPAIGN_VIEW, prefix="organization__")
    return DailyRecord.objects.filter(q).select_related(
        "organization", "evidence", "evidence__file", "recorded_by"
    )


def can_record_for(user: Any, organization: Any) -> bool:
    return (
        policy.visible_organizations(user, Perm.CAMPAIGN_MANAGE).filter(pk=organization.pk).exists()
    )


def recordable_organizations(user: Any) -> QuerySet[Any]:
    return policy.visible_organizations(user, Perm.CAMPAIGN_MANAGE).filter(status=OrgStatus.ACTIVE)


def get_record_for_user(user: Any, pk: Any) -> tuple[DailyRecord, bool]:
    """The record if the user may see it (else 404), and whether they may change it."""
    try:
        record = visible_records(user).get(pk=pk)
    except (ValueError, TypeError, DailyRecord.DoesNotExist) as exc:
        raise Http404 from exc
    return record, can_record_for(user, record.organization)


@dataclass
class Filters:
    organization: Any = None
    indicator_code: str = ""
    kind: str = ""
    start: dt.date | None = None
    end: dt.date | None = None
    q: str = ""


def filter_records(qs: QuerySet[DailyRecord], f: Filters) -> QuerySet[DailyRecord]:
    if f.organization is not None:
        qs = qs.filter(organization=f.organization)
    if f.indicator_code:
        qs = qs.filter(indicator_code=f.indicator_code)
    if f.kind in RecordKind.values:
        qs = qs.filter(kind=f.kind)
    if f.start:
        qs = qs.filter(occurred_on__gte=f.start)
    if f.end:
        qs = qs.filter(occurred_on__lte=f.end)
    if f.q:
        qs = qs.filter(Q(description__icontains=f.q) | Q(organization__name__icontains=f.q))
    return qs


def recordable_indicators(user: Any) -> list[Indicator]:
    """Deduction/bonus-type leaf indicators of the published indicator systems the user sees."""
    versions = SchemeVersion.objects.filter(
        scheme__in=policy.visible_schemes(user), status=VersionStatus.PUBLISHED
    )
    return list(
        Indicator.objects.filter(
            version__in=versions,
            rule_kind__in=RECORD_RULE_KINDS,
            children__isnull=True,
        )
        .select_related("version", "version__scheme")
        .order_by("version__scheme__name", "-version__number", "code")
    )


def item_choices(user: Any) -> list[tuple[str, str]]:
    """``("<indicator id>:<item code>", "体系 第n版 · 1.3 指标 · 事项")`` for the record form."""
    out = []
    for ind in recordable_indicators(user):
        for it in (ind.rule_params or {}).get("items") or []:
            label = f"{ind.version} · {ind.code} {ind.name} · {it.get('name') or it.get('code')}"
            out.append((f"{ind.pk}:{it.get('code')}", label))
    return out
