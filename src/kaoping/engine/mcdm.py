"""Multi-criteria aggregation: TOPSIS and fuzzy comprehensive evaluation (模糊综合评价)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from .errors import EngineError
from .model import FloatArray, IntArray
from .settings import FUZZY_OPERATORS
from .weights import _benefit, minmax


def topsis(
    matrix: ArrayLike,
    weights: ArrayLike,
    benefit: ArrayLike | None = None,
    normalization: str = "vector",
) -> FloatArray:
    """TOPSIS closeness coefficients C_i = D_i^- / (D_i^+ + D_i^-) of the rows of ``matrix``.

    ``normalization``: "vector" (x / ||x_j||, Hwang & Yoon) or "minmax" (cost columns reversed).
    Weights are normalized to sum 1. A row with D+ = D- = 0 (every row equal) gets 0.5.
    """
    x = np.asarray(matrix, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 1:
        raise EngineError("决策矩阵必须是二维的（考核对象 × 指标）")
    m, n = x.shape
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape != (n,) or (w < 0).any() or w.sum() <= 0:
        raise EngineError("权重必须每列一个，不小于 0，且不全为 0")
    w = w / w.sum()
    b = _benefit(benefit, n)
    if normalization == "vector":
        norms = np.sqrt(np.einsum("ij,ij->j", x, x))
        v = x * (w / np.where(norms > 0, norms, 1.0))
        vmax, vmin = v.max(axis=0), v.min(axis=0)
        ideal = np.where(b, vmax, vmin)
        anti = np.where(b, vmin, vmax)
    elif normalization == "minmax":
        v = minmax(x, b) * w
        ideal, anti = v.max(axis=0), v.min(axis=0)
    else:
        raise EngineError("normalization 必须是 vector 或 minmax")
    buf = np.subtract(v, ideal)
    d_plus = np.sqrt(np.einsum("ij,ij->i", buf, buf))
    np.subtract(v, anti, out=buf)
    d_minus = np.sqrt(np.einsum("ij,ij->i", buf, buf))
    den = d_plus + d_minus
    out: FloatArray = np.divide(d_minus, den, out=np.full(m, 0.5), where=den > 0)
    return out


def fuzzy_evaluate(
    weights: ArrayLike,
    membership: ArrayLike,
    operator: str = "weighted_average",
    *,
    normalize: bool = False,
) -> FloatArray:
    """Fuzzy comprehensive evaluation B = A ∘ R.

    ``weights`` A has shape (..., n) and ``membership`` R shape (..., n, m) (leading axes
    broadcast, e.g. one R per target). Operators: "weighted_average" M(·,⊕):
    b_j = min(1, Σ a_i r_ij); "min_max" M(∧,∨): max_i min(a_i, r_ij); "product_max" M(·,∨):
    max_i a_i r_ij; "min_bounded_sum" M(∧,⊕): min(1, Σ_i min(a_i, r_ij)).
    B is returned unnormalized unless ``normalize`` (B / Σ B).
    """
    a = np.asarray(weights, dtype=np.float64)[..., :, None]
    r = np.asarray(membership, dtype=np.float64)
    if r.ndim < 2 or a.shape[-2] != r.shape[-2]:
        raise EngineError("权重必须与隶属度矩阵的行一一对应")
    if operator == "weighted_average":
        b = np.minimum(1.0, (a * r).sum(axis=-2))
    elif operator == "min_max":
        b = np.minimum(a, r).max(axis=-2)
    elif operator == "product_max":
        b = (a * r).max(axis=-2)
    elif operator == "min_bounded_sum":
        b = np.minimum(1.0, np.minimum(a, r).sum(axis=-2))
    else:
        raise EngineError(f"模糊合成算子必须是以下之一：{'、'.join(FUZZY_OPERATORS)}")
    if normalize:
        s = b.sum(axis=-1, keepdims=True)
        b = np.divide(b, s, out=np.zeros_like(b), where=s > 0)
    out: FloatArray = b
    return out


def max_membership_grade(b: ArrayLike) -> IntArray:
    """Index of the grade with maximum membership (最大隶属度原则); first one on ties."""
    out: IntArray = np.argmax(np.asarray(b, dtype=np.float64), axis=-1)
    return out


def fuzzy_score(b: ArrayLike, grade_scores: Sequence[float] | ArrayLike) -> FloatArray:
    """Weighted score Σ b_j s_j / Σ b_j (e.g. grade scores 100/80/60/40)."""
    bb = np.asarray(b, dtype=np.float64)
    s = np.asarray(grade_scores, dtype=np.float64)
    tot = bb.sum(axis=-1)
    out: FloatArray = np.divide(
        (bb * s).sum(axis=-1), tot, out=np.full(tot.shape, np.nan), where=tot > 0
    )
    return out
