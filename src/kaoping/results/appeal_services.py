"""Writes for appeals (申诉), input corrections (数据更正) and the end of publication.

* ``file_appeal``: during 公示 a target's own side (its unit's 单位填报员, or the person for a
  cadre/secretary target) files an appeal against its current result, with a reason, optionally
  the indicator concerned, and evidence (stored once by content, as every evidence is). One open
  appeal per target at a time.
* ``reject`` (a reason is required) and ``uphold`` (one or more corrections of the target's
  inputs, each with a reason; the results are recomputed at once and the new set stays published
  for the rest of the period). An upheld appeal keeps nothing if the recompute fails: corrections,
  recompute and decision are one transaction.
* ``correct_inputs``: the organizer corrects inputs during 汇总 (no appeal) and recomputes.
* ``lock_expired``: results whose publication period has ended become final (已锁定); after that
  no appeal is filed or decided and nothing is recomputed.

Every write is audited in its transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from kaoping import policy
from kaoping.audit.actions import Action
from kaoping.audit.services import log_action
from kaoping.campaigns.models import Campaign, Stage, Target
from kaoping.collection import evidence as evidence_store
from kaoping.collection import review_rules
from kaoping.collection.models import Evidence
from kaoping.collection.self_services import store_evidence

from . import appeal_selectors as sel
from . import services as results
from .models import Appeal, AppealStatus, InputCorrection, ResultSet, ResultStatus

REASON_MAX = 2000
MAX_FILES = 10
FOUR_PLACES = Decimal("0.0001")
VALUE_LIMIT = Decimal("999999999999")


def _when(moment: Any) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else ""


# ---- the end of publication --------------------------------------------------------------------


def lock_expired(*, now: Any = None) -> list[ResultSet]:
    """Lock every current result set whose publication period has ended (status 已锁定).
    Cheap when there is nothing to lock (one indexed query); called when appeal pages load and
    by ``kaoping results lock-expired``."""
    now = now or timezone.now()
    due = list(
        ResultSet.objects.filter(
            is_current=True, status=ResultStatus.PUBLISHED, publication_ends__lte=now
        ).values_list("pk", flat=True)
    )
    locked: list[ResultSet] = []
    for pk in due:
        with transaction.atomic():
            rs = (
                ResultSet.objects.select_for_update(of=("self",))
                .select_related("campaign")
                .get(pk=pk)
            )
            if not (
                rs.is_current
                and rs.status == ResultStatus.PUBLISHED
                and rs.publication_ends is not None
                and rs.publication_ends <= now
            ):
                continue  # recomputed or locked meanwhile
            done = results.lock(actor=None, campaign=rs.campaign)
            if done is not None:
                locked.append(done)
    return locked


def filing_refusal(rs: ResultSet | None) -> str:
    """Why no appeal may be filed now (``""`` while the publication period is open)."""
    if results.publication_open(rs):
        return ""
    if rs is None or rs.status in (
        ResultStatus.DRAFT, ResultStatus.SUBMITTED, ResultStatus.APPROVED
    ):  # fmt: skip
        return "考核结果尚未公示，不能提出申诉"
    if rs.status == ResultStatus.FINAL:
        ends = f"公示期已于 {_when(rs.publication_ends)} 结束，" if rs.publication_ends else ""
        return f"{ends}考核结果已锁定，不能再提出申诉"
    return f"公示期已于 {_when(rs.publication_ends)} 结束，不能再提出申诉"


def decision_refusal(rs: ResultSet | None) -> str:
    """Why appeals may not be decided now (``""`` while the publication period is open)."""
    if results.publication_open(rs):
        return ""
    if rs is not None and rs.status == ResultStatus.FINAL:
        return "考核结果已锁定，不能再处理申诉或重新计算"
    if rs is not None and rs.status == ResultStatus.PUBLISHED:
        return f"公示期已于 {_when(rs.publication_ends)} 结束，不能再处理申诉"
    return "考核结果不在公示期内，不能处理申诉"


# ---- filing --------------------------------------------------------------------------------


def _store_uploads(actor: Any, target: Target, uploads: list[Any]) -> list[Evidence]:
    """Check and store each upload as evidence of the target's unit (stored once by SHA-256);
    a bad file is refused with its name."""
    stored: list[Evidence] = []
    unit = target.unit
    for f in uploads:
        try:
            ev, _ = store_evidence(
                actor=actor, organization=unit, uploaded_file=f, **{"for": "申诉"}
            )
        except ValidationError as exc:
            name = evidence_store.clean_name(getattr(f, "name", ""))
            raise ValidationError({"files": [f"{name}：{m}" for m in exc.messages]}) from exc
        stored.append(ev)
    return stored


def file_appeal(
    *,
    actor: Any,
    target: Target,
    reason: str,
    indicator_code: str = "",
    uploads: list[Any] | tuple[Any, ...] = (),
    evidence_ids: list[int] | tuple[int, ...] = (),
) -> Appeal:
    """File an appeal against the target's current (published) result."""
    if not policy.can_appeal(actor, target):
        raise PermissionDenied("只有考核对象本单位的填报员或本人可以提出申诉")
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = ["请填写申诉理由"]
    elif len(reason) > REASON_MAX:
        errors["reason"] = [f"申诉理由最多 {REASON_MAX} 字"]
    uploads = [f for f in uploads if f]
    if len(uploads) + len(evidence_ids) > MAX_FILES:
        errors["files"] = [f"每次申诉最多附 {MAX_FILES} 份佐证材料"]
    indicator_code = (indicator_code or "").strip()
    campaign = target.campaign
    if indicator_code and sel.leaf_by_code(campaign, indicator_code) is None:
        errors["indicator"] = [f"指标“{indicator_code}”不是本次考核指标体系中的末级指标"]
    with transaction.atomic():
        target = (
            Target.objects.select_for_update(of=("self",))
            .select_related("campaign")
            .get(pk=target.pk)
        )
        rs = results.current_set(campaign)
        refusal = filing_refusal(rs)
        if refusal:
            raise ValidationError(refusal)
        open_one = Appeal.objects.filter(target=target, status=AppealStatus.FILED).first()
        if open_one is not None:
            raise ValidationError(
                f"“{target.name}”已有一项申诉（{_when(open_one.filed_at)} 提出）尚未处理，"
                "处理后才能再次申诉"
            )
        assert rs is not None
        result = rs.results.filter(target=target).first()
        if result is None:
            raise ValidationError(f"“{target.name}”在本次公示的结果中没有记录，不能申诉")
        library: list[Evidence] = []
        if evidence_ids:
            if not policy.can_self_assess(actor, target):
                errors.setdefault("evidence", []).append("只有本单位的填报员可以选用单位的佐证材料")
            else:
                library = list(
                    Evidence.objects.filter(pk__in=list(evidence_ids), organization=target.unit)
                )
                if len(library) != len(set(evidence_ids)):
                    errors.setdefault("evidence", []).append("只能选用本单位的佐证材料")
        if errors:
            raise ValidationError(errors)
        evidence = _store_uploads(actor, target, uploads) + library
        try:
            with transaction.atomic():
                appeal = Appeal.objects.create(
                    campaign=campaign,
                    target=target,
                    result=result,
                    indicator_code=indicator_code,
                    reason=reason,
                    filed_by=actor,
                )
        except IntegrityError as exc:  # another appeal of the same target won the race
            raise ValidationError(f"“{target.name}”已有一项申诉尚未处理") from exc
        if evidence:
            appeal.evidence.add(*evidence)
        log_action(
            Action.APPEAL_FILE,
            actor=actor,
            obj=appeal,
            object_repr=f"{target.name} 申诉",
            data={
                "campaign": campaign.name,
                "target": target.code,
                "indicator": indicator_code,
                "reason": reason,
                "total": result.total,
                "result_set": rs.number,
                "evidence": [{"name": e.name, "sha256": e.file.sha256} for e in evidence],
            },
        )
        _notify(
            [campaign.created_by] if campaign.created_by_id else [],
            campaign,
            f"{campaign.name}：“{target.name}”对考核结果提出申诉，请在公示期内处理"
            f"（公示截止 {_when(rs.publication_ends)}）",
            appeal,
        )
    return appeal


def _notify(users: list[Any], campaign: Campaign, message: str, appeal: Appeal) -> None:
    from kaoping.campaigns.services import notify

    users = [u for u in users if u is not None]
    if users:
        url = reverse("results:appeal_detail", args=[appeal.pk])
        notify(users=users, campaign=campaign, message=message, url=url)


# ---- deciding ------------------------------------------------------------------------------


def _lock_for_decision(actor: Any, appeal: Appeal) -> tuple[Appeal, ResultSet]:
    if not policy.can_manage_campaign(actor, appeal.campaign):
        raise PermissionDenied("只有考核组织者可以处理申诉")
    locked = (
        Appeal.objects.select_for_update(of=("self",))
        .select_related("campaign__owner", "campaign__scheme_version", "target", "result")
        .get(pk=appeal.pk)
    )
    if locked.status != AppealStatus.FILED:
        raise ValidationError(f"该申诉已处理（{locked.get_status_display()}），不能再次处理")
    rs = results.current_set(locked.campaign)
    refusal = decision_refusal(rs)
    if refusal:
        raise ValidationError(refusal)
    assert rs is not None
    return locked, rs


def reject(*, actor: Any, appeal: Appeal, decision: str) -> Appeal:
    """Reject an appeal; the reason is required and shown to the target."""
    decision = (decision or "").strip()
    if not decision:
        raise ValidationError({"decision": "请填写驳回理由"})
    if len(decision) > REASON_MAX:
        raise ValidationError({"decision": f"驳回理由最多 {REASON_MAX} 字"})
    with transaction.atomic():
        appeal, _ = _lock_for_decision(actor, appeal)
        appeal.status = AppealStatus.REJECTED
        appeal.decision = decision
        appeal.decided_by, appeal.decided_at = actor, timezone.now()
        appeal.save(update_fields=["status", "decision", "decided_by", "decided_at"])
        log_action(
            Action.APPEAL_REJECT,
            actor=actor,
            obj=appeal,
            object_repr=f"{appeal.target.name} 申诉",
            changes={"状态": [AppealStatus.FILED.label, AppealStatus.REJECTED.label]},
            data={"target": appeal.target.code, "decision": decision},
        )
        _notify(
            [appeal.filed_by],
            appeal.campaign,
            f"{appeal.campaign.name}：“{appeal.target.name}”的申诉已驳回，理由：{decision}",
            appeal,
        )
    return appeal


@dataclass
class CorrectionInput:
    """One correction as entered (raw text); ``clean_correction`` checks it against the rule."""

    indicator_code: str
    reason: str = ""
    score: Any = None
    grade: Any = None
    occurrences: dict[str, Any] | None = None
    value: Any = None
    veto: Any = None  # "1"/"0"/True/False; None or "" = unchanged
    extra: dict[str, Any] = field(default_factory=dict)


def _decimal(raw: Any, what: str, prefix: str, places: Decimal) -> Decimal | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        d = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(f"{prefix}{what}“{raw}”不是数字") from exc
    if not d.is_finite():
        raise ValidationError(f"{prefix}{what}“{raw}”不是数字")
    if d != d.quantize(places, ROUND_HALF_UP):
        n = len(str(places).split(".")[1])
        raise ValidationError(f"{prefix}{what}最多保留 {n} 位小数")
    return d.quantize(places)


def _veto(raw: Any) -> bool | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "是"):
        return True
    if text in ("0", "false", "no", "否"):
        return False
    raise ValidationError("是否一票否决应选“是”或“否”")


def clean_correction(campaign: Campaign, entry: CorrectionInput) -> dict[str, Any]:
    """The correction's fields in stored form (``indicator_code``, ``score``, ``grade``,
    ``occurrences``, ``value``, ``veto``, ``reason``), checked against the leaf's rule; a
    ValidationError names the indicator."""
    code = (entry.indicator_code or "").strip()
    indicator = sel.leaf_by_code(campaign, code)
    if indicator is None:
        raise ValidationError(f"指标“{code}”不是本次考核指标体系中的末级指标")
    prefix = f"{sel.label(indicator)}："
    kind = sel.correction_kind(indicator)
    if not kind and not sel.has_veto(indicator):
        raise ValidationError(f"{prefix}民主测评指标不能更正（选票不能更改）")
    out: dict[str, Any] = {
        "indicator_code": code, "score": None, "grade": "", "occurrences": {}, "value": None,
        "veto": None,
    }  # fmt: skip
    rule = review_rules.rule_for(indicator)
    try:
        if kind == "score":
            if entry.score is None or str(entry.score).strip() == "":
                raise ValidationError("请填写更正后的评分")
            d = _decimal(entry.score, "评分", "", Decimal("0.01"))
            assert d is not None
            if d < 0 or d > rule.max:
                raise ValidationError(
                    f"评分应在 0 至 {review_rules.fmt(rule.max)} 分之间，"
                    f"不能填 {review_rules.fmt(d)}"
                )
            out["score"] = d
        elif kind == "grade":
            if not str(entry.grade or "").strip():
                raise ValidationError("请选择更正后的等次")
            _, grade, _ = rule.clean(grade=entry.grade)
            out["grade"] = grade
        elif kind == "items":
            raw = {k: v for k, v in (entry.occurrences or {}).items()}
            _, _, occ = rule.clean(occurrences=raw)
            out["occurrences"] = {it.code: int((occ or {}).get(it.code, 0)) for it in rule.items}
        elif kind == "value":
            d = _decimal(entry.value, "数值", "", FOUR_PLACES)
            if d is None:
                raise ValidationError("请填写更正后的数值")
            if d < 0 and indicator.rule_kind != "linear":
                raise ValidationError("数值不能为负数")
            if abs(d) > VALUE_LIMIT:
                raise ValidationError("数值过大")
            out["value"] = d
        veto = _veto(entry.veto)
        if kind == "veto" and veto is None:
            raise ValidationError("请选择是否发生一票否决情形")
        if veto is not None and not sel.has_veto(indicator):
            raise ValidationError("该指标没有一票否决情形")
        out["veto"] = veto
    except ValidationError as exc:
        raise ValidationError([f"{prefix}{m}" for m in exc.messages]) from exc
    reason = (entry.reason or "").strip()
    if not reason:
        raise ValidationError(f"{prefix}请填写更正理由")
    if len(reason) > REASON_MAX:
        raise ValidationError(f"{prefix}更正理由最多 {REASON_MAX} 字")
    out["reason"] = reason
    return out


def clean_corrections(campaign: Campaign, entries: list[CorrectionInput]) -> list[dict[str, Any]]:
    """Every entry checked; all problems reported at once; nothing written."""
    if not entries:
        raise ValidationError("请至少更正一项数据（选择指标并填写更正后的值和理由）")
    cleaned: list[dict[str, Any]] = []
    errors: list[str] = []
    seen: set[str] = set()
    for entry in entries:
        code = (entry.indicator_code or "").strip()
        if code in seen:
            errors.append(f"指标“{code}”重复，同一指标只能更正一次")
            continue
        seen.add(code)
        try:
            cleaned.append(clean_correction(campaign, entry))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _before(campaign: Campaign, target: Target, code: str) -> dict[str, Any]:
    """What the cell holds before the correction: the previous correction if any, else what
    the current result used."""
    indicator = sel.leaf_by_code(campaign, code)
    prev = sel.latest_correction(campaign, target, code)
    result = sel.current_result(campaign, target)
    node = sel.leaf_node(result.explanation if result else None, code)
    return {
        "score": (node or {}).get("score"),
        "text": sel.correction_text(indicator, prev) + "（上次更正）"
        if prev
        else sel.inputs_text(indicator, node),
    }


def _save_corrections(
    *,
    actor: Any,
    campaign: Campaign,
    target: Target,
    cleaned: list[dict[str, Any]],
    appeal: Appeal | None,
) -> list[InputCorrection]:
    saved = []
    for fields in cleaned:
        code = fields["indicator_code"]
        before = _before(campaign, target, code)
        c = InputCorrection.objects.create(
            campaign=campaign, target=target, appeal=appeal, created_by=actor, **fields
        )
        indicator = sel.leaf_by_code(campaign, code)
        after = sel.correction_text(indicator, c)
        log_action(
            Action.INPUT_CORRECT,
            actor=actor,
            obj=c,
            object_repr=f"{target.name} {code}",
            changes={f"{code} {indicator.name if indicator else ''}": [before["text"], after]},
            data={
                "campaign": campaign.name,
                "target": target.code,
                "indicator": code,
                "reason": fields["reason"],
                "appeal": appeal.pk if appeal else None,
                "score_before": before["score"],
            },
        )
        saved.append(c)
    return saved


def _recompute(actor: Any, campaign: Campaign, reason: str) -> ResultSet:
    rs, created = results.compute(actor=actor, campaign=campaign, reason=reason)
    if not created:
        raise ValidationError(
            "更正后的数据与原数据相同，考核结果不会变化；请检查更正的值（如申诉不成立，请驳回）"
        )
    return rs


def uphold(
    *, actor: Any, appeal: Appeal, corrections: list[CorrectionInput], decision: str = ""
) -> Appeal:
    """Uphold an appeal: store the corrections of the target's inputs, recompute (the new set
    stays published for the rest of the period) and record the decision — all or nothing."""
    decision = (decision or "").strip()
    if len(decision) > REASON_MAX:
        raise ValidationError({"decision": f"处理意见最多 {REASON_MAX} 字"})
    with transaction.atomic():
        appeal, rs_before = _lock_for_decision(actor, appeal)
        campaign, target = appeal.campaign, appeal.target
        cleaned = clean_corrections(campaign, corrections)
        before = rs_before.results.filter(target=target).first()
        saved = _save_corrections(
            actor=actor, campaign=campaign, target=target, cleaned=cleaned, appeal=appeal
        )
        why = decision or "、".join(c.indicator_code for c in saved)
        rs = _recompute(actor, campaign, f"申诉成立：{target.name}（{why}）")
        after = rs.results.filter(target=target).first()
        appeal.status = AppealStatus.UPHELD
        appeal.decision = decision or "申诉成立，已更正数据并重新计算"
        appeal.decided_by, appeal.decided_at = actor, timezone.now()
        appeal.recomputed = rs
        appeal.save(update_fields=["status", "decision", "decided_by", "decided_at", "recomputed"])
        log_action(
            Action.APPEAL_UPHOLD,
            actor=actor,
            obj=appeal,
            object_repr=f"{target.name} 申诉",
            changes={
                "状态": [AppealStatus.FILED.label, AppealStatus.UPHELD.label],
                "总分": [before.total if before else None, after.total if after else None],
                "等次": [before.grade if before else "", after.grade if after else ""],
            },
            data={
                "target": target.code,
                "decision": appeal.decision,
                "corrections": [c.pk for c in saved],
                "result_set": [rs_before.number, rs.number],
            },
        )
        total = f"{after.total:.2f}" if after else "—"
        _notify(
            [appeal.filed_by],
            campaign,
            f"{campaign.name}：“{target.name}”的申诉成立，数据已更正并重新计算，总分为 {total}",
            appeal,
        )
    return appeal


# ---- corrections outside appeals -------------------------------------------------------------


def correction_refusal(campaign: Campaign) -> str:
    """Why the organizer may not correct inputs directly now (``""`` in 汇总)."""
    rs = results.current_set(campaign)
    if rs is not None and rs.status == ResultStatus.FINAL:
        return "考核结果已锁定，不能再更正数据"
    if campaign.status == Stage.PUBLICATION:
        return "公示期间只能通过处理申诉更正数据"
    if campaign.status != Stage.CONSOLIDATION:
        return "只有在“汇总”阶段才能更正数据"
    return ""


def correct_inputs(
    *, actor: Any, campaign: Campaign, target: Target, corrections: list[CorrectionInput]
) -> ResultSet:
    """The organizer corrects inputs of one target during 汇总 (with a reason each) and the
    results are recomputed (a new draft set: it must be submitted and approved again)."""
    if not policy.can_manage_campaign(actor, campaign):
        raise PermissionDenied("只有考核组织者可以更正数据")
    if target.campaign_id != campaign.pk:
        raise ValidationError("该考核对象不属于本次考核")
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        refusal = correction_refusal(campaign)
        if refusal:
            raise ValidationError(refusal)
        cleaned = clean_corrections(campaign, corrections)
        saved = _save_corrections(
            actor=actor, campaign=campaign, target=target, cleaned=cleaned, appeal=None
        )
        codes = "、".join(c.indicator_code for c in saved)
        return _recompute(actor, campaign, f"数据更正：{target.name}（{codes}）")


def parse_rows(data: Any) -> list[CorrectionInput]:
    """Correction rows from a POST (``c-<n>-indicator``, ``c-<n>-score``, ``c-<n>-grade``,
    ``c-<n>-occ-<item>``, ``c-<n>-value``, ``c-<n>-veto``, ``c-<n>-reason``), in row order."""
    rows: dict[int, CorrectionInput] = {}
    for key in data:
        m = re.fullmatch(r"c-(\d+)-indicator", key)
        if m:
            n = int(m.group(1))
            p = f"c-{n}-"
            occ = {
                k[len(p) + 4 :]: data.get(k)
                for k in data
                if k.startswith(p + "occ-")
            }  # fmt: skip
            rows[n] = CorrectionInput(
                indicator_code=str(data.get(key) or "").strip(),
                reason=data.get(p + "reason", ""),
                score=data.get(p + "score"),
                grade=data.get(p + "grade"),
                occurrences=occ or None,
                value=data.get(p + "value"),
                veto=data.get(p + "veto"),
            )
    return [rows[n] for n in sorted(rows)]
