from __future__ import annotations

from django import forms

from .selectors import AuditFilter, action_choices, object_type_choices


class AuditFilterForm(forms.Form):
    date_from = forms.DateField(
        label="起始日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    actor = forms.CharField(label="操作人", required=False, max_length=150)
    action = forms.ChoiceField(label="操作类型", required=False)
    object_type = forms.ChoiceField(label="对象类型", required=False)
    ip = forms.CharField(label="IP", required=False, max_length=45)
    q = forms.CharField(label="关键词", required=False, max_length=100)

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "全部操作"), *action_choices()]
        self.fields["object_type"].choices = [("", "全部对象"), *object_type_choices()]
        for name, field in self.fields.items():
            is_select = name in ("action", "object_type")
            field.widget.attrs["class"] = "form-select" if is_select else "form-control"
        self.fields["actor"].widget.attrs["placeholder"] = "用户名"
        self.fields["ip"].widget.attrs["placeholder"] = "如 10.1.2."
        self.fields["q"].widget.attrs["placeholder"] = "对象名称、操作人、操作"

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "截止日期不能早于起始日期")
        return data

    def to_filter(self) -> AuditFilter:
        """The filter from the valid fields (invalid ones are ignored)."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        fields = {k: data.get(k) for k in AuditFilter.__dataclass_fields__ if data.get(k)}
        if "date_to" in self.errors:
            fields.pop("date_to", None)
        return AuditFilter(**fields)
