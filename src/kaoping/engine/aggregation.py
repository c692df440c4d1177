"""Non-additive aggregation of leaf scores into the total: TOPSIS and fuzzy evaluation.

``Settings.aggregation`` chooses how leaf scores become the total. ``weighted_sum`` (default) is
the indicator tree's roll-up. ``topsis`` and ``fuzzy`` compute the total's weighted base with the
library functions ``topsis`` / ``fuzzy_evaluate`` + ``fuzzy_score``; the weighted-sum tree stays
as supporting detail, its contributions scaled proportionally so they still add up to the total.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import EngineError
from .mcdm import fuzzy_evaluate, fuzzy_score, topsis
from .model import BoolArray, FloatArray
from .settings import Settings
from .tree import CompiledTree


@dataclass
class Aggregated:
    """The method's result per target, T targets, K grades."""

    #: the total's weighted base (before extra points, vetoes and rounding), in points
    base: FloatArray
    #: TOPSIS closeness in [0, 1], or the fuzzy score in points
    value: FloatArray
    #: fuzzy membership vector B (T, K) of the targets in the grades (fuzzy only)
    membership: FloatArray | None = None
    #: score of each grade used by fuzzy aggregation
    grade_scores: list[float] | None = None


def leaf_rates(ct: CompiledTree, leaf_score: FloatArray) -> FloatArray:
    """Leaf scores as rates of their points (0 where a leaf has no points)."""
    pts = ct.points[ct.leaf_pos]
    out: FloatArray = np.divide(
        leaf_score, pts, out=np.zeros_like(leaf_score), where=pts[None, :] > 0
    )
    return out


def nominal_leaf_weights(ct: CompiledTree) -> FloatArray:
    """Global weights of the weighted leaves: their nominal points ÷ the total's (0 for extra)."""
    pts = np.where(ct.is_extra[ct.leaf_pos], 0.0, ct.points[ct.leaf_pos])
    tot = pts.sum()
    out: FloatArray = pts / tot if tot > 0 else pts
    return out


def effective_leaf_weights(
    ct: CompiledTree, multiplier: FloatArray, available: BoolArray
) -> FloatArray:
    """Per-target global weights (T, L) after the tree's renormalization of missing parts.

    ``multiplier × points ÷ full marks`` of each available weighted leaf: they sum to 1 for a
    target with any data, so the weighted sum of a target is Σ weight × rate × full marks.
    """
    lp = ct.leaf_pos
    w = multiplier[:, lp] * ct.points[lp][None, :] / ct.points[0]
    out: FloatArray = np.where(available[:, lp] & ~ct.is_extra[lp][None, :], w, 0.0)
    return out


def grade_centers(settings: Settings, full: float) -> FloatArray:
    """Midpoints of the grade bands on the total's scale, best grade first.

    Bands: [threshold_0, full] for the best grade, [threshold_k, threshold_k-1) between, and
    [0, last threshold) for the last grade; e.g. 95, 85, 70, 30 for 90, 80, 60 on 100.
    """
    bounds = np.array([full, *settings.grade_thresholds, 0.0])
    centers: FloatArray = (bounds[:-1] + bounds[1:]) / 2
    if len(centers) > 1 and not (np.diff(centers) < 0).all():
        raise EngineError(
            f"模糊综合评价要求等次分数线从高到低、互不相同，且在 0 与满分 {full:g} 之间"
        )
    return centers


def membership(v: FloatArray, centers: FloatArray) -> FloatArray:
    """Membership (..., K) of values ``v`` in the grades with descending ``centers``.

    Triangular: a value at a grade's center belongs to it fully; between two adjacent centers
    it is split linearly between the two grades; above the best center it is the best grade,
    below the last center the last grade. Each row sums to 1.
    """
    k = len(centers)
    if k == 1:
        return np.ones((*v.shape, 1))
    asc = centers[::-1]
    eye = np.eye(k)[::-1]  # row j: one-hot of grade k-1-j in ascending order of centers
    out: FloatArray = np.stack([np.interp(v, asc, eye[:, g]) for g in range(k)], axis=-1)
    return out


def aggregate(
    settings: Settings,
    ct: CompiledTree,
    leaf_score: FloatArray,
    multiplier: FloatArray,
    available: BoolArray,
    weighted_base: FloatArray,
) -> Aggregated:
    """The total's weighted base by ``settings.aggregation``."""
    full = float(ct.points[0])
    method = settings.aggregation
    if method == "weighted_sum":
        return Aggregated(weighted_base, weighted_base)
    rates = leaf_rates(ct, leaf_score)
    n_t = len(leaf_score)
    if method == "topsis":
        w = nominal_leaf_weights(ct)
        cols = np.flatnonzero(w > 0)
        if not len(cols) or n_t == 0:
            c = np.zeros(n_t)
        else:
            c = topsis(rates[:, cols], w[cols], normalization=settings.topsis_normalization)
        return Aggregated(c * full, c)
    if method == "fuzzy":
        centers = grade_centers(settings, full)
        scores = list(settings.fuzzy_grade_scores) or centers.tolist()
        eff = effective_leaf_weights(ct, multiplier, available)
        r = membership(np.clip(rates, 0.0, 1.0) * full, centers)  # (T, L, K)
        b = fuzzy_evaluate(eff, r, settings.fuzzy_operator)  # (T, K)
        value = np.nan_to_num(fuzzy_score(b, scores))  # no data at all: 0
        return Aggregated(value, value, b, scores)
    raise EngineError(f"aggregation 必须是 weighted_sum、topsis 或 fuzzy，而不是 {method!r}")
