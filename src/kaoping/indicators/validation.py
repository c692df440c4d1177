"""The validation report of an indicator-system version (blocking errors and warnings).

- Structure: points and weights add up; every leaf has a rule and criteria; veto items have
  their effect; the engine accepts the whole tree exactly as it will score it.
- Coverage (结构体系): every required dimension present, and each dimension's share of points.
- Burden (于事简便, 最多报一次): evidence a unit must supply, evidence the system already holds,
  the same material asked for twice, process-trace indicators that only count documents, and
  an estimated burden per target.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .constants import (
    HELD_SOURCES,
    REQUIRED_DIMENSIONS,
    DataSource,
    Dimension,
    Method,
    RuleKind,
    Weighting,
)
from .engine_bridge import engine_package
from .models import Indicator, SchemeVersion

# Points outside the weighted base: they do not count toward a parent's total.
EXTRA_KINDS = {RuleKind.BONUS, RuleKind.PENALTY, RuleKind.VETO}
TOLERANCE = Decimal("0.005")
MINUTES_PER_REQUIRED_ITEM = 30
MINUTES_PER_OPTIONAL_ITEM = 10

# Criteria that only count documents and traces (留痕) rather than results.
TRACE_WORDS = re.compile(r"台账|记录|留痕|痕迹|照片|图片|材料|档案|签到|笔记|心得|报表|份")
RESULT_WORDS = re.compile(
    r"成效|效果|解决|满意|完成率|达标|实效|质量|群众评价|测评|问题整改|结果|办结|转化|提升"
)


@dataclass
class Issue:
    message: str
    indicator: Indicator | None = None
    code: str = ""

    @property
    def where(self) -> str:
        return f"{self.indicator.code} {self.indicator.name}" if self.indicator else "整体"


@dataclass
class Report:
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    coverage: list[dict[str, Any]] = field(default_factory=list)
    burden: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, message: str, ind: Indicator | None = None, code: str = "") -> None:
        self.errors.append(Issue(message, ind, code))

    def warn(self, message: str, ind: Indicator | None = None, code: str = "") -> None:
        self.warnings.append(Issue(message, ind, code))


def _fmt(value: Decimal | float) -> str:
    text = f"{Decimal(value):.2f}".rstrip("0").rstrip(".")
    return text or "0"


def _effective_dimension(ind: Indicator, by_id: dict[int, Indicator]) -> str:
    cur: Indicator | None = ind
    while cur is not None:
        if cur.dimension:
            return cur.dimension
        cur = by_id.get(cur.parent_id) if cur.parent_id else None
    return ""


def _kind(ind: Indicator) -> str:
    """The rule kind, or the kind proposed on import while it awaits confirmation."""
    return ind.rule_kind or str((ind.proposed_rule or {}).get("kind", ""))


def validate(version: SchemeVersion) -> Report:
    report = Report()
    inds = list(version.indicators.all())
    if not inds:
        report.error("指标体系还没有任何指标", code="empty")
        return report
    by_id = {i.pk: i for i in inds}
    children: dict[int | None, list[Indicator]] = defaultdict(list)
    for ind in inds:
        children[ind.parent_id].append(ind)
    leaves = [i for i in inds if not children.get(i.pk)]

    _check_structure(version, report, inds, children, leaves)
    _check_engine(version, report, inds)
    _coverage(version, report, leaves, by_id)
    _burden(report, leaves)
    return report


def _check_structure(
    version: SchemeVersion,
    report: Report,
    inds: list[Indicator],
    children: dict[int | None, list[Indicator]],
    leaves: list[Indicator],
) -> None:
    points_mode = version.weighting == Weighting.POINTS
    for parent_id, group in children.items():
        base = [c for c in group if _kind(c) not in EXTRA_KINDS]
        parent = next((i for i in inds if i.pk == parent_id), None)
        if points_mode:
            missing = [c for c in base if c.points is None]
            for c in missing:
                report.error("未填写分值", c, "no_points")
            total = sum((c.points or Decimal(0) for c in base), Decimal(0))
            expected = version.total_points if parent is None else parent.points
            if expected is not None and not missing and abs(total - expected) > TOLERANCE:
                where = "一级指标" if parent is None else f"“{parent.name}”的下级指标"
                report.error(
                    f"{where}分值合计 {_fmt(total)}，与{'总分' if parent is None else '其分值'} "
                    f"{_fmt(expected)} 不一致",
                    parent,
                    "points_sum",
                )
        else:
            missing = [c for c in base if c.weight is None]
            for c in missing:
                report.error("未填写权重", c, "no_weight")
            total = sum((c.weight or Decimal(0) for c in base), Decimal(0))
            if base and not missing and abs(total - 1) > Decimal("0.0005"):
                where = "一级指标" if parent is None else f"“{parent.name}”的下级指标"
                report.error(
                    f"{where}权重合计 {_fmt(total * 100)}%，应为 100%", parent, "weight_sum"
                )
    for leaf in leaves:
        if not leaf.rule_kind:
            if leaf.proposed_rule:
                report.error("导入时识别出建议的计分规则，尚待确认", leaf, "proposed_rule")
            else:
                report.error("末级指标未设置计分规则", leaf, "no_rule")
        if not leaf.criteria.strip():
            report.error("末级指标未填写评分标准", leaf, "no_criteria")
        if leaf.rater_weights:
            total = sum(Decimal(str(v)) for v in leaf.rater_weights.values())
            if abs(total - 1) > Decimal("0.0005"):
                report.error(
                    f"评价主体权重合计 {_fmt(total * 100)}%，应为 100%", leaf, "rater_weights"
                )
        if leaf.data_source == DataSource.BALLOT and leaf.rule_kind not in (
            "",
            RuleKind.BALLOT,
            RuleKind.GRADE,
        ):
            report.warn("数据来源为民主测评，但计分规则不是测评或等次", leaf, "source_rule")
    for ind in inds:
        if ind.rule_kind == RuleKind.VETO or ind.veto:
            effect = (ind.veto or {}).get("effect")
            if effect not in ("zero", "ceiling"):
                report.error("一票否决项未规定否决后果（记零分或限定最高等次）", ind, "veto")
            elif effect == "ceiling" and not (ind.veto or {}).get("grade"):
                report.error("一票否决项限定最高等次，但未指定等次", ind, "veto")
        if children.get(ind.pk) and ind.rule_kind and ind.rule_kind not in EXTRA_KINDS:
            report.warn("非末级指标设置了计分规则，计分以其下级指标为准", ind, "rule_on_parent")


def _check_engine(version: SchemeVersion, report: Report, inds: list[Indicator]) -> None:
    """Let the engine parse the tree it will score; translate its path into an indicator."""
    if report.errors:
        return  # the engine would stop at the first of the problems already listed
    from kaoping.engine.errors import EngineError, PackageError
    from kaoping.engine.package import load_package

    package, order = engine_package(version, inds)
    try:
        load_package(package)
    except PackageError as exc:
        m = re.match(r"\$\.indicators\[(\d+)\]", exc.path)
        ind = order[int(m.group(1))] if m else None
        detail = exc.path[m.end() :].lstrip(".") if m else exc.path
        report.error(
            f"计分引擎不能接受该指标的设置（{detail or '指标'}：{exc.message}）", ind, "engine"
        )
    except EngineError as exc:
        report.error(f"计分引擎不能接受该指标体系：{exc}", None, "engine")


def _coverage(
    version: SchemeVersion, report: Report, leaves: list[Indicator], by_id: dict[int, Indicator]
) -> None:
    points: dict[str, Decimal] = defaultdict(Decimal)
    counts: dict[str, int] = defaultdict(int)
    for leaf in leaves:
        if leaf.rule_kind in EXTRA_KINDS:
            continue
        dim = _effective_dimension(leaf, by_id)
        counts[dim] += 1
        if version.weighting == Weighting.POINTS:
            points[dim] += leaf.points or Decimal(0)
        else:
            share = Decimal(1)
            cur: Indicator | None = leaf
            while cur is not None:
                share *= cur.weight or Decimal(0)
                cur = by_id.get(cur.parent_id) if cur.parent_id else None
            points[dim] += share * version.total_points
    total = sum(points.values(), Decimal(0)) or Decimal(1)
    labels = dict(Dimension.choices)
    for dim in [*REQUIRED_DIMENSIONS, Dimension.NONE]:
        if dim == Dimension.NONE and not counts.get(dim):
            continue
        report.coverage.append(
            {
                "dimension": dim,
                "label": labels[dim] if dim else "未标注维度",
                "indicators": counts.get(dim, 0),
                "points": points.get(dim, Decimal(0)),
                "share": float(points.get(dim, Decimal(0)) / total),
                "present": counts.get(dim, 0) > 0,
            }
        )
    missing = [labels[d] for d in REQUIRED_DIMENSIONS if not counts.get(d)]
    if missing:
        message = f"未覆盖以下维度（结构体系要求全覆盖）：{'、'.join(missing)}"
        if version.scheme.target_kind == "organization":
            report.error(message, None, "coverage")
        else:
            report.warn(message, None, "coverage")
    if counts.get(Dimension.NONE):
        report.warn(f"有 {counts[Dimension.NONE]} 个末级指标未标注维度", None, "no_dimension")


def _burden(report: Report, leaves: list[Indicator]) -> None:
    required = optional = 0
    per_material: dict[str, list[Indicator]] = defaultdict(list)
    flagged_held: list[Indicator] = []
    traces: list[Indicator] = []
    for leaf in leaves:
        items = leaf.evidence or []
        for item in items:
            count = int(item.get("count") or 1)
            if item.get("optional"):
                optional += count
            else:
                required += count
            what = re.sub(r"\s+", "", str(item.get("what", "")))
            if what:
                per_material[what].append(leaf)
        if items and leaf.data_source in HELD_SOURCES:
            flagged_held.append(leaf)
            report.warn(
                f"数据来源为“{leaf.get_data_source_display()}”，系统已掌握该数据，"
                "不应再要求单位报送佐证材料（最多报一次）",
                leaf,
                "held_evidence",
            )
        methods = set(leaf.methods or [])
        if (
            items
            and methods <= {Method.DOCUMENTS}
            and TRACE_WORDS.search(leaf.criteria or "")
            and not RESULT_WORDS.search(leaf.criteria or "")
        ):
            traces.append(leaf)
            report.warn(
                "仅凭查阅材料、计数留痕考核，建议改为看实际成效（整治形式主义要求）",
                leaf,
                "process_trace",
            )
    for what, users in per_material.items():
        if len(users) > 1:
            codes = "、".join(u.code for u in users)
            report.warn(
                f"同一材料“{what}”被 {len(users)} 个指标要求（{codes}），"
                "应只报一次、在各指标间复用",
                users[0],
                "duplicate_evidence",
            )
    report.burden = {
        "required_items": required,
        "optional_items": optional,
        "indicators_with_evidence": sum(1 for leaf in leaves if leaf.evidence),
        "held_source_requests": len(flagged_held),
        "process_trace_indicators": len(traces),
        "estimated_minutes": required * MINUTES_PER_REQUIRED_ITEM
        + optional * MINUTES_PER_OPTIONAL_ITEM,
    }
