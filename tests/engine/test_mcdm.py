"""TOPSIS (Hwang & Yoon) and fuzzy comprehensive evaluation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kaoping.engine import fuzzy_evaluate, fuzzy_score, max_membership_grade, topsis

# Hwang & Yoon (1981), "Multiple Attribute Decision Making", fighter aircraft example:
# max speed, ferry range, max payload, purchasing cost (cost), reliability, maneuverability.
AIRCRAFT = np.array(
    [
        [2.0, 1500, 20000, 5.5, 5, 9],
        [2.5, 2700, 18000, 6.5, 3, 5],
        [1.8, 2000, 21000, 4.5, 7, 7],
        [2.2, 1800, 20000, 5.0, 5, 5],
    ]
)
AIRCRAFT_W = [0.2, 0.1, 0.1, 0.1, 0.2, 0.3]
AIRCRAFT_B = [True, True, True, False, True, True]


def test_topsis_hwang_yoon_aircraft() -> None:
    c = topsis(AIRCRAFT, AIRCRAFT_W, AIRCRAFT_B)
    # published closeness coefficients 0.643, 0.268, 0.613, 0.312 (A1 > A3 > A4 > A2); the
    # book rounds intermediate distances to 4 decimals, hence the tolerance
    np.testing.assert_allclose(c, [0.643, 0.268, 0.613, 0.312], atol=0.001)
    assert list(np.argsort(-c)) == [0, 2, 3, 1]


def test_topsis_minmax_matches_pymcdm() -> None:
    pymcdm = pytest.importorskip("pymcdm")
    from pymcdm import normalizations

    ref = pymcdm.methods.TOPSIS(normalizations.minmax_normalization)(
        AIRCRAFT, np.array(AIRCRAFT_W), np.array([1, 1, 1, -1, 1, 1])
    )
    np.testing.assert_allclose(topsis(AIRCRAFT, AIRCRAFT_W, AIRCRAFT_B, "minmax"), ref)


@settings(max_examples=30, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(2, 8), st.just(4)), elements=st.floats(1, 100)),
    st.data(),
)
def test_topsis_permuting_rows_permutes_results(x: np.ndarray, data: st.DataObject) -> None:
    perm = np.array(data.draw(st.permutations(list(range(len(x))))))
    w = [0.1, 0.2, 0.3, 0.4]
    c = topsis(x, w, [True, False, True, True])
    np.testing.assert_allclose(topsis(x[perm], w, [True, False, True, True]), c[perm], atol=1e-12)
    assert ((c >= 0) & (c <= 1)).all()


# Textbook example (培训教材例题 "关于模糊综合评价的矩阵算法"): A = (0.2, 0.2, 0.2, 0.4),
# 4 factors x 5 grades; with M(∧,∨) the published B = (0.1, 0.2, 0.4, 0.3, 0.2),
# normalized (0.083, 0.167, 0.333, 0.250, 0.167).
FUZZY_A = [0.2, 0.2, 0.2, 0.4]
FUZZY_R = [
    [0.0, 0.1, 0.2, 0.3, 0.4],
    [0.1, 0.1, 0.4, 0.2, 0.2],
    [0.0, 0.1, 0.2, 0.6, 0.1],
    [0.0, 0.2, 0.5, 0.3, 0.0],
]


def test_fuzzy_min_max_textbook_example() -> None:
    b = fuzzy_evaluate(FUZZY_A, FUZZY_R, "min_max")
    np.testing.assert_allclose(b, [0.1, 0.2, 0.4, 0.3, 0.2])
    bn = fuzzy_evaluate(FUZZY_A, FUZZY_R, "min_max", normalize=True)
    np.testing.assert_allclose(bn, [0.083, 0.167, 0.333, 0.250, 0.167], atol=0.0005)
    assert max_membership_grade(b) == 2


def test_fuzzy_other_operators_by_hand() -> None:
    a, r = np.array(FUZZY_A), np.array(FUZZY_R)
    np.testing.assert_allclose(fuzzy_evaluate(a, r), [0.02, 0.14, 0.36, 0.34, 0.14])
    np.testing.assert_allclose(fuzzy_evaluate(a, r, "product_max"), (a[:, None] * r).max(0))
    np.testing.assert_allclose(
        fuzzy_evaluate(a, r, "min_bounded_sum"),
        np.minimum(1, np.minimum(a[:, None], r).sum(0)),
    )
    b = fuzzy_evaluate(a, r)
    assert fuzzy_score(b, [100, 80, 60, 40, 20]) == pytest.approx(
        (b * [100, 80, 60, 40, 20]).sum() / b.sum()
    )


def test_fuzzy_batched_over_targets() -> None:
    r = np.stack([np.array(FUZZY_R), np.array(FUZZY_R)[::-1]])
    b = fuzzy_evaluate(FUZZY_A, r, "weighted_average")
    assert b.shape == (2, 5)
    np.testing.assert_allclose(b[0], fuzzy_evaluate(FUZZY_A, FUZZY_R))
