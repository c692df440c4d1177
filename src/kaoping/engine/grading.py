"""Grading (thresholds, quotas, veto ceilings) and competition ranking."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from .model import BoolArray, FloatArray, IntArray


def _key(scores: FloatArray, decimals: int) -> FloatArray:
    out: FloatArray = np.asarray(
        np.round(np.asarray(scores, dtype=np.float64), decimals), np.float64
    )
    return out


def competition_rank(
    scores: FloatArray, mask: BoolArray | None = None, decimals: int = 6
) -> IntArray:
    """Standard competition ranking, highest first (1, 2, 2, 4); 0 where ``mask`` is False.

    Scores equal to ``decimals`` decimals tie.
    """
    return group_rank(scores, None, mask, decimals)


def group_rank(
    scores: FloatArray,
    groups: IntArray | None,
    mask: BoolArray | None = None,
    decimals: int = 6,
) -> IntArray:
    """Competition ranking within each group (e.g. within each 党总支); 0 where masked out."""
    s = _key(scores, decimals)
    n = len(s)
    g = np.zeros(n, dtype=np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
    m = np.ones(n, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    idx = np.flatnonzero(m)
    out = np.zeros(n, dtype=np.int64)
    if not len(idx):
        return out
    order = idx[np.lexsort((-s[idx], g[idx]))]
    ss, gg = s[order], g[order]
    pos = np.arange(len(order))
    new_group = np.r_[True, gg[1:] != gg[:-1]]
    new_run = new_group | np.r_[True, ss[1:] != ss[:-1]]
    group_start = np.maximum.accumulate(np.where(new_group, pos, 0))
    run_start = np.maximum.accumulate(np.where(new_run, pos, 0))
    out[order] = run_start - group_start + 1
    return out


def threshold_grades(
    totals: FloatArray, thresholds: Sequence[float] | FloatArray, decimals: int = 6
) -> IntArray:
    """Grade index by thresholds (descending minimums; the last grade takes the rest)."""
    s = _key(totals, decimals)
    th = np.asarray(thresholds, dtype=np.float64)
    out: IntArray = (s[:, None] < th[None, :]).sum(axis=1).astype(np.int64)
    return out


def assign_grades(
    totals: FloatArray,
    labels: Sequence[str],
    thresholds: Sequence[float],
    *,
    quotas: Mapping[str, float] | None = None,
    quota_rounding: str = "floor",
    quota_ties: str = "demote",
    ceilings: IntArray | None = None,
    mask: BoolArray | None = None,
    decimals: int = 6,
) -> IntArray:
    """Grade index per target (0 = best label); -1 where ``mask`` is False.

    1. thresholds; 2. quotas, best grade first: a grade with quota q keeps at most
       ``rounding(q * N)`` of the N graded targets, by total; the rest drop one grade (and count
       towards the next grade's quota). Targets tied at the boundary are all demoted
       (``quota_ties="demote"``, the quota is never exceeded) or all kept ("admit").
    3. veto ceilings (grade index at least ``ceilings``) are applied after quotas.
    """
    s = _key(totals, decimals)
    n = len(s)
    m = np.ones(n, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    grade = threshold_grades(s, thresholds, decimals)
    n_graded = int(m.sum())
    rounders: dict[str, Callable[[float], int]] = {
        "floor": math.floor,
        "round": round,
        "ceil": math.ceil,
    }
    rnd = rounders[quota_rounding]
    for k, label in enumerate(labels[:-1]):
        share = (quotas or {}).get(label)
        if share is None:
            continue
        allowed = int(rnd(share * n_graded))
        cand = np.flatnonzero(m & (grade == k))
        if len(cand) <= allowed:
            continue
        ordered = np.sort(s[cand])[::-1]
        if quota_ties == "admit":
            keep = s[cand] >= ordered[allowed - 1] if allowed > 0 else np.zeros(len(cand), bool)
        else:
            keep = s[cand] > ordered[allowed]
        grade[cand[~keep]] = k + 1
    if ceilings is not None:
        grade = np.maximum(grade, np.asarray(ceilings, dtype=np.int64))
    return np.where(m, grade, -1)
