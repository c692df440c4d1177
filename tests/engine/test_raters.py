"""Rater groups: within-group aggregation, group weights, minimum ballots, standardization."""

from __future__ import annotations

import numpy as np
import pytest

from kaoping.engine import (
    IndicatorTree,
    Inputs,
    Node,
    RaterGroup,
    Rule,
    ScoreInputs,
    Settings,
    evaluate,
)

from .helpers import assert_explanations_add_up, targets


def tree(min_b: int | None = None) -> IndicatorTree:
    return IndicatorTree(
        nodes=[Node("L", weight=100, rule=Rule("rating", max=100))],
        weighting="points",
        rater_groups=[RaterGroup("committee"), RaterGroup("members", min_ballots=min_b)],
        default_rater_weights={"committee": 0.4, "members": 0.6},
    )


def scores(rows: list[tuple[int, int, int, float]]) -> ScoreInputs:
    t, g, r, v = (np.array(c) for c in zip(*rows, strict=True))
    return ScoreInputs(t, np.zeros(len(t), int), g, r, v)


MEMBERS = [(0, 1, k, v) for k, v in enumerate([90, 70, 80, 100, 10])]


def test_group_weights_mean() -> None:
    s = scores([(0, 0, 99, 80.0), *MEMBERS])
    ev = evaluate(tree(), targets(1), Inputs(scores=s))
    assert ev.total[0] == pytest.approx(0.4 * 80 + 0.6 * 70)
    e = ev.explain(0)["children"][0]["children"]
    assert [g["group"] for g in e] == ["committee", "members"]
    assert e[1]["ratings"] == [90, 70, 80, 100, 10]
    assert e[1]["n"] == 5
    assert_explanations_add_up(ev)


def test_median_and_trimmed_mean() -> None:
    s = scores([(0, 0, 99, 80.0), *MEMBERS])
    med = evaluate(tree(), targets(1), Inputs(scores=s), Settings(within_group="median"))
    assert med.total[0] == pytest.approx(0.4 * 80 + 0.6 * 80)
    trim = evaluate(tree(), targets(1), Inputs(scores=s), Settings(within_group="trimmed_mean"))
    assert trim.total[0] == pytest.approx(0.4 * 80 + 0.6 * 80)  # (90+70+80)/3
    # below trim_min_count nothing is trimmed
    few = evaluate(
        tree(),
        targets(1),
        Inputs(scores=s),
        Settings(within_group="trimmed_mean", trim_min_count=6),
    )
    assert few.total[0] == pytest.approx(0.4 * 80 + 0.6 * 70)


def test_even_median() -> None:
    s = scores([(0, 1, 1, 10.0), (0, 1, 2, 20.0), (0, 1, 3, 40.0), (0, 1, 4, 90.0)])
    ev = evaluate(tree(), targets(1), Inputs(scores=s), Settings(within_group="median"))
    assert ev.group_value[0, 0, 1] == pytest.approx(0.30)


def test_too_few_ballots_renormalizes_and_flags() -> None:
    s = scores(
        [
            (0, 0, 99, 80.0),
            (0, 1, 1, 10.0),
            (0, 1, 2, 10.0),
            (1, 0, 99, 50.0),
            *[(1, 1, k, 60.0) for k in range(3)],
        ]
    )
    ev = evaluate(tree(min_b=3), targets(2), Inputs(scores=s))
    assert ev.total[0] == pytest.approx(80)  # members dropped, committee weight 1
    assert ev.total[1] == pytest.approx(0.4 * 50 + 0.6 * 60)
    assert list(ev.too_few_ballots) == [True, False]
    assert ev.flags(0) == ["too_few_ballots"]
    g = ev.explain(0)["children"][0]["children"][1]
    assert g["too_few"] is True and g["contribution"] == 0
    assert_explanations_add_up(ev)


def test_settings_min_ballots_default() -> None:
    s = scores([(0, 0, 98, 80.0), (0, 0, 99, 80.0), (0, 1, 1, 10.0)])
    ev = evaluate(tree(), targets(1), Inputs(scores=s), Settings(min_ballots=2))
    assert ev.total[0] == pytest.approx(80)  # members (1 ballot) dropped
    ev = evaluate(tree(min_b=1), targets(1), Inputs(scores=s), Settings(min_ballots=2))
    assert ev.total[0] == pytest.approx(0.4 * 80 + 0.6 * 10)  # the group's own minimum wins


def test_zscore_standardization_removes_leniency() -> None:
    # rater 1 is lenient by +20 on every target; after standardization the two raters agree
    n = 6
    base = np.array([40.0, 50, 60, 70, 80, 90])
    t = np.r_[np.arange(n), np.arange(n)]
    v = np.r_[base, np.minimum(base + 10, 100)]
    s = ScoreInputs(t, np.zeros(2 * n, int), np.ones(2 * n, int), np.r_[np.zeros(n), np.ones(n)], v)
    ev = evaluate(tree(), targets(n), Inputs(scores=s), Settings(standardize="zscore"))
    raw = evaluate(tree(), targets(n), Inputs(scores=s))
    # same spread, shifted to the pooled mean: ranking unchanged
    assert list(np.argsort(ev.total)) == list(np.argsort(raw.total))
    gv = ev.group_value[:, 0, 1]
    np.testing.assert_allclose(np.diff(gv), np.diff(gv).mean(), rtol=1e-9)
    assert gv.mean() == pytest.approx(v.mean() / 100)
    assert_explanations_add_up(ev)


def test_rater_leniency_flags() -> None:
    from kaoping.engine.quality import rater_leniency

    rng = np.random.default_rng(1)
    n_t, n_r = 30, 8
    truth = rng.uniform(40, 90, n_t)
    t = np.repeat(np.arange(n_t), n_r)
    r = np.tile(np.arange(n_r), n_t)
    bias = np.where(np.arange(n_r) == 3, 15.0, 0.0)
    bias[5] = -15.0
    v = np.clip(truth[t] + bias[r] + rng.normal(0, 2, len(t)), 0, 100)
    s = ScoreInputs(t, np.zeros(len(t), int), np.ones(len(t), int), r, v)
    ev = evaluate(tree(), targets(n_t), Inputs(scores=s))
    out = rater_leniency(ev)
    assert list(out["rater"]) == list(range(n_r))
    assert out["flag"][3] == 1 and out["flag"][5] == -1
    assert (out["flag"][[0, 1, 2, 4, 6, 7]] == 0).all()
