"""Gather every input of a campaign as the engine's arrays, and fingerprint them.

What counts, per leaf indicator of the frozen indicator-system version:

* rated leaves (rating, grade, and deduction/bonus/penalty/base-adjust items scored in the review
  grid): the scores of **submitted** review sheets, one rating per reviewer in the 机关党委 rater
  group; where no reviewer scored a self-assessed leaf (数据来源 = 单位自评) of a target, the
  target's submitted self-assessment counts instead;
* occurrence leaves fed by 平时考核纪实 (数据来源 = 平时考核纪实): the records of the target's unit
  dated within the campaign period, summed per item (GROUP BY in the database);
* quantitative leaves: the current value of the quantitative data (newest batch not undone);
* ballot leaves: the grade counts of every counted ballot answer (GROUP BY in the database);
* vetoes: veto leaves the self-assessment answered 1 (发生);
* organizer corrections (``InputCorrection``) replace what was gathered for their cell.

Large tables are never walked row by row: ballots and daily records are summed by the database,
reviewer scores arrive as one column-wise fetch and are turned into arrays with numpy.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from django.db.models import FloatField, Sum
from django.db.models.functions import Cast

from kaoping.engine.model import (
    BallotInputs,
    IndicatorTree,
    Inputs,
    OccurrenceInputs,
    ScoreInputs,
    Targets,
    ValueInputs,
    VetoInputs,
)
from kaoping.engine.package import load_package
from kaoping.engine.settings import Settings

REVIEW_GROUP = "party_committee"
#: rater id of a self-assessment used in place of reviewer scores, and of an organizer correction
SELF_RATER = -1
CORRECTION_RATER = -2


@dataclass
class Gathered:
    """A campaign's scoring problem: the engine objects, the package they came from, and the
    fingerprint of it all."""

    package: dict[str, Any]
    tree: IndicatorTree
    settings: Settings
    targets: Targets
    target_ids: list[int]
    inputs: Inputs
    #: per input kind: {"hash": sha256, "rows": n}
    summary: dict[str, dict[str, Any]]
    fingerprint: str
    notes: list[str] = field(default_factory=list)


def _campaign_package(campaign: Any) -> tuple[dict[str, Any], list[Any]]:
    """The frozen version as a package, with the campaign's rater weights and engine settings."""
    from kaoping.campaigns.services import effective_rater_weights
    from kaoping.indicators.engine_bridge import engine_package

    package, order = engine_package(campaign.scheme_version)
    weights = effective_rater_weights(campaign)
    groups = {g["code"] for g in package["rater_groups"]}
    for node in package["indicators"]:
        row = weights.get(node["code"])
        if row and node.get("rule", {}).get("kind") not in (None, "ballot", "veto"):
            node["rater_weights"] = {k: float(v) for k, v in row.items()}
            groups |= set(row)
    for node in package["indicators"]:
        groups |= set(node.get("rater_weights") or {})
    from kaoping.indicators.constants import RaterGroupCode

    labels = dict(RaterGroupCode.choices)
    package["rater_groups"] = [{"code": g, "name": labels.get(g, g)} for g in sorted(groups)]
    settings = dict(package.get("settings") or {})
    known = set(Settings().to_dict())
    settings.update({k: v for k, v in (campaign.engine_settings or {}).items() if k in known})
    if settings:
        package["settings"] = settings
    package["campaign"] = {"code": str(campaign.pk), "name": campaign.name}
    return package, order


def _hash_arrays(*arrays: np.ndarray) -> str:
    """Order-independent hash of rows given column-wise (rows sorted first)."""
    h = hashlib.sha256()
    if not len(arrays) or not len(arrays[0]):
        return h.hexdigest()
    cols = [np.asarray(a, dtype=np.float64) for a in arrays]
    order = np.lexsort(cols[::-1])
    for c in cols:
        h.update(np.ascontiguousarray(c[order]).tobytes())
    return h.hexdigest()


def _kind_summary(arrays: tuple[np.ndarray, ...]) -> dict[str, Any]:
    return {"hash": _hash_arrays(*arrays), "rows": int(len(arrays[0]))}


def gather(campaign: Any) -> Gathered:
    from kaoping.campaigns.models import Target

    package, order = _campaign_package(campaign)
    rows = list(
        Target.objects.filter(campaign=campaign)
        .order_by("code")
        .values_list("id", "code", "name", "group_code", "group_name", "organization_id",
                     "person__organization_id")
    )  # fmt: skip
    package["targets"] = [
        {"code": code, "name": name, "group": gname or gcode or ""}
        for _, code, name, gcode, gname, _, _ in rows
    ]
    pkg = load_package(package)
    tree, targets, settings = pkg.tree, pkg.targets, pkg.settings
    target_ids = [r[0] for r in rows]
    t_index = {tid: k for k, tid in enumerate(target_ids)}
    unit_of = {r[0]: (r[5] or r[6]) for r in rows}
    node_index = tree.node_index()
    group_index = tree.group_index()
    by_pk = {ind.pk: ind for ind in order}
    code_of = {ind.pk: ind.code for ind in order}
    notes: list[str] = []

    review_group = REVIEW_GROUP if REVIEW_GROUP in group_index else None
    if review_group is None and tree.default_rater_weights:
        review_group = next(iter(tree.default_rater_weights))
    g_review = group_index.get(review_group or "", -1)

    scores = _review_scores(campaign, tree, t_index, node_index, code_of, g_review, by_pk)
    occ = _occurrences(campaign, tree, t_index, unit_of, by_pk, code_of)
    values = _values(campaign, t_index, node_index, code_of)
    vetoes = _vetoes(campaign, t_index, unit_of, node_index, code_of, tree)
    ballots = _ballots(campaign, tree, targets)
    inputs = Inputs(scores=scores, values=values, occurrences=occ, ballots=ballots, vetoes=vetoes)
    _apply_corrections(campaign, tree, inputs, t_index, node_index, g_review, notes)

    s = inputs.scores
    summary = {
        "scores": _kind_summary((s.target, s.indicator, s.group, s.rater, s.value)),
        "values": _kind_summary(
            (inputs.values.target, inputs.values.indicator, inputs.values.value)
        ),
        "occurrences": _kind_summary(
            (inputs.occurrences.target, inputs.occurrences.item, inputs.occurrences.count),
        ),
        "ballots": _kind_summary(
            (
                inputs.ballots.target,
                inputs.ballots.question,
                inputs.ballots.group,
                inputs.ballots.grade,
                inputs.ballots.count,
            ),
        ),
        "vetoes": _kind_summary((inputs.vetoes.target, inputs.vetoes.indicator)),
    }
    from kaoping.engine.evaluate import ENGINE_VERSION

    frame = {k: v for k, v in package.items() if k not in ("inputs", "campaign")}
    frame["settings"] = settings.to_dict()
    h = hashlib.sha256()
    h.update(ENGINE_VERSION.encode())
    h.update(json.dumps(frame, sort_keys=True, ensure_ascii=False, default=str).encode())
    for kind in sorted(summary):
        h.update(f"{kind}:{summary[kind]['hash']}".encode())
    return Gathered(
        package=package,
        tree=tree,
        settings=settings,
        targets=targets,
        target_ids=target_ids,
        inputs=inputs,
        summary=summary,
        fingerprint=h.hexdigest(),
        notes=notes,
    )


# ---- per input kind ------------------------------------------------------------------------


def _lookup(table: dict[int, int], keys: tuple[Any, ...]) -> np.ndarray:
    """``table[k]`` for every key, vectorized (sorted keys + searchsorted)."""
    src = np.fromiter(table.keys(), dtype=np.int64, count=len(table))
    dst = np.fromiter(table.values(), dtype=np.int64, count=len(table))
    order = np.argsort(src)
    src, dst = src[order], dst[order]
    arr = np.asarray(keys, dtype=np.int64)
    return dst[np.searchsorted(src, arr)]


def _grade_index(tree: IndicatorTree, node: int, labels: np.ndarray) -> np.ndarray:
    rule = tree.nodes[node].rule
    table = {label: k for k, label in enumerate(rule.labels if rule else [])}
    return np.array([table.get(str(x), -1) for x in labels], dtype=np.float64)


def _review_scores(
    campaign: Any,
    tree: IndicatorTree,
    t_index: dict[int, int],
    node_index: dict[str, int],
    code_of: dict[int, str],
    g_review: int,
    by_pk: dict[int, Any],
) -> ScoreInputs:
    """Submitted reviewer scores (and self-assessment where no reviewer scored a self leaf)."""
    from kaoping.collection.models import (
        AssessmentStatus,
        ReviewScore,
        SelfAssessmentItem,
        SheetStatus,
    )
    from kaoping.indicators.constants import DataSource, RuleKind

    if g_review < 0:
        return ScoreInputs.empty()
    rated = {pk for pk, ind in by_pk.items() if ind.rule_kind in (RuleKind.RATING, RuleKind.GRADE)}
    if not rated:
        return ScoreInputs.empty()
    raw = list(
        ReviewScore.objects.filter(
            sheet__campaign=campaign,
            sheet__status=SheetStatus.SUBMITTED,
            indicator_id__in=rated,
        )
        .exclude(score__isnull=True, grade="")
        .annotate(value=Cast("score", FloatField()))  # floats from the database, no Decimals
        .values_list("target_id", "indicator_id", "sheet__reviewer_id", "value", "grade")
    )
    self_leaves = {pk for pk in rated if by_pk[pk].data_source == DataSource.SELF}
    if self_leaves:
        scored = {(r[0], r[1]) for r in raw}
        own = SelfAssessmentItem.objects.filter(
            assessment__target__campaign=campaign,
            assessment__status__in=(AssessmentStatus.SUBMITTED, AssessmentStatus.ACCEPTED),
            indicator_id__in=self_leaves,
        ).exclude(score__isnull=True, grade="")
        raw += [
            (t, i, SELF_RATER, score, grade)
            for t, i, score, grade in own.values_list(
                "assessment__target_id", "indicator_id", "score", "grade"
            )
            if (t, i) not in scored
        ]
    raw = [r for r in raw if r[0] in t_index]
    if not raw:
        return ScoreInputs.empty()
    cols = list(zip(*raw, strict=True))
    target = _lookup(t_index, cols[0])
    node_of_pk = {pk: node_index[code] for pk, code in code_of.items()}
    indicator = _lookup(node_of_pk, cols[1])
    rater = np.array(cols[2], dtype=np.int64)
    score = np.array(cols[3], dtype=object)
    value = np.full(len(score), np.nan)
    has = score != None  # noqa: E711  (element-wise)
    value[has] = score[has].astype(np.float64)
    grades = np.array(cols[4], dtype=object)
    # grade leaves: the label's index in the rule's labels
    node_is_grade = np.array([n.rule is not None and n.rule.kind == "grade" for n in tree.nodes])
    is_grade = node_is_grade[indicator]
    for node in np.unique(indicator[is_grade]).tolist():
        m = is_grade & (indicator == node)
        value[m] = _grade_index(tree, node, grades[m])
    keep = ~np.isnan(value) & (~is_grade | (value >= 0))
    group = np.full(len(target), g_review, dtype=np.int64)
    return ScoreInputs(target[keep], indicator[keep], group[keep], rater[keep], value[keep])


def _occurrences(
    campaign: Any,
    tree: IndicatorTree,
    t_index: dict[int, int],
    unit_of: dict[int, int | None],
    by_pk: dict[int, Any],
    code_of: dict[int, str],
) -> OccurrenceInputs:
    """Item counts: the mean over submitted review sheets (and self-assessment) for rated
    occurrence leaves; the sum of daily records for leaves fed by 平时考核纪实."""
    from kaoping.collection.models import (
        AssessmentStatus,
        DailyRecord,
        ReviewScore,
        SelfAssessmentItem,
        SheetStatus,
    )
    from kaoping.indicators.constants import DataSource

    item_index = tree.item_index()
    if not item_index:
        return OccurrenceInputs.empty()
    occ_kinds = ("deduction", "bonus", "penalty", "base_adjust")
    occ_pks = {pk for pk, ind in by_pk.items() if ind.rule_kind in occ_kinds}
    daily_codes = {
        by_pk[pk].code for pk in occ_pks if by_pk[pk].data_source == DataSource.DAILY_RECORD
    }
    rated_pks = {pk for pk in occ_pks if by_pk[pk].code not in daily_codes}
    counts: dict[tuple[int, int], float] = defaultdict(float)

    if rated_pks:
        sums: dict[tuple[int, int], float] = defaultdict(float)
        sheets: dict[tuple[int, int], set[int]] = defaultdict(set)
        rows = ReviewScore.objects.filter(
            sheet__campaign=campaign,
            sheet__status=SheetStatus.SUBMITTED,
            indicator_id__in=rated_pks,
        ).values_list("target_id", "indicator_id", "sheet_id", "occurrences")
        seen: set[tuple[int, int]] = set()
        for tid, iid, sheet, occ in rows:
            if tid not in t_index:
                continue
            seen.add((tid, iid))
            sheets[(tid, iid)].add(sheet)
            for item, n in (occ or {}).items():
                k = item_index.get((code_of[iid], str(item)))
                if k is not None and n:
                    sums[(t_index[tid], k)] += float(n)
        # the mean over the sheets that scored the cell (two reviewers do not double a deduction)
        item_leaf = {k: code for (code, _), k in item_index.items()}
        pk_of = {ind.code: pk for pk, ind in by_pk.items()}
        tid_of = {v: k for k, v in t_index.items()}
        for (t, k), total in sums.items():
            n_sheets = len(sheets[(tid_of[t], pk_of[item_leaf[k]])]) or 1
            counts[(t, k)] += total / n_sheets
        self_pks = {pk for pk in rated_pks if by_pk[pk].data_source == DataSource.SELF}
        if self_pks:
            own = SelfAssessmentItem.objects.filter(
                assessment__target__campaign=campaign,
                assessment__status__in=(AssessmentStatus.SUBMITTED, AssessmentStatus.ACCEPTED),
                indicator_id__in=self_pks,
            ).values_list("assessment__target_id", "indicator_id", "occurrences")
            for tid, iid, occ in own:
                if tid not in t_index or (tid, iid) in seen:
                    continue
                for item, n in (occ or {}).items():
                    k = item_index.get((code_of[iid], str(item)))
                    if k is not None and n:
                        counts[(t_index[tid], k)] += float(n)

    if daily_codes:
        units: dict[int, list[int]] = defaultdict(list)
        for tid, unit in unit_of.items():
            if unit is not None:
                units[unit].append(t_index[tid])
        single_item = {
            code: items[0]
            for code in daily_codes
            for items in ([it for (c, it) in item_index if c == code],)
            if len(items) == 1
        }
        rows = (
            DailyRecord.objects.filter(
                organization_id__in=list(units),
                occurred_on__gte=campaign.period_start,
                occurred_on__lte=campaign.period_end,
                indicator_code__in=daily_codes,
            )
            .values("organization_id", "indicator_code", "item_code")
            .annotate(n=Sum("occurrences"))
            .order_by()
        )
        for r in rows:
            item = r["item_code"] or single_item.get(r["indicator_code"], "")
            k = item_index.get((r["indicator_code"], item))
            if k is None:
                continue
            for t in units[r["organization_id"]]:
                counts[(t, k)] += float(r["n"])
    if not counts:
        return OccurrenceInputs.empty()
    keys = sorted(counts)
    return OccurrenceInputs(
        target=[t for t, _ in keys], item=[k for _, k in keys], count=[counts[x] for x in keys]
    )


def _values(
    campaign: Any, t_index: dict[int, int], node_index: dict[str, int], code_of: dict[int, str]
) -> ValueInputs:
    from kaoping.collection.quant_selectors import current_values

    cur = current_values(campaign)
    keys = sorted(
        (t_index[t], node_index[code_of[i]], float(v))
        for (t, i), v in cur.items()
        if t in t_index and i in code_of
    )
    if not keys:
        return ValueInputs.empty()
    return ValueInputs(
        target=[k[0] for k in keys], indicator=[k[1] for k in keys], value=[k[2] for k in keys]
    )


def _vetoes(
    campaign: Any,
    t_index: dict[int, int],
    unit_of: dict[int, int | None],
    node_index: dict[str, int],
    code_of: dict[int, str],
    tree: IndicatorTree,
) -> VetoInputs:
    """Veto leaves the self-assessment answered 1 (发生), and 平时考核纪实 records against a veto
    indicator of the target's unit within the campaign period."""
    from kaoping.collection.models import AssessmentStatus, DailyRecord, SelfAssessmentItem

    veto_nodes = {n.code for n in tree.nodes if n.veto is not None}
    if not veto_nodes:
        return VetoInputs.empty()
    rows = SelfAssessmentItem.objects.filter(
        assessment__target__campaign=campaign,
        assessment__status__in=(AssessmentStatus.SUBMITTED, AssessmentStatus.ACCEPTED),
        indicator__code__in=veto_nodes,
        score=Decimal(1),
    ).values_list("assessment__target_id", "indicator_id")
    pairs = {(t_index[t], node_index[code_of[i]]) for t, i in rows if t in t_index and i in code_of}
    units: dict[int, list[int]] = defaultdict(list)
    for tid, unit in unit_of.items():
        if unit is not None:
            units[unit].append(t_index[tid])
    records = (
        DailyRecord.objects.filter(
            organization_id__in=list(units),
            occurred_on__gte=campaign.period_start,
            occurred_on__lte=campaign.period_end,
            indicator_code__in=veto_nodes,
        )
        .values_list("organization_id", "indicator_code")
        .distinct()
    )
    for org, code in records:
        pairs |= {(t, node_index[code]) for t in units[org]}
    ordered_pairs = sorted(pairs)
    return VetoInputs(target=[p[0] for p in ordered_pairs], indicator=[p[1] for p in ordered_pairs])


def _ballots(campaign: Any, tree: IndicatorTree, targets: Targets) -> BallotInputs:
    if not tree.questions:
        return BallotInputs.empty()
    from kaoping.ballots.tally import ballot_inputs

    got = ballot_inputs(
        campaign,
        target_codes=list(targets.codes),
        question_codes=list(tree.questions),
        group_codes=[g.code for g in tree.rater_groups],
    )
    b = got.inputs
    if got.labels and list(got.labels) != list(tree.ballot_labels):
        # the appraisal's scale differs from the tree's: map by label
        table = {label: k for k, label in enumerate(tree.ballot_labels)}
        mapped = np.array([table.get(got.labels[g], -1) for g in b.grade.tolist()], np.int64)
        keep = mapped >= 0
        return BallotInputs(
            b.target[keep], b.question[keep], b.group[keep], mapped[keep], b.count[keep]
        )
    return b


def _apply_corrections(
    campaign: Any,
    tree: IndicatorTree,
    inputs: Inputs,
    t_index: dict[int, int],
    node_index: dict[str, int],
    g_review: int,
    notes: list[str],
) -> None:
    from .models import InputCorrection

    latest: dict[tuple[int, str], InputCorrection] = {}
    for c in InputCorrection.objects.filter(campaign=campaign).order_by("id"):
        latest[(c.target_id, c.indicator_code)] = c
    if not latest:
        return
    item_index = tree.item_index()
    for (tid, code), c in latest.items():
        t, n = t_index.get(tid), node_index.get(code)
        if t is None or n is None:
            notes.append(f"更正 #{c.pk} 的考核对象或指标已不在本次计算中，未使用")
            continue
        rule = tree.nodes[n].rule
        kind = rule.kind if rule else None
        if kind in ("rating", "grade") and g_review >= 0:
            s = inputs.scores
            keep = ~((s.target == t) & (s.indicator == n))
            if kind == "grade":
                labels = rule.labels if rule else []
                if c.grade not in labels:
                    notes.append(f"更正 #{c.pk} 的等次“{c.grade}”不在该指标的等次中，未使用")
                    continue
                v = float(labels.index(c.grade))
            elif c.score is None:
                continue
            else:
                v = float(c.score)
            inputs.scores = ScoreInputs(
                np.append(s.target[keep], t),
                np.append(s.indicator[keep], n),
                np.append(s.group[keep], g_review),
                np.append(s.rater[keep], CORRECTION_RATER),
                np.append(s.value[keep], v),
            )
        elif kind in ("deduction", "bonus", "penalty", "base_adjust"):
            o = inputs.occurrences
            mine = [k for (ic, _), k in item_index.items() if ic == code]
            keep = ~((o.target == t) & np.isin(o.item, mine))
            new = [
                (item_index[(code, str(item))], float(cnt))
                for item, cnt in (c.occurrences or {}).items()
                if (code, str(item)) in item_index and cnt
            ]
            inputs.occurrences = OccurrenceInputs(
                np.concatenate([o.target[keep], np.full(len(new), t, np.int64)]),
                np.concatenate([o.item[keep], np.array([k for k, _ in new], np.int64)]),
                np.concatenate([o.count[keep], np.array([x for _, x in new], np.float64)]),
            )
        elif kind in ("linear", "ratio_to_target", "ratio_to_best", "banded"):
            if c.value is None:
                continue
            v = inputs.values
            keep = ~((v.target == t) & (v.indicator == n))
            inputs.values = ValueInputs(
                np.append(v.target[keep], t),
                np.append(v.indicator[keep], n),
                np.append(v.value[keep], float(c.value)),
            )
        if c.veto is not None and tree.nodes[n].veto is not None:
            vt = inputs.vetoes
            keep = ~((vt.target == t) & (vt.indicator == n))
            tt, ii = vt.target[keep], vt.indicator[keep]
            if c.veto:
                tt, ii = np.append(tt, t), np.append(ii, n)
            inputs.vetoes = VetoInputs(tt, ii)
