"""Hierarchical roll-up, vetoes, rounding, explanations and the engine's invariants."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaoping.engine import (
    IndicatorTree,
    Inputs,
    Node,
    Rule,
    Settings,
    Targets,
    ValueInputs,
    Veto,
    VetoInputs,
    evaluate,
    weight_sensitivity,
)
from kaoping.engine.model import BallotInputs, OccurrenceInputs, ScoreInputs

from .helpers import assert_explanations_add_up, random_case, random_scores, rating_tree, targets


def test_relative_weights_roll_up() -> None:
    tree = rating_tree()
    rng = np.random.default_rng(3)
    s = random_scores(rng, 5, tree)
    ev = evaluate(tree, targets(5), Inputs(scores=s))
    # D1 = 2/3 of 100 points, leaves of D1 = 1/3 each, D2's leaf 1/3
    np.testing.assert_allclose(ev.tree.points, [100, 200 / 3, 100 / 3, 100 / 3, 100 / 3, 100 / 3])
    # independent computation: per leaf weighted group means
    gw = np.array([0.4, 0.2, 0.3, 0.1])
    expected = np.zeros(5)
    for leaf, pts in ((2, 100 / 3), (3, 100 / 3), (4, 100 / 3)):
        for t in range(5):
            m = (s.target == t) & (s.indicator == leaf)
            means = np.array([s.value[m & (s.group == g)].mean() for g in range(4)])
            expected[t] += pts * (gw * means / 10).sum()
    np.testing.assert_allclose(ev.total, expected)
    np.testing.assert_allclose(ev.dimension_scores.sum(axis=1), ev.total)
    assert ev.dimension_codes == ["D1", "D2"]
    assert ev.indicator_codes == ["L1", "L2", "L3"]
    assert_explanations_add_up(ev)


def deep_tree() -> IndicatorTree:
    return IndicatorTree(
        nodes=[
            Node("A", weight=1),
            Node("A1", parent="A", weight=1),
            Node("A11", parent="A1", weight=1),
            Node("x", parent="A11", weight=1, rule=Rule("linear", floor=0, target=1)),
            Node("y", parent="A11", weight=3, rule=Rule("linear", floor=0, target=1)),
            Node("B", weight=1, rule=Rule("linear", floor=0, target=1), veto=Veto("zero")),
        ]
    )


def test_any_depth_and_zero_veto() -> None:
    inputs = Inputs(
        values=ValueInputs([0, 0, 0, 1, 1, 1], [3, 4, 5, 3, 4, 5], [1, 0.5, 1, 1, 1, 1]),
        vetoes=VetoInputs([1], [5]),
    )
    ev = evaluate(deep_tree(), targets(2), inputs)
    assert ev.total[0] == pytest.approx(50 * (0.25 + 0.75 * 0.5) + 50)
    assert ev.total[1] == 0 and ev.total_before_veto[1] == 100
    assert ev.veto[1] and ev.flags(1) == ["veto"]
    assert ev.grade_labels == ["较好", "差"]
    e = ev.explain(1)
    assert e["children"][-1] == {"code": "veto", "name": "一票否决", "contribution": -100.0}
    assert e["children"][1]["veto"] == {"effect": "zero", "grade": None}
    assert_explanations_add_up(ev)


def test_rounding_stages_are_explained() -> None:
    inputs = Inputs(values=ValueInputs([0, 0, 0], [3, 4, 5], [1 / 3, 1 / 7, 0.123456]))
    for stage in ("none", "indicator", "total"):
        ev = evaluate(
            deep_tree(), targets(1), inputs, Settings(rounding_stage=stage, rounding_decimals=1)
        )
        assert_explanations_add_up(ev)
        if stage == "total":
            assert ev.total[0] == round(ev.total[0], 1)
        if stage == "indicator":
            np.testing.assert_allclose(ev.leaf_score, np.round(ev.leaf_score, 1))


def test_explanations_are_json_and_complete() -> None:
    tree = rating_tree()
    s = random_scores(np.random.default_rng(5), 3, tree)
    ev = evaluate(tree, targets(3), Inputs(scores=s))
    res = ev.result_dict()
    text = json.dumps(res, ensure_ascii=False, allow_nan=False)
    back = json.loads(text)
    assert back["results"][0]["target"] == "T0"
    assert back["settings"]["within_group"] == "mean"
    ex = ev.explanations()
    assert len(ex) == 3 and "ratings" not in ex[0]["children"][0]["children"][0]["children"][0]


def test_ranks_within_groups() -> None:
    tree = rating_tree()
    s = random_scores(np.random.default_rng(7), 6, tree)
    t = Targets([f"T{i}" for i in range(6)], None, ["甲", "乙", "甲", "乙", "甲", "乙"])
    ev = evaluate(tree, t, Inputs(scores=s))
    for g in ("甲", "乙"):
        idx = [i for i in range(6) if t.groups and t.groups[i] == g]
        order = sorted(idx, key=lambda i: -ev.total[i])
        assert [int(ev.group_rank[i]) for i in order] == [1, 2, 3]
    assert sorted(ev.rank.tolist()) == [1, 2, 3, 4, 5, 6]


def test_bad_inputs_refused() -> None:
    tree = rating_tree()
    with pytest.raises(ValueError, match="超出范围"):
        evaluate(tree, targets(1), Inputs(scores=ScoreInputs([3], [2], [0], [0], [1])))
    with pytest.raises(ValueError, match="非末级指标"):
        evaluate(tree, targets(1), Inputs(scores=ScoreInputs([0], [0], [0], [0], [1])))
    with pytest.raises(ValueError, match="一票否决"):
        evaluate(tree, targets(1), Inputs(vetoes=VetoInputs([0], [2])))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_random_trees_explanations_add_up(seed: int) -> None:
    tree, tg, inputs, st_ = random_case(seed)
    ev = evaluate(tree, tg, inputs, st_)
    assert np.isfinite(ev.total).all()
    assert_explanations_add_up(ev)
    json.dumps(ev.result_dict(), allow_nan=False)


def _permute(inputs: Inputs, perm: np.ndarray) -> Inputs:
    inv = np.argsort(perm)  # old index -> new index
    s, v, o, b, x = inputs.scores, inputs.values, inputs.occurrences, inputs.ballots, inputs.vetoes
    return Inputs(
        scores=ScoreInputs(inv[s.target], s.indicator, s.group, s.rater, s.value),
        values=ValueInputs(inv[v.target], v.indicator, v.value),
        occurrences=OccurrenceInputs(inv[o.target], o.item, o.count),
        ballots=BallotInputs(inv[b.target], b.question, b.group, b.grade, b.count),
        vetoes=VetoInputs(inv[x.target], x.indicator),
    )


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.randoms(use_true_random=False))
def test_permuting_targets_permutes_results(seed: int, rnd: object) -> None:
    tree, tg, inputs, st_ = random_case(seed)
    n = len(tg)
    perm = np.random.default_rng(seed + 1).permutation(n)
    tg2 = Targets(
        [tg.codes[i] for i in perm], None, [tg.groups[i] for i in perm] if tg.groups else None
    )
    ev = evaluate(tree, tg, inputs, st_)
    ev2 = evaluate(tree, tg2, _permute(inputs, perm), st_)
    np.testing.assert_allclose(ev2.total, ev.total[perm], atol=1e-9)
    assert ev2.grade.tolist() == ev.grade[perm].tolist()
    assert ev2.rank.tolist() == ev.rank[perm].tolist()
    assert ev2.group_rank.tolist() == ev.group_rank[perm].tolist()


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.01, 5))
def test_raising_one_input_never_lowers_a_total(seed: int, bump: float) -> None:
    tree, tg, inputs, st_ = random_case(seed)
    st_.rounding_stage = "none"
    ev = evaluate(tree, tg, inputs, st_)
    rng = np.random.default_rng(seed)
    s, v = inputs.scores, inputs.values
    if len(s.value):
        k = int(rng.integers(0, len(s.value)))
        rule = tree.nodes[int(s.indicator[k])].rule
        assert rule is not None
        new = s.value.copy()
        if rule.kind == "rating":
            assert rule.max is not None
            new[k] = min(new[k] + bump, rule.max)
        else:
            new[k] = max(new[k] - 1, 0)  # a better grade has a lower index
        up = Inputs(
            scores=ScoreInputs(s.target, s.indicator, s.group, s.rater, new),
            values=inputs.values,
            occurrences=inputs.occurrences,
            ballots=inputs.ballots,
            vetoes=inputs.vetoes,
        )
        ev2 = evaluate(tree, tg, up, st_)
        t = int(s.target[k])
        assert ev2.total_before_veto[t] >= ev.total_before_veto[t] - 1e-9
    if len(v.value):
        k = int(rng.integers(0, len(v.value)))
        rule = tree.nodes[int(v.indicator[k])].rule
        assert rule is not None
        newv = v.value.copy()
        newv[k] += bump
        up = Inputs(
            scores=inputs.scores,
            values=ValueInputs(v.target, v.indicator, newv),
            occurrences=inputs.occurrences,
            ballots=inputs.ballots,
            vetoes=inputs.vetoes,
        )
        ev2 = evaluate(tree, tg, up, st_)
        t = int(v.target[k])
        assert ev2.total_before_veto[t] >= ev.total_before_veto[t] - 1e-9


def test_sensitivity_runs_and_is_sane() -> None:
    tree = rating_tree()
    s = random_scores(np.random.default_rng(9), 40, tree, per_cell=2)
    ev = evaluate(tree, targets(40), Inputs(scores=s))
    out = weight_sensitivity(ev, n_samples=200, spread=0.3, seed=1)
    assert out["spearman"].shape == (200,)
    assert -1 <= out["spearman_mean"] <= 1 and out["spearman_mean"] > 0.5
    assert 0 <= out["grade_change_mean"] <= 1
    none = weight_sensitivity(ev, n_samples=10, spread=0.0)
    np.testing.assert_allclose(none["spearman"], 1.0)
    assert none["grade_change_mean"] == 0
    leaf = weight_sensitivity(ev, level="indicator", n_samples=50, spread=0.2)
    assert leaf["level"] == "indicator"
