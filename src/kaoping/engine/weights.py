"""Objective weights (entropy, CRITIC) and their combination with subjective weights."""

from __future__ import annotations

import os

import numpy as np
from numpy.typing import ArrayLike

from .errors import EngineError
from .model import BoolArray, FloatArray


def _matrix(matrix: ArrayLike, *, check_finite: bool = True) -> FloatArray:
    x = np.asarray(matrix, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1:
        raise EngineError("决策矩阵至少要有 2 行 1 列")
    if check_finite and not np.isfinite(x).all():
        raise EngineError(FINITE_MESSAGE)
    return x


def _benefit(benefit: ArrayLike | None, n: int) -> BoolArray:
    if benefit is None:
        return np.ones(n, dtype=bool)
    b = np.asarray(benefit, dtype=bool).reshape(-1)
    if b.shape != (n,):
        raise EngineError("benefit 必须每列一个标志（越大越好为 True）")
    return b


def minmax(x: FloatArray, benefit: BoolArray) -> FloatArray:
    """Min-max normalization to [0, 1], cost columns reversed; constant columns become 0."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    span = hi - lo
    safe = np.where(span > 0, span, 1.0)
    y = np.where(benefit, (x - lo) / safe, (hi - x) / safe)
    return np.where(span > 0, y, 0.0)


NEGATIVE_MESSAGE = "不做标准化（normalization 为 none）时，熵权法要求数据都不小于 0"
FINITE_MESSAGE = "决策矩阵的每个元素都必须是有限的数字（不能有缺失值）"

#: bytes per block of rows: a block and its logarithms stay in a core's L2 cache
_BLOCK_BYTES = 256 * 1024
#: at most this many threads (np.log and einsum release the GIL)
_MAX_THREADS = 4


def _threads(blocks: int) -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, _MAX_THREADS, blocks // 8))


def _colsum_xlogx(x: FloatArray, *, careful: bool) -> tuple[FloatArray, FloatArray]:
    """Column sums of x and of x·ln x, in row blocks, on up to ``_MAX_THREADS`` threads.

    One pass per block while it is in cache: ln x into a reused buffer, then Σ x and Σ x·ln x
    (``einsum``, no product array). ``careful`` sets 0·ln 0 = 0; without it a zero, negative
    or non-finite value makes the sums NaN or infinite and the caller takes the careful path.
    """
    m, n = x.shape
    rows = max(1, min(m, _BLOCK_BYTES // (8 * n)))
    starts = list(range(0, m, rows))
    n_threads = _threads(len(starts))

    def work(block: list[int], out_s: FloatArray, out_sl: FloatArray) -> None:
        buf = np.empty((rows, n))
        with np.errstate(all="ignore"):  # errstate is per thread
            for a in block:
                xb = x[a : a + rows]
                lb = buf[: len(xb)]
                if careful:
                    lb.fill(0.0)
                    np.log(xb, out=lb, where=xb > 0)
                else:
                    np.log(xb, out=lb)
                out_s += np.einsum("ij->j", xb)
                out_sl += np.einsum("ij,ij->j", xb, lb)

    sums = np.zeros((n_threads, 2, n))
    if n_threads == 1:
        work(starts, sums[0, 0], sums[0, 1])
    else:
        import threading

        parts = [starts[k::n_threads] for k in range(n_threads)]
        errors: list[BaseException] = []

        def guarded(k: int) -> None:
            try:
                work(parts[k], sums[k, 0], sums[k, 1])
            except BaseException as e:  # re-raised below: a lost block would be a wrong sum
                errors.append(e)

        threads = [threading.Thread(target=guarded, args=(k,)) for k in range(1, n_threads)]
        for t in threads:
            t.start()
        try:
            work(parts[0], sums[0, 0], sums[0, 1])
        finally:
            for t in threads:
                t.join()
        if errors:
            raise errors[0]
    total = sums.sum(axis=0)
    return total[0], total[1]


def entropy_weights(
    matrix: ArrayLike, benefit: ArrayLike | None = None, normalization: str | None = None
) -> FloatArray:
    """Entropy weights (熵权法) of the columns of an alternatives × criteria matrix.

    ``normalization``: None/"none" (raw non-negative values, p_ij = x_ij / Σ_i x_ij) or
    "minmax" (cost columns reversed per ``benefit``). e_j = -Σ p ln p / ln m with 0·ln 0 = 0;
    w_j = (1 - e_j) / Σ (1 - e). A column without information (all zero) has e_j = 1; if no
    column has information the weights are equal.
    """
    norm = normalization or "none"
    if norm == "minmax":
        x = _matrix(matrix)
        y = minmax(x, _benefit(benefit, x.shape[1]))
        s, ylogy = _colsum_xlogx(y, careful=True)
    elif norm == "none":
        # the fast pass doubles as validation: any zero, negative, NaN or infinite value turns
        # a sum non-finite, and only then is the matrix checked value by value
        y = _matrix(matrix, check_finite=False)
        s, ylogy = _colsum_xlogx(y, careful=False)
        if not (np.isfinite(s).all() and np.isfinite(ylogy).all()):
            if not np.isfinite(y).all():
                raise EngineError(FINITE_MESSAGE)
            if (y < 0).any():
                raise EngineError(NEGATIVE_MESSAGE)
            s, ylogy = _colsum_xlogx(y, careful=True)
    else:
        raise EngineError("normalization 必须是 none 或 minmax")
    m, n = y.shape
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
        raise EngineError("主观权重和客观权重必须是长度相同的向量")
    if (s < 0).any() or (o < 0).any() or s.sum() <= 0 or o.sum() <= 0:
        raise EngineError("权重必须都不小于 0，且合计大于 0")
    s, o = s / s.sum(), o / o.sum()
    if method == "linear":
        if not 0 <= alpha <= 1:
            raise EngineError("alpha 必须在 0 到 1 之间")
        w = alpha * s + (1 - alpha) * o
    elif method == "multiplicative":
        w = s * o
        if w.sum() <= 0:
            raise EngineError("主观权重和客观权重没有同时大于 0 的指标，无法相乘组合")
    else:
        raise EngineError("组合方法必须是 linear（线性加权）或 multiplicative（乘法）")
    out: FloatArray = w / w.sum()
    return out
