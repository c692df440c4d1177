"""Sensitivity of rankings and grades to the weights (vectorized Monte Carlo)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from .errors import EngineError
from .grading import threshold_grades
from .model import FloatArray

if TYPE_CHECKING:
    from .evaluate import Evaluation


def _ranks(x: FloatArray) -> FloatArray:
    """Average ranks along the last axis (vectorized over leading axes)."""
    from scipy.stats import rankdata  # type: ignore[import-untyped,unused-ignore]

    out: FloatArray = rankdata(x, axis=-1)
    return out


def perturbation_study(
    parts: ArrayLike,
    nominal: ArrayLike,
    rest: ArrayLike,
    thresholds: ArrayLike,
    *,
    n_samples: int = 1000,
    spread: float = 0.2,
    seed: int = 0,
) -> dict[str, Any]:
    """Monte Carlo over weights. ``parts`` (T, K) are the targets' weighted contributions of K
    weighted components with nominal points ``nominal`` (K,); ``rest`` (T,) is the rest of the
    total. Each sample multiplies the K weights by U(1 - spread, 1 + spread), rescaled so the
    full marks stay the same. Returns per-sample Spearman ρ against the baseline ranking and
    the share of targets whose threshold grade changes, with summaries."""
    c = np.asarray(parts, dtype=np.float64)
    p = np.asarray(nominal, dtype=np.float64)
    r = np.asarray(rest, dtype=np.float64)
    if c.ndim != 2 or p.shape != (c.shape[1],) or r.shape != (c.shape[0],):
        raise EngineError("parts (T, K)、nominal (K,) 与 rest (T,) 的形状不匹配")
    if not 0 <= spread < 1:
        raise EngineError("spread 必须在 [0, 1) 之间")
    rng = np.random.default_rng(seed)
    mult = rng.uniform(1 - spread, 1 + spread, size=(n_samples, c.shape[1]))
    mult /= (mult @ p / p.sum())[:, None]
    base = c.sum(axis=1) + r
    totals = mult @ c.T + r[None, :]  # (S, T)
    rb = _ranks(base)
    rs = _ranks(totals)
    rbc = rb - rb.mean()
    rsc = rs - rs.mean(axis=1, keepdims=True)
    den = np.sqrt((rsc**2).sum(axis=1) * (rbc**2).sum())
    rho = np.divide(rsc @ rbc, den, out=np.ones(n_samples), where=den > 0)
    th = np.asarray(thresholds, dtype=np.float64)
    g0 = threshold_grades(base, th)
    gs = (totals[..., None] < th).sum(axis=-1)
    changed = (gs != g0[None, :]).mean(axis=1)
    return {
        "n_samples": n_samples,
        "spread": spread,
        "seed": seed,
        "spearman": rho,
        "spearman_mean": float(rho.mean()),
        "spearman_p05": float(np.quantile(rho, 0.05)),
        "grade_change_share": changed,
        "grade_change_mean": float(changed.mean()),
        "grade_change_by_target": (gs != g0[None, :]).mean(axis=0),
    }


def weight_sensitivity(
    ev: Evaluation,
    *,
    level: str = "dimension",
    n_samples: int = 1000,
    spread: float = 0.2,
    seed: int = 0,
) -> dict[str, Any]:
    """Rank and grade stability of an evaluation when the weights of its dimensions
    (``level="dimension"``) or leaf indicators (``level="indicator"``) are perturbed.
    Extra points and zero vetoes are kept as they are; grades use thresholds only."""
    ct = ev.tree
    if ev.settings.aggregation != "weighted_sum":
        raise EngineError("权重敏感性分析只适用于加权求和（aggregation 为 weighted_sum）")
    if level == "dimension":
        pos = np.flatnonzero((ct.depth == 1) & ~ct.is_extra)
    elif level == "indicator":
        pos = ct.leaf_pos[~ct.is_extra[ct.leaf_pos]]
    else:
        raise EngineError("level 必须是 dimension（一级指标）或 indicator（末级指标）")
    normal = ev.multiplier[:, pos] * (ev.node_score[:, pos] - ev.node_extra[:, pos])
    rest = ev.total - normal.sum(axis=1)
    parts = np.where(ev.veto[:, None], 0.0, normal)
    rest = np.where(ev.veto, ev.total, rest)
    out = perturbation_study(
        parts,
        ct.points[pos],
        rest,
        ev.settings.grade_thresholds,
        n_samples=n_samples,
        spread=spread,
        seed=seed,
    )
    out["level"] = level
    return out
