"""Writes of reviewer scoring (评审): one cell at a time (autosave), submitting the sheet (locks
it), and the organizer reopening it.

Audit policy. Autosave writes a cell on every change, so one audit entry per keystroke-save would
flood the log with drafts nobody relies on. Instead:

- while a sheet has never been submitted, saves are not audited one by one;
- ``submit_sheet`` writes one ``review.submit`` entry with a summary (cells, deductions, per-target
  totals) and the SHA-256 of the canonical cell values, which pins exactly what was submitted;
- once a sheet has been submitted and reopened (``submitted_at`` is kept on reopen), every change
  of a cell writes a ``review.score`` entry with its before/after: those are the changes to a
  result that was already handed in, and are what an appeal or an inspection asks about;
- ``reopen_sheet`` writes ``review.reopen`` with the organizer's reason.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kaoping import policy
from kaoping.audit.actions import Action
from kaoping.audit.services import log_action
from kaoping.campaigns.models import Campaign, Stage, Target

from .models import ReviewScore, ReviewSheet, SheetStatus
from .review_rules import REASON_REQUIRED, fmt
from .review_selectors import assigned_targets, review_columns

MISSING_SHOWN = 20


def review_open(campaign: Campaign) -> bool:
    """Whether the review stage accepts scores (decided by the campaigns workflow)."""
    from kaoping.campaigns.services import stage_is_open

    return bool(stage_is_open(campaign, Stage.REVIEW))


def get_or_create_sheet(campaign: Campaign, reviewer: Any) -> ReviewSheet:
    sheet, _ = ReviewSheet.objects.get_or_create(campaign=campaign, reviewer=reviewer)
    return sheet


def _lock_sheet(campaign: Campaign, reviewer: Any) -> ReviewSheet:
    get_or_create_sheet(campaign, reviewer)
    return ReviewSheet.objects.select_for_update().get(campaign=campaign, reviewer=reviewer)


def _check_open(campaign: Campaign, sheet: ReviewSheet) -> None:
    if not review_open(campaign):
        raise ValidationError("评审阶段未开放，不能评分")
    if sheet.status == SheetStatus.SUBMITTED:
        raise ValidationError("评分表已提交，如需修改请联系组织者退回")


def _cell_state(score: ReviewScore | None, rule: Any) -> dict[str, Any]:
    if score is None:
        return {"值": "", "理由": ""}
    occ = score.occurrences if rule.input in ("count", "items") else None
    value = rule.display(score.score, score.grade, occ)
    if rule.input == "items" and occ:
        value = "，".join(f"{it.name or it.code}×{occ.get(it.code, 0)}" for it in rule.items)
    return {"值": value, "理由": score.reason}


@transaction.atomic
def save_score(
    *,
    actor: Any,
    target: Target,
    indicator: Any,
    score: Any = None,
    grade: Any = None,
    occurrences: Any = None,
    reason: str = "",
) -> ReviewScore | None:
    """Save one cell of the actor's sheet; an empty value clears it (returns None).

    Only an assigned reviewer, only while the review stage is open and the sheet is open. The
    value must fit the indicator's rule, and every deduction needs a reason."""
    campaign = target.campaign
    if not policy.is_assigned_reviewer(actor, target):
        raise PermissionDenied
    column = next((c for c in review_columns(campaign) if c.indicator.pk == indicator.pk), None)
    if column is None:
        raise ValidationError("该指标不由评审员评分")
    rule = column.rule
    sheet = _lock_sheet(campaign, actor)
    _check_open(campaign, sheet)
    value, label, occ = rule.clean(score=score, grade=grade, occurrences=occurrences)
    reason = (reason or "").strip()
    if len(reason) > 2000:
        raise ValidationError("扣分理由最多 2000 字")
    existing = ReviewScore.objects.filter(sheet=sheet, target=target, indicator=indicator).first()
    before = _cell_state(existing, rule)
    if not rule.is_filled(value, label, occ):
        if existing is not None:
            existing.delete()
            _audit_change(actor, sheet, target, rule, before, _cell_state(None, rule))
        return None
    if rule.is_deduction(value, label, occ) and not reason:
        raise ValidationError(REASON_REQUIRED, code="reason")
    cell = existing or ReviewScore(sheet=sheet, target=target, indicator=indicator)
    cell.score = value
    cell.grade = label
    cell.occurrences = occ or {}
    cell.reason = reason
    cell.save()
    _audit_change(actor, sheet, target, rule, before, _cell_state(cell, rule))
    return cell


def _audit_change(
    actor: Any,
    sheet: ReviewSheet,
    target: Target,
    rule: Any,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    """Per-cell entries only for changes made after the sheet was first submitted."""
    if sheet.submitted_at is None or before == after:
        return
    log_action(
        Action.REVIEW_SCORE,
        actor=actor,
        obj=sheet,
        changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
        data={"对象": target.name, "对象编码": target.code, "指标": f"{rule.code} {rule.name}"},
    )


def missing_cells(sheet: ReviewSheet) -> list[tuple[Target, list[str]]]:
    """Assigned targets with the indicators still empty on the sheet."""
    columns = review_columns(sheet.campaign)
    targets = assigned_targets(sheet.campaign, sheet.reviewer)
    have = set(sheet.scores.values_list("target_id", "indicator_id"))
    out = []
    for t in targets:
        gaps = [
            f"{c.indicator.code} {c.indicator.name}"
            for c in columns
            if (t.pk, c.indicator.pk) not in have
        ]
        if gaps:
            out.append((t, gaps))
    return out


def _summary(sheet: ReviewSheet) -> dict[str, Any]:
    columns = {c.indicator.pk: c.rule for c in review_columns(sheet.campaign)}
    targets = {t.pk: t for t in assigned_targets(sheet.campaign, sheet.reviewer)}
    canon = []
    totals: dict[str, Decimal] = {}
    deductions = 0
    for s in sheet.scores.order_by("target_id", "indicator_id"):
        rule = columns.get(s.indicator_id)
        target = targets.get(s.target_id)
        if rule is None or target is None:
            continue
        occ = s.occurrences if rule.input in ("count", "items") else None
        canon.append([target.code, rule.code, fmt(s.score), s.grade, s.occurrences or {}, s.reason])
        totals[target.code] = totals.get(target.code, Decimal(0)) + (
            rule.points_of(s.score, s.grade, occ) or Decimal(0)
        )
        deductions += rule.is_deduction(s.score, s.grade, occ)
    digest = hashlib.sha256(
        json.dumps(canon, ensure_ascii=False, sort_keys=True).encode()
    ).hexdigest()
    return {
        "评分项": len(canon),
        "扣分项": deductions,
        "合计": {code: fmt(v) for code, v in sorted(totals.items())},
        "sha256": digest,
    }


@transaction.atomic
def submit_sheet(*, actor: Any, campaign: Campaign) -> ReviewSheet:
    """Submit the actor's sheet: every assigned cell must be filled; the sheet locks."""
    if (
        not policy.has_perm(actor, policy.Perm.REVIEW)
        or not campaign.assignments.filter(reviewer=actor).exists()
    ):
        raise PermissionDenied
    sheet = _lock_sheet(campaign, actor)
    _check_open(campaign, sheet)
    missing = missing_cells(sheet)
    if missing:
        count = sum(len(g) for _, g in missing)
        lines = [f"还有 {count} 项未评分，不能提交："]
        for target, gaps in missing[:MISSING_SHOWN]:
            lines.append(f"{target.name}：{'、'.join(gaps[:8])}{'等' if len(gaps) > 8 else ''}")
        if len(missing) > MISSING_SHOWN:
            lines.append("……")
        raise ValidationError(lines, code="missing")
    first = sheet.submitted_at is None
    sheet.status = SheetStatus.SUBMITTED
    sheet.submitted_at = timezone.now()
    sheet.save(update_fields=["status", "submitted_at"])
    log_action(
        Action.REVIEW_SUBMIT,
        actor=actor,
        obj=sheet,
        changes={"状态": [SheetStatus.OPEN.label, SheetStatus.SUBMITTED.label]},
        data={**_summary(sheet), "首次提交": first},
    )
    return sheet


@transaction.atomic
def reopen_sheet(*, actor: Any, sheet: ReviewSheet, reason: str) -> ReviewSheet:
    """The organizer reopens a submitted sheet; the reviewer is notified with the reason."""
    from kaoping.campaigns.services import notify

    sheet = (
        ReviewSheet.objects.select_for_update()
        .select_related("campaign", "campaign__owner", "reviewer")
        .get(pk=sheet.pk)
    )
    if not policy.can_manage_campaign(actor, sheet.campaign):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("请填写退回理由")
    if len(reason) > 200:
        raise ValidationError("退回理由最多 200 字")
    if sheet.status != SheetStatus.SUBMITTED:
        raise ValidationError("评分表尚未提交，无需退回")
    sheet.status = SheetStatus.OPEN  # submitted_at is kept: later changes are audited per cell
    sheet.save(update_fields=["status"])
    notify(
        users=[sheet.reviewer],
        campaign=sheet.campaign,
        message=f"您在“{sheet.campaign.name}”中的评分表已被退回修改：{reason}",
        url=reverse("collection:review_grid", args=[sheet.campaign_id]),
    )
    log_action(
        Action.REVIEW_REOPEN,
        actor=actor,
        obj=sheet,
        changes={"状态": [SheetStatus.SUBMITTED.label, SheetStatus.OPEN.label]},
        data={"理由": reason, "评审员": sheet.reviewer.get_username()},
    )
    return sheet
