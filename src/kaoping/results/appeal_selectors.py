"""Reads for appeals (申诉) and input corrections (数据更正): the leaves one may appeal against or
correct, what a target's result says about one indicator, the appeals of a campaign, a target
side's own appeals, and the rows of the correction form."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet

from kaoping import policy
from kaoping.collection import review_rules
from kaoping.collection import self_selectors as ssel
from kaoping.indicators.constants import RuleKind
from kaoping.indicators.models import Indicator

from .models import Appeal, AppealStatus, InputCorrection, ResultSet, ResultStatus, TargetResult
from .services import current_set, publication_open

OCCURRENCE_KINDS = frozenset(
    {RuleKind.DEDUCTION, RuleKind.BONUS, RuleKind.PENALTY, RuleKind.BASE_ADJUST}
)
VALUE_KINDS = frozenset(
    {RuleKind.LINEAR, RuleKind.RATIO_TO_TARGET, RuleKind.RATIO_TO_BEST, RuleKind.BANDED}
)
STATUS_STYLES = {
    AppealStatus.FILED: "warning",
    AppealStatus.UPHELD: "success",
    AppealStatus.REJECTED: "secondary",
}


# ---- indicators ----------------------------------------------------------------------------


def appeal_leaves(campaign: Any) -> list[Indicator]:
    """The leaves of the campaign's indicator system (what an appeal may name)."""
    return ssel.leaves(campaign.scheme_version)


def correction_kind(indicator: Indicator) -> str:
    """What a correction of the leaf holds: ``score`` (rating), ``grade``, ``items``
    (deduction/bonus/penalty/base_adjust), ``value`` (quantitative), ``veto``, or ``""`` (not
    correctable: ballots — votes are never changed)."""
    kind = indicator.rule_kind
    if kind == RuleKind.RATING:
        return "score"
    if kind == RuleKind.GRADE:
        return "grade"
    if kind in OCCURRENCE_KINDS:
        return "items"
    if kind in VALUE_KINDS:
        return "value"
    if kind == RuleKind.VETO:
        return "veto"
    return ""


def has_veto(indicator: Indicator) -> bool:
    return bool(indicator.veto) or indicator.rule_kind == RuleKind.VETO


def correctable_leaves(campaign: Any) -> list[Indicator]:
    return [i for i in appeal_leaves(campaign) if correction_kind(i) or has_veto(i)]


def leaf_by_code(campaign: Any, code: str) -> Indicator | None:
    return (
        campaign.scheme_version.indicators.filter(code=code, children__isnull=True).first()
        if code
        else None
    )


def label(indicator: Indicator) -> str:
    return f"{indicator.code} {indicator.name}"


# ---- what a result says about one leaf ------------------------------------------------------


def leaf_node(explanation: dict[str, Any] | None, code: str) -> dict[str, Any] | None:
    """The explanation node of the leaf ``code`` (points, score, rule, inputs or ratings)."""
    if not explanation:
        return None
    stack = [explanation]
    while stack:
        node = stack.pop()
        if node.get("code") == code:
            return node
        stack.extend(c for c in node.get("children") or [] if isinstance(c, dict) and "code" in c)
    return None


def _num(x: Any) -> str:
    if x is None:
        return "—"
    return ssel.fmt_number(Decimal(str(round(float(x), 4))))


def inputs_text(indicator: Indicator | None, node: dict[str, Any] | None) -> str:
    """The inputs behind a leaf's score, in words (e.g. "评分 8", "未按时召开支委会 1 次")."""
    if node is None:
        return "无记录"
    parts: list[str] = []
    for group in node.get("children") or []:
        if "ratings" in group:
            ratings = "、".join(
                str(r) if isinstance(r, str) else _num(r) for r in group.get("ratings") or []
            )
            parts.append(f"评分 {ratings or '无'}")
    inputs = node.get("inputs") or {}
    if "items" in inputs:
        names = {it["code"]: it["name"] for it in ssel.rule_items(indicator)} if indicator else {}
        parts.append(
            "；".join(f"{names.get(c, c)} {_num(n)} 次" for c, n in inputs["items"].items())
            or "无事项"
        )
    if "value" in inputs:
        parts.append(f"数值 {_num(inputs['value'])}")
    if node.get("veto") or inputs.get("veto"):
        parts.append("一票否决")
    return "；".join(parts) or "无输入"


@dataclass
class LeafView:
    """One leaf of one target's result, as the appeal and correction pages show it."""

    indicator: Indicator
    node: dict[str, Any] | None

    @property
    def points(self) -> str:
        return _num((self.node or {}).get("points", self.indicator.points))

    @property
    def score(self) -> str:
        return _num((self.node or {}).get("score"))

    @property
    def inputs(self) -> str:
        return inputs_text(self.indicator, self.node)


def leaf_view(result: TargetResult | None, indicator: Indicator) -> LeafView:
    return LeafView(indicator, leaf_node(result.explanation if result else None, indicator.code))


def current_result(campaign: Any, target: Any) -> TargetResult | None:
    rs = current_set(campaign)
    return rs.results.filter(target=target).first() if rs is not None else None


# ---- lists ---------------------------------------------------------------------------------


def campaign_appeals(campaign: Any, *, status: str = "") -> QuerySet[Appeal]:
    qs = Appeal.objects.filter(campaign=campaign).select_related(
        "target", "filed_by", "decided_by", "result"
    )
    if status in AppealStatus.values:
        qs = qs.filter(status=status)
    return qs.annotate(n_evidence=Count("evidence", distinct=True))


def status_counts(campaign: Any) -> dict[str, int]:
    counts = dict(
        Appeal.objects.filter(campaign=campaign)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {s: counts.get(s, 0) for s in AppealStatus.values}


@dataclass
class OwnRow:
    """One target the user answers for, with its published result and its appeals."""

    target: Any
    result_set: ResultSet | None
    result: TargetResult | None
    appeals: list[Appeal] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return publication_open(self.result_set)

    @property
    def has_open_appeal(self) -> bool:
        return any(a.status == AppealStatus.FILED for a in self.appeals)

    @property
    def may_file(self) -> bool:
        return self.open and self.result is not None and not self.has_open_appeal


def own_rows(user: Any, *, campaign: Any = None) -> list[OwnRow]:
    """The user's own targets whose results are (or were) published, newest campaign first."""
    targets = policy.own_targets(user).select_related("campaign")
    if campaign is not None:
        targets = targets.filter(campaign=campaign)
    targets = list(targets.order_by("-campaign__period_end", "-campaign_id", "code"))
    if not targets:
        return []
    sets = {
        rs.campaign_id: rs
        for rs in ResultSet.objects.filter(
            campaign_id__in={t.campaign_id for t in targets},
            is_current=True,
            status__in=(ResultStatus.PUBLISHED, ResultStatus.FINAL),
        )
    }
    results = {
        r.target_id: r
        for r in TargetResult.objects.filter(
            result_set__in=list(sets.values()), target__in=targets
        ).only("id", "target_id", "total", "grade", "rank", "result_set_id")
    }
    appeals: dict[int, list[Appeal]] = {}
    for a in Appeal.objects.filter(target__in=targets).select_related("decided_by"):
        appeals.setdefault(a.target_id, []).append(a)
    return [
        OwnRow(t, sets.get(t.campaign_id), results.get(t.pk), appeals.get(t.pk, []))
        for t in targets
        if t.campaign_id in sets or t.pk in appeals
    ]


def corrections_of(campaign: Any, *, target: Any = None) -> QuerySet[InputCorrection]:
    qs = InputCorrection.objects.filter(campaign=campaign).select_related(
        "target", "created_by", "appeal"
    )
    if target is not None:
        qs = qs.filter(target=target)
    return qs.order_by("-id")


def latest_correction(campaign: Any, target: Any, code: str) -> InputCorrection | None:
    return (
        InputCorrection.objects.filter(campaign=campaign, target=target, indicator_code=code)
        .order_by("-id")
        .first()
    )


def correction_text(indicator: Indicator | None, c: InputCorrection | dict[str, Any]) -> str:
    """A correction's values in words."""
    get = c.get if isinstance(c, dict) else (lambda k, d=None: getattr(c, k, d))
    parts: list[str] = []
    if get("score") is not None:
        parts.append(f"评分 {_num(get('score'))}")
    if get("grade"):
        parts.append(f"等次 {get('grade')}")
    occ = get("occurrences")
    if occ:
        names = {it["code"]: it["name"] for it in ssel.rule_items(indicator)} if indicator else {}
        parts.append("；".join(f"{names.get(k, k)} {n} 次" for k, n in occ.items()))
    if get("value") is not None:
        parts.append(f"数值 {_num(get('value'))}")
    if get("veto") is not None:
        parts.append("一票否决：" + ("是" if get("veto") else "否"))
    return "；".join(parts) or "—"


# ---- the correction form -------------------------------------------------------------------


@dataclass
class CorrectionRow:
    """One row of the correction form: a leaf, what the target has now, the inputs to show."""

    index: int
    indicator: Indicator
    leaf: LeafView
    previous: InputCorrection | None
    posted: dict[str, Any]

    @property
    def kind(self) -> str:
        return correction_kind(self.indicator)

    @property
    def veto(self) -> bool:
        return has_veto(self.indicator) and self.kind != "veto"

    @property
    def rule(self) -> review_rules.CellRule:
        return review_rules.rule_for(self.indicator)

    @property
    def bounds(self) -> str:
        if self.kind in ("score", "grade", "items"):
            return self.rule.bounds_text
        if self.kind == "value":
            return ssel.bounds_text(self.indicator).removeprefix("填写")
        return ""

    @property
    def item_rows(self) -> list[dict[str, Any]]:
        occ = (self.posted.get("occurrences") or {}) if self.posted else {}
        return [
            {"code": it.code, "name": it.name or it.code, "per": review_rules.fmt(it.per),
             "value": occ.get(it.code, "")}
            for it in self.rule.items
        ]  # fmt: skip

    @property
    def previous_text(self) -> str:
        return correction_text(self.indicator, self.previous) if self.previous else ""


def correction_rows(
    campaign: Any,
    target: Any,
    entries: list[tuple[str, dict[str, Any]]],
    result: TargetResult | None = None,
) -> list[CorrectionRow]:
    """Form rows for ``entries`` ((indicator code, posted values) pairs; unknown or
    uncorrectable codes are dropped)."""
    leaves = {i.code: i for i in correctable_leaves(campaign)}
    if result is None and target is not None:
        result = current_result(campaign, target)
    rows: list[CorrectionRow] = []
    seen: set[str] = set()
    for code, posted in entries:
        ind = leaves.get(code)
        if ind is None or code in seen:
            continue
        seen.add(code)
        prev = latest_correction(campaign, target, code) if target is not None else None
        rows.append(CorrectionRow(len(rows), ind, leaf_view(result, ind), prev, posted))
    return rows


def target_change(changes: dict[str, Any] | None, target_code: str) -> dict[str, Any] | None:
    """This target's row of a result set's ``changes`` (None when it did not change)."""
    for row in (changes or {}).get("targets") or []:
        if row.get("target") == target_code:
            return row
    return None
