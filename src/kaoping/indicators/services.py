"""Writes to indicator systems. Each function checks its rules, writes in one transaction under a
lock on the version row, and leaves an audit entry. Callers have already checked the permission
(``policy.can_manage_scheme``); a published version is refused here whatever the caller."""

from __future__ import annotations

import copy
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from kaoping.audit.actions import Action
from kaoping.audit.services import diff, log_action, snapshot

from . import selectors
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
from .models import Indicator, PublishedVersionError, Scheme, SchemeVersion, VersionStatus
from .rule_params import check_rule

if TYPE_CHECKING:
    from kaoping.engine import AHPResult, IndicatorTree

PUBLISHED_MESSAGE = "已发布的版本不能修改，请基于它新建草稿"
DEFAULT_GRADES = ["好", "较好", "一般", "差"]
# Starting settings of a new scheme (version.options); see engine Settings for their meaning.
DEFAULT_OPTIONS: dict[str, Any] = {
    "rater_weights": {RaterGroupCode.PARTY_COMMITTEE.value: 1.0},
    "grades": DEFAULT_GRADES,
    "grade_thresholds": [90, 80, 60],
}
# The 民主测评 scale when a version sets none (the engine's default).
DEFAULT_BALLOT_GRADES: list[dict[str, Any]] = [
    {"label": "好", "coefficient": 100},
    {"label": "较好", "coefficient": 80},
    {"label": "一般", "coefficient": 60},
    {"label": "差", "coefficient": 40},
]
SETTINGS_FIELDS = (
    "label", "total_points", "grades", "grade_thresholds", "rater_weights", "ballot_grades",
)  # fmt: skip
EDITABLE_FIELDS = (
    "code", "name", "dimension", "points", "weight", "rule_kind", "rule_params",
    "proposed_rule", "criteria", "methods", "evidence", "rater_weights", "data_source",
    "missing_policy", "veto",
)  # fmt: skip
AUDIT_FIELDS = (
    "code", "name", "level", "dimension", "points", "weight", "rule_kind", "rule_params",
    "criteria", "methods", "evidence", "rater_weights", "data_source", "missing_policy", "veto",
)  # fmt: skip
SCHEME_FIELDS = ("name", "description", "owner", "target_kind")
VERSION_FIELDS = ("number", "label", "status", "weighting", "total_points")
TWO_PLACES = Decimal("0.01")
SIX_PLACES = Decimal("0.000001")


# ---- helpers -------------------------------------------------------------------------------


def _lock_draft(version: SchemeVersion) -> SchemeVersion:
    """Lock the version row and refuse if it is published (re-read under the lock)."""
    locked = SchemeVersion.objects.select_for_update().select_related("scheme").get(pk=version.pk)
    if locked.status == VersionStatus.PUBLISHED:
        raise PublishedVersionError(PUBLISHED_MESSAGE)
    version.status = locked.status
    return locked


def _decimal(value: Any, field: str, label: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({field: f"{label}应为数字"}) from exc
    if not d.is_finite():
        raise ValidationError({field: f"{label}应为数字"})
    return d


def _grades(version: SchemeVersion) -> list[str]:
    return list((version.options or {}).get("grades") or DEFAULT_GRADES)


def _clean_evidence(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ValidationError({"evidence": "佐证材料格式不正确"})
    out = []
    for n, item in enumerate(value, start=1):
        if not isinstance(item, dict) or not str(item.get("what") or "").strip():
            raise ValidationError({"evidence": f"佐证材料第 {n} 项未写明是什么材料"})
        try:
            count = int(item.get("count") or 1)
        except (TypeError, ValueError) as exc:
            raise ValidationError({"evidence": f"佐证材料第 {n} 项的份数应为整数"}) from exc
        if count < 1:
            raise ValidationError({"evidence": f"佐证材料第 {n} 项的份数至少为 1"})
        out.append(
            {
                "what": str(item["what"]).strip(),
                "count": count,
                "optional": bool(item.get("optional")),
            }
        )
    return out


def _clean_rater_weights(value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        raise ValidationError({"rater_weights": "评价主体权重格式不正确"})
    labels = dict(RaterGroupCode.choices)
    out = {}
    for code, w in value.items():
        if code not in labels:
            raise ValidationError({"rater_weights": f"未知的评价主体“{code}”"})
        d = _decimal(w, "rater_weights", f"“{labels[code]}”的权重")
        if d is None:
            continue
        if d < 0 or d > 1:
            raise ValidationError({"rater_weights": f"“{labels[code]}”的权重应在 0 至 1 之间"})
        if d > 0:
            out[code] = float(d)
    return out


def _clean_veto(value: Any, version: SchemeVersion) -> dict[str, Any]:
    if not value:
        return {}
    if not isinstance(value, dict) or value.get("effect") not in ("zero", "ceiling"):
        raise ValidationError({"veto": "一票否决的后果应为“记零分”或“限定最高等次”"})
    if value["effect"] == "zero":
        return {"effect": "zero"}
    grade = value.get("grade")
    if grade not in _grades(version):
        raise ValidationError({"veto": f"限定的最高等次应为：{'、'.join(_grades(version))}"})
    return {"effect": "ceiling", "grade": grade}


def _clean(ind: Indicator, version: SchemeVersion) -> None:
    """Check and normalize every field of ``ind``; raise ValidationError by field."""
    errors: dict[str, str] = {}

    def check(field: str, fn: Any) -> None:
        try:
            fn()
        except ValidationError as exc:
            errors[field] = exc.message_dict.get(field, exc.messages)[0]

    ind.code = str(ind.code or "").strip()
    ind.name = str(ind.name or "").strip()
    if not ind.code:
        errors["code"] = "请填写指标编码"
    elif len(ind.code) > 32 or any(c.isspace() for c in ind.code) or ind.code == "TOTAL":
        errors["code"] = "指标编码最多 32 位，不能含空格，不能为 TOTAL"
    elif version.indicators.filter(code=ind.code).exclude(pk=ind.pk).exists():
        errors["code"] = f"指标编码“{ind.code}”在本版本中已存在"
    if not ind.name:
        errors["name"] = "请填写指标名称"
    elif len(ind.name) > 200:
        errors["name"] = "指标名称最多 200 字"
    if ind.level > MAX_LEVELS:
        errors["parent"] = f"指标最多 {MAX_LEVELS} 级"
    if ind.dimension not in Dimension.values:
        errors["dimension"] = "维度不正确"

    def points() -> None:
        ind.points = _decimal(ind.points, "points", "分值")
        if ind.points is not None:
            if ind.points < 0:
                raise ValidationError({"points": "分值不能为负数"})
            ind.points = ind.points.quantize(TWO_PLACES, ROUND_HALF_UP)

    def weight() -> None:
        ind.weight = _decimal(ind.weight, "weight", "权重")
        if ind.weight is not None:
            if not 0 <= ind.weight <= 1:
                raise ValidationError({"weight": "权重应在 0 至 100% 之间"})
            ind.weight = ind.weight.quantize(SIX_PLACES, ROUND_HALF_UP)

    check("points", points)
    check("weight", weight)
    ind.rule_kind = ind.rule_kind or ""
    if ind.rule_kind and ind.rule_kind not in RuleKind.values:
        errors["rule_kind"] = f"未知的计分规则“{ind.rule_kind}”"
    elif not ind.rule_kind:
        ind.rule_params = {}
    else:
        params = dict(ind.rule_params or {}) if isinstance(ind.rule_params, dict) else None
        if params is None:
            errors["rule_params"] = "规则参数格式应为对象（{…}）"
        else:
            if params.pop("kind", ind.rule_kind) != ind.rule_kind:
                errors["rule_params"] = "规则参数中的 kind 与所选计分规则不一致"
            elif reason := check_rule(ind.rule_kind, params):
                errors["rule_params"] = reason
            ind.rule_params = params
    if not isinstance(ind.proposed_rule, dict):
        errors["proposed_rule"] = "建议规则格式不正确"
    ind.criteria = str(ind.criteria or "").strip()
    methods = ind.methods or []
    if not isinstance(methods, list) or any(m not in Method.values for m in methods):
        errors["methods"] = "考核方式不正确"
    else:
        ind.methods = list(dict.fromkeys(methods))
    check("evidence", lambda: setattr(ind, "evidence", _clean_evidence(ind.evidence or [])))
    check(
        "rater_weights",
        lambda: setattr(ind, "rater_weights", _clean_rater_weights(ind.rater_weights or {})),
    )
    if ind.data_source not in DataSource.values:
        errors["data_source"] = "数据来源不正确"
    if ind.missing_policy and ind.missing_policy not in MissingPolicy.values:
        errors["missing_policy"] = "缺失数据处理方式不正确"
    check("veto", lambda: setattr(ind, "veto", _clean_veto(ind.veto, version)))
    if errors:
        raise ValidationError(errors)


COPIED = [f for f in Indicator._meta.concrete_fields if f.name not in ("id", "version")]


def _renumber(version: SchemeVersion, parent_id: int | None, order: list[Indicator]) -> None:
    for pos, ind in enumerate(order):
        if ind.position != pos:
            Indicator.objects.filter(pk=ind.pk).update(position=pos)
            ind.position = pos


def _siblings(version: SchemeVersion, parent_id: int | None) -> list[Indicator]:
    return list(version.indicators.filter(parent_id=parent_id).order_by("position", "code", "id"))


def _height(ind: Indicator) -> int:
    """Levels in the subtree rooted at ``ind`` (1 for a leaf)."""
    rows = selectors.subtree(ind)
    return max(r.level for r in rows) - ind.level + 1 if len(rows) > 1 else 1


# ---- schemes and versions ------------------------------------------------------------------


@transaction.atomic
def create_scheme(
    *,
    actor: Any,
    owner: Any,
    name: str,
    description: str = "",
    target_kind: str = "organization",
    weighting: str = Weighting.POINTS,
    total_points: Decimal | int | str = 100,
) -> SchemeVersion:
    """A new indicator system and its first draft (version 1)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "请填写指标体系名称"})
    if Scheme.objects.filter(name=name).exists():
        raise ValidationError({"name": f"指标体系“{name}”已存在"})
    if target_kind not in ("organization", "cadre", "member"):
        raise ValidationError({"target_kind": "考核对象不正确"})
    if weighting not in Weighting.values:
        raise ValidationError({"weighting": "计分方式不正确"})
    total = _decimal(total_points, "total_points", "总分")
    if total is None or total <= 0:
        raise ValidationError({"total_points": "总分应大于 0"})
    scheme = Scheme.objects.create(
        name=name,
        description=description.strip(),
        owner=owner,
        target_kind=target_kind,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    version = SchemeVersion.objects.create(
        scheme=scheme,
        number=1,
        weighting=weighting,
        total_points=total,
        options=copy.deepcopy(DEFAULT_OPTIONS),
        created_by=scheme.created_by,
    )
    log_action(
        Action.SCHEME_CREATE,
        actor=actor,
        obj=scheme,
        changes=diff({}, snapshot(scheme, SCHEME_FIELDS) | snapshot(version, VERSION_FIELDS)),
    )
    return version


@transaction.atomic
def new_draft(*, actor: Any, from_version: SchemeVersion, label: str = "") -> SchemeVersion:
    """A new draft of the same scheme: a deep copy of ``from_version`` (draft or published)."""
    scheme = Scheme.objects.select_for_update().get(pk=from_version.scheme_id)
    source = SchemeVersion.objects.get(pk=from_version.pk)
    number = (scheme.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = SchemeVersion.objects.create(
        scheme=scheme,
        number=number,
        label=(label or "").strip()[:100],
        based_on=source,
        weighting=source.weighting,
        total_points=source.total_points,
        options=copy.deepcopy(source.options or {}),
        note=source.note,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    new_ids: dict[int, int] = {}
    by_level: dict[int, list[Indicator]] = {}
    for ind in source.indicators.all():
        by_level.setdefault(ind.level, []).append(ind)
    for level in sorted(by_level):
        olds = by_level[level]
        copies = []
        for old in olds:
            values = {f.attname: getattr(old, f.attname) for f in COPIED}
            values["parent_id"] = new_ids[old.parent_id] if old.parent_id else None
            copies.append(Indicator(version=version, **copy.deepcopy(values)))
        created = Indicator.objects.bulk_create(copies)
        new_ids.update({old.pk: new.pk for old, new in zip(olds, created, strict=True)})
    log_action(
        Action.SCHEME_VERSION_CREATE,
        actor=actor,
        obj=version,
        changes=diff({}, snapshot(version, VERSION_FIELDS)),
        data={"based_on": str(source), "indicators": len(new_ids)},
    )
    return version


def _number(d: Decimal) -> int | float:
    """A JSON number: an int when whole (90, not 90.0)."""
    return int(d) if d == d.to_integral() else float(d)


def _settings_snapshot(version: SchemeVersion) -> dict[str, Any]:
    """The settings as the audit log shows them (effective values, defaults included)."""
    s = selectors.version_settings(version)
    return {
        "版本名称": s.label,
        "总分": _plain_number(Decimal(version.total_points)),
        "等次与分数线": "、".join(
            f"{g.label}≥{g.threshold}" if g.threshold is not None else g.label for g in s.grades
        ),
        "评价主体权重": "、".join(f"{r.label} {r.percent}%" for r in s.rater_weights),
        "民主测评等次": "、".join(f"{g['label']}={g['coefficient']}" for g in s.ballot_grades),
    }


def _clean_label(value: Any) -> str:
    label = str(value or "").strip()
    if len(label) > 100:
        raise ValidationError({"label": "版本名称最多 100 字"})
    return label


def _clean_total(value: Any) -> Decimal:
    total = _decimal(value, "total_points", "总分")
    if total is None or total <= 0:
        raise ValidationError({"total_points": "总分应大于 0"})
    if total >= Decimal("1000000"):
        raise ValidationError({"total_points": "总分应小于 1000000"})
    return total.quantize(TWO_PLACES, ROUND_HALF_UP)


def _clean_grades(
    grades: Any, thresholds: Any, scale: Decimal, version: SchemeVersion
) -> tuple[list[str], list[int | float]]:
    """Grade labels (best first) and the minimum total of each but the last (descending,
    within 0..scale). A grade still used by a veto ceiling cannot go."""
    if not isinstance(grades, list | tuple):
        raise ValidationError({"grades": "等次格式不正确"})
    labels = [str(g or "").strip() for g in grades]
    if len(labels) < 2 or any(not g for g in labels):
        raise ValidationError({"grades": "请至少设置两个等次，且每个等次都要有名称"})
    if any(len(g) > 20 for g in labels):
        raise ValidationError({"grades": "等次名称最多 20 字"})
    if len(set(labels)) != len(labels):
        raise ValidationError({"grades": "等次名称不能重复"})
    if not isinstance(thresholds, list | tuple) or len(thresholds) != len(labels) - 1:
        raise ValidationError(
            {"grade_thresholds": "除最后一个等次外，每个等次都要有分数线（达到即为该等次）"}
        )
    values: list[Decimal] = []
    for label, raw in zip(labels, thresholds, strict=False):
        d = _decimal(raw, "grade_thresholds", f"“{label}”的分数线")
        if d is None:
            raise ValidationError({"grade_thresholds": f"请填写“{label}”的分数线"})
        if not 0 <= d <= scale:
            raise ValidationError(
                {"grade_thresholds": f"“{label}”的分数线应在 0 至 {_plain_number(scale)} 之间"}
            )
        values.append(d)
    for k in range(len(values) - 1):
        if values[k] <= values[k + 1]:
            raise ValidationError(
                {"grade_thresholds": f"分数线应从高到低排列：“{labels[k]}”应高于“{labels[k + 1]}”"}
            )
    for ind in version.indicators.exclude(veto={}).order_by("code"):
        grade = (ind.veto or {}).get("grade")
        if (ind.veto or {}).get("effect") == "ceiling" and grade not in labels:
            raise ValidationError(
                {
                    "grades": f"指标“{ind.code} {ind.name}”一票否决后限定为“{grade}”，"
                    "新的等次中没有它，请先修改该指标或保留该等次"
                }
            )
    return labels, [_number(d) for d in values]


def _clean_default_rater_weights(value: Any) -> dict[str, float]:
    weights = _clean_rater_weights(value)
    if not weights:
        raise ValidationError({"rater_weights": "请至少为一个评价主体设置权重"})
    total = sum((Decimal(str(w)) for w in weights.values()), Decimal(0))
    if abs(total - 1) > Decimal("0.001"):
        raise ValidationError({"rater_weights": f"评价主体权重合计 {total * 100:.2f}%，应为 100%"})
    return {k: round(w, 6) for k, w in weights.items()}


def _clean_ballot_grades(value: Any) -> list[dict[str, Any]]:
    """The 民主测评 scale: labels best first with coefficients (non-increasing, the first > 0);
    empty means the default scale."""
    if not value:
        return []
    if not isinstance(value, list | tuple):
        raise ValidationError({"ballot_grades": "民主测评等次格式不正确"})
    out: list[dict[str, Any]] = []
    for n, item in enumerate(value, start=1):
        label = str((item or {}).get("label") or "").strip() if isinstance(item, dict) else ""
        if not label:
            raise ValidationError({"ballot_grades": f"民主测评第 {n} 个等次未填写名称"})
        if len(label) > 20:
            raise ValidationError({"ballot_grades": "民主测评等次名称最多 20 字"})
        c = _decimal(item.get("coefficient"), "ballot_grades", f"“{label}”的系数")
        if c is None or c < 0:
            raise ValidationError({"ballot_grades": f"“{label}”的系数应为不小于 0 的数字"})
        out.append({"label": label, "coefficient": _number(c)})
    labels = [g["label"] for g in out]
    if len(out) < 2 or len(set(labels)) != len(labels):
        raise ValidationError({"ballot_grades": "民主测评至少要有两个互不相同的等次"})
    coefs = [g["coefficient"] for g in out]
    if coefs[0] <= 0 or any(coefs[k] < coefs[k + 1] for k in range(len(coefs) - 1)):
        raise ValidationError(
            {"ballot_grades": "民主测评等次应从好到差排列，系数从高到低，且第一个系数大于 0"}
        )
    return out


@transaction.atomic
def update_version_settings(*, actor: Any, version: SchemeVersion, **fields: Any) -> SchemeVersion:
    """Change the settings of a draft: ``label``, ``total_points`` (the full marks of a points
    version), ``grades`` with ``grade_thresholds`` (the result grades, best first, and the
    minimum total of each but the last), ``rater_weights`` (default rater-group weights, 0..1
    by ``RaterGroupCode``, summing to 1) and ``ballot_grades`` (the 民主测评 scale,
    ``[{"label", "coefficient"}]``; empty for the default). Fields not given keep their value.
    Raises ValidationError by field (Chinese messages)."""
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"unknown version settings: {', '.join(sorted(unknown))}")
    version = _lock_draft(version)
    before = _settings_snapshot(version)
    options = copy.deepcopy(version.options or {})
    errors: dict[str, str] = {}

    def check(fn: Any) -> Any:
        try:
            return fn()
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, messages[0])
            return None

    label = check(lambda: _clean_label(fields["label"])) if "label" in fields else version.label
    total = version.total_points
    if "total_points" in fields:
        total = check(lambda: _clean_total(fields["total_points"])) or total
    if {"grades", "grade_thresholds", "total_points"} & set(fields):
        scale = Decimal(total) if version.weighting == Weighting.POINTS else Decimal(100)
        grades = fields.get("grades", options.get("grades") or DEFAULT_GRADES)
        thresholds = fields.get("grade_thresholds", options.get("grade_thresholds") or [])
        cleaned = check(lambda: _clean_grades(grades, thresholds, scale, version))
        if cleaned:
            options["grades"], options["grade_thresholds"] = cleaned
    if "rater_weights" in fields:
        weights = check(lambda: _clean_default_rater_weights(fields["rater_weights"]))
        if weights:
            options["rater_weights"] = weights
    if "ballot_grades" in fields:
        ballot = check(lambda: _clean_ballot_grades(fields["ballot_grades"]))
        if ballot:
            options["ballot_grades"] = ballot
        elif "ballot_grades" not in errors:
            options.pop("ballot_grades", None)
    if errors:
        raise ValidationError(errors)
    version.label, version.total_points, version.options = label, total, options
    version.save(update_fields=["label", "total_points", "options"])
    changes = diff(before, _settings_snapshot(version))
    if changes:
        log_action(
            Action.SCHEME_SETTINGS,
            actor=actor,
            obj=version,
            changes=changes,
            data={"version": str(version)},
        )
    return version


# ---- indicators ----------------------------------------------------------------------------


@transaction.atomic
def add_indicator(
    *,
    actor: Any,
    version: SchemeVersion,
    parent: Indicator | None = None,
    position: int | None = None,
    **fields: Any,
) -> Indicator:
    """A new indicator under ``parent`` (None: level 1), at ``position`` among its siblings
    (0-based; default last)."""
    version = _lock_draft(version)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unknown indicator fields: {', '.join(sorted(unknown))}")
    if parent is not None and parent.version_id != version.pk:
        raise ValidationError({"parent": "上级指标不属于本版本"})
    level = parent.level + 1 if parent is not None else 1
    ind = Indicator(version=version, parent=parent, level=level, **fields)
    _clean(ind, version)
    siblings = _siblings(version, parent.pk if parent else None)
    ind.position = len(siblings)
    ind.save()
    if position is not None and 0 <= position < len(siblings):
        siblings.insert(position, ind)
        _renumber(version, ind.parent_id, siblings)
    log_action(
        Action.INDICATOR_CREATE,
        actor=actor,
        obj=ind,
        changes=diff({}, snapshot(ind, AUDIT_FIELDS)),
        data={"version": str(version)},
    )
    return ind


@transaction.atomic
def update_indicator(*, actor: Any, indicator: Indicator, **fields: Any) -> Indicator:
    version = _lock_draft(indicator.version)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unknown indicator fields: {', '.join(sorted(unknown))}")
    ind = Indicator.objects.get(pk=indicator.pk)
    before = snapshot(ind, AUDIT_FIELDS)
    for name, value in fields.items():
        setattr(ind, name, value)
    _clean(ind, version)
    ind.save()
    changes = diff(before, snapshot(ind, AUDIT_FIELDS))
    if changes:
        log_action(
            Action.INDICATOR_UPDATE,
            actor=actor,
            obj=ind,
            changes=changes,
            data={"version": str(version)},
        )
    return ind


@transaction.atomic
def confirm_proposed_rule(*, actor: Any, indicator: Indicator) -> Indicator:
    """Adopt the rule read from the criteria text on import (``proposed_rule``)."""
    proposed = dict(Indicator.objects.get(pk=indicator.pk).proposed_rule or {})
    kind = proposed.pop("kind", "")
    if not kind:
        raise ValidationError({"proposed_rule": "没有待确认的建议规则"})
    from kaoping.engine.package import RULE_FIELDS

    params = {k: v for k, v in proposed.items() if k in RULE_FIELDS}
    fields: dict[str, Any] = {"rule_kind": kind, "rule_params": params, "proposed_rule": {}}
    if isinstance(proposed.get("veto"), dict):
        fields["veto"] = proposed["veto"]  # the effect read with the rule (记零分 / 限定等次)
    return update_indicator(actor=actor, indicator=indicator, **fields)


@transaction.atomic
def move_indicator(
    *, actor: Any, indicator: Indicator, new_parent: Indicator | None, position: int | None = None
) -> Indicator:
    """Move the indicator (with its subtree) under ``new_parent`` at ``position`` (0-based;
    default last); levels of the subtree follow."""
    version = _lock_draft(indicator.version)
    ind = Indicator.objects.get(pk=indicator.pk)
    if new_parent is not None:
        new_parent = Indicator.objects.get(pk=new_parent.pk)
        if new_parent.version_id != version.pk:
            raise ValidationError({"parent": "上级指标不属于本版本"})
        cur: Indicator | None = new_parent
        while cur is not None:
            if cur.pk == ind.pk:
                raise ValidationError({"parent": "不能移到自身或自己的下级指标之下"})
            cur = cur.parent
    new_level = new_parent.level + 1 if new_parent is not None else 1
    if new_level + _height(ind) - 1 > MAX_LEVELS:
        raise ValidationError({"parent": f"移动后将超过 {MAX_LEVELS} 级，不能移动到这里"})
    old_parent_id, old_level = ind.parent_id, ind.level
    before = {"上级指标": str(ind.parent) if ind.parent_id else "（一级）", "排序": ind.position}
    delta = new_level - old_level
    if delta:
        for row in selectors.subtree(ind):
            Indicator.objects.filter(pk=row.pk).update(level=row.level + delta)
    Indicator.objects.filter(pk=ind.pk).update(parent=new_parent)
    ind.refresh_from_db()
    new_parent_id = new_parent.pk if new_parent else None
    if old_parent_id != new_parent_id:
        _renumber(version, old_parent_id, _siblings(version, old_parent_id))
    siblings = [s for s in _siblings(version, new_parent_id) if s.pk != ind.pk]
    at = len(siblings) if position is None else max(0, min(position, len(siblings)))
    siblings.insert(at, ind)
    _renumber(version, new_parent_id, siblings)
    after = {"上级指标": str(new_parent) if new_parent else "（一级）", "排序": ind.position}
    log_action(
        Action.INDICATOR_MOVE,
        actor=actor,
        obj=ind,
        changes=diff(before, after),
        data={"version": str(version)},
    )
    return ind


@transaction.atomic
def reorder(*, actor: Any, indicator: Indicator, direction: Literal["up", "down"]) -> Indicator:
    """Swap the indicator with its previous (up) or next (down) sibling."""
    if direction not in ("up", "down"):
        raise ValueError("direction must be up or down")
    version = _lock_draft(indicator.version)
    ind = Indicator.objects.get(pk=indicator.pk)
    siblings = _siblings(version, ind.parent_id)
    i = next(k for k, s in enumerate(siblings) if s.pk == ind.pk)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(siblings):
        siblings[i], siblings[j] = siblings[j], siblings[i]
        _renumber(version, ind.parent_id, siblings)
        log_action(
            Action.INDICATOR_MOVE,
            actor=actor,
            obj=ind,
            changes={"排序": [i + 1, j + 1]},
            data={"version": str(version)},
        )
    ind.refresh_from_db()
    return ind


@transaction.atomic
def delete_indicator(*, actor: Any, indicator: Indicator) -> int:
    """Delete the indicator with its whole subtree; returns how many indicators went."""
    version = _lock_draft(indicator.version)
    ind = Indicator.objects.get(pk=indicator.pk)
    rows = selectors.subtree(ind)
    log_action(
        Action.INDICATOR_DELETE,
        actor=actor,
        obj=ind,
        changes=diff(snapshot(ind, AUDIT_FIELDS), {}),
        data={"version": str(version), "subtree": [r.code for r in rows]},
    )
    parent_id = ind.parent_id
    ind.delete()
    _renumber(version, parent_id, _siblings(version, parent_id))
    return len(rows)


# ---- weights -------------------------------------------------------------------------------


def _store_weights(
    version: SchemeVersion,
    parent: Indicator | None,
    kids: list[Indicator],
    weights: list[Decimal],
    points: list[Decimal] | None = None,
) -> dict[str, list[Any]]:
    """Store weights on ``kids`` (six places, summing to exactly 1); in a points version also
    the points: ``points`` as entered, else weight × the parent's points (two places, summing
    to exactly the parent's)."""
    ws = [w.quantize(SIX_PLACES, ROUND_HALF_UP) for w in weights]
    if ws:
        big = max(range(len(ws)), key=lambda k: ws[k])
        ws[big] += Decimal(1) - sum(ws, Decimal(0))
    pts: list[Decimal | None] = [None] * len(ws)
    whole = _whole(version, parent)
    if points is not None:
        pts = list(points)
    elif version.weighting == Weighting.POINTS and whole is not None and ws:
        pts = [(w * whole).quantize(TWO_PLACES, ROUND_HALF_UP) for w in ws]
        big = max(range(len(pts)), key=lambda k: pts[k] or 0)
        pts[big] = (pts[big] or Decimal(0)) + whole - sum((p or 0 for p in pts), Decimal(0))
    changes: dict[str, list[Any]] = {}
    for kid, w, p in zip(kids, ws, pts, strict=True):
        old = (kid.weight, kid.points)
        kid.weight = w
        if p is not None:
            kid.points = p
        kid.save(update_fields=["weight", "points"])
        if old != (kid.weight, kid.points):
            changes[kid.code] = [
                f"{old[0] or 0:.4f}/{old[1] if old[1] is not None else '—'}",
                f"{kid.weight:.4f}/{kid.points if kid.points is not None else '—'}",
            ]
    return changes


def _parent_in(version: SchemeVersion, parent: Indicator | None) -> Indicator | None:
    if parent is None:
        return None
    parent = Indicator.objects.get(pk=parent.pk)
    if parent.version_id != version.pk:
        raise ValidationError("上级指标不属于本版本")
    return parent


def _whole(version: SchemeVersion, parent: Indicator | None) -> Decimal | None:
    """What the children of ``parent`` share: its points, or the version's total at level 1."""
    return version.total_points if parent is None else parent.points


def _plain_number(d: Decimal) -> str:
    return format(d.normalize(), "f") if d == d.to_integral() else format(d, "f")


def _entered_points(
    version: SchemeVersion, parent: Indicator | None, kids: list[Indicator], points: dict[str, Any]
) -> tuple[list[Decimal], list[Decimal]]:
    """Points entered for ``kids`` (by code) checked against the parent's points; returns the
    points (two places) and the weights they make."""
    if version.weighting != Weighting.POINTS:
        raise ValidationError("权重制的指标体系请按百分比填写权重")
    whole = _whole(version, parent)
    if parent is not None and (whole is None or whole <= 0):
        raise ValidationError(f"请先为“{parent.name}”设置分值，再分配其下级指标的分值")
    assert whole is not None
    if set(points) != {k.code for k in kids}:
        raise ValidationError("请为每一个同级指标填写分值")
    values = []
    for kid in kids:
        p = _decimal(points[kid.code], "points", f"“{kid.name}”的分值")
        if p is None or p < 0:
            raise ValidationError(f"“{kid.name}”的分值应为不小于 0 的数字")
        values.append(p.quantize(TWO_PLACES, ROUND_HALF_UP))
    total = sum(values, Decimal(0))
    if abs(total - whole) > selectors.TOLERANCE:
        what = "总分" if parent is None else f"“{parent.name}”的分值"
        raise ValidationError(
            f"同级指标分值合计 {_plain_number(total)}，应等于{what} {_plain_number(whole)}"
        )
    return values, [p / whole for p in values]


@transaction.atomic
def set_weights(
    *,
    actor: Any,
    version: SchemeVersion,
    parent: Indicator | None,
    weights: dict[str, Any] | None = None,
    points: dict[str, Any] | None = None,
) -> list[Indicator]:
    """Directly entered weights of the weighted children of ``parent``: ``weights`` (0..1 by
    code, summing to 1; in a points version the points follow), or in a points version
    ``points`` (by code, summing to the parent's points; the weights follow)."""
    if (weights is None) == (points is None):
        raise TypeError("give either weights or points")
    version = _lock_draft(version)
    parent = _parent_in(version, parent)
    kids = selectors.weighted_children(version, parent)
    entered: list[Decimal] | None = None
    if points is not None:
        entered, values = _entered_points(version, parent, kids, points)
    else:
        assert weights is not None
        if set(weights) != {k.code for k in kids}:
            raise ValidationError("请为每一个同级指标填写权重")
        values = []
        for kid in kids:
            w = _decimal(weights[kid.code], "weight", f"“{kid.name}”的权重")
            if w is None or not 0 <= w <= 1:
                raise ValidationError(f"“{kid.name}”的权重应在 0 至 100% 之间")
            values.append(w)
        total = sum(values, Decimal(0))
        if abs(total - 1) > Decimal("0.001"):
            raise ValidationError(f"同级指标权重合计 {total * 100:.2f}%，应为 100%")
    changes = _store_weights(version, parent, kids, values, entered)
    log_action(
        Action.SCHEME_WEIGHTS,
        actor=actor,
        obj=parent or version,
        changes=changes,
        data={"version": str(version), "method": "direct" if entered is None else "points"},
    )
    return kids


def _fmt_judgment(x: float) -> str:
    if x >= 1:
        return f"{x:.2g}" if abs(x - round(x)) > 0.05 else str(round(x))
    inv = 1 / x
    return f"1/{round(inv)}" if abs(inv - round(inv)) < 0.05 else f"{x:.2f}"


def ahp_message(result: AHPResult, names: list[str]) -> str:
    """The Chinese verdict on an AHP result: consistent, or which judgment to revisit."""
    if result.consistent:
        return f"一致性检验通过（CR={result.cr:.3f} < 0.1）"
    i, j = result.worst_judgment or (0, 1)
    return (
        f"判断矩阵一致性比率 CR={result.cr:.2f} ≥ 0.1，请重新考虑“{names[i]}”与“{names[j]}”的"
        f"比较（当前为 {_fmt_judgment(result.worst_value or 1)}，"
        f"按其余判断约为 {_fmt_judgment(result.implied_value or 1)}）"
    )


def compute_ahp(matrix: Any, method: str = "eigenvector", ri: str = "saaty") -> AHPResult:
    """The engine's AHP with its refusals translated to Chinese (ValidationError)."""
    from kaoping.engine import EngineError, ahp

    try:
        return ahp(matrix, method, ri)
    except EngineError as exc:  # its messages are Chinese already
        raise ValidationError(str(exc)) from exc
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"判断矩阵无效：{exc}") from exc


@transaction.atomic
def set_weights_ahp(
    *,
    actor: Any,
    version: SchemeVersion,
    parent: Indicator | None,
    matrix: list[list[float]],
    method: str = "eigenvector",
    allow_inconsistent: bool = False,
) -> AHPResult:
    """Weights of the weighted children of ``parent`` from a pairwise comparison matrix (rows
    in the children's order). Refused when CR ≥ 0.1 unless ``allow_inconsistent``. The matrix,
    CR and method are kept in ``version.options["ahp"][parent code or "_root"]``."""
    version = _lock_draft(version)
    parent = _parent_in(version, parent)
    kids = selectors.weighted_children(version, parent)
    if len(kids) < 2:
        raise ValidationError("至少要有两个同级指标才能两两比较")
    ri = (version.options or {}).get("ahp_ri", "saaty")
    result = compute_ahp(matrix, method, ri)
    if len(result.weights) != len(kids):
        raise ValidationError(f"判断矩阵应为 {len(kids)} 阶（每个同级指标一行）")
    if not result.consistent and not allow_inconsistent:
        raise ValidationError(ahp_message(result, [k.name for k in kids]))
    weights = [Decimal(repr(float(w))) for w in result.weights]
    changes = _store_weights(version, parent, kids, weights)
    options = dict(version.options or {})
    options.setdefault("ahp", {})[parent.code if parent else "_root"] = {
        "children": [k.code for k in kids],
        "matrix": [[float(x) for x in row] for row in matrix],
        "method": method,
        "ri_table": ri,
        "weights": [float(w) for w in result.weights],
        "lambda_max": result.lambda_max,
        "ci": result.ci,
        "cr": result.cr,
        "at": timezone.now().isoformat(),
    }
    version.options = options
    version.save(update_fields=["options"])
    log_action(
        Action.SCHEME_WEIGHTS,
        actor=actor,
        obj=parent or version,
        changes=changes,
        data={"version": str(version), "method": f"ahp:{method}", "cr": round(result.cr, 4)},
    )
    return result


# ---- publication ---------------------------------------------------------------------------


@transaction.atomic
def publish(*, actor: Any, version: SchemeVersion) -> SchemeVersion:
    """Publish a draft: refused while the validation report has blocking errors; the version is
    then frozen, with a SHA-256 fingerprint of its canonical content."""
    from .validation import validate

    version = _lock_draft(version)
    report = validate(version)
    if report.errors:
        raise ValidationError(
            [f"{issue.where}：{issue.message}" for issue in report.errors], code="blocking"
        )
    version.fingerprint = selectors.fingerprint(version)
    version.status = VersionStatus.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = actor if getattr(actor, "pk", None) else None
    version.save(update_fields=["status", "published_at", "published_by", "fingerprint"])
    log_action(
        Action.SCHEME_PUBLISH,
        actor=actor,
        obj=version,
        changes={"状态": ["草稿", "已发布"]},
        data={"fingerprint": version.fingerprint, "warnings": len(report.warnings)},
    )
    return version


# ---- the engine's view of a version --------------------------------------------------------


def to_engine_nodes(version: SchemeVersion) -> list[dict[str, Any]]:
    """The version's tree as the engine package's ``indicators`` list (docs/engine.md)."""
    from .engine_bridge import engine_package

    return engine_package(version)[0]["indicators"]


def to_engine_tree(version: SchemeVersion) -> IndicatorTree:
    """The engine's IndicatorTree, through the package loader (PackageError if malformed)."""
    from kaoping.engine.package import load_package

    from .engine_bridge import engine_package

    return load_package(engine_package(version)[0]).tree


__all__ = [
    "DEFAULT_OPTIONS",
    "PUBLISHED_MESSAGE",
    "PublishedVersionError",
    "add_indicator",
    "ahp_message",
    "compute_ahp",
    "confirm_proposed_rule",
    "create_scheme",
    "delete_indicator",
    "move_indicator",
    "new_draft",
    "publish",
    "reorder",
    "set_weights",
    "set_weights_ahp",
    "to_engine_nodes",
    "to_engine_tree",
    "update_indicator",
    "update_version_settings",
]
