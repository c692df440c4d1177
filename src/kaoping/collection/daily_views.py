"""Daily record pages (平时考核纪实): organizers record and list; units read their own."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kaoping import policy
from kaoping.indicators.models import Indicator
from kaoping.policy import Perm

from . import daily_selectors as dsel
from . import daily_services as dsvc
from . import evidence as evidence_store
from .models import RecordKind


class RecordForm(forms.Form):
    organization = forms.ModelChoiceField(label="党组织", queryset=None)
    indicator_item = forms.ChoiceField(label="指标及事项")
    occurrences = forms.IntegerField(label="次数", min_value=1, max_value=1000, initial=1)
    points = forms.DecimalField(
        label="分值（可选）",
        required=False,
        decimal_places=2,
        help_text="留空时按指标规定的每次分值计算",
    )
    occurred_on = forms.DateField(label="发生日期", widget=forms.DateInput(attrs={"type": "date"}))
    description = forms.CharField(
        label="情况描述", max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    file = forms.FileField(
        label="佐证材料（可选）",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": evidence_store.ACCEPT}),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = dsel.recordable_organizations(user).order_by("path")
        self.fields["indicator_item"].choices = [("", "请选择"), *dsel.item_choices(user)]
        self.fields["occurred_on"].initial = timezone.localdate()
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def indicator_and_item(self, user: Any) -> tuple[Indicator, str]:
        raw = self.cleaned_data["indicator_item"]
        pk, _, code = raw.partition(":")
        for ind in dsel.recordable_indicators(user):
            if str(ind.pk) == pk:
                return ind, code
        raise ValidationError({"indicator_item": "请选择指标及事项"})


FIELD_MAP = {"indicator": "indicator_item", "item": "indicator_item", "evidence": "file"}


@login_required
@require_GET
def daily_list(request):  # type: ignore[no-untyped-def]
    if not policy.has_perm(request.user, Perm.CAMPAIGN_VIEW):
        raise PermissionDenied
    base = dsel.visible_records(request.user)
    orgs = policy.visible_organizations(request.user, Perm.CAMPAIGN_VIEW).order_by("path")
    get = request.GET
    f = dsel.Filters(
        indicator_code=get.get("indicator", "").strip(),
        kind=get.get("kind", ""),
        q=get.get("q", "").strip(),
    )
    if get.get("org"):
        f.organization = orgs.filter(pk=get["org"]).first() if get["org"].isdigit() else None
    for name in ("start", "end"):
        try:
            value = forms.DateField().clean(get.get(name)) if get.get(name) else None
        except ValidationError:
            value = None
        setattr(f, name, value)
    records = dsel.filter_records(base, f)
    page = Paginator(records, 50).get_page(get.get("page"))
    query = get.copy()
    query.pop("page", None)
    can_record = policy.has_perm(request.user, Perm.CAMPAIGN_MANAGE)
    manageable = set()
    if can_record:
        manageable = set(
            dsel.recordable_organizations(request.user)
            .filter(pk__in=[r.organization_id for r in page])
            .values_list("pk", flat=True)
        )
    return render(
        request,
        "collection/daily_list.html",
        {
            "page_obj": page,
            "filters": f,
            "orgs": orgs,
            "kinds": RecordKind.choices,
            "can_record": can_record,
            "manageable": manageable,
            "query_string": (query.urlencode() + "&") if query else "",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def daily_create(request):  # type: ignore[no-untyped-def]
    if not policy.has_perm(request.user, Perm.CAMPAIGN_MANAGE):
        raise PermissionDenied
    form = RecordForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            indicator, item_code = form.indicator_and_item(request.user)
            dsvc.create_record(
                actor=request.user,
                organization=data["organization"],
                indicator=indicator,
                item_code=item_code,
                occurrences=data["occurrences"],
                points=data["points"],
                occurred_on=data["occurred_on"],
                description=data["description"],
                uploaded_file=data.get("file"),
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errs in exc.message_dict.items():
                    name = FIELD_MAP.get(field, field)
                    form.add_error(name if name in form.fields else None, errs)
            else:
                form.add_error(None, exc)
        else:
            messages.success(request, f"已记录：{data['organization'].name}")
            return redirect("collection:daily_list")
    return render(request, "collection/daily_form.html", {"form": form})


@login_required
@require_POST
def daily_delete(request, record_id):  # type: ignore[no-untyped-def]
    record, can_change = dsel.get_record_for_user(request.user, record_id)
    if not can_change:
        raise PermissionDenied
    try:
        dsvc.delete_record(actor=request.user, record=record, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已删除该条记录")
    return redirect("collection:daily_list")
