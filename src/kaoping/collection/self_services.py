"""Writes for self-assessments (自评): a unit fills in the indicators its target answers, within
each rule's bounds, attaches evidence (uploaded once, reused anywhere: 最多报一次), and submits;
the organizer returns it with a comment or accepts it.

Every function checks who acts (a unit's own 单位填报员 fills in; the campaign's organizers
return and accept), checks the stage (filling in only while the self-assessment stage is open;
the organizer may return or accept at any time), locks the assessment row, and writes an audit
entry in the same transaction. A submitted assessment is read-only until it is returned.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kaoping import policy
from kaoping.audit.actions import Action
from kaoping.audit.services import log_action

from . import evidence as evidence_store
from . import self_selectors as sel
from .models import AssessmentStatus, Evidence, SelfAssessment, SelfAssessmentItem

NARRATIVE_MAX = 2000
TWO_PLACES = Decimal("0.01")
MSG_STAGE_CLOSED = "自评阶段未开放或已结束，不能填报"
MSG_READ_ONLY = "自评已提交，退回前不能修改"
MSG_NOT_ANSWERED = "该指标不需要单位自评（由系统已掌握的数据计算）"


# ---- guards ----------------------------------------------------------------------------------


def self_assessment_open(campaign: Any) -> bool:
    """Whether units may fill in now (the campaigns app decides; until it exists, the campaign's
    current stage)."""
    from kaoping.campaigns.models import Stage

    try:
        from kaoping.campaigns.services import stage_is_open
    except ImportError:
        return bool(campaign.status == Stage.SELF_ASSESSMENT)
    return bool(stage_is_open(campaign, Stage.SELF_ASSESSMENT))


def _require_unit(actor: Any, target: Any) -> None:
    if not policy.can_self_assess(actor, target):
        raise PermissionDenied("只有本单位的填报员可以填报自评")


def _require_organizer(actor: Any, target: Any) -> None:
    if not policy.can_manage_campaign(actor, target.campaign):
        raise PermissionDenied("只有考核组织者可以退回或确认自评")


def get_or_create_assessment(target: Any) -> SelfAssessment:
    assessment, _ = SelfAssessment.objects.get_or_create(target=target)
    return assessment


def _lock(target: Any) -> SelfAssessment:
    get_or_create_assessment(target)
    return SelfAssessment.objects.select_for_update().get(target=target)


def _lock_editable(actor: Any, target: Any) -> SelfAssessment:
    _require_unit(actor, target)
    if not self_assessment_open(target.campaign):
        raise ValidationError(MSG_STAGE_CLOSED)
    assessment = _lock(target)
    if assessment.status not in sel.EDITABLE_STATUSES:
        raise ValidationError(MSG_READ_ONLY)
    return assessment


def _answered(target: Any, indicator: Any) -> Any:
    if indicator.version_id != target.campaign.scheme_version_id:
        raise ValidationError("该指标不属于本次考核的指标体系")
    if indicator.children.exists() or not sel.is_self_filled(indicator):
        raise ValidationError(MSG_NOT_ANSWERED)
    return indicator


# ---- values by rule kind -------------------------------------------------------------------


def _label(indicator: Any) -> str:
    return f"{indicator.code} {indicator.name}"


def _decimal(value: Any, what: str, indicator: Any) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(f"{_label(indicator)}：{what}应为数字") from exc
    if not d.is_finite():
        raise ValidationError(f"{_label(indicator)}：{what}应为数字")
    if d != d.quantize(TWO_PLACES, ROUND_HALF_UP):
        raise ValidationError(f"{_label(indicator)}：{what}最多保留两位小数")
    return d.quantize(TWO_PLACES)


def clean_score(indicator: Any, score: Any) -> Decimal | None:
    kind = sel.input_kind(indicator)
    if kind == "veto":
        d = _decimal(score, "是否发生", indicator)
        if d is not None and d not in (0, 1):
            raise ValidationError(f"{_label(indicator)}：请选择是否发生")
        return d
    if kind == "quantity":
        d = _decimal(score, "实际数值", indicator)
        if d is not None and d < 0 and indicator.rule_kind != "linear":
            raise ValidationError(f"{_label(indicator)}：实际数值不能为负数")
        return d
    d = _decimal(score, "自评分", indicator)
    if d is None:
        return None
    top = sel.score_max(indicator)
    if d < 0 or (top is not None and d > top):
        bound = f"0 至 {sel.fmt_number(top)} 分之间" if top is not None else "不小于 0"
        raise ValidationError(
            f"{_label(indicator)}：自评分应在 {bound}，不能填 {sel.fmt_number(d)}"
        )
    return d


def clean_grade(indicator: Any, grade: Any) -> str:
    grade = str(grade or "").strip()
    if not grade:
        return ""
    labels = sel.grade_labels(indicator)
    if grade not in labels:
        raise ValidationError(f"{_label(indicator)}：等次应为以下之一：{'、'.join(labels)}")
    return grade


def clean_occurrences(indicator: Any, occurrences: Any) -> dict[str, int]:
    """Counts per known item code; blanks count as 0. ``{}`` means not filled in."""
    if occurrences is None:
        return {}
    if not isinstance(occurrences, dict):
        raise ValidationError(f"{_label(indicator)}：次数格式不正确")
    items = {it["code"]: it for it in sel.rule_items(indicator)}
    unknown = [str(c) for c in occurrences if str(c) not in items]
    if unknown:
        raise ValidationError(f"{_label(indicator)}：没有编码为“{'、'.join(unknown)}”的事项")
    if not occurrences:
        return {}
    out = {}
    for code, it in items.items():
        raw = occurrences.get(code)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            out[code] = 0
            continue
        try:
            n = int(str(raw).strip())
        except ValueError as exc:
            raise ValidationError(
                f"{_label(indicator)}：“{it['name']}”的次数应为不小于 0 的整数"
            ) from exc
        if n < 0 or n > 1000:
            raise ValidationError(
                f"{_label(indicator)}：“{it['name']}”的次数应为 0 至 1000 之间的整数"
            )
        out[code] = n
    return out


def _values(item: SelfAssessmentItem) -> dict[str, Any]:
    return {
        "自评分": item.score,
        "等次": item.grade,
        "次数": dict(item.occurrences or {}),
        "情况说明": item.narrative,
    }


# ---- filling in ----------------------------------------------------------------------------


@transaction.atomic
def save_item(
    *,
    actor: Any,
    target: Any,
    indicator: Any,
    score: Any = None,
    grade: Any = None,
    occurrences: Any = None,
    narrative: str = "",
) -> SelfAssessmentItem:
    """Save one row of the form (the whole row: a blank value clears it)."""
    assessment = _lock_editable(actor, target)
    _answered(target, indicator)
    kind = sel.input_kind(indicator)
    narrative = (narrative or "").strip()
    if len(narrative) > NARRATIVE_MAX:
        raise ValidationError(f"{_label(indicator)}：情况说明最多 {NARRATIVE_MAX} 字")
    new_score = clean_score(indicator, score) if kind in ("score", "quantity", "veto") else None
    new_grade = clean_grade(indicator, grade) if kind == "grade" else ""
    new_occ = clean_occurrences(indicator, occurrences) if kind == "occurrences" else {}
    item, _ = SelfAssessmentItem.objects.get_or_create(assessment=assessment, indicator=indicator)
    before = _values(item)
    item.score, item.grade, item.occurrences, item.narrative = (
        new_score,
        new_grade,
        new_occ,
        narrative,
    )
    after = _values(item)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        item.save()
        log_action(
            Action.SELF_ITEM_SAVE,
            actor=actor,
            obj=assessment,
            changes=changes,
            data={"indicator": indicator.code, "target": target.name},
        )
    return item


def _item(assessment: SelfAssessment, indicator: Any) -> SelfAssessmentItem:
    item, _ = SelfAssessmentItem.objects.get_or_create(assessment=assessment, indicator=indicator)
    return item


@transaction.atomic
def attach_evidence(
    *, actor: Any, target: Any, indicator: Any, evidence: Evidence
) -> SelfAssessmentItem:
    """Attach a piece of the unit's evidence (uploaded now or in any earlier campaign)."""
    assessment = _lock_editable(actor, target)
    _answered(target, indicator)
    if evidence.organization_id != target.unit.pk:
        raise ValidationError("只能选用本单位的佐证材料")
    item = _item(assessment, indicator)
    if not item.evidence.filter(pk=evidence.pk).exists():
        item.evidence.add(evidence)
        log_action(
            Action.SELF_EVIDENCE_ATTACH,
            actor=actor,
            obj=assessment,
            data={
                "indicator": indicator.code,
                "evidence": evidence.name,
                "sha256": evidence.file.sha256,
            },
        )
    return item


@transaction.atomic
def detach_evidence(
    *, actor: Any, target: Any, indicator: Any, evidence: Evidence
) -> SelfAssessmentItem:
    """Remove a file from an indicator (it stays in the unit's library for reuse)."""
    assessment = _lock_editable(actor, target)
    item = _item(assessment, indicator)
    if item.evidence.filter(pk=evidence.pk).exists():
        item.evidence.remove(evidence)
        log_action(
            Action.SELF_EVIDENCE_DETACH,
            actor=actor,
            obj=assessment,
            data={"indicator": indicator.code, "evidence": evidence.name},
        )
    return item


@transaction.atomic
def store_evidence(
    *, actor: Any, organization: Any, uploaded_file: Any, **context: Any
) -> tuple[Evidence, bool]:
    """Check, hash and store an upload as the organization's evidence (stored once by SHA-256),
    audited with ``context`` (what it was uploaded for). Returns (evidence, created). The
    caller has checked the permission."""
    evidence, created = evidence_store.store(
        organization=organization, uploaded_file=uploaded_file, actor=actor
    )
    log_action(
        Action.EVIDENCE_UPLOAD,
        actor=actor,
        obj=evidence,
        data={
            "organization": organization.name,
            "sha256": evidence.file.sha256,
            "size": evidence.file.size,
            "content_type": evidence.file.content_type,
            "reused": not created,
            **context,
        },
    )
    return evidence, created


def upload_evidence(*, actor: Any, organization: Any, uploaded_file: Any) -> Evidence:
    """Check, hash and store an upload as the organization's evidence. Uploading bytes the unit
    already holds gives back its existing evidence (``evidence.reused`` is then True)."""
    if not sel.may_upload_for(actor, organization):
        raise PermissionDenied("不能为该党组织上传佐证材料")
    evidence, created = store_evidence(
        actor=actor, organization=organization, uploaded_file=uploaded_file
    )
    evidence.reused = not created  # type: ignore[attr-defined]
    return evidence


@transaction.atomic
def upload_and_attach(
    *, actor: Any, target: Any, indicator: Any, uploaded_file: Any
) -> tuple[SelfAssessmentItem, Evidence]:
    """Upload a file for one indicator of the form (checked before anything is stored)."""
    _lock_editable(actor, target)
    _answered(target, indicator)
    evidence = upload_evidence(actor=actor, organization=target.unit, uploaded_file=uploaded_file)
    item = attach_evidence(actor=actor, target=target, indicator=indicator, evidence=evidence)
    return item, evidence


# ---- submit, return, accept ----------------------------------------------------------------


@transaction.atomic
def submit(*, actor: Any, target: Any) -> SelfAssessment:
    assessment = _lock_editable(actor, target)
    missing = sel.missing_for_submit(target, assessment)
    if missing:
        raise ValidationError(missing, code="incomplete")
    before = assessment.get_status_display()
    assessment.status = AssessmentStatus.SUBMITTED
    assessment.submitted_at = timezone.now()
    assessment.submitted_by = actor
    assessment.save(update_fields=["status", "submitted_at", "submitted_by", "updated_at"])
    log_action(
        Action.SELF_SUBMIT,
        actor=actor,
        obj=assessment,
        changes={"状态": [before, assessment.get_status_display()]},
        data={"target": target.name, "campaign": target.campaign.name},
    )
    return assessment


def _notify_unit(target: Any, message: str) -> None:
    """Tell the unit's submitters (in-app, and by e-mail when set up)."""
    from kaoping.campaigns.services import notify, submitters_of

    unit = target.unit
    users = submitters_of([unit.pk]).get(unit.pk, [])
    url = reverse("collection:self_form", args=[target.campaign_id, target.pk])
    notify(users=users, campaign=target.campaign, message=message, url=url)


@transaction.atomic
def return_assessment(*, actor: Any, target: Any, comment: str) -> SelfAssessment:
    """Send a submitted (or accepted) self-assessment back to the unit with a comment."""
    _require_organizer(actor, target)
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError("请填写退回意见，说明需要补充或修改的内容")
    if len(comment) > NARRATIVE_MAX:
        raise ValidationError(f"退回意见最多 {NARRATIVE_MAX} 字")
    assessment = _lock(target)
    if assessment.status not in (AssessmentStatus.SUBMITTED, AssessmentStatus.ACCEPTED):
        raise ValidationError("只有已提交的自评才能退回")
    before = assessment.get_status_display()
    assessment.status = AssessmentStatus.RETURNED
    assessment.return_comment = comment
    assessment.save(update_fields=["status", "return_comment", "updated_at"])
    log_action(
        Action.SELF_RETURN,
        actor=actor,
        obj=assessment,
        changes={"状态": [before, assessment.get_status_display()], "退回意见": ["", comment]},
        data={"target": target.name, "campaign": target.campaign.name},
    )
    _notify_unit(target, f"{target.campaign.name}：自评被退回，退回意见：{comment}")
    return assessment


@transaction.atomic
def accept(*, actor: Any, target: Any) -> SelfAssessment:
    _require_organizer(actor, target)
    assessment = _lock(target)
    if assessment.status != AssessmentStatus.SUBMITTED:
        raise ValidationError("只有已提交的自评才能确认")
    before = assessment.get_status_display()
    assessment.status = AssessmentStatus.ACCEPTED
    assessment.save(update_fields=["status", "updated_at"])
    log_action(
        Action.SELF_ACCEPT,
        actor=actor,
        obj=assessment,
        changes={"状态": [before, assessment.get_status_display()]},
        data={"target": target.name, "campaign": target.campaign.name},
    )
    return assessment
