"""Quality statistics against published examples."""

from __future__ import annotations

import numpy as np
import pytest

from kaoping.engine import cronbach_alpha, icc, indicator_quality, item_total_correlation, kendall_w

# Shrout & Fleiss (1979), Psychological Bulletin 86(2), Table 2: 6 targets x 4 judges.
SHROUT_FLEISS = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
)


def test_icc_shrout_fleiss_table_2() -> None:
    r = icc(SHROUT_FLEISS)
    published = {
        "ICC1": 0.17,
        "ICC2": 0.29,
        "ICC3": 0.71,
        "ICC1k": 0.44,
        "ICC2k": 0.62,
        "ICC3k": 0.91,
    }
    for key, value in published.items():
        assert round(r[key], 2) == value, key


def test_cronbach_alpha_equals_icc3k_on_shrout_fleiss() -> None:
    # alpha with the judges as items equals ICC(3,k) (McGraw & Wong 1996): .91 in Shrout &
    # Fleiss (1979)
    assert round(cronbach_alpha(SHROUT_FLEISS), 2) == 0.91
    assert cronbach_alpha(SHROUT_FLEISS) == pytest.approx(icc(SHROUT_FLEISS)["ICC3k"])


def test_cronbach_alpha_by_definition(rng: np.random.Generator) -> None:
    x = rng.integers(1, 6, (20, 5)).astype(float)
    k = 5
    expected = k / (k - 1) * (1 - x.var(0, ddof=1).sum() / x.sum(1).var(ddof=1))
    assert cronbach_alpha(x) == pytest.approx(expected)


def test_kendall_w_siegel_example() -> None:
    # Siegel (1956), Nonparametric Statistics, ch. 9: three executives rank six applicants;
    # s = 25.5, W = 0.16.
    ranks = np.array([[1, 6, 3, 2, 5, 4], [1, 5, 6, 4, 2, 3], [6, 3, 2, 5, 4, 1]]).T
    r = kendall_w(ranks)
    assert r["S"] == 25.5
    assert round(r["W"], 2) == 0.16
    assert r["df"] == 5


def _w_by_hand(x: np.ndarray) -> float:
    n, m = x.shape
    ranks = np.empty_like(x, dtype=float)
    ties = 0.0
    for j in range(m):
        col = x[:, j]
        for i in range(n):
            less = (col < col[i]).sum()
            equal = (col == col[i]).sum()
            ranks[i, j] = less + (equal + 1) / 2
        _, counts = np.unique(col, return_counts=True)
        ties += (counts**3 - counts).sum()
    r = ranks.sum(1)
    s = ((r - r.mean()) ** 2).sum()
    return 12 * s / (m**2 * (n**3 - n) - m * ties)


def test_kendall_w_tie_correction(rng: np.random.Generator) -> None:
    x = rng.integers(1, 4, (8, 5)).astype(float)  # many ties
    r = kendall_w(x)
    assert r["ties"] > 0
    assert r["W"] == pytest.approx(_w_by_hand(x))


def test_kendall_w_perfect_agreement() -> None:
    x = np.tile(np.arange(6.0)[:, None], (1, 4))
    assert kendall_w(x)["W"] == pytest.approx(1.0)


def test_item_total_correlation() -> None:
    x = SHROUT_FLEISS.astype(float)
    r = item_total_correlation(x)
    for j in range(4):
        other = x.sum(1) - x[:, j]
        assert r[j] == pytest.approx(np.corrcoef(x[:, j], other)[0, 1])
    r2 = item_total_correlation(x, corrected=False)
    assert r2[0] == pytest.approx(np.corrcoef(x[:, 0], x.sum(1))[0, 1])


def test_indicator_quality_cv() -> None:
    x = np.array([[1.0, 5.0], [3.0, 5.0], [np.nan, 5.0]])
    q = indicator_quality(x)
    assert q["mean"][0] == 2 and q["std"][0] == pytest.approx(np.sqrt(2))
    assert q["cv"][0] == pytest.approx(np.sqrt(2) / 2)
    assert q["cv"][1] == 0 and q["range"][1] == 0
