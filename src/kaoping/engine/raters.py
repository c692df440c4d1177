"""Rater scores: conversion to rates, standardization, aggregation within and across groups."""

from __future__ import annotations

import numpy as np

from .errors import EngineError
from .model import BoolArray, FloatArray, IntArray, ScoreInputs
from .rules import LeafParams
from .settings import Settings
from .tree import CompiledTree


def score_values(
    scores: ScoreInputs, ct: CompiledTree, lp: LeafParams
) -> tuple[IntArray, FloatArray]:
    """Validated rater-score rows as (node -> leaf-number lookup, value in rule units).

    Rating rows keep their value (0..max); grade rows become their grade's coefficient. Large
    temporaries are avoided: 10 million rows are the normal case.
    """
    n_nodes = len(ct.tree.nodes)
    ind = scores.indicator
    v = scores.value
    if not len(ind):
        return ct.leaf_of_node, v
    if ind.min() < 0 or ind.max() >= n_nodes:
        raise EngineError("ScoreInputs.indicator 超出范围")
    kind = np.array(lp.kind, dtype=object)
    rating_l = kind == "rating"
    grade_l = kind == "grade"
    node_leaf = ct.leaf_of_node
    ok_node = np.zeros(n_nodes, dtype=bool)
    leaves_of_nodes = node_leaf >= 0
    ok_node[leaves_of_nodes] = (rating_l | grade_l)[node_leaf[leaves_of_nodes]]
    if not np.take(ok_node, ind).all():
        if not np.take(leaves_of_nodes, ind).all():
            raise EngineError("ScoreInputs 的行指向了非末级指标")
        raise EngineError("ScoreInputs 的行指向了不接受打分的指标（只有 rating、grade 规则接受）")
    if v.min() < 0:
        raise EngineError("有评分超出了其指标的 [0, 满分] 范围")
    full_node = np.full(n_nodes, np.inf)
    full_node[leaves_of_nodes] = lp.full[node_leaf[leaves_of_nodes]]
    if v.max() > full_node[ok_node].min() and (v > np.take(full_node, ind)).any():
        raise EngineError("有评分超出了其指标的 [0, 满分] 范围")
    if not grade_l.any():
        return node_leaf, v
    grade_node = np.zeros(n_nodes, dtype=bool)
    grade_node[leaves_of_nodes] = grade_l[node_leaf[leaves_of_nodes]]
    rows = np.flatnonzero(np.take(grade_node, ind))
    vg = v[rows]
    gi = vg.astype(np.int64)
    lg = node_leaf[ind[rows]]
    if not ((gi == vg).all() and (gi >= 0).all() and (gi < lp.n_labels[lg]).all()):
        raise EngineError("有等次评价不是其指标的有效等次序号")
    out = v.copy()
    out[rows] = lp.coef[lg, gi]
    return node_leaf, out


def score_rates(
    scores: ScoreInputs, ct: CompiledTree, lp: LeafParams
) -> tuple[IntArray, FloatArray]:
    """Leaf number and rate in [0, 1] of each rater-score row (validated)."""
    node_leaf, value = score_values(scores, ct, lp)
    leaf = np.take(node_leaf, scores.indicator)
    rate: FloatArray = value / lp.full[leaf]
    return leaf, rate


def _dense_ids(ids: IntArray) -> tuple[IntArray, int]:
    if not len(ids):
        return ids, 0
    lo, hi = int(ids.min()), int(ids.max())
    if lo >= 0 and hi < 4 * len(ids) + 1024:
        return ids, hi + 1
    uniq, inv = np.unique(ids, return_inverse=True)
    return inv.astype(np.int64), len(uniq)


def standardize(rate: FloatArray, rater: IntArray, group: IntArray, n_groups: int) -> FloatArray:
    """Per-rater z-scores mapped back onto the rater group's pooled mean and spread.

    Raters with fewer than two ratings or no spread keep their raw rates; results are clipped
    to [0, 1].
    """
    rid, n_r = _dense_ids(rater)
    cnt = np.bincount(rid, minlength=n_r).astype(np.float64)
    s1 = np.bincount(rid, rate, n_r)
    s2 = np.bincount(rid, rate * rate, n_r)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_r = s1 / cnt
        sd_r = np.sqrt(np.maximum(s2 / cnt - mean_r**2, 0.0))
    g_cnt = np.bincount(group, minlength=n_groups).astype(np.float64)
    g1 = np.bincount(group, rate, n_groups)
    g2 = np.bincount(group, rate * rate, n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_g = g1 / g_cnt
        sd_g = np.sqrt(np.maximum(g2 / g_cnt - mean_g**2, 0.0))
    ok = (cnt >= 2) & (sd_r > 1e-12)
    okr = ok[rid]
    z = np.where(okr, (rate - mean_r[rid]) / np.where(ok, sd_r, 1.0)[rid], 0.0)
    out = np.where(okr, mean_g[group] + sd_g[group] * z, rate)
    return np.clip(out, 0.0, 1.0)


def cell_keys(
    t: IntArray, node: IntArray, group: IntArray, node_leaf: IntArray, n_l: int, n_g: int
) -> IntArray:
    """Flat (target, leaf, group) cell index of each row, with few large temporaries."""
    key: IntArray = t * (n_l * n_g)
    key += np.take(node_leaf * n_g, node)
    key += group
    return key


def aggregate(
    key: IntArray,
    value: FloatArray,
    shape: tuple[int, int, int],
    settings: Settings,
) -> tuple[FloatArray, IntArray]:
    """Within-group aggregate (mean, median or trimmed mean) of ``value`` per cell ``key``.

    Returns ``(value, count)`` of shape ``shape`` (targets, leaves, groups); NaN where a cell
    has no ratings.
    """
    size = shape[0] * shape[1] * shape[2]
    cnt = np.bincount(key, minlength=size)
    method = settings.within_group
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "median":
            order = np.lexsort((value, key))
            vs = value[order]
            start = np.concatenate(([0], np.cumsum(cnt)[:-1]))
            has = cnt > 0
            lo = np.where(has, start + (cnt - 1) // 2, 0)
            hi = np.where(has, start + cnt // 2, 0)
            out = np.where(has, (vs[lo] + vs[hi]) / 2 if len(vs) else 0.0, np.nan)
        else:
            total = np.bincount(key, value, size)
            out = total / cnt
            if method == "trimmed_mean":
                mx = np.full(size, -np.inf)
                mn = np.full(size, np.inf)
                np.maximum.at(mx, key, value)
                np.minimum.at(mn, key, value)
                trim = cnt >= settings.trim_min_count
                out = np.where(trim, (total - mx - mn) / (cnt - 2), out)
    return out.reshape(shape), cnt.reshape(shape)


def combine_groups(
    gv: FloatArray, gn: IntArray, gw: FloatArray, gmin: IntArray, policy: IntArray
) -> tuple[FloatArray, BoolArray, FloatArray, BoolArray, BoolArray]:
    """Combine group values (T, L, G) with group weights (L, G) under each leaf's policy.

    Returns (rate (T, L), available (T, L), effective group weights (T, L, G),
    too_few (T, L, G), incomplete (T, L)).
    """
    weighted = gw > 0
    valid = (gn >= gmin) & (gn > 0) & weighted
    too_few = weighted & (gn > 0) & (gn < gmin)
    renorm = policy == 0
    num_w = gw * valid
    den = np.where(renorm[None, :], num_w.sum(axis=-1), gw.sum(axis=-1)[None, :])
    den_safe = np.where(den > 0, den, 1.0)
    omega = np.where(den[..., None] > 0, num_w / den_safe[..., None], 0.0)
    rate = (omega * np.where(valid, gv, 0.0)).sum(axis=-1)
    avail = valid.any(axis=-1)
    incomplete = (policy == 2)[None, :] & (weighted & ~valid).any(axis=-1)
    return (
        np.asarray(rate, dtype=np.float64),
        np.asarray(avail, dtype=bool),
        np.asarray(omega, dtype=np.float64),
        np.asarray(too_few, dtype=bool),
        np.asarray(incomplete, dtype=bool),
    )
