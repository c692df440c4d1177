"""Democratic appraisal ballots (民主测评)."""

from __future__ import annotations

import numpy as np
import pytest

from kaoping.engine import (
    BallotInputs,
    Band,
    IndicatorTree,
    Inputs,
    Node,
    RaterGroup,
    Rule,
    ballot_stats,
    evaluate,
)

from .helpers import assert_explanations_add_up, targets


def test_ballot_stats() -> None:
    c = np.array([[20, 5, 3, 2], [0, 0, 0, 0]], float)
    s = ballot_stats(c, [100, 80, 60, 40])
    assert s.n.tolist() == [30, 0]
    assert s.good_rate[0] == pytest.approx(20 / 30)  # 好评率
    assert s.satisfaction_rate[0] == pytest.approx(25 / 30)  # 满意率 = 好 + 较好
    assert s.bad_rate[0] == pytest.approx(2 / 30)  # 差评率
    assert s.grade_score[0] == pytest.approx((2000 + 400 + 180 + 80) / 30)
    assert np.isnan(s.grade_score[1]) and np.isnan(s.satisfaction_rate[1])


def ballot_tree(rule: Rule) -> IndicatorTree:
    return IndicatorTree(
        nodes=[Node("B", weight=10, rule=rule)],
        weighting="points",
        rater_groups=[RaterGroup("members", min_ballots=5), RaterGroup("masses")],
        default_rater_weights={"members": 0.7, "masses": 0.3},
        questions=["Q1"],
    )


def inputs(counts: dict[tuple[int, int], list[int]]) -> Inputs:
    t, q, g, k, c = [], [], [], [], []
    for (tt, gg), cs in counts.items():
        for kk, cc in enumerate(cs):
            t.append(tt)
            q.append(0)
            g.append(gg)
            k.append(kk)
            c.append(cc)
    return Inputs(ballots=BallotInputs(t, q, g, k, c))


def test_ballot_grade_score_rule() -> None:
    tree = ballot_tree(Rule("ballot", question="Q1", measure="grade_score"))
    inp = inputs({(0, 0): [10, 0, 0, 0], (0, 1): [0, 0, 5, 5], (1, 0): [2, 2, 0, 0]})
    ev = evaluate(tree, targets(2), inp)
    # T0: members 100 -> 1.0, masses 50 -> 0.5: 10 * (0.7 + 0.15)
    assert ev.total[0] == pytest.approx(8.5)
    # T1: members have 4 < 5 ballots (too few), masses none: no result
    assert ev.total[1] == 0 and ev.too_few_ballots[1] and ev.incomplete[1]
    assert_explanations_add_up(ev)
    g = ev.explain(0)["children"][0]["children"][0]
    assert g["counts"] == {"好": 10, "较好": 0, "一般": 0, "差": 0}


def test_ballot_banded_satisfaction() -> None:
    rule = Rule(
        "ballot",
        question="Q1",
        measure="satisfaction_rate",
        bands=[Band(0.9, 10), Band(0.8, 8)],
        else_score=5,
    )
    tree = ballot_tree(rule)
    inp = inputs({(0, 0): [8, 1, 1, 0], (1, 0): [5, 3, 2, 0], (2, 0): [3, 3, 4, 0]})
    ev = evaluate(tree, targets(3), inp)
    np.testing.assert_allclose(ev.total, [10, 8, 5])


def test_ballot_bad_rate_is_cost() -> None:
    tree = ballot_tree(Rule("ballot", question="Q1", measure="bad_rate"))
    ev = evaluate(tree, targets(1), inputs({(0, 0): [5, 2, 1, 2]}))
    assert ev.total[0] == pytest.approx(10 * 0.8)
