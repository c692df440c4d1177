"""Every indicator rule kind, through ``evaluate`` on one-leaf trees."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kaoping.engine import (
    Band,
    IndicatorTree,
    Inputs,
    Item,
    Node,
    OccurrenceInputs,
    RaterGroup,
    Rule,
    ScoreInputs,
    Settings,
    ValueInputs,
    evaluate,
)

from .helpers import assert_explanations_add_up, targets


def one_leaf(rule: Rule, points: float = 10, **node_kw: object) -> IndicatorTree:
    return IndicatorTree(
        nodes=[Node("L", weight=points, rule=rule, **node_kw)],  # type: ignore[arg-type]
        weighting="points",
        rater_groups=[RaterGroup("g")],
        default_rater_weights={"g": 1.0},
    )


def values_eval(rule: Rule, xs: list[float], points: float = 10) -> np.ndarray:
    tree = one_leaf(rule, points)
    n = len(xs)
    inputs = Inputs(values=ValueInputs(np.arange(n), np.zeros(n, int), np.array(xs, float)))
    ev = evaluate(tree, targets(n), inputs)
    assert_explanations_add_up(ev)
    return ev.total


def test_linear_between_floor_and_target() -> None:
    t = values_eval(Rule("linear", floor=60, target=100), [50, 60, 80, 100, 120])
    np.testing.assert_allclose(t, [0, 0, 5, 10, 10])


def test_linear_cost_direction() -> None:
    t = values_eval(Rule("linear", floor=10, target=0, direction="cost"), [0, 5, 10, 20])
    np.testing.assert_allclose(t, [10, 5, 0, 0])


def test_ratio_to_target_with_cap() -> None:
    t = values_eval(Rule("ratio_to_target", target=50), [25, 50, 100])
    np.testing.assert_allclose(t, [5, 10, 10])
    t = values_eval(Rule("ratio_to_target", target=50, cap=1.2), [25, 100])
    np.testing.assert_allclose(t, [5, 12])
    t = values_eval(Rule("ratio_to_target", target=2, direction="cost"), [1, 2, 4])
    np.testing.assert_allclose(t, [10, 10, 5])


def test_ratio_to_best() -> None:
    # own ÷ first place × points
    t = values_eval(Rule("ratio_to_best"), [80, 100, 50], points=20)
    np.testing.assert_allclose(t, [16, 20, 10])
    t = values_eval(Rule("ratio_to_best", direction="cost"), [2, 4, 8], points=20)
    np.testing.assert_allclose(t, [20, 10, 5])


def test_banded_table() -> None:
    # ≥90% → 200, 80–90% → 190, 70-80% → 150, else 100 (points 200)
    rule = Rule(
        "banded",
        bands=[Band(0.9, 200), Band(0.8, 190), Band(0.7, 150)],
        else_score=100,
    )
    t = values_eval(rule, [0.95, 0.9, 0.85, 0.8, 0.75, 0.2], points=200)
    np.testing.assert_allclose(t, [200, 200, 190, 190, 150, 100])
    cost = Rule("banded", direction="cost", bands=[Band(0, 10), Band(2, 6)], else_score=0)
    np.testing.assert_allclose(values_eval(cost, [0, 1, 2, 3]), [10, 6, 6, 0])


def occ_eval(rule: Rule, counts: list[list[float]], points: float = 10) -> np.ndarray:
    tree = one_leaf(rule, points)
    t, i = np.nonzero(np.ones((len(counts), len(rule.items))))
    c = np.array(counts, float).ravel()
    inputs = Inputs(occurrences=OccurrenceInputs(t, i, c))
    ev = evaluate(tree, targets(len(counts)), inputs)
    assert_explanations_add_up(ev)
    return ev.total


def test_deduction_capped_at_points() -> None:
    rule = Rule("deduction", items=[Item("late", 1), Item("complaint", 3)])
    t = occ_eval(rule, [[0, 0], [2, 1], [5, 4]])
    np.testing.assert_allclose(t, [10, 5, 0])  # 扣完为止
    capped = Rule("deduction", items=[Item("late", 1)], cap=4)
    np.testing.assert_allclose(occ_eval(capped, [[10]]), [6])


def test_bonus_with_cap_is_extra() -> None:
    tree = IndicatorTree(
        nodes=[
            Node("L", weight=10, rule=Rule("linear", floor=0, target=1)),
            Node("B", rule=Rule("bonus", items=[Item("case", 2)], cap=3)),
            Node("P", rule=Rule("penalty", items=[Item("issue", 1.5)], cap=5)),
        ],
        weighting="points",
    )
    inputs = Inputs(
        values=ValueInputs([0, 1, 2], [0, 0, 0], [1.0, 1.0, 0.5]),
        occurrences=OccurrenceInputs([0, 1, 2, 2], [0, 0, 0, 1], [1, 5, 0, 2]),
    )
    ev = evaluate(tree, targets(3), inputs)
    np.testing.assert_allclose(ev.total, [12, 13, 2])
    assert ev.tree.points[0] == 10  # extra points are outside the full marks
    assert_explanations_add_up(ev)


def test_base_score_with_additions_and_deductions() -> None:
    rule = Rule("base_adjust", base=80, max=100, items=[Item("good", 5), Item("bad", -10)])
    t = occ_eval(rule, [[0, 0], [2, 1], [6, 0], [0, 9]], points=100)
    np.testing.assert_allclose(t, [80, 80, 100, 0])


def test_points_rating_and_grade() -> None:
    tree = IndicatorTree(
        nodes=[
            Node("R", weight=10, rule=Rule("rating", max=5)),
            Node(
                "G",
                weight=20,
                rule=Rule(
                    "grade",
                    labels=["优秀", "称职", "基本称职", "不称职"],
                    coefficients=[100, 80, 60, 40],
                ),
            ),
        ],
        weighting="points",
        rater_groups=[RaterGroup("g")],
        default_rater_weights={"g": 1},
    )
    scores = ScoreInputs(
        [0, 0, 0, 1, 1], [0, 1, 1, 0, 1], [0] * 5, [1, 1, 2, 1, 1], [4, 0, 1, 5, 3]
    )
    ev = evaluate(tree, targets(2), Inputs(scores=scores))
    # T0: R = 4/5*10 = 8; G = mean(100, 80)/100*20 = 18. T1: 10 + 40/100*20 = 18
    np.testing.assert_allclose(ev.total, [26, 18])
    with pytest.raises(ValueError, match="超出了其指标的"):
        evaluate(tree, targets(1), Inputs(scores=ScoreInputs([0], [0], [0], [0], [6])))
    with pytest.raises(ValueError, match="有效等次序号"):
        evaluate(tree, targets(1), Inputs(scores=ScoreInputs([0], [1], [0], [0], [4])))


def test_missing_value_policies() -> None:
    def tree(policy: str) -> IndicatorTree:
        return IndicatorTree(
            nodes=[
                Node("A", weight=30, rule=Rule("linear", floor=0, target=1), missing=policy),
                Node("B", weight=10, rule=Rule("linear", floor=0, target=1)),
            ],
            weighting="points",
        )

    inputs = Inputs(values=ValueInputs([0, 0, 1], [0, 1, 1], [0.5, 0.5, 0.5]))
    ren = evaluate(tree("renormalize"), targets(2), inputs)
    np.testing.assert_allclose(ren.total, [20, 20])  # T1: B alone scaled to 40 points
    assert not ren.incomplete.any()
    zero = evaluate(tree("zero"), targets(2), inputs)
    np.testing.assert_allclose(zero.total, [20, 5])
    assert not zero.incomplete.any()
    inc = evaluate(tree("incomplete"), targets(2), inputs)
    np.testing.assert_allclose(inc.total, [20, 5])
    assert list(inc.incomplete) == [False, True]
    assert inc.grade[1] == -1 and inc.rank[1] == 0  # no grade, no rank
    assert inc.flags(1) == ["incomplete"]
    for ev in (ren, zero, inc):
        assert_explanations_add_up(ev)
    e = ren.explain(1)
    assert e["renormalized"] == pytest.approx(4.0)
    assert e["children"][0]["missing"] is True


def test_nan_value_is_missing() -> None:
    t = values_eval(Rule("linear", floor=0, target=1), [math.nan, 1.0])
    # a single leaf without data: the target has no base, so it is incomplete with 0
    np.testing.assert_allclose(t, [0, 10])


def test_settings_default_missing_applies() -> None:
    tree = IndicatorTree(
        nodes=[
            Node("A", weight=1, rule=Rule("linear", floor=0, target=1)),
            Node("B", weight=1, rule=Rule("linear", floor=0, target=1)),
        ]
    )
    inputs = Inputs(values=ValueInputs([0], [1], [1.0]))
    ev = evaluate(tree, targets(1), inputs, Settings(default_missing="zero"))
    np.testing.assert_allclose(ev.total, [50])
