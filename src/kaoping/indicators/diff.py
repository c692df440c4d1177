"""What changed between two versions of an indicator system, matched by indicator code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .models import Indicator, SchemeVersion

COMPARED = (
    ("name", "名称"),
    ("dimension", "维度"),
    ("points", "分值"),
    ("weight", "权重"),
    ("rule_kind", "计分规则"),
    ("rule_params", "规则参数"),
    ("criteria", "评分标准"),
    ("methods", "考核方式"),
    ("evidence", "佐证材料"),
    ("rater_weights", "评价主体权重"),
    ("data_source", "数据来源"),
    ("missing_policy", "缺失数据处理"),
    ("veto", "一票否决"),
)


@dataclass
class Change:
    code: str
    name: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def reweighted(self) -> bool:
        return "分值" in self.fields or "权重" in self.fields


@dataclass
class VersionDiff:
    added: list[Indicator] = field(default_factory=list)
    removed: list[Indicator] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)

    @property
    def reweighted(self) -> list[Change]:
        return [c for c in self.changed if c.reweighted]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _display(ind: Indicator, name: str) -> Any:
    value = getattr(ind, name)
    if name in ("dimension", "rule_kind", "data_source", "missing_policy") and value:
        return getattr(ind, f"get_{name}_display")()
    return value


def diff_versions(old: SchemeVersion, new: SchemeVersion) -> VersionDiff:
    before = {i.code: i for i in old.indicators.select_related("parent")}
    after = {i.code: i for i in new.indicators.select_related("parent")}
    result = VersionDiff(
        added=sorted((after[c] for c in after.keys() - before.keys()), key=lambda i: i.code),
        removed=sorted((before[c] for c in before.keys() - after.keys()), key=lambda i: i.code),
    )
    for code in sorted(before.keys() & after.keys()):
        a, b = before[code], after[code]
        change = Change(code, b.name)
        for name, label in COMPARED:
            va, vb = _display(a, name), _display(b, name)
            if va != vb:
                change.fields[label] = (va, vb)
        pa = a.parent.code if a.parent_id else None
        pb = b.parent.code if b.parent_id else None
        if pa != pb:
            change.fields["上级指标"] = (pa or "（一级）", pb or "（一级）")
        if change.fields:
            result.changed.append(change)
    return result
