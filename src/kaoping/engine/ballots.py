"""Democratic appraisal ballots (民主测评): grade counts, shares and rates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import EngineError
from .model import BallotInputs, FloatArray, IntArray
from .rules import LeafParams, band_lookup


def ballot_counts(ballots: BallotInputs, shape: tuple[int, int, int, int]) -> FloatArray:
    """Dense grade counts of shape (targets, questions, groups, grades)."""
    n_t, n_q, n_g, n_k = shape
    for name, arr, hi in (
        ("target", ballots.target, n_t),
        ("question", ballots.question, n_q),
        ("group", ballots.group, n_g),
        ("grade", ballots.grade, n_k),
    ):
        if len(arr) and (arr.min() < 0 or arr.max() >= hi):
            raise EngineError(f"BallotInputs.{name} 超出范围")
    if len(ballots.count) and (ballots.count < 0).any():
        raise EngineError("BallotInputs.count 必须不小于 0")
    key = ((ballots.target * n_q + ballots.question) * n_g + ballots.group) * n_k + ballots.grade
    c: FloatArray = np.bincount(key, ballots.count, n_t * n_q * n_g * n_k).astype(np.float64)
    return c.reshape(shape)


@dataclass
class BallotStats:
    """Ballot statistics over the last axis (grades, best first) of a count array."""

    n: FloatArray
    shares: FloatArray
    good_rate: FloatArray  # 好评率: share of the best grade
    satisfaction_rate: FloatArray  # 满意率: share of the two best grades (好 + 较好)
    bad_rate: FloatArray  # 差评率: share of the worst grade
    grade_score: FloatArray  # weighted grade score, in coefficient units (e.g. 0..100)


def ballot_stats(counts: FloatArray, coefficients: FloatArray | list[float]) -> BallotStats:
    """Shares and rates per row of ``counts`` (any leading shape, grades last); NaN if no ballots."""
    c = np.asarray(counts, dtype=np.float64)
    coef = np.asarray(coefficients, dtype=np.float64)
    n = c.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = c / n[..., None]
    good = shares[..., 0]
    sat = shares[..., : min(2, c.shape[-1])].sum(axis=-1)
    sat = np.where(n > 0, sat, np.nan)
    bad = shares[..., -1]
    score = (shares * coef).sum(axis=-1)
    score = np.where(n > 0, score, np.nan)
    return BallotStats(n, shares, good, sat, bad, score)


def ballot_leaf_values(
    counts: FloatArray, coefficients: list[float], lp: LeafParams, cols: IntArray
) -> tuple[FloatArray, IntArray]:
    """Group rates (T, len(cols), G) and ballot counts of ballot leaves ``cols``."""
    c = counts[:, lp.question[cols]]  # (T, Lb, G, K)
    st = ballot_stats(c, coefficients)
    meas = lp.measure[cols][None, :, None]
    raw = np.select(
        [meas == 0, meas == 1, meas == 2],
        [st.grade_score / max(coefficients), st.good_rate, st.satisfaction_rate],
        st.bad_rate,
    )
    has_b = lp.has_bands[cols]
    banded = (
        np.moveaxis(
            band_lookup(
                np.moveaxis(raw, 1, -1),
                lp.band_bounds[cols],
                lp.band_scores[cols],
                lp.else_score[cols],
                lp.cost[cols],
            ),
            -1,
            1,
        )
        / lp.full[cols][None, :, None]
    )
    plain = np.where(meas == 3, 1.0 - raw, raw)
    value = np.where(has_b[None, :, None], banded, plain)
    value = np.where(st.n > 0, value, np.nan)
    return value, st.n.astype(np.int64)
