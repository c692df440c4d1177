"""Objective weights (entropy, CRITIC) and their combination with subjective weights."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .errors import EngineError
from .model import BoolArray, FloatArray


def _matrix(matrix: ArrayLike) -> FloatArray:
    x = np.asarray(matrix, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1:
        raise EngineError("a decision matrix needs at least 2 rows and 1 column")
    if not np.isfinite(x).all():
        raise EngineError("a decision matrix must be finite")
    return x


def _benefit(benefit: ArrayLike | None, n: int) -> BoolArray:
    if benefit is None:
        return np.ones(n, dtype=bool)
    b = np.asarray(benefit, dtype=bool).reshape(-1)
    if b.shape != (n,):
        raise EngineError("benefit must give one flag per column")
    return b


def minmax(x: FloatArray, benefit: BoolArray) -> FloatArray:
    """Min-max normalization to [0, 1], cost columns reversed; constant columns become 0."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    span = hi - lo
    safe = np.where(span > 0, span, 1.0)
    y = np.where(benefit, (x - lo) / safe, (hi - x) / safe)
    return np.where(span > 0, y, 0.0)


_CHUNK_ROWS = 4096


def _colsum_xlogx(x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Column sums of x and of x·ln x (0·ln 0 = 0), in row blocks on up to two threads.

    Blocks keep temporaries in cache and avoid allocating matrix-sized arrays.
    """
    m, n = x.shape
    starts = list(range(0, m, _CHUNK_ROWS))

    positive = bool(x.min() > 0)

    def work(block: list[int]) -> tuple[FloatArray, FloatArray]:
        s = np.zeros(n)
        sl = np.zeros(n)
        buf = np.empty((_CHUNK_ROWS, n))
        for a in block:
            xb = x[a : a + _CHUNK_ROWS]
            out = buf[: len(xb)]
            s += xb.sum(axis=0)
            if positive:
                np.log(xb, out=out)
            else:
                zero = xb <= 0
                np.log(np.where(zero, 1.0, xb), out=out)
            np.multiply(out, xb, out=out)
            sl += out.sum(axis=0)
        return s, sl

    if len(starts) < 8:
        return work(starts)
    from concurrent.futures import ThreadPoolExecutor

    halves = [starts[: len(starts) // 2], starts[len(starts) // 2 :]]
    with ThreadPoolExecutor(max_workers=2) as pool:
        parts = list(pool.map(work, halves))
    return parts[0][0] + parts[1][0], parts[0][1] + parts[1][1]


def entropy_weights(
    matrix: ArrayLike, benefit: ArrayLike | None = None, normalization: str | None = None
) -> FloatArray:
    """Entropy weights (熵权法) of the columns of an alternatives × criteria matrix.

    ``normalization``: None/"none" (raw non-negative values, p_ij = x_ij / Σ_i x_ij) or
    "minmax" (cost columns reversed per ``benefit``). e_j = -Σ p ln p / ln m with 0·ln 0 = 0;
    w_j = (1 - e_j) / Σ (1 - e). A column without information (all zero) has e_j = 1; if no
    column has information the weights are equal.
    """
    x = _matrix(matrix)
    m, n = x.shape
    norm = normalization or "none"
    if norm == "minmax":
        y = minmax(x, _benefit(benefit, n))
    elif norm == "none":
        if (x < 0).any():
            raise EngineError("entropy weights without normalization need non-negative values")
        y = x
    else:
        raise EngineError("normalization must be none or minmax")
    s, ylogy = _colsum_xlogx(y)
    # Σ p ln p with p = y / s equals Σ y ln y / s - ln s (0 ln 0 = 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = ylogy / s - np.log(s)
    e = np.where(s > 0, -plogp / np.log(m), 1.0)
    e = np.clip(e, 0.0, 1.0)
    d = 1.0 - e
    total = d.sum()
    if total <= 0:
        return np.full(n, 1.0 / n)
    out: FloatArray = d / total
    return out


def critic_weights(matrix: ArrayLike, benefit: ArrayLike | None = None) -> FloatArray:
    """CRITIC weights (Diakoulaki et al. 1995): C_j = σ_j Σ_k (1 - r_jk) on min-max data.

    σ is the population standard deviation; constant columns have no information (C_j = 0).
    """
    x = _matrix(matrix)
    y = minmax(x, _benefit(benefit, x.shape[1]))
    sd = y.std(axis=0)
    yc = y - y.mean(axis=0)
    safe = np.where(sd > 0, sd, 1.0)
    z = yc / safe
    r = (z.T @ z) / y.shape[0]
    r = np.where(np.outer(sd > 0, sd > 0), r, 0.0)
    c = sd * (1.0 - r).sum(axis=0)
    total = c.sum()
    if total <= 0:
        return np.full(x.shape[1], 1.0 / x.shape[1])
    out: FloatArray = c / total
    return out


def combine_weights(
    subjective: ArrayLike, objective: ArrayLike, method: str = "linear", alpha: float = 0.5
) -> FloatArray:
    """Combined weights: "linear" α·s + (1-α)·o, or "multiplicative" s·o / Σ s·o."""
    s = np.asarray(subjective, dtype=np.float64)
    o = np.asarray(objective, dtype=np.float64)
    if s.shape != o.shape or s.ndim != 1:
        raise EngineError("subjective and objective weights must be vectors of one length")
    if (s < 0).any() or (o < 0).any() or s.sum() <= 0 or o.sum() <= 0:
        raise EngineError("weights must be non-negative with a positive sum")
    s, o = s / s.sum(), o / o.sum()
    if method == "linear":
        if not 0 <= alpha <= 1:
            raise EngineError("alpha must lie in [0, 1]")
        w = alpha * s + (1 - alpha) * o
    elif method == "multiplicative":
        w = s * o
        if w.sum() <= 0:
            raise EngineError("the subjective and objective weights share no positive entry")
    else:
        raise EngineError("method must be linear or multiplicative")
    out: FloatArray = w / w.sum()
    return out
