"""Forms of the appeal pages (the correction rows are read by ``appeal_services.parse_rows``:
their inputs depend on each indicator's rule)."""

from __future__ import annotations

from typing import Any

from django import forms

from .appeal_services import REASON_MAX


class AppealForm(forms.Form):
    indicator = forms.ChoiceField(
        label="申诉涉及的指标", required=False, widget=forms.Select(attrs={"class": "form-select"})
    )
    reason = forms.CharField(
        label="申诉理由",
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 5, "class": "form-control"}),
        error_messages={"required": "请填写申诉理由"},
        help_text="说明对哪项结果有异议、事实和依据。",
    )
    evidence = forms.MultipleChoiceField(
        label="选用本单位已有的佐证材料",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self, *args: Any, leaves: list[Any], library: list[Any] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["indicator"].choices = [("", "（不针对具体指标）")] + [
            (i.code, f"{i.code} {i.name}") for i in leaves
        ]
        self.fields["evidence"].choices = [(str(e.pk), e.name) for e in library]
        if not library:
            del self.fields["evidence"]


class RejectForm(forms.Form):
    decision = forms.CharField(
        label="驳回理由",
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
        error_messages={"required": "请填写驳回理由"},
    )
