"""Helpers shared by the engine tests (pure numpy; no Django, no database)."""

from __future__ import annotations

from typing import Any

import numpy as np

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


__all__ = [
    "Inputs",
    "Settings",
    "assert_explanations_add_up",
    "evaluate",
    "random_scores",
    "rating_tree",
    "targets",
]


def random_case(seed: int, n_t: int = 7) -> tuple[Any, ...]:
    """A random tree (depth up to 3, every rule kind) with random inputs and settings."""
    from kaoping.engine import (
        BallotInputs,
        Band,
        Item,
        OccurrenceInputs,
        Rule,
        ValueInputs,
        Veto,
        VetoInputs,
    )

    rng = np.random.default_rng(seed)
    groups = ["committee", "leaders", "members", "masses"]
    gw = dict(zip(groups, rng.uniform(0.1, 1, 4).round(2).tolist(), strict=True))
    nodes: list[Node] = []
    kinds = [
        "rating", "grade", "linear", "ratio_to_target", "ratio_to_best", "banded",
        "deduction", "base_adjust", "ballot", "bonus", "penalty",
    ]  # fmt: skip
    policies = ["renormalize", "zero", "incomplete", None]

    def leaf(code: str, parent: str | None) -> None:
        kind = str(rng.choice(kinds))
        rule: Rule
        if kind == "rating":
            rule = Rule(kind, max=float(rng.choice([5, 10, 100])))
        elif kind == "grade":
            rule = Rule(kind)
        elif kind == "linear":
            rule = Rule(kind, floor=0.2, target=0.9)
        elif kind == "ratio_to_target":
            rule = Rule(kind, target=0.8, cap=float(rng.choice([1.0, 1.2])))
        elif kind == "ratio_to_best":
            rule = Rule(kind)
        elif kind == "banded":
            rule = Rule(kind, bands=[Band(0.9, 10), Band(0.7, 8), Band(0.5, 5)], else_score=1)
        elif kind == "deduction":
            rule = Rule(kind, items=[Item("a", 1.0), Item("b", 2.5)])
        elif kind == "base_adjust":
            rule = Rule(kind, base=60, max=100, items=[Item("a", 5.0), Item("b", -7.0)])
        elif kind == "ballot":
            rule = Rule(
                kind,
                question="Q1",
                measure=str(
                    rng.choice(["grade_score", "good_rate", "satisfaction_rate", "bad_rate"])
                ),
            )
        else:
            rule = Rule(kind, items=[Item("a", 1.5)], cap=4.0)
        veto = None
        if rng.random() < 0.15:
            veto = (
                Veto("zero")
                if rng.random() < 0.5
                else Veto("ceiling", str(rng.choice(["较好", "一般"])))
            )
        nodes.append(
            Node(
                code,
                parent=parent,
                weight=float(rng.integers(1, 10)),
                rule=rule,
                missing=policies[int(rng.integers(0, 4))],
                rater_weights=None if rng.random() < 0.7 else {"committee": 1.0, "members": 0.5},
                veto=veto,
            )
        )

    n_dims = int(rng.integers(1, 4))
    for d in range(n_dims):
        dc = f"D{d}"
        nodes.append(
            Node(dc, weight=float(rng.integers(1, 5)), missing=policies[int(rng.integers(0, 4))])
        )
        for s in range(int(rng.integers(1, 3))):
            if rng.random() < 0.4:
                sc = f"{dc}.S{s}"
                nodes.append(Node(sc, parent=dc, weight=float(rng.integers(1, 5))))
                for k in range(int(rng.integers(1, 4))):
                    leaf(f"{sc}.L{k}", sc)
            else:
                leaf(f"{dc}.L{s}", dc)
    # make sure there is at least one normal leaf under each dimension's weight
    tree = IndicatorTree(
        nodes=nodes,
        rater_groups=[RaterGroup(g, min_ballots=int(rng.integers(1, 3))) for g in groups],
        default_rater_weights=gw,
        questions=["Q1"],
    )
    kinds_by_node = [n.rule.kind if n.rule else None for n in nodes]
    # rater scores
    rows_t, rows_i, rows_g, rows_r, rows_v = [], [], [], [], []
    for i, k in enumerate(kinds_by_node):
        if k not in ("rating", "grade"):
            continue
        rule = nodes[i].rule
        assert rule is not None
        for t in range(n_t):
            for g in range(4):
                for r in range(int(rng.integers(0, 4))):
                    rows_t.append(t)
                    rows_i.append(i)
                    rows_g.append(g)
                    rows_r.append(g * 10 + r)
                    if k == "rating":
                        assert rule.max is not None
                        rows_v.append(float(rng.integers(0, int(rule.max) + 1)))
                    else:
                        rows_v.append(float(rng.integers(0, 4)))
    scores = ScoreInputs(rows_t, rows_i, rows_g, rows_r, rows_v) if rows_t else ScoreInputs.empty()
    vt, vi, vv = [], [], []
    for i, k in enumerate(kinds_by_node):
        if k in ("linear", "ratio_to_target", "ratio_to_best", "banded"):
            for t in range(n_t):
                if rng.random() < 0.85:
                    vt.append(t)
                    vi.append(i)
                    vv.append(float(rng.uniform(0, 1.1)))
    values = ValueInputs(vt, vi, vv) if vt else ValueInputs.empty()
    items = tree.items()
    ot = rng.integers(0, n_t, 3 * len(items) + 1)
    oi = rng.integers(0, max(len(items), 1), len(ot))
    oc = rng.integers(0, 5, len(ot)).astype(float)
    occ = OccurrenceInputs(ot, oi, oc) if items else OccurrenceInputs.empty()
    bt, bq, bg, bk, bc = [], [], [], [], []
    for t in range(n_t):
        for g in range(4):
            if rng.random() < 0.7:
                for k in range(4):
                    bt.append(t)
                    bq.append(0)
                    bg.append(g)
                    bk.append(k)
                    bc.append(float(rng.integers(0, 6)))
    ballots = BallotInputs(bt, bq, bg, bk, bc)
    veto_nodes = [i for i, n in enumerate(nodes) if n.veto is not None]
    xt, xi = [], []
    for i in veto_nodes:
        for t in range(n_t):
            if rng.random() < 0.2:
                xt.append(t)
                xi.append(i)
    vetoes = VetoInputs(xt, xi) if xt else VetoInputs.empty()
    settings = Settings(
        within_group=str(rng.choice(["mean", "median", "trimmed_mean"])),
        trim_min_count=3,
        rounding_stage=str(rng.choice(["none", "indicator", "total"])),
        quotas={"好": 0.3} if rng.random() < 0.5 else {},
    )
    inputs = Inputs(scores=scores, values=values, occurrences=occ, ballots=ballots, vetoes=vetoes)
    groups_of_t = [str(rng.choice(["A", "B"])) for _ in range(n_t)]
    return tree, targets(n_t, groups_of_t), inputs, settings
