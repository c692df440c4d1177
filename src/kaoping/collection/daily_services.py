"""Writes for daily records (平时考核纪实): organizers record events through the year against an
organization in their subtree and an item of a deduction/bonus indicator of a published
indicator system; every campaign whose period covers the date and whose system has the code
takes the record in (the unit is never asked to report it again: 最多报一次)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from kaoping.audit.actions import Action
from kaoping.audit.services import log_action, snapshot

from . import daily_selectors as dsel
from .models import DailyRecord, Evidence, RecordKind

RECORD_FIELDS = (
    "organization",
    "indicator_code",
    "item_code",
    "kind",
    "occurrences",
    "points",
    "occurred_on",
    "description",
)
DESCRIPTION_MAX = 2000
TWO_PLACES = Decimal("0.01")


def record_kind(indicator: Any, item: dict[str, Any]) -> str:
    if indicator.rule_kind == "bonus":
        return RecordKind.BONUS
    if indicator.rule_kind == "base_adjust":
        per = Decimal(str(item.get("per") or 0))
        return RecordKind.BONUS if per > 0 else RecordKind.DEDUCTION
    return RecordKind.DEDUCTION


@transaction.atomic
def create_record(
    *,
    actor: Any,
    organization: Any,
    indicator: Any,
    item_code: str,
    occurred_on: dt.date | None,
    description: str,
    occurrences: Any = 1,
    points: Any = None,
    evidence: Evidence | None = None,
    uploaded_file: Any = None,
) -> DailyRecord:
    """Record one event. ``points`` (optional) replaces the item's points per occurrence when
    the organizer fixes the amount; ``uploaded_file`` is stored as the organization's
    evidence."""
    if not dsel.can_record_for(actor, organization):
        raise PermissionDenied("只能为本级及下级党组织记录平时考核纪实")
    errors: dict[str, str] = {}
    if indicator.rule_kind not in dsel.RECORD_RULE_KINDS or indicator.children.exists():
        errors["indicator"] = "只能对加分、扣分类指标记录"
    elif not indicator.version.is_published:
        errors["indicator"] = "只能对已发布指标体系中的指标记录"
    items = {str(it.get("code")): it for it in (indicator.rule_params or {}).get("items") or []}
    item = items.get(str(item_code or ""))
    if item is None and "indicator" not in errors:
        errors["item"] = "请选择该指标下的事项"
    try:
        n = int(str(occurrences if occurrences not in (None, "") else 1).strip())
    except ValueError:
        n = -1
    if not 1 <= n <= 1000:
        errors["occurrences"] = "次数应为 1 至 1000 之间的整数"
    pts = None
    if points not in (None, ""):
        try:
            pts = Decimal(str(points).strip())
        except (InvalidOperation, ValueError):
            pts = Decimal(-1)
        if not pts.is_finite() or pts <= 0 or pts > 1000 or pts != pts.quantize(TWO_PLACES):
            errors["points"] = "分值应为大于 0 的数字（最多两位小数）"
        else:
            pts = pts.quantize(TWO_PLACES)
    if occurred_on is None:
        errors["occurred_on"] = "请填写发生日期"
    elif occurred_on > timezone.localdate():
        errors["occurred_on"] = "发生日期不能晚于今天"
    description = (description or "").strip()
    if not description:
        errors["description"] = "请填写情况描述"
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = f"情况描述最多 {DESCRIPTION_MAX} 字"
    if evidence is not None and evidence.organization_id != organization.pk:
        errors["evidence"] = "佐证材料应属于被记录的党组织"
    if errors:
        raise ValidationError(errors)
    if uploaded_file is not None:
        from .self_services import upload_evidence

        try:
            evidence = upload_evidence(
                actor=actor, organization=organization, uploaded_file=uploaded_file
            )
        except ValidationError as exc:
            raise ValidationError({"evidence": exc.messages[0]}) from exc
    record = DailyRecord.objects.create(
        organization=organization,
        indicator_code=indicator.code,
        item_code=str(item_code),
        kind=record_kind(indicator, item or {}),
        occurrences=n,
        points=pts,
        occurred_on=occurred_on,
        description=description,
        evidence=evidence,
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    log_action(
        Action.DAILY_RECORD_CREATE,
        actor=actor,
        obj=record,
        changes={k: [None, v] for k, v in snapshot(record, RECORD_FIELDS).items()},
        data={
            "indicator": f"{indicator.code} {indicator.name}",
            "version": str(indicator.version),
            "item": (item or {}).get("name") or item_code,
            "evidence": evidence.name if evidence else "",
        },
    )
    return record


@transaction.atomic
def delete_record(*, actor: Any, record: DailyRecord, reason: str = "") -> None:
    """Withdraw a record entered in error (audited with its content and the reason)."""
    record = (
        DailyRecord.objects.select_for_update().select_related("organization").get(pk=record.pk)
    )
    if not dsel.can_record_for(actor, record.organization):
        raise PermissionDenied("只能删除本级及下级党组织的平时考核纪实")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("请填写删除原因")
    before = snapshot(record, RECORD_FIELDS)
    pk, text = record.pk, str(record)
    record.delete()
    log_action(
        Action.DAILY_RECORD_DELETE,
        actor=actor,
        object_type="collection.dailyrecord",
        object_id=pk,
        object_repr=text,
        changes={k: [v, None] for k, v in before.items()},
        data={"reason": reason},
    )
