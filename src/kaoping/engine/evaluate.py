"""``evaluate``: inputs -> leaf scores -> per-level roll-up -> veto, rounding, grades, ranks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .aggregation import aggregate as aggregate_total
from .ballots import ballot_counts, ballot_leaf_values
from .errors import EngineError
from .grading import assign_grades, competition_rank, group_rank
from .model import (
    OCCURRENCE_KINDS,
    VALUE_KINDS,
    BoolArray,
    FloatArray,
    IndicatorTree,
    Inputs,
    IntArray,
    Targets,
)
from .raters import aggregate, cell_keys, combine_groups, score_rates, score_values, standardize
from .rules import LeafParams, leaf_params, occurrence_scores, value_rates
from .settings import Settings
from .tree import CompiledTree, compile_tree

ENGINE_VERSION = "1.0.0"


@dataclass
class Evaluation:
    """Result arrays of one evaluation; T targets, N tree positions (0 = TOTAL), L leaves,
    G rater groups."""

    tree: CompiledTree
    params: LeafParams
    targets: Targets
    settings: Settings
    inputs: Inputs
    total: FloatArray  # (T,) final totals
    total_before_veto: FloatArray
    #: the indicator tree's weighted-sum total (before vetoes and rounding)
    weighted_sum: FloatArray
    #: the aggregation method's value: TOPSIS closeness in [0, 1], the fuzzy score or (for
    #: weighted_sum) the weighted base
    method_value: FloatArray
    #: (T,) factor applied to the weighted base contributions (1 for weighted_sum)
    method_scale: FloatArray
    #: (T,) the part of the method's total not carried by scaled contributions (a target
    #: whose weighted base is 0); shown as an ``aggregation`` entry of the explanation
    method_residual: FloatArray
    #: (T, K) fuzzy membership of each target in the grades (fuzzy aggregation only)
    fuzzy_membership: FloatArray | None
    fuzzy_grade_scores: list[float] | None
    veto_adjust: FloatArray  # (T,) change made by zero vetoes
    rounding_adjust: FloatArray  # (T,) change made by total rounding
    node_score: FloatArray  # (T, N) score of each node in its own points (base + extra)
    node_extra: FloatArray  # (T, N) the part of node_score that is extra (bonus/penalty) points
    contribution: FloatArray  # (T, N) contribution of each node to the total
    factor: FloatArray  # (T, N) renormalization factor of each internal node (1 = none)
    multiplier: FloatArray  # (T, N) product of ancestors' factors
    node_available: BoolArray  # (T, N)
    leaf_score: FloatArray  # (T, L) leaf score in points (after policy, before ancestors)
    leaf_missing: BoolArray  # (T, L) no data (before the missing-data policy)
    leaf_rounding: FloatArray  # (T, L) change made by indicator-stage rounding
    group_value: FloatArray  # (T, L, G) group rates in [0, 1] (NaN if none)
    group_count: IntArray  # (T, L, G) ratings/ballots per group
    group_weight: FloatArray  # (T, L, G) effective group weights (sum to 1 over used groups)
    too_few: BoolArray  # (T, L, G) group below its minimum ballots
    values: FloatArray  # (T, L) quantitative inputs (NaN if none)
    occurrence_counts: FloatArray  # (T, items) summed occurrence counts
    ballot_counts: FloatArray  # (T, Q, G, K)
    grade: IntArray  # (T,) grade index, -1 = no grade
    rank: IntArray  # (T,) competition rank overall, 0 = unranked
    group_rank: IntArray  # (T,) competition rank within the target's group
    veto: BoolArray  # (T,)
    veto_ceiling: IntArray  # (T,) grade ceiling index, -1 = none
    incomplete: BoolArray  # (T,)
    too_few_ballots: BoolArray  # (T,)
    extra_info: dict[str, Any] = field(default_factory=dict)

    # ---- convenient views -------------------------------------------------------------
    @property
    def dimension_positions(self) -> IntArray:
        return np.flatnonzero(self.tree.depth == 1)

    @property
    def dimension_codes(self) -> list[str]:
        return [self.tree.code(int(p)) for p in self.dimension_positions]

    @property
    def dimension_scores(self) -> FloatArray:
        return self.node_score[:, self.dimension_positions]

    @property
    def indicator_codes(self) -> list[str]:
        return [self.tree.code(int(p)) for p in self.tree.leaf_pos]

    @property
    def indicator_scores(self) -> FloatArray:
        return self.node_score[:, self.tree.leaf_pos]

    @property
    def grade_labels(self) -> list[str | None]:
        labels = self.settings.grades
        return [labels[g] if g >= 0 else None for g in self.grade.tolist()]

    def flags(self, t: int) -> list[str]:
        out = []
        if self.veto[t] or self.veto_ceiling[t] >= 0:
            out.append("veto")
        if self.incomplete[t]:
            out.append("incomplete")
        if self.too_few_ballots[t]:
            out.append("too_few_ballots")
        return out

    def explain(self, t: int, *, ratings: bool = True) -> dict[str, Any]:
        """JSON-serializable explanation tree of target ``t`` (contributions add up to total)."""
        from .explain import explain_target

        return explain_target(self, t, ratings=ratings)

    def explanations(self, *, ratings: bool = False) -> list[dict[str, Any]]:
        import gc

        from .explain import Explainer

        ex = Explainer(self, ratings=ratings)
        # millions of small dicts: pausing the cyclic GC (they hold no cycles) halves the time
        enabled = gc.isenabled()
        gc.disable()
        try:
            return [ex.build(t) for t in range(len(self.targets))]
        finally:
            if enabled:
                gc.enable()

    def result_dict(self, *, explanations: bool = True) -> dict[str, Any]:
        from .explain import result_dict

        return result_dict(self, explanations=explanations)


def _check_range(name: str, arr: IntArray, hi: int) -> None:
    if len(arr) and (arr.min() < 0 or arr.max() >= hi):
        raise EngineError(f"{name} 超出范围 [0, {hi})")


def evaluate(
    tree: IndicatorTree,
    targets: Targets,
    inputs: Inputs | None = None,
    settings: Settings | None = None,
) -> Evaluation:
    """Score every target; see docs/engine.md for the method."""
    settings = (settings or Settings()).validate()
    inputs = inputs or Inputs()
    ct = compile_tree(tree, settings)
    lp = leaf_params(ct)
    n_t, n_l, n_g = len(targets), ct.n_leaves, len(tree.rater_groups)
    n_q, n_k = len(tree.questions), len(tree.ballot_labels)
    n_nodes = len(tree.nodes)
    kinds = np.array(lp.kind, dtype=object)
    leaf_points = ct.points[ct.leaf_pos]
    policy = ct.policy[ct.leaf_pos]

    score = np.zeros((n_t, n_l))
    avail = np.ones((n_t, n_l), dtype=bool)
    gv = np.full((n_t, n_l, n_g), np.nan)
    gn = np.zeros((n_t, n_l, n_g), dtype=np.int64)
    omega = np.zeros((n_t, n_l, n_g))
    too_few = np.zeros((n_t, n_l, n_g), dtype=bool)
    inc_leaf = np.zeros((n_t, n_l), dtype=bool)

    # rater scores
    sc = inputs.scores
    _check_range("ScoreInputs.target", sc.target, n_t)
    _check_range("ScoreInputs.group", sc.group, n_g)
    if len(sc.value):
        _, value = score_values(sc, ct, lp)  # validates before any indexing
        key = cell_keys(sc.target, sc.indicator, sc.group, ct.leaf_of_node, n_l, n_g)
        if settings.standardize == "zscore":
            _, rate = score_rates(sc, ct, lp)
            rate = standardize(rate, sc.rater, sc.group, n_g)
            gv, gn = aggregate(key, rate, (n_t, n_l, n_g), settings)
        else:
            # mean, median and trimmed mean commute with the per-leaf scale: aggregate the
            # values in rule units and divide per cell
            gv, gn = aggregate(key, value, (n_t, n_l, n_g), settings)
            gv = gv / lp.full[None, :, None]
        del key
    # ballots
    _check_range("BallotInputs.target", inputs.ballots.target, n_t)
    counts = ballot_counts(inputs.ballots, (n_t, n_q, n_g, n_k))
    bcols = np.flatnonzero(kinds == "ballot")
    if len(bcols):
        bv, bn = ballot_leaf_values(counts, tree.ballot_coefficients, lp, bcols)
        gv[:, bcols], gn[:, bcols] = bv, bn
    gcols = np.flatnonzero(np.isin(kinds, ["rating", "grade", "ballot"]))
    if len(gcols):
        r, a, om, tf, inc = combine_groups(
            gv[:, gcols], gn[:, gcols], ct.group_weights[gcols], ct.group_min, policy[gcols]
        )
        score[:, gcols] = r * leaf_points[gcols]
        avail[:, gcols] = a
        omega[:, gcols] = om
        too_few[:, gcols] = tf
        inc_leaf[:, gcols] |= inc

    # quantitative values
    vi = inputs.values
    _check_range("ValueInputs.target", vi.target, n_t)
    _check_range("ValueInputs.indicator", vi.indicator, n_nodes)
    values = np.full((n_t, n_l), np.nan)
    if len(vi.value):
        vleaf = ct.leaf_of_node[vi.indicator]
        if (vleaf < 0).any() or not np.isin(kinds[np.maximum(vleaf, 0)], VALUE_KINDS).all():
            raise EngineError("ValueInputs 的行必须指向定量的末级指标")
        flat = vi.target * n_l + vleaf
        if len(np.unique(flat)) != len(flat):
            raise EngineError("ValueInputs 中同一考核对象的同一指标有两个数值")
        values.reshape(-1)[flat] = vi.value
    vcols = np.flatnonzero(np.isin(kinds, VALUE_KINDS))
    if len(vcols):
        rates = value_rates(values[:, vcols], lp, vcols)
        score[:, vcols] = np.nan_to_num(rates) * leaf_points[vcols]
        avail[:, vcols] = ~np.isnan(rates)

    # occurrences
    items = tree.items()
    oc = inputs.occurrences
    _check_range("OccurrenceInputs.target", oc.target, n_t)
    _check_range("OccurrenceInputs.item", oc.item, len(items))
    if len(oc.count) and (oc.count < 0).any():
        raise EngineError("OccurrenceInputs.count 必须不小于 0")
    item_leaf = np.array([ct.leaf_of_node[i] for i, _ in items], dtype=np.int64)
    item_per = np.array(
        [
            it.per if tree.nodes[i].rule.kind == "base_adjust" else abs(it.per)  # type: ignore[union-attr]
            for i, it in items
        ],
        dtype=np.float64,
    )
    occ_key = oc.target * len(items) + oc.item
    occ_counts: FloatArray = np.bincount(occ_key, oc.count, n_t * len(items)).astype(np.float64)
    occ_counts = occ_counts.reshape(n_t, len(items))
    ocols = np.flatnonzero(np.isin(kinds, OCCURRENCE_KINDS))
    if len(ocols):
        amount = np.zeros((n_t, n_l))
        if len(items):
            amount = occ_counts * item_per @ np.eye(n_l)[item_leaf]
        score[:, ocols] = occurrence_scores(amount[:, ocols], lp, ocols, leaf_points[ocols])

    # rounding of indicator scores
    leaf_rounding = np.zeros((n_t, n_l))
    if settings.rounding_stage == "indicator":
        rounded = np.round(score, settings.rounding_decimals)
        leaf_rounding = rounded - score
        score = rounded

    # leaf missing-data policy
    missing = ~avail
    inc_leaf |= missing & (policy == 2)[None, :]
    score = np.where(avail, score, 0.0)
    leaf_rounding = np.where(avail, leaf_rounding, 0.0)

    # roll-up, deepest level first
    n_pos = ct.n_pos
    extra_pos = ct.is_extra
    base = np.zeros((n_t, n_pos))
    extra = np.zeros((n_t, n_pos))
    navail = np.ones((n_t, n_pos), dtype=bool)
    factor = np.ones((n_t, n_pos))
    leaf_extra = extra_pos[ct.leaf_pos]
    base[:, ct.leaf_pos] = np.where(leaf_extra, 0.0, score)
    extra[:, ct.leaf_pos] = np.where(leaf_extra, score, 0.0)
    navail[:, ct.leaf_pos] = avail | (policy > 0)[None, :] | leaf_extra[None, :]
    inc_node = np.zeros(n_t, dtype=bool)
    for start, end, pars, cut in reversed(ct.levels):
        w = ct.weight[start:end] * ~extra_pos[start:end]
        a = navail[:, start:end] & ~extra_pos[start:end]
        wa = w * a
        sum_w = np.add.reduceat(w, cut)
        sum_wa = np.add.reduceat(wa, cut, axis=1)
        sum_base = np.add.reduceat(base[:, start:end] * a, cut, axis=1)
        has_normal = sum_w > 0
        ok = sum_wa > 0
        f = np.where(ok, sum_w / np.where(ok, sum_wa, 1.0), 0.0)
        base[:, pars] = f * sum_base
        extra[:, pars] = np.add.reduceat(extra[:, start:end], cut, axis=1)
        factor[:, pars] = np.where(has_normal, f, 1.0)
        par_avail = ok | ~has_normal
        pol = ct.policy[pars]
        navail[:, pars] = par_avail | (pol > 0)
        is_root = pars == 0
        inc_node |= (~par_avail & ((pol == 2) | is_root)).any(axis=1)
    multiplier = np.ones((n_t, n_pos))
    for start, end, _pars, _cut in ct.levels:
        p = ct.parent[start:end]
        multiplier[:, start:end] = multiplier[:, p] * factor[:, p]
    node_score = base + extra

    # aggregation: the weighted base of the total by the chosen method; for topsis and fuzzy
    # the weighted-sum contributions are scaled proportionally so they add up to it
    weighted_base = base[:, 0].copy()
    agg = aggregate_total(settings, ct, score, multiplier, navail, weighted_base)
    scaled = weighted_base > 0
    method_scale = np.where(scaled, agg.base / np.where(scaled, weighted_base, 1.0), 1.0)
    method_residual = np.where(scaled, 0.0, agg.base - weighted_base)
    if settings.aggregation == "weighted_sum":
        method_scale, method_residual = np.ones(n_t), np.zeros(n_t)
    contribution = multiplier * base * method_scale[:, None] + extra

    # veto
    vt = inputs.vetoes
    _check_range("VetoInputs.target", vt.target, n_t)
    _check_range("VetoInputs.indicator", vt.indicator, n_nodes)
    node_zero = np.array([n.veto is not None and n.veto.effect == "zero" for n in tree.nodes])
    node_ceil = np.array(
        [
            settings.grades.index(n.veto.grade)
            if n.veto is not None and n.veto.effect == "ceiling" and n.veto.grade
            else -1
            for n in tree.nodes
        ],
        dtype=np.int64,
    )
    has_veto = np.array([n.veto is not None for n in tree.nodes], dtype=bool)
    if len(vt.indicator) and not has_veto[vt.indicator].all():
        raise EngineError("VetoInputs 的行必须指向设置了一票否决的指标")
    veto_zero = np.zeros(n_t, dtype=bool)
    np.logical_or.at(veto_zero, vt.target, node_zero[vt.indicator])
    veto_ceiling = np.full(n_t, -1, dtype=np.int64)
    np.maximum.at(veto_ceiling, vt.target, node_ceil[vt.indicator])

    total_before = contribution[:, 0] + method_residual
    veto_adjust = np.where(veto_zero, -total_before, 0.0)
    total = total_before + veto_adjust
    rounding_adjust = np.zeros(n_t)
    if settings.rounding_stage == "total":
        rounded_total = np.round(total, settings.rounding_decimals)
        rounding_adjust = rounded_total - total
        total = rounded_total

    incomplete = inc_leaf.any(axis=1) | inc_node
    too_few_ballots = np.asarray(too_few.reshape(n_t, -1).any(axis=1), dtype=bool)
    eligible = ~incomplete | settings.rank_incomplete
    grade = assign_grades(
        total,
        settings.grades,
        settings.grade_thresholds,
        quotas=settings.quotas,
        quota_rounding=settings.quota_rounding,
        quota_ties=settings.quota_ties,
        ceilings=veto_ceiling,
        mask=eligible,
        decimals=settings.tie_decimals,
    )
    rank = competition_rank(total, eligible, settings.tie_decimals)
    if targets.groups is not None:
        if len(targets.groups) != n_t:
            raise EngineError("Targets.groups 必须每个考核对象一项")
        _, gidx = np.unique(np.array(targets.groups, dtype=object).astype(str), return_inverse=True)
        grank = group_rank(total, gidx, eligible, settings.tie_decimals)
    else:
        grank = rank.copy()

    return Evaluation(
        tree=ct,
        params=lp,
        targets=targets,
        settings=settings,
        inputs=inputs,
        total=total,
        total_before_veto=total_before,
        weighted_sum=node_score[:, 0].copy(),
        method_value=agg.value,
        method_scale=method_scale,
        method_residual=method_residual,
        fuzzy_membership=agg.membership,
        fuzzy_grade_scores=agg.grade_scores,
        veto_adjust=veto_adjust,
        rounding_adjust=rounding_adjust,
        node_score=node_score,
        node_extra=extra,
        contribution=contribution,
        factor=factor,
        multiplier=multiplier,
        node_available=navail,
        leaf_score=score,
        leaf_missing=missing,
        leaf_rounding=leaf_rounding,
        group_value=gv,
        group_count=gn,
        group_weight=omega,
        too_few=too_few,
        values=values,
        occurrence_counts=occ_counts,
        ballot_counts=counts,
        grade=grade,
        rank=rank,
        group_rank=grank,
        veto=veto_zero,
        veto_ceiling=veto_ceiling,
        incomplete=incomplete,
        too_few_ballots=too_few_ballots,
    )
