"""Entropy and CRITIC weights, cross-checked with pymcdm and hand computation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kaoping.engine import EngineError, combine_weights, critic_weights, entropy_weights


def test_entropy_hand_example() -> None:
    # column 1 uniform (no information), column 2 concentrated
    x = np.array([[1.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    w = entropy_weights(x)
    # e1 = 1; p2 = (1, 0, 0): e2 = 0 with 0 ln 0 = 0
    np.testing.assert_allclose(w, [0.0, 1.0], atol=1e-12)


def test_entropy_matches_pymcdm_on_positive_data(rng: np.random.Generator) -> None:
    pymcdm = pytest.importorskip("pymcdm")
    x = rng.uniform(1, 100, (30, 6))
    np.testing.assert_allclose(entropy_weights(x), pymcdm.weights.entropy_weights(x), rtol=1e-10)


def test_entropy_minmax_reverses_cost_columns() -> None:
    x = np.array([[1.0, 10.0], [2.0, 20.0], [4.0, 40.0]])
    a = entropy_weights(x, benefit=[True, True], normalization="minmax")
    b = entropy_weights(x, benefit=[True, False], normalization="minmax")
    assert not np.allclose(a, b)

    def e(p: np.ndarray) -> float:
        p = p[p > 0]
        return float(-(p * np.log(p)).sum() / np.log(3))

    e1 = e(np.array([0.0, 1 / 3, 1.0]) / (4 / 3))  # column 1: y = (0, 1/3, 1)
    e2 = e(np.array([1.0, 2 / 3, 0.0]) / (5 / 3))  # column 2 as cost: y = (1, 2/3, 0)
    np.testing.assert_allclose(b, np.array([1 - e1, 1 - e2]) / (2 - e1 - e2))


def test_entropy_refuses_negative_without_normalization() -> None:
    with pytest.raises(EngineError):
        entropy_weights([[1, -1], [2, 3]])


def test_critic_matches_pymcdm(rng: np.random.Generator) -> None:
    pymcdm = pytest.importorskip("pymcdm")
    x = rng.uniform(0, 1, (25, 5))
    np.testing.assert_allclose(critic_weights(x), pymcdm.weights.critic_weights(x), rtol=1e-10)


def test_critic_formula_by_hand() -> None:
    x = np.array([[1.0, 3.0, 2.0], [2.0, 1.0, 2.5], [3.0, 2.0, 0.0], [4.0, 4.0, 1.0]])
    y = (x - x.min(0)) / (x.max(0) - x.min(0))
    c = y.std(0) * (1 - np.corrcoef(y.T)).sum(0)
    np.testing.assert_allclose(critic_weights(x), c / c.sum())


def test_combine_linear_and_multiplicative() -> None:
    s, o = [0.5, 0.3, 0.2], [0.2, 0.2, 0.6]
    np.testing.assert_allclose(combine_weights(s, o, "linear", 0.7), [0.41, 0.27, 0.32])
    m = np.array([0.1, 0.06, 0.12])
    np.testing.assert_allclose(combine_weights(s, o, "multiplicative"), m / m.sum())
    with pytest.raises(EngineError):
        combine_weights(s, o, "linear", 1.5)


@settings(max_examples=30, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(2, 8), st.integers(1, 6)), elements=st.floats(0, 100))
)
def test_weights_sum_to_one(x: np.ndarray) -> None:
    for w in (
        entropy_weights(x),
        entropy_weights(x, normalization="minmax"),
        critic_weights(x),
    ):
        assert w.sum() == pytest.approx(1.0)
        assert (w >= -1e-12).all()


def _entropy_reference(x: np.ndarray) -> np.ndarray:
    s = x.sum(axis=0)
    p = x / np.where(s > 0, s, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    e = np.where(s > 0, -plogp.sum(axis=0) / np.log(len(x)), 1.0)  # all-zero column: e = 1
    d = 1 - e
    out: np.ndarray = d / d.sum()
    return out


@pytest.mark.parametrize("zeros", [False, True])
def test_entropy_large_matrix_blocks_and_threads(rng: np.random.Generator, zeros: bool) -> None:
    # enough rows for several blocks on several threads; zeros take the careful path
    x = rng.uniform(0, 10, (20_011, 7))
    if zeros:
        x[::3, 2] = 0.0
        x[:, 5] = 0.0  # a column without information
    np.testing.assert_allclose(entropy_weights(x), _entropy_reference(x), rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, -1.0])
def test_entropy_refuses_non_finite_and_negative(rng: np.random.Generator, bad: float) -> None:
    x = rng.uniform(1, 10, (9000, 4))
    x[4321, 1] = bad
    message = "不小于 0" if bad == -1.0 else "有限的数字"
    with pytest.raises(EngineError, match=message):
        entropy_weights(x)
