"""Forms of the campaign pages. They only parse what the browser sends into the services' keyword
arguments; every rule about campaigns is checked in ``services``."""

from __future__ import annotations

from typing import Any

from django import forms

from kaoping.indicators.models import SchemeVersion
from kaoping.indicators.services import DEFAULT_GRADES
from kaoping.organizations.models import Organization, OrgType

from . import rules
from .models import CampaignType, Stage, TargetKind


def _style(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)


def rule_value(rule: dict[str, str]) -> str:
    return f"{rule['when']}:{rule.get('value', '')}:{rule['then']}"


def rule_conditions(grades: list[str]) -> list[tuple[str, str, str]]:
    """(when, value, label) rows of the result-use matrix."""
    rows = [("grade", g, f"等次为“{g}”") for g in grades]
    return [*rows, ("veto", "", "触发一票否决"), ("any", "", "所有考核结果")]


class CampaignForm(forms.Form):
    name = forms.CharField(label="活动名称", max_length=100)
    campaign_type = forms.ChoiceField(label="考核类型", choices=CampaignType.choices)
    period_start = forms.DateField(label="考核期起", widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label="考核期止", widget=forms.DateInput(attrs={"type": "date"}))
    purpose = forms.CharField(
        label="考核目的（为什么考）",
        required=False,  # the service explains what is missing
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="写明本次考核要检验什么、导向是什么，例如“检验党支部标准化规范化建设成效，推动党建与业务深度融合”。",
    )
    owner = forms.ModelChoiceField(label="组织单位", queryset=Organization.objects.none())
    scheme_version = forms.ModelChoiceField(
        label="指标体系版本", queryset=SchemeVersion.objects.none(),
        help_text="只能选择已发布的版本；活动使用该版本的冻结内容。",
    )  # fmt: skip
    target_kind = forms.ChoiceField(label="考核对象类型", choices=TargetKind.choices)
    rules = forms.MultipleChoiceField(
        label="结果运用规则", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, owners: Any, versions: Any, editing: bool = False,
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["scheme_version"].queryset = versions
        if not self.is_bound and "scheme_version" not in self.initial:
            only = list(versions[:2])
            if len(only) == 1:  # one published system to choose from: choose it
                self.initial["scheme_version"] = only[0].pk
        self.fields["scheme_version"].label_from_instance = str
        if editing:
            del self.fields["owner"]
        grades = list(DEFAULT_GRADES)
        for v in versions:
            for g in (v.options or {}).get("grades") or []:
                if g not in grades:
                    grades.append(g)
        self.conditions = rule_conditions(grades)
        self.fields["rules"].choices = [
            (f"{when}:{value}:{action}", f"{label} → {action_label}")
            for when, value, label in self.conditions
            for action, action_label in rules.ACTIONS.items()
        ]
        _style(self)

    def basic_fields(self) -> list[forms.BoundField]:
        names = ("name", "campaign_type", "period_start", "period_end", "owner",
                 "scheme_version", "target_kind")  # fmt: skip
        return [self[n] for n in names if n in self.fields]

    def rule_matrix(self) -> list[dict[str, Any]]:
        """Rows of the rules matrix: each condition with one checkbox per action."""
        chosen = set(self["rules"].value() or [])
        return [
            {
                "label": label,
                "cells": [
                    {"value": f"{when}:{value}:{action}", "checked": f"{when}:{value}:{action}"
                     in chosen, "label": action_label}
                    for action, action_label in rules.ACTIONS.items()
                ],
            }
            for when, value, label in self.conditions
        ]  # fmt: skip

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        parsed = []
        for item in data.pop("rules"):
            when, value, then = item.split(":", 2)
            rule = {"when": when, "then": then}
            if when == "grade":
                rule["value"] = value
            parsed.append(rule)
        data["result_rules"] = parsed
        return data


class SubtreeTargetsForm(forms.Form):
    root = forms.ModelChoiceField(label="范围（含下级）", queryset=Organization.objects.none())
    org_types = forms.MultipleChoiceField(
        label="组织类型", choices=OrgType.choices, widget=forms.CheckboxSelectMultiple,
        initial=[OrgType.BRANCH, OrgType.TEMPORARY_BRANCH],
    )  # fmt: skip

    def __init__(self, *args: Any, roots: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["root"].queryset = roots
        self.fields["root"].label_from_instance = lambda o: f"{'　' * o.depth}{o.name}"
        _style(self)


class CadreTargetsForm(forms.Form):
    root = forms.ModelChoiceField(label="范围（含下级）", queryset=Organization.objects.none())
    secretaries = forms.BooleanField(label="党组织书记", required=False, initial=True)
    cadres = forms.BooleanField(label="领导干部", required=False, initial=True)

    def __init__(self, *args: Any, roots: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["root"].queryset = roots
        self.fields["root"].label_from_instance = lambda o: f"{'　' * o.depth}{o.name}"
        _style(self)


class AssignForm(forms.Form):
    reviewer = forms.ModelChoiceField(label="评审员", queryset=None)  # type: ignore[arg-type]
    targets = forms.ModelMultipleChoiceField(
        label="考核对象",
        queryset=None,
        widget=forms.CheckboxSelectMultiple,  # type: ignore[arg-type]
    )

    def __init__(self, *args: Any, reviewers: Any, targets: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = reviewers
        self.fields["reviewer"].label_from_instance = lambda u: (
            f"{u.display_name}（{u.person.organization.name}）"
            if u.person_id and u.person.organization_id
            else u.display_name
        )
        self.fields["targets"].queryset = targets
        _style(self)


class ReopenForm(forms.Form):
    to_stage = forms.ChoiceField(label="退回到", choices=Stage.choices)
    reason = forms.CharField(label="理由", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, stages: list[Stage], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_stage"].choices = [(s.value, s.label) for s in stages]
        _style(self)
