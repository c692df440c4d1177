"""Reads for the result pages: the ranking (filtered and sorted in the database), the grade
distribution and dimension averages, the history of computes, a target's explanation tree with
the inputs behind every leaf, its previous result, and the compute job in progress.

Callers pass what they fetched through ``kaoping.policy`` (campaign, visible results): these
functions never widen what a user sees.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet

from .models import InputCorrection, ResultSet, ResultStatus, TargetResult

COMPUTE_KIND = "results.compute"

FLAG_LABELS = {"veto": "一票否决", "incomplete": "数据不全", "too_few_ballots": "测评票数不足"}

#: sortable columns: GET value -> order_by fields (ascending)
SORTS: dict[str, tuple[Any, ...]] = {
    "rank": (F("rank").asc(nulls_last=True), "target__code"),
    "total": ("total", "target__code"),
    "group_rank": ("target__group_name", F("group_rank").asc(nulls_last=True), "target__code"),
    "code": ("target__code",),
    "name": ("target__name", "target__code"),
    "group": ("target__group_name", F("rank").asc(nulls_last=True), "target__code"),
    "grade": ("grade", F("rank").asc(nulls_last=True), "target__code"),
}
SORT_LABELS = {
    "rank": "排名",
    "code": "编码",
    "name": "考核对象",
    "group": "所属党组织",
    "total": "总分",
    "grade": "等次",
    "group_rank": "组内排名",
}

#: special nodes of an explanation tree (no indicator behind them)
SPECIAL_NODES = {
    "rounding": "取整",
    "unrounded": "未取整得分",
    "aggregation": "综合方法调整",
    "veto": "一票否决",
}


# ---- the ranking -----------------------------------------------------------------------------


@dataclass
class RankingFilters:
    group: str = ""
    grade: str = ""
    flag: str = ""
    q: str = ""
    sort: str = "rank"
    desc: bool = False

    @classmethod
    def from_query(cls, data: Any) -> RankingFilters:
        sort = str(data.get("sort") or "rank")
        desc = sort.startswith("-")
        sort = sort.lstrip("-")
        if sort not in SORTS:
            sort, desc = "rank", False
        flag = str(data.get("flag") or "")
        return cls(
            group=str(data.get("group") or "")[:32],
            grade=str(data.get("grade") or "")[:20],
            flag=flag if flag in FLAG_LABELS or flag == "none" else "",
            q=str(data.get("q") or "").strip()[:50],
            sort=sort,
            desc=desc,
        )

    @property
    def active(self) -> bool:
        return bool(self.group or self.grade or self.flag or self.q)

    def sort_param(self, column: str) -> str:
        """The ``sort`` value of a column header's link: toggles when already sorted by it."""
        if column == self.sort and not self.desc:
            return f"-{column}"
        return column


def ranking(results: QuerySet[TargetResult], f: RankingFilters) -> list[TargetResult]:
    """The visible results filtered and sorted as ``f`` says (the explanation is not loaded)."""
    qs = results.select_related("target").defer("explanation", "indicators")
    if f.group:
        qs = qs.filter(target__group_code=f.group)
    if f.grade:
        qs = qs.filter(grade="" if f.grade == "none" else f.grade)
    if f.q:
        qs = qs.filter(Q(target__name__icontains=f.q) | Q(target__code__icontains=f.q))
    order = []
    for field in SORTS[f.sort]:
        if f.desc:
            field = F(field).desc(nulls_last=True) if isinstance(field, str) else _flip(field)
        order.append(field)
    rows = list(qs.order_by(*order))
    if f.flag == "none":
        rows = [r for r in rows if not r.flags]
    elif f.flag:
        # a JSON list: filtered here, the same on SQLite and PostgreSQL (a few thousand rows)
        rows = [r for r in rows if f.flag in r.flags]
    return rows


def sort_columns(f: RankingFilters) -> dict[str, dict[str, Any]]:
    """Per sortable column: the ``sort`` value of its header link and whether it is sorted."""
    return {
        key: {
            "label": label,
            "param": f.sort_param(key),
            "active": key == f.sort,
            "desc": key == f.sort and f.desc,
        }
        for key, label in SORT_LABELS.items()
    }


def _flip(expr: Any) -> Any:
    return expr.expression.desc(nulls_last=True)


def flag_labels(flags: list[str]) -> list[str]:
    return [FLAG_LABELS.get(x, x) for x in flags]


def group_choices(results: QuerySet[TargetResult]) -> list[tuple[str, str]]:
    rows = (
        results.exclude(target__group_code="")
        .values_list("target__group_code", "target__group_name")
        .distinct()
        .order_by("target__group_code")
    )
    return [(code, name or code) for code, name in rows]


def grade_labels(rs: ResultSet) -> list[str]:
    return list((rs.summary or {}).get("grades", {}))


def grade_chart(rs: ResultSet) -> dict[str, Any]:
    """The grade distribution (whole campaign) for the chart and the table beside it."""
    s = rs.summary or {}
    grades = dict(s.get("grades") or {})
    total = sum(grades.values()) + int(s.get("ungraded") or 0)
    rows = [
        {"grade": g, "n": n, "percent": round(100 * n / total, 1) if total else 0}
        for g, n in grades.items()
    ]
    if s.get("ungraded"):
        rows.append({"grade": "未定等次", "n": s["ungraded"],
                     "percent": round(100 * s["ungraded"] / total, 1) if total else 0})  # fmt: skip
    return {"labels": [r["grade"] for r in rows], "counts": [r["n"] for r in rows], "rows": rows}


def dimension_points(rs: ResultSet) -> dict[str, float]:
    """Each dimension's full points (from any stored explanation; the same for every target)."""
    one = TargetResult.objects.filter(result_set=rs).only("explanation").first()
    if one is None:
        return {}
    return {
        c["code"]: float(c.get("points") or 0)
        for c in (one.explanation or {}).get("children", [])
        if "points" in c
    }


def dimension_table(rs: ResultSet, points: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """Average score per dimension (all targets of the set), with its full points."""
    s = rs.summary or {}
    points = points if points is not None else dimension_points(rs)
    out = []
    for code, name in (s.get("dimensions") or {}).items():
        mean = (s.get("dimension_means") or {}).get(code)
        full = points.get(code) or 0
        out.append(
            {
                "code": code,
                "name": name,
                "mean": mean,
                "points": full,
                "percent": round(100 * mean / full, 1) if mean is not None and full else None,
            }
        )
    return out


def history(campaign: Any) -> QuerySet[ResultSet]:
    return (
        ResultSet.objects.filter(campaign=campaign)
        .select_related("computed_by", "submitted_by", "approved_by")
        .defer("summary", "changes", "engine_settings", "input_summary")
        .order_by("-number")
    )


# ---- changes between computes -----------------------------------------------------------------


def changes_view(rs: ResultSet, visible_codes: set[str] | None) -> dict[str, Any]:
    """What ``rs.changes`` says, limited to the targets the user may see (``None``: all)."""
    ch = rs.changes or {}
    targets = ch.get("targets") or []
    corrections = ch.get("corrections") or []
    if visible_codes is not None:
        targets = [t for t in targets if t.get("target") in visible_codes]
        corrections = [c for c in corrections if c.get("target") in visible_codes]
    rows = []
    for t in targets:
        total = t.get("total") or [None, None]
        delta = None
        if total[0] is not None and total[1] is not None:
            delta = total[1] - total[0]
        rows.append({**t, "delta": delta})
    return {
        "first": not ch,
        "previous": ch.get("previous"),
        "why": ch.get("why") or [],
        "corrections": corrections,
        "changed": ch.get("changed", 0) if visible_codes is None else len(rows),
        "listed": len(rows),
        "targets": rows,
        "truncated": visible_codes is None and ch.get("changed", 0) > len(rows),
    }


# ---- one target's result ----------------------------------------------------------------------


def previous_result(target: Any) -> TargetResult | None:
    """The most recent final (locked) result of the same organization — or person — in an
    earlier campaign of the same type, or None."""
    campaign = target.campaign
    if target.organization_id:
        who = Q(target__organization_id=target.organization_id)
    else:
        who = Q(target__person_id=target.person_id)
    earlier = Q(result_set__campaign__period_end__lt=campaign.period_end) | Q(
        result_set__campaign__period_end=campaign.period_end,
        result_set__campaign_id__lt=campaign.pk,
    )
    return (
        TargetResult.objects.filter(
            who,
            earlier,
            result_set__status=ResultStatus.FINAL,
            result_set__campaign__campaign_type=campaign.campaign_type,
        )
        .exclude(result_set__campaign_id=campaign.pk)
        .select_related("result_set__campaign", "target")
        .defer("explanation")
        .order_by("-result_set__campaign__period_end", "-result_set__campaign_id")
        .first()
    )


def radar(tr: TargetResult, rs: ResultSet) -> dict[str, Any]:
    """The target's dimension scores against the campaign average: as percentages of each
    dimension's points when dimensions have different points, else as points."""
    s = rs.summary or {}
    names = s.get("dimensions") or {}
    means = s.get("dimension_means") or {}
    points = {
        c["code"]: float(c.get("points") or 0)
        for c in (tr.explanation or {}).get("children", [])
        if c.get("code") in names
    }
    # dimensions worth no points (e.g. a veto-only dimension) have no place on the chart
    codes = [c for c in names if points.get(c)] or list(names)
    distinct = {round(points[c], 6) for c in codes if points.get(c)}
    as_percent = len(distinct) > 1 or not distinct

    def scaled(code: str, v: Any) -> float | None:
        if v is None:
            return None
        full = points.get(code) or 0
        if as_percent:
            return round(100 * float(v) / full, 1) if full else None
        return round(float(v), 2)

    top = 100.0 if as_percent else (max(distinct) if distinct else 100.0)
    return {
        "percent": as_percent,
        "indicators": [{"name": names[c], "max": top} for c in codes],
        "target": [scaled(c, tr.dimensions.get(c)) for c in codes],
        "mean": [scaled(c, means.get(c)) for c in codes],
        "target_name": tr.target.name,
        "rows": [
            {
                "code": c,
                "name": names[c],
                "points": points.get(c),
                "score": tr.dimensions.get(c),
                "mean": means.get(c),
            }
            for c in names
        ],
    }


@dataclass
class Sources:
    """Everything a campaign holds for one target, by indicator code (a few queries)."""

    indicators: dict[str, Any]
    reviews: dict[str, list[dict[str, Any]]]
    self_items: dict[str, Any]
    self_status: str
    daily: dict[str, list[Any]]
    quant: dict[str, Any]
    corrections: dict[str, list[InputCorrection]]


def target_sources(campaign: Any, target: Any, *, reviewer_names: bool) -> Sources:
    from kaoping.collection.daily_selectors import daily_records_for
    from kaoping.collection.models import QuantValue, ReviewScore, SelfAssessment, SheetStatus

    indicators = {i.code: i for i in campaign.scheme_version.indicators.all()}
    reviews: dict[str, list[dict[str, Any]]] = defaultdict(list)
    numbers: dict[int, int] = {}
    for s in (
        ReviewScore.objects.filter(
            sheet__campaign=campaign, sheet__status=SheetStatus.SUBMITTED, target=target
        )
        .select_related("indicator", "sheet__reviewer")
        .order_by("sheet_id", "indicator__code")
    ):
        if s.score is None and not s.grade and not s.occurrences:
            continue
        n = numbers.setdefault(s.sheet.reviewer_id, len(numbers) + 1)
        who = s.sheet.reviewer.display_name if reviewer_names else f"评审员 {n}"
        reviews[s.indicator.code].append(
            {
                "who": who,
                "score": s.score,
                "grade": s.grade,
                "occurrences": s.occurrences,
                "reason": s.reason,
            }  # fmt: skip
        )
    sa = SelfAssessment.objects.filter(target=target).first()
    self_items: dict[str, Any] = {}
    if sa is not None:
        for item in sa.items.select_related("indicator").prefetch_related("evidence"):
            self_items[item.indicator.code] = item
    daily: dict[str, list[Any]] = defaultdict(list)
    for r in daily_records_for(campaign, target):
        daily[r.indicator_code].append(r)
    quant: dict[str, Any] = {}
    for v in (
        QuantValue.objects.filter(
            batch__campaign=campaign, batch__undone_at__isnull=True, target=target
        )
        .select_related("batch", "indicator")
        .order_by("batch_id")
    ):
        quant[v.indicator.code] = v  # the newest batch wins
    corrections: dict[str, list[InputCorrection]] = defaultdict(list)
    for c in InputCorrection.objects.filter(campaign=campaign, target=target).select_related(
        "created_by"
    ):
        corrections[c.indicator_code].append(c)
    return Sources(
        indicators=indicators,
        reviews=dict(reviews),
        self_items=self_items,
        self_status=sa.get_status_display() if sa is not None else "",
        daily=dict(daily),
        quant=quant,
        corrections=dict(corrections),
    )


def _item_names(indicator: Any) -> dict[str, str]:
    items = (getattr(indicator, "rule_params", None) or {}).get("items") or []
    return {str(i.get("code")): str(i.get("name") or i.get("code")) for i in items}


def explanation_tree(
    tr: TargetResult, sources: Sources, *, min_breakdown: int = 5
) -> dict[str, Any]:
    """The stored explanation as nested display nodes: each indicator with its score and
    contribution, and each leaf with the inputs that made it and where they came from.

    Ballot counts of a rater group with fewer than ``min_breakdown`` ballots are withheld (as on
    the tally pages), so that a small group's votes cannot be read back."""
    from kaoping.indicators.constants import DataSource, RaterGroupCode, RuleKind

    group_labels = dict(RaterGroupCode.choices)
    rule_labels = dict(RuleKind.choices)
    source_labels = dict(DataSource.choices)

    def build(node: dict[str, Any], depth: int) -> dict[str, Any]:
        code = str(node.get("code", ""))
        ind = sources.indicators.get(code)
        special = ind is None and code in SPECIAL_NODES and "points" not in node
        out: dict[str, Any] = {
            "code": code,
            "name": node.get("name") or SPECIAL_NODES.get(code, code),
            "points": node.get("points"),
            "score": node.get("score"),
            "contribution": node.get("contribution"),
            "depth": depth,
            "special": special,
            "missing": bool(node.get("missing")),
            "veto": node.get("veto"),
            "renormalized": node.get("renormalized"),
            "aggregation": node.get("aggregation"),
        }
        rule = node.get("rule")
        children = node.get("children") or []
        if rule is None:
            out["children"] = [build(c, depth + 1) for c in children]
            return out
        # a leaf
        out["leaf"] = True
        out["rule"] = rule
        out["rule_label"] = rule_labels.get(rule, rule)
        if ind is not None:
            out["criteria"] = ind.criteria
            out["source_label"] = source_labels.get(ind.data_source, ind.data_source)
        groups, extra = [], []
        for c in children:
            if "group" in c:
                g = dict(c)
                g["label"] = group_labels.get(c["group"], c["group"])
                if "counts" in c and (c.get("n") or 0) < min_breakdown:
                    g["withheld"] = True
                    g["counts"] = None
                    g["rate"] = None
                groups.append(g)
            else:
                extra.append(build(c, depth + 1))
        out["groups"] = groups
        out["children"] = extra
        inputs = node.get("inputs") or {}
        names = _item_names(ind)
        if "items" in inputs:
            out["occ_items"] = [
                {"code": k, "name": names.get(str(k), k), "count": v}
                for k, v in inputs["items"].items()
                if v
            ]
        if "value" in inputs:
            out["value"] = inputs["value"]
        if "triggered" in inputs:
            out["triggered"] = inputs["triggered"]
        out["reviews"] = [
            {**r, "occ_items": [{"name": names.get(str(k), k), "count": n}
                            for k, n in (r["occurrences"] or {}).items() if n]}
            for r in sources.reviews.get(code, [])
        ]  # fmt: skip
        item = sources.self_items.get(code)
        if item is not None:
            out["self_item"] = item
            out["self_items"] = [
                {"name": names.get(str(k), k), "count": n}
                for k, n in (item.occurrences or {}).items()
                if n
            ]
            out["evidence"] = list(item.evidence.all())
            out["self_superseded"] = bool(out["reviews"]) and rule in (
                "rating", "grade", "deduction", "bonus", "penalty", "base_adjust"
            )  # fmt: skip
        out["daily"] = sources.daily.get(code, [])
        out["quant"] = sources.quant.get(code)
        out["corrections"] = sources.corrections.get(code, [])
        return out

    return build(tr.explanation or {}, 0)


def min_breakdown(campaign: Any) -> int:
    """The smallest number of ballots whose breakdown the campaign's appraisals show."""
    from kaoping.ballots.models import Appraisal

    values = list(
        Appraisal.objects.filter(campaign=campaign).values_list("min_breakdown", flat=True)
    )
    return max(values) if values else 5


# ---- the compute job --------------------------------------------------------------------------


def running_compute(campaign: Any) -> Any:
    """A compute job of the campaign that is queued or running (whoever started it)."""
    from kaoping.jobs.models import Job, JobStatus

    return (
        Job.objects.filter(
            kind=COMPUTE_KIND,
            params__campaign=campaign.pk,
            status__in=(JobStatus.QUEUED, JobStatus.RUNNING),
        )
        .order_by("-id")
        .first()
    )


def compute_job(campaign: Any, pk: Any) -> Any:
    """A compute job of ``campaign`` (a campaign the caller runs: any of its organizers may
    follow a compute another one started), else 404."""
    from django.http import Http404

    from kaoping.jobs.models import Job

    try:
        return Job.objects.get(pk=pk, kind=COMPUTE_KIND, params__campaign=campaign.pk)
    except (ValueError, TypeError, Job.DoesNotExist) as exc:
        raise Http404 from exc


def job_error_text(job: Any) -> str:
    """A failed job's error as the Chinese message(s) the service raised."""
    text = str(job.error or "").strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            parts = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        if isinstance(parts, list):
            return "；".join(str(p) for p in parts)
    if text.startswith("{") and text.endswith("}"):
        try:
            parts = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        if isinstance(parts, dict):
            return "；".join(str(m) for msgs in parts.values() for m in msgs)
    return text
