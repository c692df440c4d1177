"""Rule parameters of an indicator, checked by the engine's own parser, explained in Chinese.

An indicator stores ``rule_kind`` and ``rule_params`` (the engine package's rule object without
``kind``). ``check_rule`` runs the package parser and the engine's per-leaf rule checks on them,
so what the editor accepts is exactly what the engine will score, and turns the engine's JSON
path and English message into one Chinese sentence.
"""

from __future__ import annotations

import re
from typing import Any

from kaoping.engine.errors import EngineError, PackageError

# Names of the engine's rule fields, as the editor shows them.
FIELD_LABELS = {
    "kind": "规则类型",
    "max": "满分",
    "grades": "等次",
    "label": "等次名称",
    "labels": "等次名称",
    "coefficient": "系数",
    "coefficients": "系数",
    "floor": "下限",
    "target": "目标值",
    "cap": "封顶",
    "direction": "方向",
    "bands": "分档",
    "bound": "分档界限",
    "min": "下限",
    "score": "得分",
    "else": "未达任何档次的得分",
    "items": "事项",
    "code": "编码",
    "name": "名称",
    "per": "每次分值",
    "base": "基础分",
    "question": "测评题目",
    "measure": "测评口径",
}


def _cn_path(path: str) -> str:
    """``$.items[0].per`` → ``事项第 1 行的每次分值``."""
    parts = []
    for seg in path.removeprefix("$").strip(".").split("."):
        m = re.fullmatch(r"(\w+)\[(\d+)\]", seg)
        if m:
            parts.append(f"{FIELD_LABELS.get(m.group(1), m.group(1))}第 {int(m.group(2)) + 1} 行")
        elif seg:
            parts.append(FIELD_LABELS.get(seg, seg))
    return "的".join(parts) or "规则参数"


def translate(exc: EngineError) -> str:
    """One Chinese sentence for an engine error about a rule."""
    if isinstance(exc, PackageError):
        return f"规则参数“{_cn_path(exc.path)}”{exc.message}"  # the engine speaks Chinese
    return f"规则参数有误：{exc}"


def check_rule(kind: str, params: dict[str, Any]) -> str | None:
    """None if the engine accepts a leaf with this rule, else the Chinese reason."""
    from kaoping.engine.model import IndicatorTree, Node
    from kaoping.engine.package import _rule
    from kaoping.engine.tree import validate_rules

    if not isinstance(params, dict):
        return "规则参数格式应为对象（{…}）"
    try:
        rule = _rule({**params, "kind": kind}, "$")
        questions = [rule.question] if rule.question else []
        validate_rules(IndicatorTree([Node("x", rule=rule)], questions=questions), [True])
    except EngineError as exc:
        return translate(exc)
    return None


# Example parameters per kind: shown as help next to the JSON field.
EXAMPLES: dict[str, str] = {
    "rating": '{"max": 10}',
    "grade": '{"grades": [{"label": "好", "coefficient": 100}, {"label": "较好", '
    '"coefficient": 80}, {"label": "一般", "coefficient": 60}, {"label": "差", "coefficient": 40}]}',
    "linear": '{"floor": 60, "target": 95}',
    "ratio_to_target": '{"target": 12, "cap": 1}',
    "ratio_to_best": "{}",
    "banded": '{"bands": [{"min": 95, "score": 10}, {"min": 85, "score": 8}], "else": 0}',
    "deduction": '{"max": 5, "items": [{"code": "a", "name": "未按时召开支委会", "per": 1}]}',
    "bonus": '{"cap": 3, "items": [{"code": "a", "name": "获市级表彰", "per": 1}]}',
    "penalty": '{"cap": 5, "items": [{"code": "a", "name": "被通报批评", "per": 2}]}',
    "base_adjust": '{"base": 8, "max": 10, "items": [{"code": "up", "per": 1}, '
    '{"code": "down", "per": -1}]}',
    "ballot": '{"question": "Q1", "measure": "good_rate"}',
    "veto": "{}",
}
