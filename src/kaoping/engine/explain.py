"""Explanation trees (total -> dimension -> indicator -> rater group -> raw inputs) and result JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .model import OCCURRENCE_KINDS, VALUE_KINDS

if TYPE_CHECKING:
    from .evaluate import Evaluation

RESULT_FORMAT = "kaoping.result/1"


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

        # static facts per leaf: (pos, leaf number, kind, used groups)
        self.leaf_info = [
            (int(pos), li, self.kinds[li], self.group_used[li])
            for li, pos in enumerate(ct.leaf_pos.tolist())
        ]
        self.order_internal = [p for p in range(ct.n_pos - 1, -1, -1) if self.leaf_list[p] < 0]
        self.questions = ev.params.question.tolist()
        self.ballot_labels = tree.ballot_labels

    def build(self, t: int) -> dict[str, Any]:
        """The explanation tree of target ``t``: every node's contribution is the sum of its
        children's; the root's is the total."""
        ev = self.ev
        vt = ev.inputs.vetoes
        vetoed = set(vt.indicator[vt.target == t].tolist())
        contrib = ev.contribution[t].tolist()
        score = ev.node_score[t].tolist()
        factor = ev.factor[t].tolist()
        # non-additive aggregation: base contributions are scaled by the method's factor
        mult = (ev.multiplier[t] * ev.method_scale[t]).tolist()
        avail = ev.node_available[t].tolist()
        missing = ev.leaf_missing[t].tolist()
        rounding = ev.leaf_rounding[t].tolist()
        gv = ev.group_value[t].tolist()
        gn = ev.group_count[t].tolist()
        gw = ev.group_weight[t].tolist()
        tf = ev.too_few[t].tolist()
        values = ev.values[t].tolist()
        occ = ev.occurrence_counts[t].tolist()
        ballots = ev.ballot_counts[t].tolist() if len(self.questions) else []
        ratings: dict[tuple[int, int], list[float]] = {}
        if self.ratings:
            sc = ev.inputs.scores
            rows = np.flatnonzero(sc.target == t)
            leaf = ev.tree.leaf_of_node[sc.indicator[rows]].tolist()
            grp = sc.group[rows].tolist()
            for li, g, v in zip(leaf, grp, sc.value[rows].tolist(), strict=True):
                ratings.setdefault((li, g), []).append(v)
        codes, names, points, full = self.codes, self.names, self.points, self.full
        group_codes, node_of_pos = self.group_codes, self.ev.tree.node_of_pos
        built: list[dict[str, Any] | None] = [None] * len(codes)
        for pos, li, kind, used in self.leaf_info:
            d: dict[str, Any] = {
                "code": codes[pos],
                "name": names[pos],
                "points": points[pos],
                "score": score[pos],
                "contribution": contrib[pos],
                "rule": kind,
            }
            if missing[li]:
                d["missing"] = True
            rnd = rounding[li]
            if kind in ("rating", "grade", "ballot"):
                scale = mult[pos] * points[pos]
                rates, ws, ns, few = gv[li], gw[li], gn[li], tf[li]
                kids = []
                for g in used:
                    w = ws[g]
                    r = rates[g]
                    c = scale * w * r if w > 0 else 0.0
                    gd: dict[str, Any] = {
                        "group": group_codes[g],
                        "weight": w,
                        "n": ns[g],
                        "rate": r if r == r else None,
                        "contribution": c,
                    }
                    if kind == "ballot":
                        gd["counts"] = dict(
                            zip(self.ballot_labels, ballots[self.questions[li]][g], strict=True)
                        )
                    else:
                        gd["value"] = r * full[li] if r == r else None
                        if self.ratings:
                            vals = ratings.get((li, g), [])
                            rule = self.rules[li]
                            if kind == "grade" and rule is not None:
                                gd["ratings"] = [rule.labels[int(x)] for x in vals]
                            else:
                                gd["ratings"] = vals
                    if few[g]:
                        gd["too_few"] = True
                    kids.append(gd)
                if rnd != 0.0:
                    kids.append({"code": "rounding", "contribution": mult[pos] * rnd})
                d["children"] = kids
            else:
                if kind in VALUE_KINDS:
                    x = values[li]
                    d["inputs"] = {"value": x if x == x else None}
                elif kind in OCCURRENCE_KINDS:
                    d["inputs"] = {
                        "items": {code: occ[k] for k, code in self.items_of_leaf.get(li, [])}
                    }
                elif kind == "veto":
                    d["inputs"] = {"triggered": int(node_of_pos[pos]) in vetoed}
                if rnd != 0.0:
                    r_c = mult[pos] * rnd
                    d["children"] = [
                        {"code": "unrounded", "contribution": contrib[pos] - r_c},
                        {"code": "rounding", "contribution": r_c},
                    ]
            built[pos] = d
        for pos in self.order_internal:
            d = {
                "code": codes[pos],
                "name": names[pos],
                "points": points[pos],
                "score": score[pos],
                "contribution": contrib[pos],
            }
            if factor[pos] != 1.0:
                d["renormalized"] = factor[pos]
            if not avail[pos]:
                d["missing"] = True
            d["children"] = [built[c] for c in self.children[pos]]
            built[pos] = d
        for n in vetoed:
            v = self.vetoes[n]
            node = built[int(self.ev.tree.pos_of_node[n])]
            if v is not None and node is not None:
                node["veto"] = {"effect": v.effect, "grade": v.grade}
        root = built[0]
        assert root is not None
        total = float(ev.total[t])
        root["score"] = total
        root["contribution"] = total
        agg = aggregation_info(ev, t)
        if agg is not None:
            root["aggregation"] = agg
            residual = float(ev.method_residual[t])
            if residual != 0.0:
                root["children"].append(
                    {"code": "aggregation", "name": agg["name"], "contribution": residual}
                )
        if ev.veto_adjust[t] != 0.0:
            root["children"].append(
                {"code": "veto", "name": "一票否决", "contribution": float(ev.veto_adjust[t])}
            )
        if ev.rounding_adjust[t] != 0.0:
            root["children"].append(
                {"code": "rounding", "name": "取整", "contribution": float(ev.rounding_adjust[t])}
            )
        return root


METHOD_NAMES = {"topsis": "TOPSIS 贴近度", "fuzzy": "模糊综合评价"}


def _num(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".")


def aggregation_info(ev: Evaluation, t: int) -> dict[str, Any] | None:
    """How a non-additive method made target ``t``'s total (None for weighted_sum).

    The weighted-sum tree below it is supporting detail: its contributions are multiplied by
    ``scale`` so that they add up to the method's total (extra points are not scaled).
    """
    st = ev.settings
    method = st.aggregation
    if method == "weighted_sum":
        return None
    full = float(ev.tree.points[0])
    value = float(ev.method_value[t])
    ws = float(ev.weighted_sum[t])
    scale = float(ev.method_scale[t])
    base = value * full if method == "topsis" else value
    info: dict[str, Any] = {
        "method": method,
        "name": METHOD_NAMES[method],
        "value": value,
        "weighted_sum": ws,
        "scale": scale,
    }
    if method == "topsis":
        info["normalization"] = st.topsis_normalization
        how = f"总分按 TOPSIS 贴近度计算：{_num(value)} × {full:g} = {base:.2f} 分"
    else:
        assert ev.fuzzy_membership is not None and ev.fuzzy_grade_scores is not None
        b = ev.fuzzy_membership[t].tolist()
        info["operator"] = st.fuzzy_operator
        info["membership"] = dict(zip(st.grades, b, strict=True))
        info["grade_scores"] = dict(zip(st.grades, ev.fuzzy_grade_scores, strict=True))
        parts = "、".join(f"{g} {_num(x)}" for g, x in zip(st.grades, b, strict=True))
        scores = "、".join(f"{x:g}" for x in ev.fuzzy_grade_scores)
        how = (
            f"总分按模糊综合评价（算子 {st.fuzzy_operator}）计算：隶属度 {parts}，"
            f"按等次分值 {scores} 加权得 {base:.2f} 分"
        )
    extra = float(ev.node_extra[t, 0])
    if float(ev.method_residual[t]) != 0.0:
        note = "加权求和明细各项均为 0 分，差额记为“aggregation”一项"
    else:
        note = f"其贡献已按比例 × {_num(scale)} 缩放，使各项贡献之和等于总分"
    info["note"] = (
        f"{how}；下列各项是加权求和明细（合计 {ws:.2f} 分），{note}"
        + ("；加分、减分不参与缩放" if extra != 0.0 else "")
        + "。"
    )
    return info


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
        agg = aggregation_info(ev, t)
        if agg is not None:
            r["aggregation"] = agg
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
