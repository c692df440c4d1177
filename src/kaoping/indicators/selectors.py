"""Reads over indicator systems: the ordered tree with its live totals, scoped fetches, and the
canonical form a published version's fingerprint is taken of."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.http import Http404

from kaoping import policy

from .constants import RaterGroupCode, RuleKind, Weighting
from .models import Indicator, SchemeVersion

# Points outside the weighted base (加分、附加扣分、一票否决): they never count toward a total.
EXTRA_KINDS = frozenset({RuleKind.BONUS, RuleKind.PENALTY, RuleKind.VETO})
TOLERANCE = Decimal("0.005")
WEIGHT_TOLERANCE = Decimal("0.0005")


def is_extra(ind: Indicator) -> bool:
    return ind.rule_kind in EXTRA_KINDS


@dataclass
class Totals:
    """Sums of one sibling group against what they should add up to."""

    points: Decimal  # children's points (extra items left out)
    expected: Decimal | None  # the parent's points, or the version's total for level 1
    weight: Decimal  # children's weights (0..1)
    count: int  # weighted children

    @property
    def points_ok(self) -> bool:
        return self.expected is None or abs(self.points - self.expected) <= TOLERANCE

    @property
    def weight_ok(self) -> bool:
        return self.count == 0 or abs(self.weight - 1) <= WEIGHT_TOLERANCE

    @property
    def weight_percent(self) -> Decimal:
        return (self.weight * 100).quantize(Decimal("0.01"))


@dataclass
class Row:
    indicator: Indicator
    depth: int  # 0 for level 1
    children: list[Row] = field(default_factory=list)
    totals: Totals | None = None  # of the children; None for a leaf

    @property
    def is_leaf(self) -> bool:
        return not self.children

    @property
    def extra(self) -> bool:
        return is_extra(self.indicator)

    @property
    def weight_percent(self) -> Decimal | None:
        w = self.indicator.weight
        return None if w is None else (w * 100).quantize(Decimal("0.01"))

    @property
    def proposed_label(self) -> str:
        kind = (self.indicator.proposed_rule or {}).get("kind", "")
        return dict(RuleKind.choices).get(kind, kind)

    @property
    def proposed_params(self) -> str:
        rule = {k: v for k, v in (self.indicator.proposed_rule or {}).items() if k != "kind"}
        return json.dumps(rule, ensure_ascii=False)


@dataclass
class Tree:
    version: SchemeVersion
    roots: list[Row]
    rows: list[Row]  # depth-first, in display order
    totals: Totals  # of the level-1 indicators against the version's total

    @property
    def points_mode(self) -> bool:
        return self.version.weighting == Weighting.POINTS


def _totals(children: list[Indicator], expected: Decimal | None) -> Totals:
    base = [c for c in children if not is_extra(c)]
    return Totals(
        points=sum((c.points or Decimal(0) for c in base), Decimal(0)),
        expected=expected,
        weight=sum((c.weight or Decimal(0) for c in base), Decimal(0)),
        count=len(base),
    )


def ordered(version: SchemeVersion) -> list[Indicator]:
    """Every indicator of the version, depth-first in display order."""
    return [row.indicator for row in tree(version).rows]


def tree(version: SchemeVersion) -> Tree:
    inds = list(version.indicators.all().order_by("position", "code", "id"))
    kids: dict[int | None, list[Indicator]] = {}
    for ind in inds:
        kids.setdefault(ind.parent_id, []).append(ind)
    rows: list[Row] = []

    def build(ind: Indicator, depth: int) -> Row:
        row = Row(ind, depth)
        rows.append(row)
        children = kids.get(ind.pk, [])
        row.children = [build(c, depth + 1) for c in children]
        if children:
            row.totals = _totals(children, ind.points)
        return row

    roots = [build(ind, 0) for ind in kids.get(None, [])]
    return Tree(version, roots, rows, _totals(kids.get(None, []), version.total_points))


def in_tree_order(inds: list[Indicator]) -> list[Indicator]:
    """Indicators depth first, siblings by position (the order of the editor and Excel)."""
    kids: dict[int | None, list[Indicator]] = {}
    for ind in sorted(inds, key=lambda i: (i.position, i.code, i.pk or 0)):
        kids.setdefault(ind.parent_id, []).append(ind)
    out: list[Indicator] = []
    stack = list(reversed(kids.get(None, [])))
    while stack:
        ind = stack.pop()
        out.append(ind)
        stack.extend(reversed(kids.get(ind.pk, [])))
    return out


def weighted_children(version: SchemeVersion, parent: Indicator | None) -> list[Indicator]:
    """The siblings under ``parent`` that carry a weight (extra items left out), in order."""
    qs = version.indicators.filter(parent=parent).order_by("position", "code", "id")
    return [c for c in qs if not is_extra(c)]


def subtree(indicator: Indicator) -> list[Indicator]:
    """The indicator and all its descendants (breadth-first)."""
    out = [indicator]
    frontier = [indicator.pk]
    while frontier:
        level = list(Indicator.objects.filter(parent_id__in=frontier).order_by("position", "id"))
        out.extend(level)
        frontier = [i.pk for i in level]
    return out


def get_indicator_for_user(user: Any, pk: Any) -> tuple[Indicator, bool]:
    """The indicator if its scheme is visible to the user (else 404), and whether the user may
    change it (manages the scheme and the version is still a draft)."""
    try:
        ind = Indicator.objects.select_related("version", "parent").get(pk=pk)
    except (ValueError, TypeError, Indicator.DoesNotExist) as exc:
        raise Http404 from exc
    version, can_manage = policy.get_version_for_user(user, ind.version_id)
    ind.version = version
    return ind, can_manage and not version.is_published


@dataclass
class GradeBand:
    label: str
    threshold: Any  # the minimum total (a number), None for the last grade
    upper: Any = None  # the next better grade's threshold (exclusive), None for the best


@dataclass
class RaterShare:
    code: str
    label: str
    percent: str  # e.g. "60" or "33.3333"


@dataclass
class VersionSettings:
    """A version's settings with the defaults filled in, for display and for the form."""

    label: str
    points_mode: bool
    total_points: Decimal
    scale: Decimal  # what grade thresholds are measured against
    grades: list[GradeBand]
    rater_weights: list[RaterShare]
    ballot_grades: list[dict[str, Any]]
    ballot_default: bool  # no scale of its own: the default one applies


def _percent(w: Any) -> str:
    d = (Decimal(str(w)) * 100).quantize(Decimal("0.0001")).normalize()
    return format(d, "f")


def version_settings(version: SchemeVersion) -> VersionSettings:
    from .services import DEFAULT_BALLOT_GRADES, DEFAULT_GRADES, DEFAULT_OPTIONS

    options = version.options or {}
    labels = list(options.get("grades") or DEFAULT_GRADES)
    thresholds = list(options.get("grade_thresholds") or [])
    if len(thresholds) != len(labels) - 1 and labels == DEFAULT_GRADES:
        thresholds = list(DEFAULT_OPTIONS["grade_thresholds"])
    bands = []
    for k, label in enumerate(labels):
        bands.append(
            GradeBand(
                label,
                thresholds[k] if k < len(thresholds) else None,
                thresholds[k - 1] if 0 < k <= len(thresholds) else None,
            )
        )
    names = dict(RaterGroupCode.choices)
    weights = options.get("rater_weights") or DEFAULT_OPTIONS["rater_weights"]
    shares = [
        RaterShare(code, names[code], _percent(weights[code]))
        for code in RaterGroupCode.values
        if weights.get(code)
    ]
    ballot = options.get("ballot_grades") or []
    points_mode = version.weighting == Weighting.POINTS
    return VersionSettings(
        label=version.label,
        points_mode=points_mode,
        total_points=Decimal(version.total_points),
        scale=Decimal(version.total_points) if points_mode else Decimal(100),
        grades=bands,
        rater_weights=shares,
        ballot_grades=[dict(g) for g in (ballot or DEFAULT_BALLOT_GRADES)],
        ballot_default=not ballot,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


INDICATOR_FIELDS = (
    "code", "name", "level", "position", "dimension", "points", "weight", "rule_kind",
    "rule_params", "criteria", "methods", "evidence", "rater_weights", "data_source",
    "missing_policy", "veto",
)  # fmt: skip


def canonical(version: SchemeVersion) -> dict[str, Any]:
    """The version's content (settings and the whole tree) as plain JSON-ready data."""
    inds = ordered(version)
    codes = {i.pk: i.code for i in inds}
    return {
        "scheme": version.scheme.name,
        "number": version.number,
        "weighting": version.weighting,
        "total_points": _plain(version.total_points),
        "options": version.options or {},
        "indicators": [
            {"parent": codes.get(i.parent_id)}
            | {f: _plain(getattr(i, f)) for f in INDICATOR_FIELDS}
            for i in inds
        ],
    }


def fingerprint(version: SchemeVersion) -> str:
    text = json.dumps(canonical(version), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
