"""The scheme document ``kaoping.scheme/1``: one indicator-system version as JSON.

It is the engine package's ``indicators`` list (docs/engine.md) extended with Kaoping's fields,
under a header naming the scheme and the version (docs/indicators.md). Every import (Excel, JSON,
the built-in library) is turned into this document, checked by ``parse_document`` and written by
``scheme_write``; every export starts from ``version_document``. ``canonical_json`` is the form
round trips are compared in.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from .constants import (
    MAX_LEVELS,
    DataSource,
    Dimension,
    Method,
    MissingPolicy,
    RaterGroupCode,
    RuleKind,
    Weighting,
)
from .models import Indicator, SchemeVersion
from .rule_params import check_rule

FORMAT = "kaoping.scheme/1"
TARGET_KINDS = ("organization", "cadre", "member")
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,31}$")
INDICATOR_FIELDS = (
    "code", "name", "parent", "points", "weight", "rule", "proposed_rule", "dimension",
    "criteria", "methods", "evidence", "rater_weights", "data_source", "missing", "veto",
)  # fmt: skip
# Informative fields of the header that a round trip does not keep.
VOLATILE = {"version": ("number", "status", "fingerprint")}

DIMENSIONS = {str(v) for v, _ in Dimension.choices}
METHODS = {str(v) for v, _ in Method.choices}
SOURCES = {str(v) for v, _ in DataSource.choices}
MISSING = {"", *(str(v) for v, _ in MissingPolicy.choices)}
RULE_KINDS = {str(v) for v, _ in RuleKind.choices}
GROUPS = {str(v) for v, _ in RaterGroupCode.choices}


# ---- export --------------------------------------------------------------------------------


def number(value: Decimal | float | int | None) -> int | float | None:
    """A JSON number: integral values as integers (15, not 15.0 or "15.00")."""
    if value is None:
        return None
    f = float(value)
    return int(f) if f.is_integer() else f


def tree_order(indicators: list[Indicator]) -> list[Indicator]:
    """Depth-first, siblings by position then code: the order of the printed 细则."""
    kids: dict[int | None, list[Indicator]] = {}
    for ind in indicators:
        kids.setdefault(ind.parent_id, []).append(ind)
    for group in kids.values():
        group.sort(key=lambda i: (i.position, i.code, i.pk or 0))
    out: list[Indicator] = []
    stack = list(reversed(kids.get(None, [])))
    while stack:
        ind = stack.pop()
        out.append(ind)
        stack.extend(reversed(kids.get(ind.pk, [])))
    return out


def indicator_dict(ind: Indicator, codes: dict[int, str]) -> dict[str, Any]:
    return {
        "code": ind.code,
        "name": ind.name,
        "parent": codes.get(ind.parent_id) if ind.parent_id else None,
        "points": number(ind.points),
        "weight": number(ind.weight),
        "rule": {"kind": ind.rule_kind, **(ind.rule_params or {})} if ind.rule_kind else None,
        "proposed_rule": dict(ind.proposed_rule or {}),
        "dimension": ind.dimension,
        "criteria": ind.criteria,
        "methods": list(ind.methods or []),
        "evidence": [
            {
                "what": e.get("what", ""),
                "count": e.get("count", 1),
                "optional": bool(e.get("optional")),
            }
            for e in (ind.evidence or [])
        ],
        "rater_weights": {g: number(w) for g, w in (ind.rater_weights or {}).items()},
        "data_source": ind.data_source,
        "missing": ind.missing_policy,
        "veto": dict(ind.veto or {}),
    }


def version_document(version: SchemeVersion) -> dict[str, Any]:
    """The version as a ``kaoping.scheme/1`` document (indicators depth-first)."""
    scheme = version.scheme
    inds = tree_order(list(version.indicators.all()))
    codes = {i.pk: i.code for i in inds}
    return {
        "format": FORMAT,
        "scheme": {
            "name": scheme.name,
            "description": scheme.description,
            "target_kind": scheme.target_kind,
        },
        "version": {
            "number": version.number,
            "status": version.status,
            "label": version.label,
            "weighting": version.weighting,
            "total_points": number(version.total_points),
            "options": version.options or {},
            "note": version.note,
        },
        "indicators": [indicator_dict(i, codes) for i in inds],
    }


def canonical_json(doc: dict[str, Any]) -> str:
    """Sorted keys, no informative header fields: equal strings mean the same system."""
    clean = json.loads(json.dumps(doc))
    for part, keys in VOLATILE.items():
        for key in keys:
            clean.get(part, {}).pop(key, None)
    return json.dumps(clean, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def default_options() -> dict[str, Any]:
    """The starting settings of a new scheme (``services.DEFAULT_OPTIONS``)."""
    from .services import DEFAULT_OPTIONS

    return copy.deepcopy(DEFAULT_OPTIONS)


# ---- checking ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocError:
    index: int | None  # indicator index in the document; None for the header
    field: str  # document field ("points", "rule" ...; "" for the whole indicator)
    message: str

    @property
    def path(self) -> str:
        base = "$" if self.index is None else f"$.indicators[{self.index}]"
        return f"{base}.{self.field}" if self.field else base


@dataclass
class PlannedIndicator:
    """One checked indicator, ready for the database."""

    index: int
    code: str
    name: str
    parent: str | None
    level: int
    position: int
    values: dict[str, Any] = field(default_factory=dict)  # Indicator field -> value


@dataclass
class Plan:
    scheme: dict[str, Any]
    version: dict[str, Any]
    indicators: list[PlannedIndicator]


def _decimal(value: Any, places: int) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError
    try:
        d = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError from exc
    if not d.is_finite():
        raise ValueError
    q = Decimal(1).scaleb(-places)
    if d != d.quantize(q):
        raise ValueError
    return d.quantize(q)


def _text(d: dict[str, Any], key: str, errors: list[DocError], i: int | None, limit: int) -> str:
    value = d.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append(DocError(i, key, "应为文字"))
        return ""
    if len(value) > limit:
        errors.append(DocError(i, key, f"超过 {limit} 个字"))
    return value


def parse_header(data: Any, errors: list[DocError]) -> tuple[dict[str, Any], dict[str, Any]]:
    scheme = data.get("scheme") or {}
    version = data.get("version") or {}
    if not isinstance(scheme, dict) or not isinstance(version, dict):
        errors.append(DocError(None, "scheme", "scheme 和 version 应为对象"))
        return {}, {}
    s = {
        "name": _text(scheme, "name", errors, None, 100).strip(),
        "description": _text(scheme, "description", errors, None, 5000),
        "target_kind": scheme.get("target_kind") or "organization",
    }
    if s["target_kind"] not in TARGET_KINDS:
        errors.append(DocError(None, "scheme.target_kind", f"只能是 {'、'.join(TARGET_KINDS)}"))
    v: dict[str, Any] = {
        "label": _text(version, "label", errors, None, 100),
        "note": _text(version, "note", errors, None, 5000),
        "weighting": version.get("weighting") or Weighting.POINTS,
        "options": version["options"] if "options" in version else default_options(),
    }
    if v["weighting"] not in (Weighting.POINTS, Weighting.WEIGHTS):
        errors.append(DocError(None, "version.weighting", "只能是 points（分值制）或 weights"))
    if not isinstance(v["options"], dict):
        errors.append(DocError(None, "version.options", "应为对象"))
        v["options"] = {}
    try:
        v["total_points"] = _decimal(version.get("total_points", 100), 2)
        if v["total_points"] <= 0:
            raise ValueError
    except ValueError:
        errors.append(DocError(None, "version.total_points", "总分应为正数（最多两位小数）"))
        v["total_points"] = Decimal(100)
    return s, v


def parse_document(data: Any) -> tuple[Plan | None, list[DocError]]:
    """Check a ``kaoping.scheme/1`` document; the plan when it has no errors."""
    errors: list[DocError] = []
    if not isinstance(data, dict):
        return None, [DocError(None, "", "文件内容应为 JSON 对象")]
    if data.get("format") != FORMAT:
        errors.append(DocError(None, "format", f"应为 {FORMAT!r}"))
        return None, errors
    scheme, version = parse_header(data, errors)
    rows = data.get("indicators")
    if not isinstance(rows, list) or not rows:
        errors.append(DocError(None, "indicators", "应为非空的指标列表"))
        return None, errors
    planned = parse_indicators(rows, errors)
    if errors:
        return None, errors
    return Plan(scheme, version, planned), errors


def parse_indicators(rows: list[Any], errors: list[DocError]) -> list[PlannedIndicator]:
    seen: dict[str, PlannedIndicator] = {}
    siblings: dict[str | None, int] = {}
    out: list[PlannedIndicator] = []
    for i, d in enumerate(rows):
        if not isinstance(d, dict):
            errors.append(DocError(i, "", "应为对象"))
            continue
        for key in d:
            if key not in INDICATOR_FIELDS:
                errors.append(DocError(i, key, "未知字段"))
        code = d.get("code")
        if not isinstance(code, str) or not CODE_RE.match(code):
            errors.append(DocError(i, "code", "指标编码只能由字母、数字、.、-、_ 组成，最多 32 位"))
            code = f"#{i}"
        elif code in seen:
            errors.append(DocError(i, "code", f"指标编码“{code}”重复"))
        name = d.get("name")
        if not isinstance(name, str) or not name.strip():
            errors.append(DocError(i, "name", "指标名称为空"))
            name = ""
        elif len(name) > 200:
            errors.append(DocError(i, "name", "指标名称超过 200 个字"))
        parent = d.get("parent")
        level = 1
        if parent is not None:
            if parent not in seen:
                errors.append(DocError(i, "parent", f"上级指标“{parent}”不在本指标之前"))
            else:
                level = seen[parent].level + 1
                if level > MAX_LEVELS:
                    errors.append(DocError(i, "parent", f"指标最多 {MAX_LEVELS} 级"))
        position = siblings.get(parent, 0)
        siblings[parent] = position + 1
        p = PlannedIndicator(i, code, name.strip(), parent, level, position)
        p.values = _values(d, i, errors)
        seen.setdefault(code, p)
        out.append(p)
    parents = {p.parent for p in out}
    for p in out:
        if p.code in parents and p.values.get("proposed_rule"):
            p.values["proposed_rule"] = {}
    return out


def _values(d: dict[str, Any], i: int, errors: list[DocError]) -> dict[str, Any]:
    v: dict[str, Any] = {}
    for key, places in (("points", 2), ("weight", 6)):
        raw = d.get(key)
        try:
            v[key] = None if raw is None else _decimal(raw, places)
            if v[key] is not None and v[key] < 0:
                raise ValueError
        except ValueError:
            what = "分值应为不小于 0 的数（最多两位小数）" if key == "points" else "权重应为 0–1"
            errors.append(DocError(i, key, what))
            v[key] = None
    if v["weight"] is not None and v["weight"] > 1:
        errors.append(DocError(i, "weight", "权重应为 0–1"))
    rule = d.get("rule")
    v["rule_kind"], v["rule_params"] = "", {}
    if rule is not None:
        if not isinstance(rule, dict) or rule.get("kind") not in RULE_KINDS:
            errors.append(DocError(i, "rule", f"计分规则的 kind 应为：{'、'.join(RULE_KINDS)}"))
        else:
            params = dict(rule)
            v["rule_kind"] = params.pop("kind")
            v["rule_params"] = params
            reason = check_rule(v["rule_kind"], params)
            if reason:
                errors.append(DocError(i, "rule", reason))
    proposed = d.get("proposed_rule") or {}
    if not isinstance(proposed, dict):
        errors.append(DocError(i, "proposed_rule", "应为对象"))
        proposed = {}
    v["proposed_rule"] = proposed
    v["dimension"] = d.get("dimension") or ""
    if v["dimension"] not in DIMENSIONS:
        errors.append(DocError(i, "dimension", f"未知维度“{v['dimension']}”"))
    v["criteria"] = _text(d, "criteria", errors, i, 10000)
    methods = d.get("methods") or []
    if not isinstance(methods, list) or any(m not in METHODS for m in methods):
        errors.append(DocError(i, "methods", f"考核方式只能是：{'、'.join(sorted(METHODS))}"))
        methods = []
    v["methods"] = methods
    v["evidence"] = _evidence(d.get("evidence") or [], i, errors)
    rw = d.get("rater_weights") or {}
    if not isinstance(rw, dict) or any(
        g not in GROUPS or isinstance(w, bool) or not isinstance(w, int | float) or w < 0
        for g, w in rw.items()
    ):
        errors.append(DocError(i, "rater_weights", f"评价主体应为：{'、'.join(sorted(GROUPS))}"))
        rw = {}
    v["rater_weights"] = rw
    v["data_source"] = d.get("data_source") or DataSource.REVIEWER
    if v["data_source"] not in SOURCES:
        errors.append(DocError(i, "data_source", f"未知数据来源“{v['data_source']}”"))
    v["missing_policy"] = d.get("missing") or ""
    if v["missing_policy"] not in MISSING:
        errors.append(DocError(i, "missing", f"未知缺失数据处理“{v['missing_policy']}”"))
    veto = d.get("veto") or {}
    if not isinstance(veto, dict) or (veto and veto.get("effect") not in ("zero", "ceiling")):
        errors.append(DocError(i, "veto", "一票否决的 effect 应为 zero 或 ceiling"))
        veto = {}
    v["veto"] = veto
    return v


def _evidence(items: Any, i: int, errors: list[DocError]) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        errors.append(DocError(i, "evidence", "应为列表"))
        return []
    out = []
    for item in items:
        ok = isinstance(item, dict) and isinstance(item.get("what"), str) and item["what"]
        count = item.get("count", 1) if isinstance(item, dict) else None
        if not ok or isinstance(count, bool) or not isinstance(count, int) or count < 1:
            errors.append(DocError(i, "evidence", "每项佐证材料应有 what（名称）和 count（份数）"))
            continue
        out.append(
            {"what": item["what"], "count": count, "optional": bool(item.get("optional", False))}
        )
    return out
