"""Result-use rules (结果运用规则), declared when a campaign is set up, before anything is scored.

A rule is ``{"when": CONDITION, "value": GRADE, "then": ACTION}``: when a target's result meets
the condition, the action applies (e.g. 好 → eligible for 评先评优; 差 or a veto → 问责 list and
mandatory 整改; every result filed for 选拔任用).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

CONDITIONS: dict[str, str] = {
    "grade": "评定等次为",
    "veto": "触发一票否决",
    "any": "所有考核结果",
}
ACTIONS: dict[str, str] = {
    "award_eligible": "具备评先评优资格",
    "accountability": "列入问责名单",
    "rectification": "限期整改",
    "cadre_file": "存入干部考核档案，作为选拔任用依据",
}
DEFAULT_RULES: list[dict[str, str]] = [
    {"when": "grade", "value": "好", "then": "award_eligible"},
    {"when": "grade", "value": "差", "then": "accountability"},
    {"when": "grade", "value": "差", "then": "rectification"},
    {"when": "veto", "then": "accountability"},
    {"when": "veto", "then": "rectification"},
    {"when": "any", "then": "cadre_file"},
]


def clean_rules(value: Any, grades: list[str]) -> list[dict[str, str]]:
    """Normalized rules, or ValidationError({"result_rules": ...}) naming the faulty row."""
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise ValidationError({"result_rules": "结果运用规则格式不正确"})
    out: list[dict[str, str]] = []
    for n, rule in enumerate(value, start=1):
        if not isinstance(rule, dict):
            raise ValidationError({"result_rules": f"第 {n} 条结果运用规则格式不正确"})
        when, then = rule.get("when"), rule.get("then")
        if when not in CONDITIONS:
            raise ValidationError({"result_rules": f"第 {n} 条规则的条件不正确"})
        if then not in ACTIONS:
            raise ValidationError({"result_rules": f"第 {n} 条规则的运用方式不正确"})
        clean = {"when": when, "then": then}
        if when == "grade":
            grade = str(rule.get("value") or "")
            if grade not in grades:
                raise ValidationError(
                    {"result_rules": f"第 {n} 条规则的等次应为：{'、'.join(grades)}"}
                )
            clean["value"] = grade
        if clean not in out:
            out.append(clean)
    return out


def describe(rule: dict[str, str]) -> str:
    """``评定等次为“好” → 具备评先评优资格``."""
    cond = CONDITIONS.get(rule.get("when", ""), "?")
    if rule.get("when") == "grade":
        cond = f"{cond}“{rule.get('value', '')}”"
    return f"{cond} → {ACTIONS.get(rule.get('then', ''), '?')}"
