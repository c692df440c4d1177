"""Settings.aggregation: TOPSIS and fuzzy totals, checked against the library functions."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaoping.engine import (
    EngineError,
    Inputs,
    PackageError,
    Settings,
    evaluate,
    fuzzy_evaluate,
    fuzzy_score,
    topsis,
)
from kaoping.engine.aggregation import grade_centers, membership
from kaoping.engine.explain import check_additive
from kaoping.engine.sensitivity import weight_sensitivity

from .helpers import assert_explanations_add_up, random_case, random_scores, rating_tree, targets

# rating_tree: D1 (weight 2) with L1, L2 (1 each), D2 (weight 1) with L3: global weights
GLOBAL_W = np.array([1 / 3, 1 / 3, 1 / 3])


def _case(n_t: int = 6, seed: int = 3) -> tuple[object, object, Inputs]:
    tree = rating_tree()
    inputs = Inputs(scores=random_scores(np.random.default_rng(seed), n_t, tree))
    return tree, targets(n_t), inputs


def test_default_is_the_weighted_sum_and_unchanged() -> None:
    tree, tg, inputs = _case()
    ev = evaluate(tree, tg, inputs)
    np.testing.assert_array_equal(ev.total, ev.node_score[:, 0])
    np.testing.assert_array_equal(ev.method_scale, 1.0)
    assert "aggregation" not in ev.explain(0)
    assert "aggregation" not in ev.result_dict()["results"][0]


@pytest.mark.parametrize("normalization", ["vector", "minmax"])
def test_topsis_total_is_closeness_times_scale(normalization: str) -> None:
    tree, tg, inputs = _case()
    base = evaluate(tree, tg, inputs)
    st_ = Settings(aggregation="topsis", topsis_normalization=normalization)
    ev = evaluate(tree, tg, inputs, st_)
    rates = base.indicator_scores / base.tree.points[base.tree.leaf_pos]
    want = topsis(rates, GLOBAL_W, normalization=normalization)
    np.testing.assert_allclose(ev.method_value, want, rtol=1e-12)
    np.testing.assert_allclose(ev.total, want * 100, rtol=1e-12)
    # the weighted-sum tree is kept as supporting detail
    np.testing.assert_array_equal(ev.indicator_scores, base.indicator_scores)
    np.testing.assert_array_equal(ev.weighted_sum, base.total)
    assert not np.allclose(ev.total, base.total)
    assert_explanations_add_up(ev)
    x = ev.explain(0)
    agg = x["aggregation"]
    assert agg["method"] == "topsis" and agg["normalization"] == normalization
    assert agg["value"] == pytest.approx(want[0])
    assert agg["scale"] == pytest.approx(ev.total[0] / base.total[0])
    assert "TOPSIS 贴近度" in agg["note"] and "按比例" in agg["note"]
    # contributions scaled proportionally: each dimension keeps its share of the total
    for d_ev, d_base in zip(x["children"], base.explain(0)["children"], strict=True):
        assert d_ev["contribution"] == pytest.approx(d_base["contribution"] * agg["scale"])
        assert d_ev["score"] == d_base["score"]


def test_topsis_normalization_changes_the_result() -> None:
    tree, tg, inputs = _case()
    a = evaluate(tree, tg, inputs, Settings(aggregation="topsis"))
    b = evaluate(tree, tg, inputs, Settings(aggregation="topsis", topsis_normalization="minmax"))
    assert not np.allclose(a.total, b.total)


def _fuzzy_reference(ev_ws: object, st_: Settings) -> np.ndarray:
    """The fuzzy total computed by hand from the library functions."""
    ev = ev_ws
    rates = ev.indicator_scores / ev.tree.points[ev.tree.leaf_pos]  # type: ignore[attr-defined]
    v = np.clip(rates, 0, 1) * 100
    centers = np.array([95.0, 85.0, 70.0, 30.0])
    r = np.zeros((*v.shape, 4))
    for idx in np.ndindex(v.shape):
        x = v[idx]
        if x >= centers[0]:
            r[idx][0] = 1
        elif x <= centers[-1]:
            r[idx][-1] = 1
        else:
            k = int(np.flatnonzero(centers > x)[-1])  # x between centers[k] and centers[k+1]
            mu = (x - centers[k + 1]) / (centers[k] - centers[k + 1])
            r[idx][k], r[idx][k + 1] = mu, 1 - mu
    b = fuzzy_evaluate(GLOBAL_W, r, st_.fuzzy_operator)
    scores = st_.fuzzy_grade_scores or centers.tolist()
    out: np.ndarray = fuzzy_score(b, scores)
    return out


@pytest.mark.parametrize(
    "operator", ["weighted_average", "min_max", "product_max", "min_bounded_sum"]
)
def test_fuzzy_total_matches_the_library(operator: str) -> None:
    tree, tg, inputs = _case()
    base = evaluate(tree, tg, inputs)
    st_ = Settings(aggregation="fuzzy", fuzzy_operator=operator)
    ev = evaluate(tree, tg, inputs, st_)
    np.testing.assert_allclose(ev.total, _fuzzy_reference(base, st_), rtol=1e-12)
    assert_explanations_add_up(ev)
    agg = ev.explain(0)["aggregation"]
    assert agg["operator"] == operator
    assert list(agg["membership"]) == ["好", "较好", "一般", "差"]
    assert agg["grade_scores"] == {"好": 95.0, "较好": 85.0, "一般": 70.0, "差": 30.0}
    assert "模糊综合评价" in agg["note"]


def test_fuzzy_operator_and_grade_scores_change_the_result() -> None:
    tree, tg, inputs = _case()
    totals = [
        evaluate(tree, tg, inputs, Settings(aggregation="fuzzy", fuzzy_operator=op)).total
        for op in ("weighted_average", "min_max", "product_max")
    ]
    assert not np.allclose(totals[0], totals[1]) and not np.allclose(totals[0], totals[2])
    custom = Settings(aggregation="fuzzy", fuzzy_grade_scores=[100, 80, 60, 40])
    ev = evaluate(tree, tg, inputs, custom)
    np.testing.assert_allclose(ev.total, _fuzzy_reference(evaluate(tree, tg, inputs), custom))
    assert not np.allclose(ev.total, totals[0])


def test_fuzzy_weighted_average_reproduces_the_weighted_sum_inside_the_bands() -> None:
    # every leaf score between the outer grade centers (30 and 95): triangular membership and
    # the M(·,⊕) operator with the band midpoints as grade scores give back the weighted sum
    tree = rating_tree()
    rng = np.random.default_rng(5)
    scores = random_scores(rng, 8, tree)
    scores.value[:] = np.round(rng.uniform(3.5, 9.4, len(scores.value)), 1)
    inputs = Inputs(scores=scores)
    a = evaluate(tree, targets(8), inputs)
    b = evaluate(tree, targets(8), inputs, Settings(aggregation="fuzzy"))
    np.testing.assert_allclose(b.total, a.total, rtol=1e-12)


def test_membership_is_triangular_and_sums_to_one() -> None:
    c = grade_centers(Settings(), 100.0)
    np.testing.assert_array_equal(c, [95, 85, 70, 30])
    m = membership(np.array([100.0, 95, 90, 77.5, 50, 30, 0]), c)
    np.testing.assert_allclose(
        m,
        [[1, 0, 0, 0], [1, 0, 0, 0], [0.5, 0.5, 0, 0], [0, 0.5, 0.5, 0], [0, 0, 0.5, 0.5],
         [0, 0, 0, 1], [0, 0, 0, 1]],
    )  # fmt: skip
    with pytest.raises(EngineError, match="从高到低"):
        grade_centers(Settings(grade_thresholds=[90, 90, 90]), 100.0)
    with pytest.raises(EngineError, match="在 0 与满分 50 之间"):
        grade_centers(Settings(), 50.0)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["topsis", "fuzzy"]))
def test_explanations_add_up_on_random_trees(seed: int, method: str) -> None:
    tree, tg, inputs, st_ = random_case(seed)
    ev = evaluate(tree, tg, inputs, dataclasses.replace(st_, aggregation=method))
    for t in range(len(tg)):
        x = ev.explain(t)
        assert abs(x["contribution"] - ev.total[t]) <= 1e-9
        assert check_additive(x) <= 1e-9
        assert x["aggregation"]["method"] == method
    json.dumps(ev.result_dict(), allow_nan=False)


def test_a_target_without_weighted_points_keeps_the_method_total() -> None:
    # all-zero targets: TOPSIS gives every one 0.5 (all rows equal); the weighted sum is 0, so
    # nothing can be scaled and the total appears as an "aggregation" entry
    tree = rating_tree()
    scores = random_scores(np.random.default_rng(1), 3, tree)
    scores.value[:] = 0.0
    ev = evaluate(tree, targets(3), Inputs(scores=scores), Settings(aggregation="topsis"))
    np.testing.assert_allclose(ev.total, 50.0)
    x = ev.explain(0)
    assert x["children"][-1] == {
        "code": "aggregation",
        "name": "TOPSIS 贴近度",
        "contribution": 50.0,
    }
    assert check_additive(x) <= 1e-12 and "差额" in x["aggregation"]["note"]


def test_settings_validation_and_package() -> None:
    with pytest.raises(PackageError) as exc:
        Settings.from_dict({"aggregation": "ahp"})
    assert exc.value.path == "$.settings.aggregation"
    assert exc.value.message == "必须是以下之一：weighted_sum、topsis、fuzzy"
    with pytest.raises(PackageError, match="每个等次一个分值"):
        Settings.from_dict({"aggregation": "fuzzy", "fuzzy_grade_scores": [100, 80]})
    s = Settings.from_dict({"aggregation": "fuzzy", "fuzzy_grade_scores": [100, 80, 60, 40]})
    assert s.fuzzy_grade_scores == [100.0, 80.0, 60.0, 40.0]
    assert s.to_dict()["aggregation"] == "fuzzy"


def test_sensitivity_refuses_non_additive_totals() -> None:
    tree, tg, inputs = _case()
    ev = evaluate(tree, tg, inputs, Settings(aggregation="topsis"))
    with pytest.raises(EngineError, match="只适用于加权求和"):
        weight_sensitivity(ev)
