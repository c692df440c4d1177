"""Reads for self-assessments (自评): which indicators a target answers, the bounds each rule
kind allows, the form's rows, what is missing before submitting, the unit's evidence library,
and who may see a piece of evidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from kaoping import policy
from kaoping.indicators.constants import DataSource, RuleKind
from kaoping.indicators.models import Indicator
from kaoping.policy import Perm

from .models import AssessmentStatus, Evidence, QuantValue, SelfAssessment, SelfAssessmentItem

DEFAULT_GRADES = ["好", "较好", "一般", "差"]
OCCURRENCE_KINDS = frozenset(
    {RuleKind.DEDUCTION, RuleKind.BONUS, RuleKind.PENALTY, RuleKind.BASE_ADJUST}
)
QUANTITY_KINDS = frozenset(
    {RuleKind.LINEAR, RuleKind.RATIO_TO_TARGET, RuleKind.RATIO_TO_BEST, RuleKind.BANDED}
)
# Sources a unit (or a reviewer after it) fills in; the others the system already holds.
FILLED_SOURCES = (DataSource.SELF, DataSource.REVIEWER)
EDITABLE_STATUSES = (AssessmentStatus.DRAFT, AssessmentStatus.RETURNED)
OCCURRENCE_VERBS = {
    RuleKind.DEDUCTION: "扣",
    RuleKind.PENALTY: "扣",
    RuleKind.BONUS: "加",
    RuleKind.BASE_ADJUST: "加减",
}


# ---- indicators and their bounds -----------------------------------------------------------


def leaves(version: Any) -> list[Indicator]:
    """The version's leaf indicators in tree order (code order within the same level)."""
    rows = list(version.indicators.filter(children__isnull=True).order_by("code"))
    return sorted(rows, key=lambda i: [_code_key(p) for p in i.code.split(".")])


def _code_key(part: str) -> tuple[int, Any]:
    return (0, int(part)) if part.isdigit() else (1, part)


def is_self_filled(indicator: Indicator) -> bool:
    """Whether the unit enters a value for the indicator (最多报一次: not for data the system
    holds — quantitative imports, daily records, ballots)."""
    return indicator.data_source in FILLED_SOURCES and indicator.rule_kind != RuleKind.BALLOT


def answered_indicators(version: Any) -> list[Indicator]:
    return [i for i in leaves(version) if is_self_filled(i)]


def held_indicators(version: Any) -> list[Indicator]:
    return [i for i in leaves(version) if not is_self_filled(i)]


def input_kind(indicator: Indicator) -> str:
    """``score`` (points), ``grade``, ``occurrences``, ``quantity`` or ``veto``."""
    kind = indicator.rule_kind
    if kind == RuleKind.GRADE:
        return "grade"
    if kind in OCCURRENCE_KINDS:
        return "occurrences"
    if kind in QUANTITY_KINDS:
        return "quantity"
    if kind == RuleKind.VETO:
        return "veto"
    return "score"


def score_max(indicator: Indicator) -> Decimal | None:
    raw = (indicator.rule_params or {}).get("max")
    if raw is None:
        raw = indicator.points
    return None if raw is None else Decimal(str(raw))


def grade_labels(indicator: Indicator) -> list[str]:
    grades = (indicator.rule_params or {}).get("grades")
    if not grades:
        grades = (indicator.version.options or {}).get("grades") or DEFAULT_GRADES
    return [str(g["label"]) if isinstance(g, dict) else str(g) for g in grades]


def rule_items(indicator: Indicator) -> list[dict[str, Any]]:
    return [
        {
            "code": str(it.get("code")),
            "name": str(it.get("name") or it.get("code")),
            "per": it.get("per"),
        }
        for it in (indicator.rule_params or {}).get("items") or []
    ]


def fmt_number(value: Any) -> str:
    d = Decimal(str(value))
    return format(d.normalize(), "f") if d == d.to_integral() else format(d, "f")


def bounds_text(indicator: Indicator) -> str:
    """The rule's bounds in one Chinese phrase, shown next to the input."""
    kind = input_kind(indicator)
    params = indicator.rule_params or {}
    if kind == "score":
        top = score_max(indicator)
        return f"0 至 {fmt_number(top)} 分" if top is not None else "不小于 0 的分数"
    if kind == "grade":
        return "等次：" + "、".join(grade_labels(indicator))
    if kind == "veto":
        return "如实填写是否发生一票否决情形"
    if kind == "quantity":
        if indicator.rule_kind == RuleKind.LINEAR:
            return f"填写实际数值（下限 {fmt_number(params.get('floor'))}，目标 {fmt_number(params.get('target'))}）"
        if indicator.rule_kind == RuleKind.RATIO_TO_TARGET:
            return f"填写实际数值（目标 {fmt_number(params.get('target'))}）"
        return "填写实际数值"
    verb = OCCURRENCE_VERBS.get(indicator.rule_kind, "计")
    parts = ["每项填写发生次数"]
    if indicator.rule_kind in (RuleKind.DEDUCTION, RuleKind.BASE_ADJUST) and "max" in params:
        parts.append(f"满分 {fmt_number(params['max'])} 分")
    if "cap" in params:
        parts.append(f"最多{verb} {fmt_number(params['cap'])} 分")
    if "base" in params:
        parts.append(f"基础分 {fmt_number(params['base'])} 分")
    return "，".join(parts)


def item_text(indicator: Indicator, item: dict[str, Any]) -> str:
    per = item.get("per")
    if per is None:
        return item["name"]
    per_d = Decimal(str(per))
    if indicator.rule_kind == RuleKind.BONUS or (
        indicator.rule_kind == RuleKind.BASE_ADJUST and per_d > 0
    ):
        return f"{item['name']}（每次加 {fmt_number(abs(per_d))} 分）"
    return f"{item['name']}（每次扣 {fmt_number(abs(per_d))} 分）"


def required_evidence(indicator: Indicator) -> tuple[int, list[str]]:
    """How many files the indicator requires (non-optional requirements), and what they are."""
    count, what = 0, []
    for req in indicator.evidence or []:
        if not req.get("optional"):
            n = int(req.get("count") or 1)
            count += n
            what.append(f"{req.get('what')}" + (f" {n} 份" if n > 1 else ""))
    return count, what


def is_filled(indicator: Indicator, item: SelfAssessmentItem | None) -> bool:
    if item is None:
        return False
    kind = input_kind(indicator)
    if kind == "grade":
        return bool(item.grade)
    if kind == "occurrences":
        return bool(item.occurrences)
    return item.score is not None


# ---- the form ------------------------------------------------------------------------------


@dataclass
class Row:
    indicator: Indicator
    item: SelfAssessmentItem | None
    input: str
    bounds: str
    max: Decimal | None = None
    grades: list[str] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    required_count: int = 0
    required_what: list[str] = field(default_factory=list)
    evidence_condition: str = ""  # when evidence becomes required (a bonus not yet claimed)
    filled: bool = False
    error: str = ""
    notice: str = ""
    posted: dict[str, Any] | None = None  # values a refused save sent, shown again

    @property
    def missing_evidence(self) -> int:
        return max(0, self.required_count - len(self.evidence))

    @property
    def score_value(self) -> str:
        if self.posted is not None:
            return str(self.posted.get("score") or "")
        score = self.item.score if self.item else None
        return "" if score is None else fmt_number(score)

    @property
    def grade_value(self) -> str:
        if self.posted is not None:
            return str(self.posted.get("grade") or "")
        return self.item.grade if self.item else ""

    @property
    def narrative_value(self) -> str:
        if self.posted is not None:
            return str(self.posted.get("narrative") or "")
        return self.item.narrative if self.item else ""

    @property
    def item_rows(self) -> list[dict[str, Any]]:
        if self.posted is None:
            return self.items
        counts = self.posted.get("occurrences") or {}
        return [{**it, "count": counts.get(it["code"], "")} for it in self.items]

    @property
    def display_value(self) -> str:
        """The unit's value as read-only text."""
        if not self.filled or self.item is None:
            return "未填写"
        if self.input == "grade":
            return self.item.grade
        if self.input == "occurrences":
            return "；".join(f"{it['name']} {it['count'] or 0} 次" for it in self.items)
        if self.input == "veto":
            return "发生" if self.item.score else "未发生"
        if self.input == "quantity":
            return fmt_number(self.item.score)
        return f"{fmt_number(self.item.score)} 分"


@dataclass
class HeldRow:
    """An indicator whose data the system already holds (the unit is not asked for it)."""

    indicator: Indicator
    source: str
    value: str
    records: list[Any] = field(default_factory=list)


def build_row(indicator: Indicator, item: SelfAssessmentItem | None) -> Row:
    count, what = required_evidence(indicator)
    kind = input_kind(indicator)
    counts = (item.occurrences if item else None) or {}
    condition = ""
    if indicator.rule_kind == RuleKind.BONUS and count and not _claimed(counts):
        # Evidence proves a bonus claimed; a unit claiming none has nothing to prove.
        condition = f"申报加分时需上传：{'、'.join(what)}"
        count, what = 0, []
    items = [
        {**it, "label": item_text(indicator, it), "count": counts.get(it["code"], "")}
        for it in rule_items(indicator)
    ]
    evidence = list(item.evidence.all()) if item and item.pk else []
    return Row(
        indicator=indicator,
        item=item,
        input=kind,
        bounds=bounds_text(indicator),
        max=score_max(indicator) if kind == "score" else None,
        grades=grade_labels(indicator) if kind == "grade" else [],
        items=items,
        evidence=evidence,
        required_count=count,
        required_what=what,
        evidence_condition=condition,
        filled=is_filled(indicator, item),
    )


def _claimed(counts: dict[str, Any]) -> bool:
    for value in counts.values():
        try:
            if Decimal(str(value)) > 0:
                return True
        except ArithmeticError:
            continue
    return False


def assessment_for(target: Any) -> SelfAssessment | None:
    return SelfAssessment.objects.filter(target=target).first()


def item_for(assessment: SelfAssessment | None, indicator: Indicator) -> SelfAssessmentItem | None:
    if assessment is None:
        return None
    return assessment.items.filter(indicator=indicator).first()


def form_rows(target: Any, assessment: SelfAssessment | None) -> list[Row]:
    version = target.campaign.scheme_version
    items: dict[int, SelfAssessmentItem] = {}
    if assessment is not None:
        items = {
            it.indicator_id: it
            for it in assessment.items.prefetch_related("evidence", "evidence__file")
        }
    return [build_row(ind, items.get(ind.pk)) for ind in answered_indicators(version)]


def held_rows(target: Any) -> list[HeldRow]:
    from .daily_selectors import daily_records_for

    campaign = target.campaign
    version = campaign.scheme_version
    held = held_indicators(version)
    if not held:
        return []
    records = list(daily_records_for(campaign, target))
    out = []
    for ind in held:
        if ind.data_source == DataSource.QUANTITATIVE:
            qv = (
                QuantValue.objects.filter(
                    target=target, indicator=ind, batch__undone_at__isnull=True
                )
                .select_related("batch")
                .order_by("-batch__created_at", "-id")
                .first()
            )
            value = (
                f"{fmt_number(qv.value)}（来源：{qv.batch.source_name}）"
                if qv
                else "待导入量化数据"
            )
            out.append(HeldRow(ind, "量化数据", value))
        elif ind.data_source == DataSource.DAILY_RECORD:
            mine = [r for r in records if r.indicator_code == ind.code]
            value = f"已记录 {len(mine)} 条" if mine else "本考核期内暂无记录"
            out.append(HeldRow(ind, "平时考核纪实", value, mine))
        else:
            out.append(HeldRow(ind, "民主测评", "由民主测评结果计算"))
    return out


def missing_for_submit(target: Any, assessment: SelfAssessment | None) -> list[str]:
    """What must still be done before the self-assessment can be submitted (Chinese lines)."""
    missing = []
    for row in form_rows(target, assessment):
        ind = row.indicator
        if not row.filled:
            what = {"grade": "等次", "occurrences": "各事项次数", "veto": "是否发生"}.get(
                row.input, "自评分"
            )
            missing.append(f"{ind.code} {ind.name}：未填写{what}")
        if row.missing_evidence:
            need = "、".join(row.required_what)
            missing.append(
                f"{ind.code} {ind.name}：还需上传佐证材料 {row.missing_evidence} 份（{need}）"
            )
    return missing


# ---- evidence ------------------------------------------------------------------------------


def unit_evidence(organization: Any, *, q: str = "") -> QuerySet[Evidence]:
    """The unit's evidence library, across campaigns, newest first; ``q`` searches names."""
    qs = (
        Evidence.objects.filter(organization=organization)
        .select_related("file")
        .annotate(uses=Count("self_items", distinct=True))
    )
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(description__icontains=q))
    return qs


def evidence_campaigns(evidence_ids: list[int]) -> dict[int, list[str]]:
    """For each evidence id, the names of the campaigns it is attached in."""
    out: dict[int, list[str]] = {}
    rows = (
        SelfAssessmentItem.evidence.through.objects.filter(evidence_id__in=evidence_ids)
        .values_list("evidence_id", "selfassessmentitem__assessment__target__campaign__name")
        .distinct()
    )
    for eid, name in rows:
        out.setdefault(eid, []).append(name)
    return out


def visible_evidence(user: Any) -> QuerySet[Evidence]:
    """Evidence of organizations the user may see in campaigns (own unit for a submitter,
    subtree for organizers and leaders), plus evidence used in self-assessments of targets the
    user is assigned to review."""
    if not policy.has_perm(user, Perm.CAMPAIGN_VIEW):
        return Evidence.objects.none()
    q = policy.org_scope(user, Perm.CAMPAIGN_VIEW, prefix="organization__")
    if policy.has_perm(user, Perm.REVIEW):
        q |= Q(self_items__assessment__target__assignments__reviewer=user)
    return Evidence.objects.filter(q).distinct()


def get_evidence_for_user(user: Any, pk: Any) -> Evidence:
    try:
        return visible_evidence(user).select_related("file", "organization").get(pk=pk)
    except (ValueError, TypeError, Evidence.DoesNotExist) as exc:
        raise Http404 from exc


def may_upload_for(user: Any, organization: Any) -> bool:
    """A unit's submitter for its own unit; an organizer for organizations in their subtree
    (evidence of a daily record)."""
    return any(
        policy.visible_organizations(user, perm).filter(pk=organization.pk).exists()
        for perm in (Perm.SELF_ASSESS, Perm.CAMPAIGN_MANAGE)
    )
