"""The JSON package format ``kaoping.package/1``: loading with path-naming validation, dumping.

A package describes an assessment completely (indicator tree with rules and weights, settings,
rater groups, ballot scale, targets and every input), so ``kaoping evaluate`` can score it
without a database and an archived campaign re-scores to the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .ahp import ahp
from .errors import PackageError
from .model import (
    DEFAULT_GRADE_COEFFICIENTS,
    DEFAULT_GRADE_LABELS,
    OCCURRENCE_KINDS,
    RATER_KINDS,
    VALUE_KINDS,
    BallotInputs,
    Band,
    IndicatorTree,
    Inputs,
    Item,
    Node,
    OccurrenceInputs,
    RaterGroup,
    Rule,
    ScoreInputs,
    Targets,
    ValueInputs,
    Veto,
    VetoInputs,
)
from .settings import Settings, one_of

FORMAT_VERSION = "kaoping.package/1"
_DIRECTION_CN = {
    "benefit": "越大越好的指标按下限 min 分档",
    "cost": "越小越好的指标按上限 max 分档",
}
WEIGHTING_MESSAGE = "必须是 relative（相对权重）或 points（分值）"


@dataclass
class Package:
    tree: IndicatorTree
    targets: Targets
    inputs: Inputs
    settings: Settings
    campaign: dict[str, Any] = field(default_factory=dict)
    #: AHP results of nodes whose children's weights come from a pairwise matrix
    ahp: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the AHP matrices themselves, by node code (kept for dumping)
    ahp_matrices: dict[str, list[list[float]]] = field(default_factory=dict)
    #: an archived campaign's record (stored results, evidence manifest, fingerprint): carried
    #: along unread, evaluation never looks at it
    archive: dict[str, Any] | None = None


# ---- small validators ----------------------------------------------------------------------


def _obj(v: Any, path: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise PackageError(path, "必须是对象（{…}）")
    return v


def _list(v: Any, path: str) -> list[Any]:
    if not isinstance(v, list):
        raise PackageError(path, "必须是列表")
    return v


def _str(v: Any, path: str) -> str:
    if not isinstance(v, str) or not v:
        raise PackageError(path, "必须是非空字符串")
    return v


def _num(v: Any, path: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise PackageError(path, "必须是数字")
    return float(v)


def _opt_num(d: dict[str, Any], key: str, path: str) -> float | None:
    return None if d.get(key) is None else _num(d[key], f"{path}.{key}")


def _keys(d: dict[str, Any], allowed: set[str], path: str) -> None:
    for k in d:
        if k not in allowed:
            raise PackageError(f"{path}.{k}", "不是已知的字段")


def _code(d: dict[str, Any], path: str) -> str:
    if "code" not in d:
        raise PackageError(f"{path}.code", "必须填写")
    return _str(d["code"], f"{path}.code")


# ---- tree ----------------------------------------------------------------------------------

RULE_FIELDS = {
    "kind", "max", "grades", "floor", "target", "cap", "direction", "bands", "else",
    "items", "base", "question", "measure",
}  # fmt: skip


def _rule(d: Any, path: str) -> Rule:
    d = _obj(d, path)
    _keys(d, RULE_FIELDS, path)
    kind = _str(d.get("kind"), f"{path}.kind")
    r = Rule(kind=kind)
    r.max = _opt_num(d, "max", path)
    r.floor = _opt_num(d, "floor", path)
    r.target = _opt_num(d, "target", path)
    r.cap = _opt_num(d, "cap", path)
    r.base = _opt_num(d, "base", path)
    if "direction" in d:
        r.direction = _str(d["direction"], f"{path}.direction")
    if "grades" in d:
        labels, coefs = [], []
        for j, g in enumerate(_list(d["grades"], f"{path}.grades")):
            gp = f"{path}.grades[{j}]"
            g = _obj(g, gp)
            _keys(g, {"label", "coefficient"}, gp)
            labels.append(_str(g.get("label"), f"{gp}.label"))
            coefs.append(_num(g.get("coefficient"), f"{gp}.coefficient"))
        r.labels, r.coefficients = labels, coefs
    if "bands" in d:
        bands = []
        for j, b in enumerate(_list(d["bands"], f"{path}.bands")):
            bp = f"{path}.bands[{j}]"
            b = _obj(b, bp)
            _keys(b, {"min", "max", "score"}, bp)
            key = "max" if r.direction == "cost" else "min"
            if key not in b:
                raise PackageError(
                    f"{bp}.{key}", f"必须填写（{_DIRECTION_CN.get(r.direction, r.direction)}）"
                )
            bands.append(Band(_num(b[key], f"{bp}.{key}"), _num(b.get("score"), f"{bp}.score")))
        r.bands = bands
    if "else" in d:
        r.else_score = _num(d["else"], f"{path}.else")
    if "items" in d:
        items = []
        for j, it in enumerate(_list(d["items"], f"{path}.items")):
            ip = f"{path}.items[{j}]"
            it = _obj(it, ip)
            _keys(it, {"code", "name", "per"}, ip)
            items.append(Item(_code(it, ip), _num(it.get("per"), f"{ip}.per"), it.get("name", "")))
        r.items = items
    if "question" in d:
        r.question = _str(d["question"], f"{path}.question")
    if "measure" in d:
        r.measure = _str(d["measure"], f"{path}.measure")
    return r


NODE_FIELDS = {
    "code", "name", "parent", "weight", "points", "rule", "dimension", "missing",
    "rater_weights", "veto", "ahp",
}  # fmt: skip


def _weights_map(v: Any, path: str) -> dict[str, float]:
    d = _obj(v, path)
    return {k: _num(w, f"{path}.{k}") for k, w in d.items()}


def _tree(
    data: dict[str, Any], settings: Settings
) -> tuple[IndicatorTree, dict[str, Any], dict[str, Any]]:
    weighting = data.get("weighting", "relative")
    if weighting not in ("relative", "points"):
        raise PackageError("$.weighting", WEIGHTING_MESSAGE)
    groups = []
    for i, g in enumerate(_list(data.get("rater_groups", []), "$.rater_groups")):
        p = f"$.rater_groups[{i}]"
        g = _obj(g, p)
        _keys(g, {"code", "name", "min_ballots"}, p)
        mb = g.get("min_ballots")
        if mb is not None and (isinstance(mb, bool) or not isinstance(mb, int) or mb < 1):
            raise PackageError(f"{p}.min_ballots", "必须是不小于 1 的整数")
        groups.append(RaterGroup(_code(g, p), g.get("name", ""), mb))
    if len({g.code for g in groups}) != len(groups):
        raise PackageError("$.rater_groups", "评价主体编码不能重复")
    default_rw = _weights_map(data.get("rater_weights", {}), "$.rater_weights")
    ballot = _obj(data.get("ballot", {}), "$.ballot")
    _keys(ballot, {"grades", "questions"}, "$.ballot")
    labels, coefs = list(DEFAULT_GRADE_LABELS), list(DEFAULT_GRADE_COEFFICIENTS)
    if "grades" in ballot:
        labels, coefs = [], []
        for j, g in enumerate(_list(ballot["grades"], "$.ballot.grades")):
            gp = f"$.ballot.grades[{j}]"
            g = _obj(g, gp)
            labels.append(_str(g.get("label"), f"{gp}.label"))
            coefs.append(_num(g.get("coefficient"), f"{gp}.coefficient"))
        if len(labels) < 2 or len(set(labels)) != len(labels):
            raise PackageError("$.ballot.grades", "至少要有两个互不相同的等次")
    questions = []
    for j, q in enumerate(_list(ballot.get("questions", []), "$.ballot.questions")):
        qp = f"$.ballot.questions[{j}]"
        questions.append(_code(_obj(q, qp), qp))
    if len(set(questions)) != len(questions):
        raise PackageError("$.ballot.questions", "测评题目编码不能重复")

    nodes: list[Node] = []
    ahp_nodes: dict[str, tuple[int, list[list[float]]]] = {}
    for i, d in enumerate(_list(data.get("indicators"), "$.indicators")):
        p = f"$.indicators[{i}]"
        d = _obj(d, p)
        _keys(d, NODE_FIELDS, p)
        n = Node(code=_code(d, p), name=str(d.get("name", "")))
        if d.get("parent") is not None:
            n.parent = _str(d["parent"], f"{p}.parent")
        if "weight" in d and "points" in d:
            raise PackageError(f"{p}.points", "weight（权重）和 points（分值）只能填一个")
        key = "points" if "points" in d else "weight"
        if key in d:
            n.weight = _num(d[key], f"{p}.{key}")
        if d.get("rule") is not None:
            n.rule = _rule(d["rule"], f"{p}.rule")
            if n.rule.kind in ("bonus", "penalty", "veto"):
                n.weight = 0.0
        if d.get("dimension") is not None:
            n.dimension = _str(d["dimension"], f"{p}.dimension")
        if d.get("missing") is not None:
            n.missing = _str(d["missing"], f"{p}.missing")
        if d.get("rater_weights") is not None:
            n.rater_weights = _weights_map(d["rater_weights"], f"{p}.rater_weights")
        if d.get("veto") is not None:
            v = _obj(d["veto"], f"{p}.veto")
            _keys(v, {"effect", "grade"}, f"{p}.veto")
            n.veto = Veto(_str(v.get("effect"), f"{p}.veto.effect"), v.get("grade"))
        if d.get("ahp") is not None:
            a = _obj(d["ahp"], f"{p}.ahp")
            _keys(a, {"matrix"}, f"{p}.ahp")
            rows = _list(a.get("matrix"), f"{p}.ahp.matrix")
            mat = [
                [
                    _num(x, f"{p}.ahp.matrix[{r}][{c}]")
                    for c, x in enumerate(_list(row, f"{p}.ahp.matrix[{r}]"))
                ]
                for r, row in enumerate(rows)
            ]
            ahp_nodes[n.code] = (i, mat)
        nodes.append(n)
    tree = IndicatorTree(
        nodes=nodes,
        rater_groups=groups,
        weighting=weighting,
        default_rater_weights=default_rw,
        questions=questions,
        ballot_labels=labels,
        ballot_coefficients=coefs,
    )
    ahp_info: dict[str, Any] = {}
    matrices: dict[str, Any] = {}
    for code, (i, mat) in ahp_nodes.items():
        p = f"$.indicators[{i}].ahp"
        if weighting != "relative":
            raise PackageError(p, "层次分析法权重只能用于相对权重（weighting 为 relative）")
        kids = [
            n
            for n in nodes
            if n.parent == code and not (n.rule and n.rule.kind in ("bonus", "penalty", "veto"))
        ]
        if len(mat) != len(kids) or any(len(r) != len(kids) for r in mat):
            raise PackageError(
                f"{p}.matrix",
                f"必须是 {len(kids)} × {len(kids)} 的方阵（每个参与加权的下级指标一行一列）",
            )
        try:
            res = ahp(mat, settings.ahp_method, settings.ahp_ri)
        except PackageError:
            raise
        except ValueError as e:
            raise PackageError(f"{p}.matrix", str(e)) from None
        for kid, w in zip(kids, res.weights.tolist(), strict=True):
            kid.weight = w
        ahp_info[code] = res.to_dict() | {
            "children": [k.code for k in kids],
            "message": res.describe([k.name or k.code for k in kids]),
        }
        matrices[code] = mat
    return tree, ahp_info, matrices


# ---- targets and inputs --------------------------------------------------------------------


def _targets(data: Any) -> Targets:
    rows = _list(data, "$.targets")
    codes, names, groups = [], [], []
    for i, t in enumerate(rows):
        p = f"$.targets[{i}]"
        t = _obj(t, p)
        _keys(t, {"code", "name", "group"}, p)
        codes.append(_code(t, p))
        names.append(str(t.get("name", "")))
        g = t.get("group")
        groups.append(None if g is None else _str(g, f"{p}.group"))
    if len(set(codes)) != len(codes):
        dup = next(i for i, c in enumerate(codes) if codes.index(c) != i)
        raise PackageError(f"$.targets[{dup}].code", f"编码“{codes[dup]}”重复")
    has_groups = any(g is not None for g in groups)
    return Targets(codes, names, [g or "" for g in groups] if has_groups else None)


def _lookup(table: dict[str, int], v: Any, path: str, what: str) -> int:
    if not isinstance(v, str) or v not in table:
        raise PackageError(path, f"未知的{what}：{v!r}")
    return table[v]


def _inputs(data: Any, tree: IndicatorTree, targets: Targets) -> Inputs:
    d = _obj(data if data is not None else {}, "$.inputs")
    _keys(d, {"ratings", "values", "occurrences", "ballots", "vetoes"}, "$.inputs")
    t_idx = {c: i for i, c in enumerate(targets.codes)}
    n_idx = tree.node_index()
    g_idx = tree.group_index()
    q_idx = tree.question_index()
    kinds = [n.rule.kind if n.rule else None for n in tree.nodes]
    rules = [n.rule for n in tree.nodes]
    inputs = Inputs()

    rows = _list(d.get("ratings", []), "$.inputs.ratings")
    tt, ii, gg, rr, vv = [], [], [], [], []
    raters: dict[Any, int] = {}
    for k, row in enumerate(rows):
        p = f"$.inputs.ratings[{k}]"
        row = _obj(row, p)
        _keys(row, {"target", "indicator", "group", "rater", "value"}, p)
        tt.append(_lookup(t_idx, row.get("target"), f"{p}.target", "考核对象"))
        ind = _lookup(n_idx, row.get("indicator"), f"{p}.indicator", "指标")
        ii.append(ind)
        if kinds[ind] not in RATER_KINDS:
            raise PackageError(
                f"{p}.indicator", "不接受评价人打分（只有 rating、grade 规则的指标接受打分）"
            )
        gg.append(_lookup(g_idx, row.get("group"), f"{p}.group", "评价主体"))
        rid = row.get("rater", f"#{k}")
        if not isinstance(rid, str | int) or isinstance(rid, bool):
            raise PackageError(f"{p}.rater", "必须是字符串或整数")
        rr.append(raters.setdefault(rid, len(raters)))
        rule = rules[ind]
        assert rule is not None
        val = row.get("value")
        if rule.kind == "grade":
            if val not in rule.labels:
                raise PackageError(f"{p}.value", one_of(rule.labels))
            vv.append(float(rule.labels.index(val)))
        else:
            x = _num(val, f"{p}.value")
            if rule.max is not None and not 0 <= x <= rule.max:
                raise PackageError(f"{p}.value", f"必须在 0 到 {rule.max:g} 之间")
            vv.append(x)
    if rows:
        inputs.scores = ScoreInputs(
            np.array(tt), np.array(ii), np.array(gg), np.array(rr), np.array(vv, dtype=np.float64)
        )

    rows = _list(d.get("values", []), "$.inputs.values")
    tt, ii, vv = [], [], []
    seen: set[tuple[int, int]] = set()
    for k, row in enumerate(rows):
        p = f"$.inputs.values[{k}]"
        row = _obj(row, p)
        _keys(row, {"target", "indicator", "value"}, p)
        t = _lookup(t_idx, row.get("target"), f"{p}.target", "考核对象")
        i = _lookup(n_idx, row.get("indicator"), f"{p}.indicator", "指标")
        if kinds[i] not in VALUE_KINDS:
            raise PackageError(
                f"{p}.indicator",
                "不接受定量数值（只有 linear、ratio_to_target、ratio_to_best、banded 规则的指标接受）",
            )
        if (t, i) in seen:
            raise PackageError(p, "同一考核对象的同一指标已经有一个数值")
        seen.add((t, i))
        val = row.get("value")
        tt.append(t)
        ii.append(i)
        vv.append(math.nan if val is None else _num(val, f"{p}.value"))
    if rows:
        inputs.values = ValueInputs(np.array(tt), np.array(ii), np.array(vv, dtype=np.float64))

    rows = _list(d.get("occurrences", []), "$.inputs.occurrences")
    item_idx = tree.item_index()
    tt, ii, vv = [], [], []
    for k, row in enumerate(rows):
        p = f"$.inputs.occurrences[{k}]"
        row = _obj(row, p)
        _keys(row, {"target", "indicator", "item", "count"}, p)
        tt.append(_lookup(t_idx, row.get("target"), f"{p}.target", "考核对象"))
        ind_i = _lookup(n_idx, row.get("indicator"), f"{p}.indicator", "指标")
        ind_code = tree.nodes[ind_i].code
        if kinds[ind_i] not in OCCURRENCE_KINDS:
            raise PackageError(
                f"{p}.indicator",
                "不接受事项次数（只有 deduction、bonus、penalty、base_adjust 规则的指标接受）",
            )
        key = (ind_code, row.get("item"))
        if key not in item_idx:
            raise PackageError(f"{p}.item", f"指标 {ind_code} 没有事项 {row.get('item')!r}")
        ii.append(item_idx[key])
        c = _num(row.get("count", 1), f"{p}.count")
        if c < 0:
            raise PackageError(f"{p}.count", "必须是不小于 0 的数字")
        vv.append(c)
    if rows:
        inputs.occurrences = OccurrenceInputs(
            np.array(tt), np.array(ii), np.array(vv, dtype=np.float64)
        )

    rows = _list(d.get("ballots", []), "$.inputs.ballots")
    lab = {label: j for j, label in enumerate(tree.ballot_labels)}
    tt, qq, gg, kk, vv = [], [], [], [], []
    for k, row in enumerate(rows):
        p = f"$.inputs.ballots[{k}]"
        row = _obj(row, p)
        _keys(row, {"target", "question", "group", "counts"}, p)
        t = _lookup(t_idx, row.get("target"), f"{p}.target", "考核对象")
        q = _lookup(q_idx, row.get("question"), f"{p}.question", "测评题目")
        g = _lookup(g_idx, row.get("group"), f"{p}.group", "评价主体")
        counts = _obj(row.get("counts"), f"{p}.counts")
        for label, c in counts.items():
            j = _lookup(lab, label, f"{p}.counts.{label}", "测评等次")
            x = _num(c, f"{p}.counts.{label}")
            if x < 0 or x != int(x):
                raise PackageError(f"{p}.counts.{label}", "必须是不小于 0 的整数")
            tt.append(t)
            qq.append(q)
            gg.append(g)
            kk.append(j)
            vv.append(x)
    if rows:
        inputs.ballots = BallotInputs(
            np.array(tt), np.array(qq), np.array(gg), np.array(kk), np.array(vv, dtype=np.float64)
        )

    rows = _list(d.get("vetoes", []), "$.inputs.vetoes")
    tt, ii = [], []
    for k, row in enumerate(rows):
        p = f"$.inputs.vetoes[{k}]"
        row = _obj(row, p)
        _keys(row, {"target", "indicator", "note"}, p)
        tt.append(_lookup(t_idx, row.get("target"), f"{p}.target", "考核对象"))
        i = _lookup(n_idx, row.get("indicator"), f"{p}.indicator", "指标")
        if tree.nodes[i].veto is None:
            raise PackageError(f"{p}.indicator", "没有设置一票否决")
        ii.append(i)
    if rows:
        inputs.vetoes = VetoInputs(np.array(tt), np.array(ii))
    return inputs


def load_package(data: Any) -> Package:
    """Validate a parsed JSON package and turn it into engine objects.

    Raises PackageError naming the JSON path of the first problem.
    """
    d = _obj(data, "$")
    _keys(
        d,
        {"format_version", "campaign", "settings", "weighting", "rater_groups", "rater_weights",
         "ballot", "indicators", "targets", "inputs", "archive"},
        "$",
    )  # fmt: skip
    fv = d.get("format_version")
    if fv != FORMAT_VERSION:
        raise PackageError("$.format_version", f"必须是 {FORMAT_VERSION!r}（实际为 {fv!r}）")
    settings = Settings.from_dict(d.get("settings"))
    tree, ahp_info, matrices = _tree(d, settings)
    from .tree import compile_tree

    compile_tree(tree, settings)  # structural validation with paths
    targets = _targets(d.get("targets"))
    inputs = _inputs(d.get("inputs"), tree, targets)
    campaign = _obj(d.get("campaign", {}), "$.campaign")
    archive = None if d.get("archive") is None else _archive(d["archive"])
    return Package(tree, targets, inputs, settings, campaign, ahp_info, matrices, archive)


ARCHIVE_FORMAT = "kaoping.archive/1"


def _archive(v: Any) -> dict[str, Any]:
    """The optional ``archive`` object: only its format is checked, the rest is carried along
    (evaluation never reads it)."""
    a = _obj(v, "$.archive")
    if a.get("format") != ARCHIVE_FORMAT:
        got = a.get("format")
        raise PackageError("$.archive.format", f"必须是 {ARCHIVE_FORMAT!r}（实际为 {got!r}）")
    return a


# ---- dumping -------------------------------------------------------------------------------


def _rule_dict(r: Rule) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": r.kind}
    for key in ("max", "floor", "target", "cap", "base"):
        v = getattr(r, key)
        if v is not None:
            out[key] = v
    if r.direction != "benefit":
        out["direction"] = r.direction
    if r.kind == "grade":
        out["grades"] = [
            {"label": a, "coefficient": b} for a, b in zip(r.labels, r.coefficients, strict=True)
        ]
    if r.bands:
        key = "max" if r.direction == "cost" else "min"
        out["bands"] = [{key: b.bound, "score": b.score} for b in r.bands]
    if r.else_score:
        out["else"] = r.else_score
    if r.items:
        out["items"] = [{"code": it.code, "name": it.name, "per": it.per} for it in r.items]
    if r.kind == "ballot":
        out["question"] = r.question
        out["measure"] = r.measure
    return out


def dump_package(
    tree: IndicatorTree,
    targets: Targets,
    inputs: Inputs,
    settings: Settings,
    *,
    campaign: dict[str, Any] | None = None,
    ahp_matrices: dict[str, list[list[float]]] | None = None,
    archive: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The package (JSON-ready dict) that ``load_package`` turns back into the same objects;
    ``archive`` (an archived campaign's record, ``format`` = ``kaoping.archive/1``) is written
    as it is under the key ``archive``."""
    codes = [n.code for n in tree.nodes]
    tcodes = targets.codes
    weight_key = "points" if tree.weighting == "points" else "weight"
    indicators = []
    for n in tree.nodes:
        d: dict[str, Any] = {"code": n.code, "name": n.name, "parent": n.parent}
        if n.rule is None or n.rule.kind not in ("bonus", "penalty", "veto"):
            d[weight_key] = n.weight
        if n.rule is not None:
            d["rule"] = _rule_dict(n.rule)
        if n.dimension is not None:
            d["dimension"] = n.dimension
        if n.missing is not None:
            d["missing"] = n.missing
        if n.rater_weights is not None:
            d["rater_weights"] = dict(n.rater_weights)
        if n.veto is not None:
            d["veto"] = {"effect": n.veto.effect, "grade": n.veto.grade}
        if ahp_matrices and n.code in ahp_matrices:
            d["ahp"] = {"matrix": ahp_matrices[n.code]}
        indicators.append(d)
    groups = [g.code for g in tree.rater_groups]
    rules = [n.rule for n in tree.nodes]
    sc = inputs.scores
    ratings = []
    for t, i, g, r, v in zip(
        sc.target.tolist(), sc.indicator.tolist(), sc.group.tolist(), sc.rater.tolist(),
        sc.value.tolist(), strict=True,
    ):  # fmt: skip
        rule = rules[i]
        value: Any = rule.labels[int(v)] if rule is not None and rule.kind == "grade" else v
        ratings.append(
            {
                "target": tcodes[t],
                "indicator": codes[i],
                "group": groups[g],
                "rater": r,
                "value": value,
            }
        )
    vi = inputs.values
    values = [
        {"target": tcodes[t], "indicator": codes[i], "value": None if math.isnan(v) else v}
        for t, i, v in zip(
            vi.target.tolist(), vi.indicator.tolist(), vi.value.tolist(), strict=True
        )
    ]
    items = tree.items()
    oc = inputs.occurrences
    occurrences = [
        {"target": tcodes[t], "indicator": codes[items[k][0]], "item": items[k][1].code, "count": c}
        for t, k, c in zip(oc.target.tolist(), oc.item.tolist(), oc.count.tolist(), strict=True)
    ]
    bi = inputs.ballots
    merged: dict[tuple[int, int, int], dict[str, float]] = {}
    for t, q, g, k, c in zip(
        bi.target.tolist(), bi.question.tolist(), bi.group.tolist(), bi.grade.tolist(),
        bi.count.tolist(), strict=True,
    ):  # fmt: skip
        cell = merged.setdefault((t, q, g), {})
        label = tree.ballot_labels[k]
        cell[label] = cell.get(label, 0.0) + c
    ballots = [
        {"target": tcodes[t], "question": tree.questions[q], "group": groups[g], "counts": counts}
        for (t, q, g), counts in merged.items()
    ]
    vt = inputs.vetoes
    vetoes = [
        {"target": tcodes[t], "indicator": codes[i]}
        for t, i in zip(vt.target.tolist(), vt.indicator.tolist(), strict=True)
    ]
    target_rows = []
    for k, c in enumerate(tcodes):
        row: dict[str, Any] = {"code": c, "name": targets.names[k] if targets.names else ""}
        if targets.groups is not None:
            row["group"] = targets.groups[k]
        target_rows.append(row)
    out: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "campaign": dict(campaign or {}),
        "settings": settings.to_dict(),
        "weighting": tree.weighting,
        "rater_groups": [
            {"code": g.code, "name": g.name, "min_ballots": g.min_ballots}
            for g in tree.rater_groups
        ],
        "rater_weights": dict(tree.default_rater_weights),
        "ballot": {
            "grades": [
                {"label": a, "coefficient": b}
                for a, b in zip(tree.ballot_labels, tree.ballot_coefficients, strict=True)
            ],
            "questions": [{"code": q} for q in tree.questions],
        },
        "indicators": indicators,
        "targets": target_rows,
        "inputs": {
            "ratings": ratings,
            "values": values,
            "occurrences": occurrences,
            "ballots": ballots,
            "vetoes": vetoes,
        },
    }
    if archive is not None:
        out["archive"] = archive
    return out


def evaluate_package(pkg: Package) -> Any:
    from .evaluate import evaluate

    ev = evaluate(pkg.tree, pkg.targets, pkg.inputs, pkg.settings)
    ev.extra_info["campaign"] = pkg.campaign
    if pkg.ahp:
        ev.extra_info["ahp"] = pkg.ahp
    return ev
