from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from .models import Organization, OrgType, Person, PostTitle


class BootstrapMixin:
    def _style(self) -> None:
        for field in self.fields.values():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class OrgChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Organization) -> str:
        return f"{'　' * obj.depth}{obj.name}（{obj.code}）"


class OrganizationForm(BootstrapMixin, forms.Form):
    code = forms.CharField(label="组织编码", max_length=32)
    name = forms.CharField(label="组织名称", max_length=100)
    org_type = forms.ChoiceField(label="组织类型", choices=OrgType.choices)
    parent = OrgChoiceField(label="上级组织", queryset=Organization.objects.none(), required=False)
    business_department = forms.CharField(label="服务的业务部门", max_length=100, required=False)
    founded_on = forms.DateField(label="成立日期", required=False, widget=DateInput())
    sort_order = forms.IntegerField(label="排序", required=False, initial=0)
    note = forms.CharField(label="备注", max_length=200, required=False)

    def __init__(self, *args: Any, parents: Any = None, with_parent: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if with_parent:
            self.fields["parent"].queryset = parents
        else:
            del self.fields["parent"]
        self._style()

    def clean_founded_on(self) -> dt.date | None:
        value = self.cleaned_data.get("founded_on")
        if value and value > dt.date.today():
            raise forms.ValidationError("成立日期不能晚于今天")
        return value

    def clean_sort_order(self) -> int:
        return self.cleaned_data.get("sort_order") or 0


class MoveForm(BootstrapMixin, forms.Form):
    new_parent = OrgChoiceField(label="新的上级组织", queryset=Organization.objects.none())

    def __init__(self, *args: Any, parents: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["new_parent"].queryset = parents
        self._style()


class DissolveForm(BootstrapMixin, forms.Form):
    on = forms.DateField(label="撤销日期", widget=DateInput(), initial=dt.date.today)
    reason = forms.CharField(label="撤销原因", max_length=200)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._style()


class PersonForm(BootstrapMixin, forms.ModelForm):
    organization = OrgChoiceField(
        label="所在党组织", queryset=Organization.objects.none(), required=False
    )

    class Meta:
        model = Person
        fields = [
            "name",
            "staff_no",
            "gender",
            "organization",
            "political_status",
            "position",
            "is_leading_cadre",
            "cadre_level",
            "business_department",
            "phone",
            "is_active",
        ]

    def __init__(self, *args: Any, organizations: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        self._style()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("cadre_level") and not data.get("is_leading_cadre"):
            self.add_error("cadre_level", "只有领导干部才有干部级别")
        return data

    def validate_unique(self) -> None:
        # Uniqueness (工号) is checked by the service with a Chinese message.
        pass


class PostForm(BootstrapMixin, forms.Form):
    person = forms.ModelChoiceField(label="人员", queryset=Person.objects.none())
    title = forms.ChoiceField(label="职务", choices=PostTitle.choices)
    started_on = forms.DateField(label="任职日期", widget=DateInput(), initial=dt.date.today)

    def __init__(self, *args: Any, people: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people
        self._style()
