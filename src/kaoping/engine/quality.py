"""Quality statistics: discrimination (区分度), reliability and rater agreement."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats  # type: ignore[import-untyped,unused-ignore]

from .errors import EngineError
from .model import FloatArray

if TYPE_CHECKING:
    from .evaluate import Evaluation


def _matrix(x: ArrayLike, what: str, min_rows: int = 2, min_cols: int = 2) -> FloatArray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] < min_rows or a.shape[1] < min_cols:
        raise EngineError(f"{what}需要至少 {min_rows} × {min_cols} 的矩阵")
    if not np.isfinite(a).all():
        raise EngineError(f"{what}要求数据完整（不能有缺失值）")
    return a


def indicator_quality(scores: ArrayLike) -> dict[str, FloatArray]:
    """Per column of a targets × indicators matrix (NaN ignored): mean, std (sample), range and
    coefficient of variation (区分度, std / mean; NaN where the mean is 0)."""
    x = np.asarray(scores, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(x, axis=0)
            std = np.nanstd(x, axis=0, ddof=1)
            rng = np.nanmax(x, axis=0) - np.nanmin(x, axis=0)
        cv = np.where(mean != 0, std / np.abs(mean), np.nan)
    return {"mean": mean, "std": std, "range": rng, "cv": cv}


def item_total_correlation(items: ArrayLike, *, corrected: bool = True) -> FloatArray:
    """Pearson correlation of each item (column) with the total of the items (rows = subjects);
    ``corrected`` uses the total of the other items. NaN for constant columns."""
    x = _matrix(items, "题总相关", 3, 2)
    total = x.sum(axis=1, keepdims=True)
    other = total - x if corrected else np.broadcast_to(total, x.shape)
    xc = x - x.mean(axis=0)
    oc = other - other.mean(axis=0)
    den = np.sqrt((xc**2).sum(axis=0) * (oc**2).sum(axis=0))
    out: FloatArray = np.divide(
        (xc * oc).sum(axis=0), den, out=np.full(x.shape[1], np.nan), where=den > 0
    )
    return out


def cronbach_alpha(items: ArrayLike) -> float:
    """Cronbach's α = k/(k-1) · (1 - Σ var_i / var_total); rows = subjects, columns = items."""
    x = _matrix(items, "Cronbach α 系数", 2, 2)
    k = x.shape[1]
    var_items = x.var(axis=0, ddof=1).sum()
    var_total = x.sum(axis=1).var(ddof=1)
    if var_total == 0:
        raise EngineError("总分没有差异时无法计算 Cronbach α 系数")
    return float(k / (k - 1) * (1.0 - var_items / var_total))


def icc(ratings: ArrayLike) -> dict[str, float]:
    """Intraclass correlations of Shrout & Fleiss (1979) for a targets × raters matrix.

    ICC1 one-way random, ICC2 two-way random, ICC3 two-way mixed (consistency); the ``k``
    forms are the reliabilities of the mean of the k raters.
    """
    x = _matrix(ratings, "组内相关系数 ICC", 2, 2)
    n, k = x.shape
    grand = x.mean()
    row = x.mean(axis=1)
    col = x.mean(axis=0)
    ss_total = ((x - grand) ** 2).sum()
    ss_rows = k * ((row - grand) ** 2).sum()
    ss_cols = n * ((col - grand) ** 2).sum()
    bms = ss_rows / (n - 1)
    wms = (ss_total - ss_rows) / (n * (k - 1))
    jms = ss_cols / (k - 1)
    ems = (ss_total - ss_rows - ss_cols) / ((n - 1) * (k - 1))
    return {
        "ICC1": float((bms - wms) / (bms + (k - 1) * wms)),
        "ICC2": float((bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n)),
        "ICC3": float((bms - ems) / (bms + (k - 1) * ems)),
        "ICC1k": float((bms - wms) / bms),
        "ICC2k": float((bms - ems) / (bms + (jms - ems) / n)),
        "ICC3k": float((bms - ems) / bms),
    }


def kendall_w(ratings: ArrayLike) -> dict[str, float]:
    """Kendall's coefficient of concordance W with tie correction, for a targets × raters matrix.

    W = 12 S / (m² (n³ - n) - m Σ T), T = Σ (t³ - t) over each rater's tie groups; also the
    χ² = m (n - 1) W approximation with n - 1 degrees of freedom and its p-value.
    """
    x = _matrix(ratings, "Kendall 和谐系数 W", 2, 2)
    n, m = x.shape
    ranks = stats.rankdata(x, axis=0)
    r_sum = ranks.sum(axis=1)
    s = float(((r_sum - r_sum.mean()) ** 2).sum())
    srt = np.sort(x, axis=0)
    # tie groups per rater: lengths of runs of equal values in each sorted column
    brk = np.vstack([np.ones((1, m), bool), srt[1:] != srt[:-1], np.ones((1, m), bool)])
    t_corr = 0.0
    cols = np.nonzero(brk.T)
    starts = cols[1]
    rater = cols[0]
    lens = np.diff(starts)
    same = rater[1:] == rater[:-1]
    run = lens[same].astype(np.float64)
    t_corr = float((run**3 - run).sum())
    den = m**2 * (n**3 - n) - m * t_corr
    w = 12.0 * s / den if den > 0 else float("nan")
    chi2 = m * (n - 1) * w
    p = float(stats.chi2.sf(chi2, n - 1))
    return {"W": float(w), "S": s, "chi2": float(chi2), "df": float(n - 1), "p": p, "ties": t_corr}


def rater_leniency(ev: Evaluation, threshold: float | None = None) -> dict[str, Any]:
    """Per-rater leniency/severity from the raw rater scores of an evaluation.

    For every rating, the deviation of its rate from the mean rate of its cell (target,
    indicator, group); a rater's mean deviation divided by the standard deviation of the rater
    means gives z. Flags: 1 lenient (z > threshold), -1 severe (z < -threshold), 0 neither.
    """
    from .raters import _dense_ids, score_rates

    thr = ev.settings.leniency_threshold if threshold is None else threshold
    sc = ev.inputs.scores
    if not len(sc.value):
        empty = np.zeros(0)
        return {"rater": np.zeros(0, np.int64), "n": empty, "mean_deviation": empty, "z": empty,
                "flag": np.zeros(0, np.int64)}  # fmt: skip
    leaf, rate = score_rates(sc, ev.tree, ev.params)
    n_l, n_g = ev.tree.n_leaves, len(ev.tree.tree.rater_groups)
    key = (sc.target * n_l + leaf) * n_g + sc.group
    _, cell = np.unique(key, return_inverse=True)
    cnt = np.bincount(cell).astype(np.float64)
    mean = np.bincount(cell, rate) / cnt
    dev = rate - mean[cell]
    rid, n_r = _dense_ids(sc.rater)
    rcnt = np.bincount(rid, minlength=n_r).astype(np.float64)
    present = rcnt > 0
    md = np.bincount(rid, dev, n_r)[present] / rcnt[present]
    sd = md.std(ddof=1) if len(md) > 1 else 0.0
    z = md / sd if sd > 0 else np.zeros_like(md)
    ids = np.unique(sc.rater) if rid is not sc.rater else np.flatnonzero(present)
    flag = np.where(z > thr, 1, np.where(z < -thr, -1, 0))
    return {"rater": ids, "n": rcnt[present], "mean_deviation": md, "z": z, "flag": flag}
