"""Validation of an IndicatorTree and its compilation into level-ordered arrays."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import PackageError
from .model import (
    BALLOT_MEASURES,
    EXTRA_KINDS,
    OCCURRENCE_KINDS,
    RULE_KINDS,
    BoolArray,
    FloatArray,
    IndicatorTree,
    IntArray,
)
from .settings import MISSING, Settings, one_of

POLICY_CODES = {name: i for i, name in enumerate(MISSING)}  # renormalize 0, zero 1, incomplete 2
ROOT_CODE = "TOTAL"


@dataclass
class CompiledTree:
    """The tree in breadth-first positions; position 0 is the synthetic root ``TOTAL``.

    Children of one parent are contiguous and levels are contiguous, so a level's roll-up is one
    ``np.add.reduceat`` over columns.
    """

    tree: IndicatorTree
    node_of_pos: IntArray  # pos -> index in tree.nodes (-1 for root)
    pos_of_node: IntArray  # tree.nodes index -> pos
    parent: IntArray  # pos -> parent pos (-1 for root)
    depth: IntArray
    is_leaf: BoolArray
    is_extra: BoolArray
    weight: FloatArray
    points: FloatArray  # nominal full marks of each node
    policy: IntArray
    #: per depth d >= 1: (start, end, parents of the contiguous child block, reduceat offsets)
    levels: list[tuple[int, int, IntArray, IntArray]]
    leaf_pos: IntArray  # leaf number -> pos
    leaf_of_node: IntArray  # tree.nodes index -> leaf number (-1 if internal)
    group_weights: FloatArray  # (L, G) rater-group weights of each leaf (raw, not normalized)
    group_min: IntArray  # (G,) minimum ballots per group

    @property
    def n_pos(self) -> int:
        return len(self.parent)

    @property
    def n_leaves(self) -> int:
        return len(self.leaf_pos)

    def code(self, pos: int) -> str:
        n = int(self.node_of_pos[pos])
        return ROOT_CODE if n < 0 else self.tree.nodes[n].code

    def name(self, pos: int) -> str:
        n = int(self.node_of_pos[pos])
        return "总分" if n < 0 else self.tree.nodes[n].name


def _num(x: float | None) -> bool:
    return x is not None and isinstance(x, int | float) and math.isfinite(x)


def validate_rules(tree: IndicatorTree, leaf: list[bool]) -> None:
    questions = set(tree.questions)
    for i, node in enumerate(tree.nodes):
        p = f"$.indicators[{i}]"
        rule = node.rule
        if not leaf[i]:
            if rule is not None:
                raise PackageError(f"{p}.rule", "只有末级指标才能设置计分规则（该指标有下级指标）")
            continue
        if rule is None:
            raise PackageError(f"{p}.rule", "末级指标必须设置计分规则")
        r = f"{p}.rule"
        k = rule.kind
        if k not in RULE_KINDS:
            raise PackageError(f"{r}.kind", one_of(RULE_KINDS))
        if rule.direction not in ("benefit", "cost"):
            raise PackageError(f"{r}.direction", "必须是 benefit（越大越好）或 cost（越小越好）")
        if rule.max is not None and not (_num(rule.max) and rule.max > 0):
            raise PackageError(f"{r}.max", "必须是大于 0 的数字")
        if k == "rating" and rule.max is None:
            raise PackageError(f"{r}.max", "必须填写（评价人打分的满分）")
        if k == "grade":
            if len(rule.labels) != len(rule.coefficients) or not rule.labels:
                raise PackageError(f"{r}.coefficients", "每个等次都要有一个系数")
            if len(set(rule.labels)) != len(rule.labels):
                raise PackageError(f"{r}.labels", "等次名称不能重复")
            if max(rule.coefficients) <= 0 or min(rule.coefficients) < 0:
                raise PackageError(f"{r}.coefficients", "必须都不小于 0，且最大的系数大于 0")
        if k == "linear":
            if not _num(rule.floor):
                raise PackageError(f"{r}.floor", "必须是数字")
            if not _num(rule.target):
                raise PackageError(f"{r}.target", "必须是数字")
            assert rule.floor is not None and rule.target is not None
            good = (
                rule.target > rule.floor
                if rule.direction == "benefit"
                else rule.target < rule.floor
            )
            if not good:
                raise PackageError(
                    f"{r}.target",
                    "与方向不符：越大越好（benefit）时目标值应高于下限，越小越好（cost）时应低于下限",
                )
        if k == "ratio_to_target":
            if not (_num(rule.target) and rule.target is not None and rule.target > 0):
                raise PackageError(f"{r}.target", "必须是大于 0 的数字")
            if rule.cap is not None and not (_num(rule.cap) and rule.cap > 0):
                raise PackageError(f"{r}.cap", "必须是大于 0 的数字")
        if k == "banded" or (k == "ballot" and rule.bands):
            if not rule.bands:
                raise PackageError(f"{r}.bands", "至少要有一档")
            for j, b in enumerate(rule.bands):
                if not _num(b.bound):
                    raise PackageError(f"{r}.bands[{j}].bound", "必须是数字")
                if not (_num(b.score) and b.score >= 0):
                    raise PackageError(f"{r}.bands[{j}].score", "必须是不小于 0 的数字")
        if k in OCCURRENCE_KINDS:
            if not rule.items:
                raise PackageError(f"{r}.items", "至少要有一个事项")
            codes = [it.code for it in rule.items]
            if len(set(codes)) != len(codes):
                raise PackageError(f"{r}.items", "事项编码不能重复")
            for j, it in enumerate(rule.items):
                if not _num(it.per):
                    raise PackageError(f"{r}.items[{j}].per", "必须是数字")
                if k != "base_adjust" and it.per < 0:
                    raise PackageError(
                        f"{r}.items[{j}].per",
                        "必须不小于 0（加减分请用 base_adjust、bonus 或 penalty 规则）",
                    )
        if k in ("bonus", "penalty") and not (
            _num(rule.cap) and rule.cap is not None and rule.cap >= 0
        ):
            raise PackageError(f"{r}.cap", "必须是不小于 0 的数字")
        if k == "deduction" and rule.cap is not None and not (_num(rule.cap) and rule.cap >= 0):
            raise PackageError(f"{r}.cap", "必须是不小于 0 的数字")
        if k == "base_adjust" and not _num(rule.base):
            raise PackageError(f"{r}.base", "必须是数字")
        if k == "ballot":
            if rule.question not in questions:
                raise PackageError(
                    f"{r}.question", "必须是已声明的测评题目编码（$.ballot.questions）"
                )
            if rule.measure not in BALLOT_MEASURES:
                raise PackageError(f"{r}.measure", one_of(BALLOT_MEASURES))


def compile_tree(tree: IndicatorTree, settings: Settings) -> CompiledTree:
    nodes = tree.nodes
    if not nodes:
        raise PackageError("$.indicators", "至少要有一个指标")
    if tree.weighting not in ("relative", "points"):
        raise PackageError("$.weighting", "必须是 relative（相对权重）或 points（分值）")
    index: dict[str, int] = {}
    for i, n in enumerate(nodes):
        if not isinstance(n.code, str) or not n.code or n.code == ROOT_CODE:
            raise PackageError(f"$.indicators[{i}].code", "必须是非空字符串，且不能是 TOTAL")
        if n.code in index:
            raise PackageError(f"$.indicators[{i}].code", f"编码“{n.code}”重复")
        index[n.code] = i
    children: dict[int, list[int]] = {-1: []}
    parent_idx = []
    for i, n in enumerate(nodes):
        if n.parent is None:
            pi = -1
        elif n.parent in index:
            pi = index[n.parent]
        else:
            raise PackageError(f"$.indicators[{i}].parent", f"未知的指标：{n.parent!r}")
        parent_idx.append(pi)
        children.setdefault(pi, []).append(i)
    leaf = [i not in children for i in range(len(nodes))]
    validate_rules(tree, leaf)
    groups = tree.group_index()
    g_count = len(groups)
    for i, n in enumerate(nodes):
        p = f"$.indicators[{i}]"
        extra = n.rule is not None and n.rule.kind in EXTRA_KINDS
        if not (_num(n.weight) and n.weight >= 0) and not extra:
            raise PackageError(f"{p}.weight", "必须是不小于 0 的数字")
        if n.missing is not None and n.missing not in MISSING:
            raise PackageError(f"{p}.missing", one_of(MISSING))
        if n.veto is not None:
            if n.veto.effect not in ("zero", "ceiling"):
                raise PackageError(
                    f"{p}.veto.effect", "必须是 zero（总分记 0）或 ceiling（等次封顶）"
                )
            if n.veto.effect == "ceiling" and n.veto.grade not in settings.grades:
                raise PackageError(f"{p}.veto.grade", one_of(settings.grades))
        if n.rater_weights is not None:
            for g, w in n.rater_weights.items():
                if g not in groups:
                    raise PackageError(f"{p}.rater_weights.{g}", "未知的评价主体")
                if not (_num(w) and w >= 0):
                    raise PackageError(f"{p}.rater_weights.{g}", "必须是不小于 0 的数字")
    for g, w in tree.default_rater_weights.items():
        if g not in groups:
            raise PackageError(f"$.rater_weights.{g}", "未知的评价主体")
        if not (_num(w) and w >= 0):
            raise PackageError(f"$.rater_weights.{g}", "必须是不小于 0 的数字")

    # breadth-first order with children of one parent contiguous
    order: list[int] = [-1]
    depth_of: dict[int, int] = {-1: 0}
    head = 0
    while head < len(order):
        cur = order[head]
        head += 1
        for c in children.get(cur, []):
            depth_of[c] = depth_of[cur] + 1
            order.append(c)
    if len(order) != len(nodes) + 1:
        bad = next(i for i in range(len(nodes)) if i not in depth_of)
        raise PackageError(f"$.indicators[{bad}].parent", "上级指标关系形成了循环")
    n_pos = len(order)
    node_of_pos = np.array(order, dtype=np.int64)
    pos_of_node = np.empty(len(nodes), dtype=np.int64)
    pos_of_node[node_of_pos[1:]] = np.arange(1, n_pos)
    parent = np.array([-1] + [0 if parent_idx[i] < 0 else 0 for i in order[1:]], dtype=np.int64)
    parent[1:] = [0 if parent_idx[i] < 0 else int(pos_of_node[parent_idx[i]]) for i in order[1:]]
    depth = np.array([depth_of[i] for i in order], dtype=np.int64)
    is_leaf = np.array([False] + [leaf[i] for i in order[1:]])
    extra_flags = [False]
    for i in order[1:]:
        rule = nodes[i].rule
        extra_flags.append(rule is not None and rule.kind in EXTRA_KINDS)
    is_extra = np.array(extra_flags, dtype=bool)
    weight = np.array([1.0] + [float(nodes[i].weight) for i in order[1:]])
    weight[is_extra] = 0.0
    policy = np.array(
        [0] + [POLICY_CODES[nodes[i].missing or settings.default_missing] for i in order[1:]],
        dtype=np.int64,
    )
    levels: list[tuple[int, int, np.ndarray, np.ndarray]] = []
    for d in range(1, int(depth.max()) + 1):
        idx = np.flatnonzero(depth == d)
        start, end = int(idx[0]), int(idx[-1]) + 1
        par = parent[start:end]
        cut = np.flatnonzero(np.r_[True, par[1:] != par[:-1]])
        levels.append((start, end, par[cut], cut))

    # nominal points
    points = np.zeros(n_pos)
    if tree.weighting == "points":
        points[is_leaf & ~is_extra] = weight[is_leaf & ~is_extra]
        for start, end, pars, cut in reversed(levels):
            sums = np.add.reduceat(points[start:end] * ~is_extra[start:end], cut)
            internal = ~is_leaf[pars]
            points[pars[internal]] = sums[internal]
        weight = points.copy()
        weight[0] = 1.0
    else:
        points[0] = settings.scale
        for start, end, _pars, cut in levels:
            w = weight[start:end] * ~is_extra[start:end]
            tot = np.add.reduceat(w, cut)
            counts = np.diff(np.r_[cut, end - start])
            tot_per_child = np.repeat(tot, counts)
            share = np.divide(w, tot_per_child, out=np.zeros_like(w), where=tot_per_child > 0)
            points[start:end] = points[parent[start:end]] * share
    for pos in range(1, n_pos):
        if not is_leaf[pos] and not is_extra[pos]:
            kids = (parent == pos) & ~is_extra
            if kids.any() and weight[kids].sum() <= 0:
                i = int(node_of_pos[pos])
                raise PackageError(f"$.indicators[{i}]", "下级指标的权重合计为 0")

    leaf_pos = np.flatnonzero(is_leaf)
    leaf_of_node = np.full(len(nodes), -1, dtype=np.int64)
    leaf_of_node[node_of_pos[leaf_pos]] = np.arange(len(leaf_pos))
    gw = np.zeros((len(leaf_pos), g_count))
    for li, lpos in enumerate(leaf_pos.tolist()):
        n = nodes[int(node_of_pos[lpos])]
        rw = n.rater_weights if n.rater_weights is not None else tree.default_rater_weights
        for g, w in rw.items():
            gw[li, groups[g]] = w
    for li, lpos in enumerate(leaf_pos.tolist()):
        n = nodes[int(node_of_pos[lpos])]
        if (
            n.rule is not None
            and n.rule.kind in ("rating", "grade", "ballot")
            and gw[li].sum() <= 0
        ):
            i = int(node_of_pos[lpos])
            raise PackageError(
                f"$.indicators[{i}].rater_weights", "至少要有一个评价主体的权重大于 0"
            )
    group_min = np.array(
        [
            g.min_ballots if g.min_ballots is not None else settings.min_ballots
            for g in tree.rater_groups
        ],
        dtype=np.int64,
    )
    return CompiledTree(
        tree=tree,
        node_of_pos=node_of_pos,
        pos_of_node=pos_of_node,
        parent=parent,
        depth=depth,
        is_leaf=is_leaf,
        is_extra=is_extra,
        weight=weight,
        points=points,
        policy=policy,
        levels=levels,
        leaf_pos=leaf_pos,
        leaf_of_node=leaf_of_node,
        group_weights=gw,
        group_min=group_min,
    )
