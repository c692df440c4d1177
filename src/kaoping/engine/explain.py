"""Explanation trees (total -> dimension -> indicator -> rater group -> raw inputs) and result JSON."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .model import OCCURRENCE_KINDS, VALUE_KINDS

if TYPE_CHECKING:
    from .evaluate import Evaluation

RESULT_FORMAT = "kaoping.result/1"


def _num(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


class Explainer:
    """Builds explanation dicts for one evaluation; static tree facts are computed once."""

    def __init__(self, ev: Evaluation, *, ratings: bool = False) -> None:
        self.ev = ev
        self.ratings = ratings
        ct = ev.tree
        tree = ct.tree
        self.children: list[list[int]] = [[] for _ in range(ct.n_pos)]
        for pos, par in enumerate(ct.parent.tolist()):
            if par >= 0:
                self.children[par].append(pos)
        self.codes = [ct.code(p) for p in range(ct.n_pos)]
        self.names = [ct.name(p) for p in range(ct.n_pos)]
        self.points = ct.points.tolist()
        self.leaf_num = np.full(ct.n_pos, -1, dtype=np.int64)
        self.leaf_num[ct.leaf_pos] = np.arange(ct.n_leaves)
        self.leaf_list = self.leaf_num.tolist()
        self.kinds = ev.params.kind
        self.full = ev.params.full.tolist()
        self.group_codes = [g.code for g in tree.rater_groups]
        self.group_used = [[g for g, x in enumerate(w) if x > 0] for w in ct.group_weights.tolist()]
        self.items = tree.items()
        self.items_of_leaf: dict[int, list[tuple[int, str]]] = {}
        for k, (i, it) in enumerate(self.items):
            self.items_of_leaf.setdefault(int(ct.leaf_of_node[i]), []).append((k, it.code))
        self.rules = [tree.nodes[int(ct.node_of_pos[p])].rule for p in ct.leaf_pos]
        self.vetoes = [n.veto for n in tree.nodes]

    def _leaf_inputs(self, t: int, li: int, ctx: dict[str, Any]) -> dict[str, Any]:
        ev = self.ev
        kind = self.kinds[li]
        out: dict[str, Any] = {}
        if kind in VALUE_KINDS:
            out["value"] = _num(ctx["values"][li])
        elif kind in OCCURRENCE_KINDS:
            counts = ctx["occ"]
            out["items"] = {code: counts[k] for k, code in self.items_of_leaf.get(li, [])}
        elif kind == "veto":
            pos = int(ev.tree.leaf_pos[li])
            out["triggered"] = int(ev.tree.node_of_pos[pos]) in ctx["vetoed"]
        return out

    def _groups(self, t: int, pos: int, li: int, ctx: dict[str, Any]) -> list[dict[str, Any]]:
        ev = self.ev
        kind = self.kinds[li]
        gv, gn, gw, tf = ctx["gv"][li], ctx["gn"][li], ctx["gw"][li], ctx["tf"][li]
        scale = ctx["mult"][pos] * self.points[pos]
        full = self.full[li]
        rule = self.rules[li]
        out = []
        for g in self.group_used[li]:
            w = gw[g]
            rate = gv[g]
            d: dict[str, Any] = {
                "group": self.group_codes[g],
                "weight": w,
                "n": gn[g],
                "rate": _num(rate),
                "contribution": scale * w * rate if w > 0 else 0.0,
            }
            if kind in ("rating", "grade"):
                d["value"] = _num(rate * full)
                if self.ratings and rule is not None:
                    vals = ctx["ratings"].get((li, g), [])
                    if kind == "grade":
                        d["ratings"] = [rule.labels[int(v)] for v in vals]
                    else:
                        d["ratings"] = vals
            elif kind == "ballot" and rule is not None:
                q = int(ev.params.question[li])
                labels = ev.tree.tree.ballot_labels
                d["counts"] = dict(zip(labels, ctx["ballots"][q][g], strict=True))
            if tf[g]:
                d["too_few"] = True
            out.append(d)
        rnd = ctx["rounding"][li]
        if rnd != 0.0:
            out.append({"code": "rounding", "contribution": ctx["mult"][pos] * rnd})
        return out

    def _node(self, t: int, pos: int, ctx: dict[str, Any]) -> dict[str, Any]:
        d: dict[str, Any] = {
            "code": self.codes[pos],
            "name": self.names[pos],
            "points": self.points[pos],
            "score": ctx["score"][pos],
            "contribution": ctx["contrib"][pos],
        }
        node_idx = int(self.ev.tree.node_of_pos[pos])
        if node_idx >= 0 and self.vetoes[node_idx] is not None and node_idx in ctx["vetoed"]:
            v = self.vetoes[node_idx]
            assert v is not None
            d["veto"] = {"effect": v.effect, "grade": v.grade}
        li = self.leaf_list[pos]
        if li < 0:
            if ctx["factor"][pos] != 1.0:
                d["renormalized"] = ctx["factor"][pos]
            if not ctx["avail"][pos]:
                d["missing"] = True
            d["children"] = [self._node(t, c, ctx) for c in self.children[pos]]
            return d
        d["rule"] = self.kinds[li]
        if ctx["missing"][li]:
            d["missing"] = True
        d["inputs"] = self._leaf_inputs(t, li, ctx)
        if self.kinds[li] in ("rating", "grade", "ballot"):
            d["children"] = self._groups(t, pos, li, ctx)
        elif ctx["rounding"][li] != 0.0:
            rounding = ctx["mult"][pos] * ctx["rounding"][li]
            d["children"] = [
                {"code": "unrounded", "contribution": ctx["contrib"][pos] - rounding},
                {"code": "rounding", "contribution": rounding},
            ]
        return d

    def build(self, t: int) -> dict[str, Any]:
        ev = self.ev
        vt = ev.inputs.vetoes
        ctx: dict[str, Any] = {
            "contrib": ev.contribution[t].tolist(),
            "score": ev.node_score[t].tolist(),
            "factor": ev.factor[t].tolist(),
            "mult": ev.multiplier[t].tolist(),
            "avail": ev.node_available[t].tolist(),
            "missing": ev.leaf_missing[t].tolist(),
            "rounding": ev.leaf_rounding[t].tolist(),
            "gv": ev.group_value[t].tolist(),
            "gn": ev.group_count[t].tolist(),
            "gw": ev.group_weight[t].tolist(),
            "tf": ev.too_few[t].tolist(),
            "values": ev.values[t].tolist(),
            "occ": ev.occurrence_counts[t].tolist(),
            "ballots": ev.ballot_counts[t].tolist(),
            "vetoed": set(vt.indicator[vt.target == t].tolist()),
        }
        if self.ratings:
            sc = ev.inputs.scores
            rows = np.flatnonzero(sc.target == t)
            leaf = ev.tree.leaf_of_node[sc.indicator[rows]].tolist()
            grp = sc.group[rows].tolist()
            ratings: dict[tuple[int, int], list[float]] = {}
            for li, g, v in zip(leaf, grp, sc.value[rows].tolist(), strict=True):
                ratings.setdefault((li, g), []).append(v)
            ctx["ratings"] = ratings
        root = self._node(t, 0, ctx)
        total = float(ev.total[t])
        root["score"] = total
        root["contribution"] = total
        if ev.veto_adjust[t] != 0.0:
            root["children"].append(
                {"code": "veto", "name": "一票否决", "contribution": float(ev.veto_adjust[t])}
            )
        if ev.rounding_adjust[t] != 0.0:
            root["children"].append(
                {"code": "rounding", "name": "取整", "contribution": float(ev.rounding_adjust[t])}
            )
        return root


def explain_target(ev: Evaluation, t: int, *, ratings: bool = True) -> dict[str, Any]:
    return Explainer(ev, ratings=ratings).build(t)


def check_additive(node: dict[str, Any], tol: float = 1e-9) -> float:
    """Largest |contribution - sum of children's contributions| in an explanation tree."""
    worst = 0.0
    kids = node.get("children")
    if kids:
        s = sum(k["contribution"] for k in kids)
        worst = abs(node["contribution"] - s)
        for k in kids:
            worst = max(worst, check_additive(k, tol))
    return worst


def result_dict(
    ev: Evaluation, *, explanations: bool = True, ratings: bool = True
) -> dict[str, Any]:
    from .evaluate import ENGINE_VERSION

    ex = Explainer(ev, ratings=ratings) if explanations else None
    dim_codes = ev.dimension_codes
    ind_codes = ev.indicator_codes
    dims = ev.dimension_scores.tolist()
    inds = ev.indicator_scores.tolist()
    totals = ev.total.tolist()
    labels = ev.grade_labels
    rank = ev.rank.tolist()
    grank = ev.group_rank.tolist()
    names = ev.targets.names
    groups = ev.targets.groups
    results = []
    for t, code in enumerate(ev.targets.codes):
        r: dict[str, Any] = {
            "target": code,
            "name": names[t] if names else None,
            "group": groups[t] if groups else None,
            "total": totals[t],
            "grade": labels[t],
            "rank": rank[t] or None,
            "group_rank": grank[t] or None,
            "dimensions": dict(zip(dim_codes, dims[t], strict=True)),
            "indicators": dict(zip(ind_codes, inds[t], strict=True)),
            "flags": ev.flags(t),
        }
        if ex is not None:
            r["explanation"] = ex.build(t)
        results.append(r)
    grade_counts = {g: labels.count(g) for g in ev.settings.grades}
    return {
        "format_version": RESULT_FORMAT,
        "engine_version": ENGINE_VERSION,
        "settings": ev.settings.to_dict(),
        "info": ev.extra_info,
        "summary": {"targets": len(totals), "grades": grade_counts},
        "results": results,
    }
