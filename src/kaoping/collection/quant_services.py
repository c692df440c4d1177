"""Writes of quantitative data: importing a file, entering values by hand, undoing a batch.

Every import or manual entry is one ``QuantBatch`` written in one transaction, all or nothing:
if any row has a problem, nothing is written and every problem is reported with its row and
column. The newest value per (target, indicator) among batches not undone counts
(``quant_selectors.current_values``); undoing a batch withdraws its values, and is audited.
Callers have checked ``policy.can_manage_campaign``; the services check it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from kaoping import policy
from kaoping.audit.actions import Action
from kaoping.audit.services import log_action
from kaoping.campaigns.models import Campaign, Stage, Target

from . import quant_io
from .models import QuantBatch, QuantValue
from .quant_selectors import current_values, quant_indicators

MAX_ERRORS = 500
MAX_AUDIT_DETAILS = 50
CLOSED_STAGES = (Stage.PUBLICATION, Stage.ARCHIVED)


@dataclass
class QuantReport:
    errors: list[quant_io.RowError] = field(default_factory=list)
    error_total: int = 0
    batch: QuantBatch | None = None

    @property
    def ok(self) -> bool:
        return self.batch is not None


def _check_may_write(actor: Any, campaign: Campaign) -> None:
    if not policy.can_manage_campaign(actor, campaign):
        raise PermissionDenied
    if campaign.status in CLOSED_STAGES:
        raise ValidationError("考核结果已公示或归档，不能再修改量化数据")


def import_values(*, actor: Any, campaign: Campaign, filename: str, data: bytes) -> QuantReport:
    """Check an uploaded .xlsx/.csv and, when every row is fine, write it as a new batch."""
    _check_may_write(actor, campaign)
    report = QuantReport()
    indicators = list(campaign.scheme_version.indicators.all())
    quantitative = {i.pk for i in quant_indicators(campaign)}
    targets = {t.code: t for t in Target.objects.filter(campaign=campaign)}
    try:
        rows = quant_io.read_rows(filename, data)
        values, errors = quant_io.parse(
            rows, targets=targets, indicators=indicators, quantitative=quantitative
        )
    except quant_io.FileError as exc:
        values, errors = [], [quant_io.RowError(0, "", "", str(exc))]
    if errors:
        report.error_total = len(errors)
        report.errors = errors[:MAX_ERRORS]
        return report
    with transaction.atomic():
        batch = QuantBatch.objects.create(
            campaign=campaign,
            source_name=(filename or "上传文件")[:200],
            manual=False,
            rows=len(values),
            imported_by=actor,
        )
        QuantValue.objects.bulk_create(
            [
                QuantValue(
                    batch=batch, target=targets[v.target_code], indicator=v.indicator, value=v.value
                )
                for v in values
            ]
        )
        log_action(
            Action.QUANT_IMPORT,
            actor=actor,
            obj=batch,
            data={
                "考核活动": campaign.name,
                "文件": batch.source_name,
                "数值": len(values),
                "对象": len({v.target_code for v in values}),
                "指标": sorted({v.indicator.code for v in values}),
            },
        )
    report.batch = batch
    return report


def enter_values(
    *, actor: Any, campaign: Campaign, values: dict[tuple[int, int], Any]
) -> tuple[QuantBatch | None, dict[tuple[int, int], str]]:
    """Values typed by hand, keyed by (target id, indicator id) as raw text. Empty text and
    values equal to the current ones are skipped; the rest become one manual batch. Returns the
    batch (None when nothing changed) and the errors per key (nothing written if any)."""
    _check_may_write(actor, campaign)
    indicators = {i.pk: i for i in quant_indicators(campaign)}
    targets = {t.pk: t for t in Target.objects.filter(campaign=campaign)}
    current = current_values(campaign)
    errors: dict[tuple[int, int], str] = {}
    changed: dict[tuple[int, int], Decimal] = {}
    for key, raw in values.items():
        tid, iid = key
        if tid not in targets or iid not in indicators:
            errors[key] = "不是本次考核的对象或量化指标"
            continue
        try:
            number = quant_io.parse_number(raw)
        except ValueError:
            errors[key] = f"“{quant_io.text(raw)}”不是数字"
            continue
        if number is None:
            continue

        def fail(msg: str, key: tuple[int, int] = key) -> None:
            errors[key] = msg

        checked = quant_io.check_value(number, indicators[iid], fail)
        if checked is not None and current.get(key) != checked:
            changed[key] = checked
    if errors:
        return None, errors
    if not changed:
        return None, {}
    with transaction.atomic():
        batch = QuantBatch.objects.create(
            campaign=campaign,
            source_name="手工录入",
            manual=True,
            rows=len(changed),
            imported_by=actor,
        )
        QuantValue.objects.bulk_create(
            [
                QuantValue(batch=batch, target_id=tid, indicator_id=iid, value=v)
                for (tid, iid), v in changed.items()
            ]
        )
        details = [
            {
                "对象": targets[tid].name,
                "指标": indicators[iid].code,
                "原值": str(current[(tid, iid)]) if (tid, iid) in current else "",
                "新值": str(v),
            }
            for (tid, iid), v in list(changed.items())[:MAX_AUDIT_DETAILS]
        ]
        log_action(
            Action.QUANT_MANUAL,
            actor=actor,
            obj=batch,
            data={"考核活动": campaign.name, "数值": len(changed), "明细": details},
        )
    return batch, {}


@transaction.atomic
def undo_batch(*, actor: Any, batch: QuantBatch) -> QuantBatch:
    """Withdraw a batch: its values no longer count (the previous ones count again)."""
    batch = (
        QuantBatch.objects.select_for_update().select_related("campaign__owner").get(pk=batch.pk)
    )
    _check_may_write(actor, batch.campaign)
    if batch.undone_at is not None:
        raise ValidationError("该批次已撤销")
    batch.undone_at = timezone.now()
    batch.undone_by = actor
    batch.save(update_fields=["undone_at", "undone_by"])
    log_action(
        Action.QUANT_UNDO,
        actor=actor,
        obj=batch,
        changes={"状态": ["有效", "已撤销"]},
        data={"考核活动": batch.campaign.name, "来源": batch.source_name, "数值": batch.rows},
    )
    return batch
