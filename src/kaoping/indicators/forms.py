"""Forms of the indicator editor. They only parse what the browser sends into the services'
keyword arguments; every rule about indicators is checked in ``services``."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from django import forms

from .constants import (
    DataSource,
    Dimension,
    Method,
    MissingPolicy,
    RaterGroupCode,
    RuleKind,
    Weighting,
)
from .models import Indicator, SchemeVersion
from .rule_params import EXAMPLES

SEP = re.compile(r"\s*[,，|\t;；:：=]\s*|\s+")
BALLOT_MEASURES = [
    ("grade_score", "加权得分（按等次系数）"),
    ("good_rate", "好评率"),
    ("satisfaction_rate", "满意率（好 + 较好）"),
    ("bad_rate", "差评率（越低越好）"),
]
# The friendly rule fields: engine parameter → (form field, rule kinds that use it).
PARAM_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "max": ("r_max", ("rating", "banded", "deduction", "base_adjust", "ballot")),
    "grades": ("r_grades", ("grade",)),
    "items": ("r_items", ("deduction", "bonus", "penalty", "base_adjust")),
    "cap": ("r_cap", ("deduction", "bonus", "penalty", "ratio_to_target")),
    "floor": ("r_floor", ("linear",)),
    "target": ("r_target", ("linear", "ratio_to_target")),
    "direction": ("r_direction", ("linear", "ratio_to_target", "ratio_to_best", "banded")),
    "bands": ("r_bands", ("banded", "ballot")),
    "else": ("r_else", ("banded",)),
    "base": ("r_base", ("base_adjust",)),
    "question": ("r_question", ("ballot",)),
    "measure": ("r_measure", ("ballot",)),
}
RULE_FIELD_KINDS = {name: " ".join(kinds) for name, kinds in PARAM_FIELDS.values()}
SAATY = [
    ("9", "9 极端重要"),
    ("8", "8"),
    ("7", "7 非常重要"),
    ("6", "6"),
    ("5", "5 明显重要"),
    ("4", "4"),
    ("3", "3 稍微重要"),
    ("2", "2"),
    ("1", "1 同等重要"),
    ("1/2", "1/2"),
    ("1/3", "1/3 稍微次要"),
    ("1/4", "1/4"),
    ("1/5", "1/5 明显次要"),
    ("1/6", "1/6"),
    ("1/7", "1/7 非常次要"),
    ("1/8", "1/8"),
    ("1/9", "1/9 极端次要"),
]
SAATY_VALUES = {v: (1 / int(v[2:]) if v.startswith("1/") else float(v)) for v, _ in SAATY}


def _num(d: Decimal | float | int) -> int | float:
    f = float(d)
    return int(f) if f == int(f) else f


def _fmt(v: Any) -> str:
    return "" if v is None else str(_num(v)) if isinstance(v, int | float) else str(v)


class SchemeForm(forms.Form):
    name = forms.CharField(label="指标体系名称", max_length=100)
    owner = forms.ModelChoiceField(label="所属党组织", queryset=None, empty_label=None)
    target_kind = forms.ChoiceField(
        label="考核对象",
        choices=[("organization", "党组织"), ("cadre", "领导干部/书记"), ("member", "党员")],
    )
    weighting = forms.ChoiceField(label="计分方式", choices=Weighting.choices)
    total_points = forms.DecimalField(label="总分", initial=100, min_value=1, decimal_places=2)
    description = forms.CharField(label="说明", required=False, widget=forms.Textarea({"rows": 2}))

    def __init__(self, *args: Any, owners: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        for f in self.fields.values():
            css = "form-select" if isinstance(f.widget, forms.Select) else "form-control"
            f.widget.attrs.setdefault("class", css)


class IndicatorForm(forms.Form):
    code = forms.CharField(label="指标编码", max_length=32)
    name = forms.CharField(label="指标名称", max_length=200)
    dimension = forms.ChoiceField(label="维度", choices=Dimension.choices, required=False)
    points = forms.DecimalField(label="分值", required=False, decimal_places=2)
    weight_percent = forms.DecimalField(label="权重（%）", required=False, decimal_places=4)
    rule_kind = forms.ChoiceField(
        label="计分规则", required=False, choices=[("", "无（上级指标）"), *RuleKind.choices]
    )
    r_max = forms.DecimalField(label="满分", required=False)
    r_grades = forms.CharField(
        label="等次与系数",
        required=False,
        widget=forms.Textarea({"rows": 4, "placeholder": "好=100\n较好=80\n一般=60\n差=40"}),
        help_text="每行一个等次：名称=系数，最好的在前",
    )
    r_items = forms.CharField(
        label="扣分/加分事项",
        required=False,
        widget=forms.Textarea(
            {"rows": 3, "placeholder": "a,未按时召开支委会,1\nb,未按时缴纳党费,0.5"}
        ),
        help_text="每行一项：编码,事项名称,每次分值（基础分加减时扣分写负数）",
    )
    r_cap = forms.DecimalField(label="封顶（最多扣/加）", required=False)
    r_floor = forms.DecimalField(label="下限（得 0 分）", required=False)
    r_target = forms.DecimalField(label="目标值（得满分）", required=False)
    r_direction = forms.ChoiceField(
        label="方向",
        required=False,
        choices=[("", "越大越好"), ("cost", "越小越好")],
    )
    r_bands = forms.CharField(
        label="分档",
        required=False,
        widget=forms.Textarea({"rows": 3, "placeholder": "95,10\n85,8\n70,5"}),
        help_text="每行一档：界限,得分（越大越好时为下限，越小越好时为上限，最好的一档在前）",
    )
    r_else = forms.DecimalField(label="未达任何档次的得分", required=False)
    r_base = forms.DecimalField(label="基础分", required=False)
    r_question = forms.CharField(label="测评题目编码", required=False, max_length=32)
    r_measure = forms.ChoiceField(label="测评口径", required=False, choices=BALLOT_MEASURES)
    rule_params_json = forms.CharField(
        label="规则参数（JSON）",
        required=False,
        widget=forms.Textarea({"rows": 3, "class": "form-control font-monospace"}),
        help_text="高级：直接编辑引擎的规则参数；改动此处时以此处为准",
    )
    rule_params_initial = forms.CharField(required=False, widget=forms.HiddenInput)
    criteria = forms.CharField(label="评分标准", required=False, widget=forms.Textarea({"rows": 3}))
    methods = forms.MultipleChoiceField(
        label="考核方式",
        required=False,
        choices=Method.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    data_source = forms.ChoiceField(label="数据来源", choices=DataSource.choices)
    missing_policy = forms.ChoiceField(
        label="缺失数据处理",
        required=False,
        choices=[("", "按体系默认"), *MissingPolicy.choices],
    )
    veto_effect = forms.ChoiceField(
        label="一票否决",
        required=False,
        choices=[("", "无"), ("zero", "否决后记零分"), ("ceiling", "否决后限定最高等次")],
    )
    veto_grade = forms.ChoiceField(label="最高等次", required=False)

    def __init__(self, *args: Any, version: SchemeVersion, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.version = version
        grades = (version.options or {}).get("grades") or ["好", "较好", "一般", "差"]
        self.fields["veto_grade"].choices = [("", "—"), *((g, g) for g in grades)]
        if version.weighting == Weighting.POINTS:
            del self.fields["weight_percent"]
        else:
            del self.fields["points"]
        for code, label in RaterGroupCode.choices:
            self.fields[f"rw_{code}"] = forms.DecimalField(
                label=label, required=False, min_value=0, max_value=1, decimal_places=4
            )
        for name, f in self.fields.items():
            if isinstance(f.widget, forms.CheckboxSelectMultiple | forms.HiddenInput):
                continue
            css = "form-select" if isinstance(f.widget, forms.Select) else "form-control"
            f.widget.attrs.setdefault("class", css)
            f.widget.attrs["class"] += (
                " form-control-sm" if css == "form-control" else " form-select-sm"
            )
            if name in RULE_FIELD_KINDS:
                f.widget.attrs["data-kinds"] = RULE_FIELD_KINDS[name]

    @property
    def rater_fields(self) -> list[forms.BoundField]:
        return [self[f"rw_{code}"] for code in RaterGroupCode.values]

    @property
    def rule_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in RULE_FIELD_KINDS]

    @property
    def examples_json(self) -> str:
        return json.dumps(EXAMPLES, ensure_ascii=False)

    # ---- initial values from an indicator --------------------------------------------------

    @classmethod
    def initial_for(cls, ind: Indicator) -> dict[str, Any]:
        p = ind.rule_params or {}
        initial: dict[str, Any] = {
            "code": ind.code,
            "name": ind.name,
            "dimension": ind.dimension,
            "points": ind.points,
            "weight_percent": (
                None if ind.weight is None else format((ind.weight * 100).normalize(), "f")
            ),
            "rule_kind": ind.rule_kind,
            "criteria": ind.criteria,
            "methods": ind.methods,
            "data_source": ind.data_source,
            "missing_policy": ind.missing_policy,
            "veto_effect": (ind.veto or {}).get("effect", ""),
            "veto_grade": (ind.veto or {}).get("grade", ""),
            "rule_params_json": json.dumps(p, ensure_ascii=False) if p else "",
        }
        initial["rule_params_initial"] = initial["rule_params_json"]
        for key in ("max", "cap", "floor", "target", "else", "base", "question", "measure"):
            if key in p:
                initial[PARAM_FIELDS[key][0]] = p[key]
        initial["r_direction"] = "cost" if p.get("direction") == "cost" else ""
        if "grades" in p:
            initial["r_grades"] = "\n".join(
                f"{g['label']}={_fmt(g['coefficient'])}" for g in p["grades"]
            )
        if "items" in p:
            initial["r_items"] = "\n".join(
                f"{it['code']},{it.get('name', '')},{_fmt(it['per'])}" for it in p["items"]
            )
        if "bands" in p:
            initial["r_bands"] = "\n".join(
                f"{_fmt(b.get('max', b.get('min')))},{_fmt(b['score'])}" for b in p["bands"]
            )
        for code, w in (ind.rater_weights or {}).items():
            initial[f"rw_{code}"] = w
        return initial

    # ---- parsing ---------------------------------------------------------------------------

    def _lines(self, name: str) -> list[list[str]]:
        text = self.cleaned_data.get(name) or ""
        return [SEP.split(line.strip()) for line in text.splitlines() if line.strip()]

    def _number(self, name: str, text: str, row: int) -> float:
        try:
            return _num(Decimal(text))
        except Exception as exc:
            raise forms.ValidationError(f"第 {row} 行的“{text}”不是数字") from exc

    def _friendly_params(self, kind: str) -> dict[str, Any]:
        data = self.cleaned_data
        params: dict[str, Any] = {}
        for key, (name, kinds) in PARAM_FIELDS.items():
            if kind not in kinds:
                continue
            value = data.get(name)
            if value in (None, "") or key in ("grades", "items", "bands"):
                continue
            params[key] = _num(value) if isinstance(value, Decimal) else value
        if kind in PARAM_FIELDS["grades"][1] and data.get("r_grades"):
            grades = []
            for row, parts in enumerate(self._lines("r_grades"), start=1):
                if len(parts) != 2:
                    self.add_error("r_grades", f"第 {row} 行应为“等次=系数”")
                    return params
                grades.append({"label": parts[0], "coefficient": self._number("", parts[1], row)})
            params["grades"] = grades
        if kind in PARAM_FIELDS["items"][1] and data.get("r_items"):
            items = []
            for row, parts in enumerate(self._lines("r_items"), start=1):
                if len(parts) == 2:
                    parts = [f"i{row}", *parts]
                if len(parts) != 3:
                    self.add_error("r_items", f"第 {row} 行应为“编码,事项名称,每次分值”")
                    return params
                per = self._number("", parts[2], row)
                items.append({"code": parts[0], "name": parts[1], "per": per})
            params["items"] = items
        if kind in PARAM_FIELDS["bands"][1] and data.get("r_bands"):
            key = "max" if data.get("r_direction") == "cost" else "min"
            bands = []
            for row, parts in enumerate(self._lines("r_bands"), start=1):
                if len(parts) != 2:
                    self.add_error("r_bands", f"第 {row} 行应为“界限,得分”")
                    return params
                bound, score = (self._number("", x, row) for x in parts)
                bands.append({key: bound, "score": score})
            params["bands"] = bands
        return params

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("rule_kind") or ""
        raw = (data.get("rule_params_json") or "").strip()
        before = (data.get("rule_params_initial") or "").strip()
        try:
            changed = raw and json.loads(raw or "{}") != json.loads(before or "{}")
        except ValueError:
            self.add_error("rule_params_json", "不是有效的 JSON")
            return data
        try:
            data["rule_params"] = (
                (json.loads(raw) if changed else self._friendly_params(kind)) if kind else {}
            )
        except forms.ValidationError as exc:
            self.add_error("rule_params_json", exc)
        return data

    def evidence(self) -> list[dict[str, Any]]:
        """Evidence rows posted as parallel lists (what / count / optional row numbers)."""
        whats = self.data.getlist("evidence_what")
        counts = self.data.getlist("evidence_count")
        optional = set(self.data.getlist("evidence_optional"))
        rows = []
        for n, what in enumerate(whats):
            if what.strip():
                count = counts[n] if n < len(counts) else "1"
                rows.append({"what": what, "count": count or 1, "optional": str(n) in optional})
        return rows

    def to_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        fields: dict[str, Any] = {
            "code": d["code"],
            "name": d["name"],
            "dimension": d.get("dimension") or "",
            "rule_kind": d.get("rule_kind") or "",
            "rule_params": d.get("rule_params") or {},
            "criteria": d.get("criteria") or "",
            "methods": d.get("methods") or [],
            "evidence": self.evidence(),
            "data_source": d["data_source"],
            "missing_policy": d.get("missing_policy") or "",
            "rater_weights": {
                code: d[f"rw_{code}"]
                for code in RaterGroupCode.values
                if d.get(f"rw_{code}") is not None
            },
            "veto": (
                {"effect": d["veto_effect"], "grade": d.get("veto_grade")}
                if d.get("veto_effect")
                else {}
            ),
        }
        if "points" in self.fields:
            fields["points"] = d.get("points")
        else:
            w = d.get("weight_percent")
            fields["weight"] = None if w is None else w / 100
        return fields


class MoveForm(forms.Form):
    new_parent = forms.TypedChoiceField(label="移动到", coerce=int, empty_value=0, required=False)
    position = forms.TypedChoiceField(label="位置", coerce=int, choices=[(-1, "最后"), (0, "最前")])

    def __init__(self, *args: Any, parents: list[Indicator], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_parent"].choices = [
            (0, "（作为一级指标）"),
            *((p.pk, f"{'　' * (p.level - 1)}{p.code} {p.name}") for p in parents),
        ]
        for f in self.fields.values():
            f.widget.attrs["class"] = "form-select form-select-sm"


def parse_matrix(post: Any, n: int) -> list[list[float]]:
    """The n×n matrix from the upper-triangle selects ``a_i_j`` (Saaty's scale), reciprocals
    below the diagonal."""
    m = [[1.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            value = SAATY_VALUES.get(post.get(f"a_{i}_{j}", "1"), 1.0)
            m[i][j], m[j][i] = value, 1 / value
    return m


def saaty_label(x: float) -> str:
    """The scale value closest to ``x`` (for pre-filling a stored matrix)."""
    return min(SAATY_VALUES, key=lambda v: abs(SAATY_VALUES[v] - x) / max(SAATY_VALUES[v], x))


def _styled(form: forms.Form) -> None:
    for f in form.fields.values():
        css = "form-select" if isinstance(f.widget, forms.Select) else "form-control"
        f.widget.attrs.setdefault("class", f"{css} {css}-sm")


def _rows(data: Any, *names: str) -> list[list[str]]:
    """Parallel posted lists as rows, blank rows left out."""
    columns = [data.getlist(name) for name in names]
    n = max((len(c) for c in columns), default=0)
    rows = [[(c[k] if k < len(c) else "").strip() for c in columns] for k in range(n)]
    return [r for r in rows if any(r)]


class VersionSettingsForm(forms.Form):
    """Settings of a draft version. Grade and 民主测评 rows come as parallel lists
    (``grade_label``/``grade_threshold``, ``ballot_label``/``ballot_coefficient``) from rows the
    page adds and removes; rater-group weights are entered in percent."""

    label = forms.CharField(label="版本名称", max_length=100, required=False)
    total_points = forms.DecimalField(
        label="总分", decimal_places=2, max_digits=8, help_text="分值制下一级指标分值合计应等于总分"
    )

    def __init__(self, *args: Any, version: SchemeVersion, **kwargs: Any) -> None:
        from .selectors import version_settings

        self.settings = version_settings(version)
        kwargs.setdefault(
            "initial",
            {"label": version.label, "total_points": _fmt(float(self.settings.total_points))}
            | {f"rw_{r.code}": r.percent for r in self.settings.rater_weights},
        )
        super().__init__(*args, **kwargs)
        self.version = version
        if version.weighting != Weighting.POINTS:
            del self.fields["total_points"]
        for code, label in RaterGroupCode.choices:
            self.fields[f"rw_{code}"] = forms.DecimalField(
                label=label, required=False, min_value=0, max_value=100, decimal_places=4
            )
            self.fields[f"rw_{code}"].widget.attrs["data-sum-part"] = ""
        _styled(self)
        # Service errors shown under their section (等次, 评价主体权重, 民主测评等次).
        self.section_errors: dict[str, list[str]] = {}

    @property
    def rater_fields(self) -> list[forms.BoundField]:
        return [self[f"rw_{code}"] for code in RaterGroupCode.values]

    def grade_rows(self) -> list[dict[str, str]]:
        if self.is_bound:
            rows = _rows(self.data, "grade_label", "grade_threshold")
            return [{"label": r[0], "threshold": r[1]} for r in rows] or [{}]
        return [
            {"label": g.label, "threshold": "" if g.threshold is None else _fmt(g.threshold)}
            for g in self.settings.grades
        ]

    def ballot_rows(self) -> list[dict[str, str]]:
        if self.is_bound:
            rows = _rows(self.data, "ballot_label", "ballot_coefficient")
            return [{"label": r[0], "coefficient": r[1]} for r in rows] or [{}]
        return [
            {"label": g["label"], "coefficient": _fmt(g["coefficient"])}
            for g in self.settings.ballot_grades
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        rows = _rows(self.data, "grade_label", "grade_threshold")
        if rows and rows[-1][1]:
            self.section_errors["grade_thresholds"] = [
                f"最后一个等次（{rows[-1][0] or '未命名'}）不设分数线：低于上一等次分数线即为该等次"
            ]
            raise forms.ValidationError("请检查等次与分数线")
        return data

    def to_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        grades = _rows(self.data, "grade_label", "grade_threshold")
        fields: dict[str, Any] = {
            "label": d.get("label") or "",
            "grades": [r[0] for r in grades],
            "grade_thresholds": [r[1] for r in grades[:-1]],
            "rater_weights": {
                code: d[f"rw_{code}"] / 100
                for code in RaterGroupCode.values
                if d.get(f"rw_{code}") is not None
            },
            "ballot_grades": [
                {"label": r[0], "coefficient": r[1]}
                for r in _rows(self.data, "ballot_label", "ballot_coefficient")
            ],
        }
        if "total_points" in self.fields:
            fields["total_points"] = d["total_points"]
        return fields

    def add_service_errors(self, exc: Any) -> None:
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)
            return
        for field, errors in exc.message_dict.items():
            if field in self.fields:
                self.add_error(field, errors)
            else:
                self.section_errors.setdefault(field, []).extend(errors)


class WeightsForm(forms.Form):
    """Direct entry for one sibling group: percent per child in a weights version, points in a
    points version (``w_<pk>``)."""

    def __init__(self, *args: Any, version: SchemeVersion, kids: list[Indicator], **kwargs: Any):
        self.points_mode = version.weighting == Weighting.POINTS
        initial = {}
        for kid in kids:
            value = kid.points if self.points_mode else kid.weight
            if value is not None:
                value = value if self.points_mode else value * 100
                initial[f"w_{kid.pk}"] = format(Decimal(value).normalize(), "f")
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.kids = kids
        for kid in kids:
            field = forms.DecimalField(
                label=f"{kid.code} {kid.name}",
                min_value=0,
                max_value=None if self.points_mode else 100,
                decimal_places=2 if self.points_mode else 4,
                max_digits=10,
            )
            field.widget.attrs |= {"data-sum-part": "", "step": "any", "inputmode": "decimal"}
            self.fields[f"w_{kid.pk}"] = field
        _styled(self)

    @property
    def rows(self) -> list[tuple[Indicator, forms.BoundField]]:
        return [(kid, self[f"w_{kid.pk}"]) for kid in self.kids]

    def to_service(self) -> dict[str, dict[str, Decimal]]:
        """``{"points": …}`` or ``{"weights": …}`` for ``services.set_weights``."""
        values = {kid.code: self.cleaned_data[f"w_{kid.pk}"] for kid in self.kids}
        if self.points_mode:
            return {"points": values}
        return {"weights": {code: v / 100 for code, v in values.items()}}
