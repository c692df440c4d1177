"""Leaf rules: per-leaf parameter arrays and vectorized scoring of each rule kind."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import BALLOT_MEASURES, BoolArray, FloatArray, IntArray
from .tree import CompiledTree


@dataclass
class LeafParams:
    """Rule parameters as arrays over leaves (NaN where a kind does not use a field)."""

    kind: list[str]
    full: FloatArray  # full marks of the rule's own scale
    floor: FloatArray
    target: FloatArray
    cap: FloatArray
    cost: BoolArray
    base: FloatArray
    band_bounds: FloatArray  # (L, B), sorted best first, padded with +/-inf
    band_scores: FloatArray  # (L, B)
    has_bands: BoolArray
    else_score: FloatArray
    coef: FloatArray  # (L, K) grade coefficients, NaN padded
    n_labels: IntArray
    question: IntArray
    measure: IntArray

    def mask(self, *kinds: str) -> BoolArray:
        return np.isin(np.array(self.kind, dtype=object), kinds)


def leaf_params(ct: CompiledTree) -> LeafParams:
    tree = ct.tree
    n_l = ct.n_leaves
    rules = [tree.nodes[int(ct.node_of_pos[p])].rule for p in ct.leaf_pos]
    nan = np.full(n_l, np.nan)
    full, floor, target, cap, base = nan.copy(), nan.copy(), nan.copy(), nan.copy(), nan.copy()
    cost = np.zeros(n_l, dtype=bool)
    else_score = np.zeros(n_l)
    n_bands = max([len(r.bands) for r in rules if r is not None] + [1])
    n_k = max([len(r.coefficients) for r in rules if r is not None] + [1])
    bounds = np.full((n_l, n_bands), np.inf)
    scores = np.zeros((n_l, n_bands))
    has_bands = np.zeros(n_l, dtype=bool)
    coef = np.full((n_l, n_k), np.nan)
    n_labels = np.zeros(n_l, dtype=np.int64)
    question = np.full(n_l, -1, dtype=np.int64)
    measure = np.zeros(n_l, dtype=np.int64)
    qidx = tree.question_index()
    kinds: list[str] = []
    for li, r in enumerate(rules):
        assert r is not None
        kinds.append(r.kind)
        points = float(ct.points[ct.leaf_pos[li]])
        cost[li] = r.direction == "cost"
        floor[li] = np.nan if r.floor is None else r.floor
        target[li] = np.nan if r.target is None else r.target
        base[li] = np.nan if r.base is None else r.base
        cap[li] = np.nan if r.cap is None else r.cap
        else_score[li] = r.else_score
        if r.bands and r.kind in ("banded", "ballot"):
            has_bands[li] = True
            b = sorted(r.bands, key=lambda x: x.bound, reverse=not cost[li])
            bounds[li, : len(b)] = [x.bound for x in b]
            scores[li, : len(b)] = [x.score for x in b]
            if cost[li]:
                bounds[li, len(b) :] = -np.inf
        if r.kind == "grade":
            coef[li, : len(r.coefficients)] = r.coefficients
            n_labels[li] = len(r.coefficients)
        if r.kind == "ballot":
            question[li] = qidx[r.question or ""]
            measure[li] = BALLOT_MEASURES.index(r.measure)
        if r.max is not None:
            full[li] = r.max
        elif r.kind == "grade":
            full[li] = max(r.coefficients)
        elif has_bands[li]:
            full[li] = max(max(x.score for x in r.bands), r.else_score)
        elif r.kind in ("deduction", "base_adjust"):
            full[li] = points if points > 0 else 100.0
        else:
            full[li] = 1.0
        if r.kind == "ratio_to_target" and r.cap is None:
            cap[li] = 1.0
        if r.kind == "deduction" and r.cap is None:
            cap[li] = full[li]
    return LeafParams(
        kinds, full, floor, target, cap, cost, base, bounds, scores, has_bands, else_score,
        coef, n_labels, question, measure,
    )  # fmt: skip


def band_lookup(
    x: FloatArray, bounds: FloatArray, scores: FloatArray, else_score: FloatArray, cost: BoolArray
) -> FloatArray:
    """Banded table: the first band (best first) whose bound ``x`` meets; else ``else_score``.

    ``x`` has shape (..., Lk); the tables have Lk rows.
    """
    xe = x[..., None]
    hit = np.where(cost[:, None], xe <= bounds, xe >= bounds)
    idx = np.argmax(hit, axis=-1)
    got = scores[np.arange(len(bounds)), idx]
    return np.where(hit.any(axis=-1), got, else_score)


def value_rates(x: FloatArray, lp: LeafParams, cols: IntArray) -> FloatArray:
    """Rates in [0, cap] of quantitative leaves ``cols`` from values ``x`` of shape (T, len(cols)).

    NaN values stay NaN (missing).
    """
    kinds = np.array(lp.kind, dtype=object)[cols]
    floor, target, cap, cost = lp.floor[cols], lp.target[cols], lp.cap[cols], lp.cost[cols]
    out = np.full(x.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = kinds == "linear"
        if m.any():
            r = (x[:, m] - floor[m]) / (target[m] - floor[m])
            out[:, m] = np.clip(r, 0.0, 1.0)
        m = kinds == "ratio_to_target"
        if m.any():
            xm = x[:, m]
            ben = xm / target[m]
            cst = np.where(xm > 0, target[m] / xm, cap[m])
            r = np.where(cost[m], cst, ben)
            out[:, m] = np.clip(r, 0.0, cap[m])
        m = kinds == "ratio_to_best"
        if m.any():
            xm = np.clip(x[:, m], 0.0, None)
            best_max = np.nanmax(np.where(np.isnan(xm), -np.inf, xm), axis=0)
            best_min = np.nanmin(np.where(np.isnan(xm), np.inf, xm), axis=0)
            ben = np.where(best_max > 0, xm / best_max, 0.0)
            cst = np.where(xm > 0, best_min / xm, 1.0)
            out[:, m] = np.clip(np.where(cost[m], cst, ben), 0.0, 1.0)
        m = kinds == "banded"
        if m.any():
            sel = cols[m]
            s = band_lookup(
                x[:, m], lp.band_bounds[sel], lp.band_scores[sel], lp.else_score[sel], cost[m]
            )
            out[:, m] = s / lp.full[sel]
    out[np.isnan(x)] = np.nan
    return out


def occurrence_scores(
    amount: FloatArray, lp: LeafParams, cols: IntArray, points: FloatArray
) -> FloatArray:
    """Scores (in total points) of occurrence leaves from their summed amounts (T, len(cols)).

    deduction: full - min(amount, cap), at least 0 (扣完为止); base_adjust: base + amount within
    [0, full]; both scaled to the leaf's points. bonus: +min(amount, cap); penalty: -min(amount,
    cap) (extra points, not scaled).
    """
    kinds = np.array(lp.kind, dtype=object)[cols]
    full, cap = lp.full[cols], lp.cap[cols]
    out = np.zeros(amount.shape)
    m = kinds == "deduction"
    out[:, m] = np.clip(full[m] - np.minimum(amount[:, m], cap[m]), 0, None) / full[m] * points[m]
    m = kinds == "base_adjust"
    out[:, m] = np.clip(lp.base[cols][m] + amount[:, m], 0, full[m]) / full[m] * points[m]
    m = kinds == "bonus"
    out[:, m] = np.minimum(amount[:, m], cap[m])
    m = kinds == "penalty"
    out[:, m] = -np.minimum(amount[:, m], cap[m])
    return out
