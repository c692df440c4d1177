"""Reads for reviewer scoring (评审): the grid of a reviewer's assigned targets × the indicators
reviewers score, with the existing scores and the units' self-assessment at hand.

``grid`` runs a fixed handful of queries whatever the size of the grid (targets, indicators,
sheet, scores, self-assessment items) and builds dicts; templates never query per cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count

from kaoping.campaigns.models import Campaign, Target
from kaoping.indicators.models import Indicator
from kaoping.indicators.selectors import ordered

from .models import ReviewScore, ReviewSheet, SelfAssessmentItem, SheetStatus
from .review_rules import CellRule, fmt, is_rated_leaf, rule_for

Key = tuple[int, int]  # (target id, indicator id)


@dataclass
class Column:
    indicator: Indicator
    rule: CellRule
    parents: str  # names of the ancestors, for the header tooltip


@dataclass
class SelfValue:
    text: str  # the unit's own value, as shown
    evidence: int  # number of evidence files attached


@dataclass
class Cell:
    target_id: int
    column: Column
    value: str  # the text of the input
    reason: str
    self_value: SelfValue | None
    points: Decimal | None


@dataclass
class Row:
    target: Target
    cells: list[Cell]
    total: Decimal
    filled: int


@dataclass
class Grid:
    campaign: Campaign
    reviewer: Any
    sheet: ReviewSheet | None
    columns: list[Column]
    rows: list[Row]
    filled: int = 0
    size: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def submitted(self) -> bool:
        return self.sheet is not None and self.sheet.status == SheetStatus.SUBMITTED

    @property
    def missing(self) -> int:
        return self.size - self.filled


def review_columns(campaign: Campaign) -> list[Column]:
    """The leaves of the campaign's indicator system that reviewers score, in tree order."""
    inds = ordered(campaign.scheme_version)
    parents = {i.parent_id for i in inds if i.parent_id}
    by_id = {i.pk: i for i in inds}
    out = []
    for ind in inds:
        if ind.pk in parents or not is_rated_leaf(ind):
            continue
        names = []
        p = by_id.get(ind.parent_id)
        while p is not None:
            names.append(p.name)
            p = by_id.get(p.parent_id)
        out.append(Column(ind, rule_for(ind), " › ".join(reversed(names))))
    return out


def assigned_targets(campaign: Campaign, reviewer: Any) -> list[Target]:
    return list(
        Target.objects.filter(campaign=campaign, assignments__reviewer=reviewer)
        .distinct()
        .order_by("group_code", "code")
    )


def get_sheet(campaign: Campaign, reviewer: Any) -> ReviewSheet | None:
    return ReviewSheet.objects.filter(campaign=campaign, reviewer=reviewer).first()


def self_values(target_ids: list[int], columns: list[Column]) -> dict[Key, SelfValue]:
    """The units' own values per (target, indicator), with evidence counts, in one query."""
    rules = {c.indicator.pk: c.rule for c in columns}
    rows = (
        SelfAssessmentItem.objects.filter(
            assessment__target_id__in=target_ids, indicator_id__in=list(rules)
        )
        .annotate(n_evidence=Count("evidence"))
        .values_list(
            "assessment__target_id", "indicator_id", "score", "grade", "occurrences", "n_evidence"
        )
    )
    out: dict[Key, SelfValue] = {}
    for tid, iid, score, grade, occ, n in rows:
        rule = rules[iid]
        text = rule.display(score, grade, occ if isinstance(occ, dict) else {})
        out[(tid, iid)] = SelfValue(text, n)
    return out


def grid(campaign: Campaign, reviewer: Any) -> Grid:
    """The reviewer's grid: assigned targets × review columns, in a constant number of queries."""
    columns = review_columns(campaign)
    targets = assigned_targets(campaign, reviewer)
    sheet = get_sheet(campaign, reviewer)
    scores: dict[Key, tuple[Any, str, Any, str]] = {}
    if sheet is not None:
        scores = {
            (t, i): (score, grade, occ, reason)
            for t, i, score, grade, occ, reason in sheet.scores.values_list(
                "target_id", "indicator_id", "score", "grade", "occurrences", "reason"
            )
        }
    selfs = self_values([t.pk for t in targets], columns) if targets and columns else {}
    rows = []
    filled_all = 0
    for target in targets:
        cells = []
        total = Decimal(0)
        filled = 0
        for col in columns:
            key = (target.pk, col.indicator.pk)
            s = scores.get(key)
            rule = col.rule
            if s is not None:
                score, grade, occ, reason = s
                occ = occ if rule.input in ("count", "items") else None
                value = rule.value_for_input(score, grade, occ)
                points = rule.points_of(score, grade, occ)
            else:
                value, reason, points = "", "", None
            if points is not None:
                total += points
                filled += 1
            cells.append(Cell(target.pk, col, value, reason, selfs.get(key), points))
        rows.append(Row(target, cells, total, filled))
        filled_all += filled
    return Grid(
        campaign=campaign,
        reviewer=reviewer,
        sheet=sheet,
        columns=columns,
        rows=rows,
        filled=filled_all,
        size=len(targets) * len(columns),
    )


def target_total(sheet: ReviewSheet, target: Target, columns: list[Column]) -> Decimal:
    """One target's total on the sheet (after a save), in one query."""
    rules = {c.indicator.pk: c.rule for c in columns}
    total = Decimal(0)
    for s in sheet.scores.filter(target=target, indicator_id__in=list(rules)):
        rule = rules[s.indicator_id]
        occ = s.occurrences if rule.input in ("count", "items") else None
        total += rule.points_of(s.score, s.grade, occ) or Decimal(0)
    return total


@dataclass
class PanelData:
    column: Column
    target: Target
    score: ReviewScore | None
    self_item: SelfAssessmentItem | None
    evidence: list[Any]
    self_text: str


def panel(campaign: Campaign, reviewer: Any, target: Target, indicator: Indicator) -> PanelData:
    """Everything the side panel shows about one cell."""
    col = next((c for c in review_columns(campaign) if c.indicator.pk == indicator.pk), None)
    if col is None:
        raise Indicator.DoesNotExist
    sheet = get_sheet(campaign, reviewer)
    score = sheet.scores.filter(target=target, indicator=indicator).first() if sheet else None
    item = (
        SelfAssessmentItem.objects.filter(assessment__target=target, indicator=indicator)
        .prefetch_related("evidence")
        .first()
    )
    evidence = list(item.evidence.all()) if item else []
    self_text = ""
    if item is not None:
        occ = item.occurrences if isinstance(item.occurrences, dict) else {}
        self_text = col.rule.display(item.score, item.grade, occ)
    return PanelData(col, target, score, item, evidence, self_text)


def sheets_for_campaign(campaign: Campaign) -> list[dict[str, Any]]:
    """The organizer's list: every assigned reviewer, their sheet's state and progress."""
    from kaoping.campaigns.models import ReviewerAssignment

    columns = review_columns(campaign)
    n_cols = len(columns)
    assigned: dict[int, dict[str, Any]] = {}
    for a in (
        ReviewerAssignment.objects.filter(campaign=campaign)
        .values("reviewer_id", "reviewer__username", "reviewer__full_name")
        .annotate(n=Count("target", distinct=True))
        .order_by("reviewer__username")
    ):
        assigned[a["reviewer_id"]] = {
            "reviewer_id": a["reviewer_id"],
            "name": a["reviewer__full_name"] or a["reviewer__username"],
            "username": a["reviewer__username"],
            "targets": a["n"],
            "size": a["n"] * n_cols,
            "filled": 0,
            "sheet": None,
        }
    sheets = ReviewSheet.objects.filter(campaign=campaign).annotate(n_scores=Count("scores"))
    for sheet in sheets:
        row = assigned.get(sheet.reviewer_id)
        if row is not None:
            row["sheet"] = sheet
            row["filled"] = min(sheet.n_scores, row["size"])
    return list(assigned.values())


def fmt_points(value: Decimal | None) -> str:
    return fmt(value)
