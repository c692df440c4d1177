"""Helpers for the engine tests (pure numpy; no Django, no database)."""

from __future__ import annotations

from typing import Any

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
    Targets,
    evaluate,
)
from kaoping.engine.explain import check_additive


def targets(n: int, groups: list[str] | None = None) -> Targets:
    return Targets([f"T{i}" for i in range(n)], [f"target {i}" for i in range(n)], groups)


def assert_explanations_add_up(ev: Any) -> None:
    for t in range(len(ev.targets)):
        tree = ev.explain(t)
        assert abs(tree["contribution"] - ev.total[t]) <= 1e-9
        assert check_additive(tree) <= 1e-9


def rating_tree(groups: dict[str, float] | None = None) -> IndicatorTree:
    """Two dimensions, three rating leaves (max 10), relative weights."""
    gw = groups or {"committee": 0.4, "leaders": 0.2, "members": 0.3, "masses": 0.1}
    return IndicatorTree(
        nodes=[
            Node("D1", "政治建设", weight=2),
            Node("D2", "组织建设", weight=1),
            Node("L1", parent="D1", weight=1, rule=Rule("rating", max=10)),
            Node("L2", parent="D1", weight=1, rule=Rule("rating", max=10)),
            Node("L3", parent="D2", weight=1, rule=Rule("rating", max=10)),
        ],
        rater_groups=[RaterGroup(c) for c in gw],
        default_rater_weights=gw,
    )


def random_scores(
    rng: np.random.Generator, n_t: int, tree: IndicatorTree, per_cell: int = 3
) -> ScoreInputs:
    leaves = [i for i, n in enumerate(tree.nodes) if n.rule is not None and n.rule.kind == "rating"]
    n_g = len(tree.rater_groups)
    t, ind, g, r = np.meshgrid(
        np.arange(n_t), np.array(leaves), np.arange(n_g), np.arange(per_cell), indexing="ij"
    )
    t, ind, g, r = t.ravel(), ind.ravel(), g.ravel(), r.ravel()
    v = np.round(rng.uniform(0, 10, len(t)), 1)
    return ScoreInputs(t, ind, g, g * 100 + r, v)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)


__all__ = [
    "Inputs",
    "Settings",
    "assert_explanations_add_up",
    "evaluate",
    "random_scores",
    "rating_tree",
    "targets",
]
