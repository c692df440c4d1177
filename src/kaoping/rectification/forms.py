"""Forms of the rectification pages (the services validate again, with Chinese messages)."""

from __future__ import annotations

from typing import Any

from django import forms

from kaoping.organizations.models import Person


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
        field.widget.attrs.setdefault("class", css)


def responsible_choices(unit: Any, current: Any = None) -> Any:
    """People of the unit and of the organizations above it (the chain of responsibility)."""
    paths = []
    if unit is not None:
        parts = unit.path.strip("/").split("/")
        paths = ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]
    qs = Person.objects.filter(is_active=True, organization__path__in=paths)
    if current is not None:
        qs = qs | Person.objects.filter(pk=current.pk)
    return qs.select_related("organization").order_by("organization__path", "staff_no")


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        org = obj.organization.name if obj.organization_id else ""
        return f"{obj.name}（{org}{'，' + obj.position if obj.position else ''}）"


class TaskForm(forms.Form):
    problem = forms.CharField(
        label="存在问题", max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    responsible = PersonChoiceField(
        label="整改责任人", queryset=Person.objects.none(), required=False
    )
    deadline = forms.DateField(label="整改期限", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, unit: Any, current: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["responsible"].queryset = responsible_choices(unit, current)
        _style(self)


class ManualTaskForm(forms.Form):
    target = forms.ModelChoiceField(label="考核对象", queryset=None)
    indicator_code = forms.CharField(label="指标编码（可选）", max_length=32, required=False)
    problem = forms.CharField(
        label="存在问题", max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    deadline = forms.DateField(label="整改期限", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, campaign: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = campaign.targets.order_by("code")
        _style(self)
