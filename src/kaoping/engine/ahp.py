"""Analytic hierarchy process (层次分析法): weights and consistency from pairwise comparisons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .errors import EngineError
from .model import FloatArray

#: random consistency index RI by matrix order n = 1..15
RI_TABLES: dict[str, tuple[float, ...]] = {
    # Saaty, The Analytic Hierarchy Process (1980)
    "saaty": (
        0.0,
        0.0,
        0.58,
        0.90,
        1.12,
        1.24,
        1.32,
        1.41,
        1.45,
        1.49,
        1.51,
        1.48,
        1.56,
        1.57,
        1.59,
    ),
    # 龚木森、许树柏 (1986), 1000-sample table common in Chinese textbooks
    "gong_xu": (
        0.0,
        0.0,
        0.52,
        0.89,
        1.12,
        1.26,
        1.36,
        1.41,
        1.46,
        1.49,
        1.52,
        1.54,
        1.56,
        1.58,
        1.59,
    ),
}
AHP_METHODS = ("eigenvector", "geometric_mean", "arithmetic_mean")
CR_LIMIT = 0.1


@dataclass(frozen=True)
class AHPResult:
    weights: FloatArray
    lambda_max: float
    ci: float
    cr: float
    ri: float
    method: str
    ri_table: str
    #: (i, j) of the judgment that deviates most from the weights (only when cr >= 0.1)
    worst_judgment: tuple[int, int] | None = None
    #: the judgment's current value and the value the weights imply (w_i / w_j)
    worst_value: float | None = None
    implied_value: float | None = None

    @property
    def consistent(self) -> bool:
        return self.cr < CR_LIMIT

    @property
    def message(self) -> str:
        """The verdict in Chinese, naming the judgment by row and column (see ``describe``)."""
        return self.describe()

    def describe(self, names: Sequence[str] | None = None) -> str:
        """The verdict in Chinese: consistent, or which judgment to reconsider.

        ``names`` (one per row, e.g. the indicators' names) are used to name the judgment;
        without them it is named by row and column (1-based). The structured fields
        ``worst_judgment`` / ``worst_value`` / ``implied_value`` carry the same facts.
        """
        if self.consistent:
            return f"一致性检验通过（CR = {self.cr:.3f} < {CR_LIMIT:g}）"
        head = f"判断矩阵的一致性比率 CR = {self.cr:.3f} ≥ {CR_LIMIT:g}，未通过一致性检验"
        if self.worst_judgment is None:
            return head
        i, j = self.worst_judgment
        if names is not None and len(names) > max(i, j):
            what = f"“{names[i]}”与“{names[j]}”的比较"
        else:
            what = f"第 {i + 1} 行第 {j + 1} 列的判断"
        return (
            f"{head}。与其余判断最不一致的是{what}（当前为 {format_judgment(self.worst_value)}，"
            f"按其余判断约为 {format_judgment(self.implied_value)}），请重新考虑"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "weights": self.weights.tolist(),
            "lambda_max": self.lambda_max,
            "ci": self.ci,
            "cr": self.cr,
            "ri": self.ri,
            "method": self.method,
            "ri_table": self.ri_table,
            "consistent": self.consistent,
            "worst_judgment": list(self.worst_judgment) if self.worst_judgment else None,
            "worst_value": self.worst_value,
            "implied_value": self.implied_value,
            "message": self.message,
        }


def format_judgment(x: float | None) -> str:
    """A judgment as people write it on Saaty's 1–9 scale: ``3``, ``1/5``, ``2.5``, ``0.43``."""
    if x is None or not np.isfinite(x) or x <= 0:
        return "—"
    if x >= 1:
        return str(round(x)) if abs(x - round(x)) < 0.05 else f"{x:.2g}"
    inv = 1 / x
    return f"1/{round(inv)}" if abs(inv - round(inv)) < 0.05 else f"{x:.2f}"


def check_pairwise(matrix: ArrayLike, *, tol: float = 1e-2) -> FloatArray:
    """Validate a positive reciprocal matrix (a_ji = 1/a_ij within relative ``tol``)."""
    a = np.asarray(matrix, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise EngineError("判断矩阵必须是非空的方阵（行数等于列数）")
    if not np.isfinite(a).all() or (a <= 0).any():
        raise EngineError("判断矩阵的每个元素都必须是正数（1–9 标度及其倒数）")
    bad = np.abs(a * a.T - 1.0) > tol
    if bad.any():
        i, j = (int(x) for x in np.argwhere(bad)[0])
        raise EngineError(
            f"判断矩阵不是互反矩阵：第 {i + 1} 行第 {j + 1} 列为 {format_judgment(a[i, j])}，"
            f"第 {j + 1} 行第 {i + 1} 列应为其倒数 {format_judgment(1 / a[i, j])}，"
            f"实际为 {format_judgment(a[j, i])}"
        )
    return a


def _weights(a: FloatArray, method: str) -> tuple[FloatArray, float]:
    n = a.shape[0]
    if method == "eigenvector":
        vals, vecs = np.linalg.eig(a)
        k = int(np.argmax(vals.real))
        w = np.abs(vecs[:, k].real)
        w = w / w.sum()
        return w, float(vals[k].real)
    if method == "geometric_mean":
        g = np.exp(np.log(a).mean(axis=1))
        w = g / g.sum()
    elif method == "arithmetic_mean":
        w = (a / a.sum(axis=0)).mean(axis=1)
        w = w / w.sum()
    else:
        raise EngineError(
            "层次分析法的计算方法必须是 eigenvector（特征向量法）、geometric_mean（方根法）"
            "或 arithmetic_mean（和积法）"
        )
    lam = float(np.mean(a @ w / w)) if n > 1 else 1.0
    return w, lam


def ahp(
    matrix: ArrayLike, method: str = "eigenvector", ri: str = "saaty", *, tol: float = 1e-2
) -> AHPResult:
    """Weights of a pairwise comparison matrix with λmax, CI = (λmax - n)/(n - 1), CR = CI/RI.

    ``method``: "eigenvector" (principal eigenvector), "geometric_mean" (方根法) or
    "arithmetic_mean" (和积法: average of normalized columns). ``ri`` names the RI table.
    """
    a = check_pairwise(matrix, tol=tol)
    if ri not in RI_TABLES:
        raise EngineError(f"RI 表必须是以下之一：{'、'.join(RI_TABLES)}")
    table = RI_TABLES[ri]
    n = a.shape[0]
    if n > len(table):
        raise EngineError(f"{ri} RI 表只到 {len(table)} 阶，判断矩阵为 {n} 阶")
    w, lam = _weights(a, method)
    ci = max((lam - n) / (n - 1), 0.0) if n > 1 else 0.0
    ri_n = table[n - 1]
    cr = ci / ri_n if ri_n > 0 else 0.0
    worst: tuple[int, int] | None = None
    worst_value = implied = None
    if cr >= CR_LIMIT:
        dev = np.abs(np.log(a * w[None, :] / w[:, None]))
        dev[np.tril_indices(n)] = -1.0
        i, j = (int(x) for x in np.unravel_index(int(np.argmax(dev)), dev.shape))
        worst, worst_value, implied = (i, j), float(a[i, j]), float(w[i] / w[j])
    return AHPResult(w, lam, ci, cr, ri_n, method, ri, worst, worst_value, implied)


def group_matrix(
    matrices: Sequence[ArrayLike], expert_weights: ArrayLike | None = None
) -> FloatArray:
    """Element-wise (weighted) geometric mean of several experts' pairwise matrices."""
    mats = np.stack([check_pairwise(m) for m in matrices])
    if expert_weights is None:
        lam = np.full(len(mats), 1.0 / len(mats))
    else:
        lam = np.asarray(expert_weights, dtype=np.float64)
        if lam.shape != (len(mats),) or (lam < 0).any() or lam.sum() <= 0:
            raise EngineError("专家权重必须每个判断矩阵一个，不小于 0，且不全为 0")
        lam = lam / lam.sum()
    out: FloatArray = np.exp(np.tensordot(lam, np.log(mats), axes=1))
    return out


def group_ahp(
    matrices: Sequence[ArrayLike],
    method: str = "eigenvector",
    ri: str = "saaty",
    expert_weights: ArrayLike | None = None,
) -> AHPResult:
    """Group AHP: combine the experts' matrices by geometric mean, then ``ahp``."""
    return ahp(group_matrix(matrices, expert_weights), method, ri)
