"""The audit log pages: browse with filters, one entry in full, export to Excel.

Only the 审计管理员 (``Perm.AUDIT_VIEW``) reads the log; everyone else gets 403 (which is
itself audited by the core 403 handler). The log is read-only here and everywhere.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from kaoping import policy
from kaoping.core.web import paginate
from kaoping.policy import Perm

from . import selectors
from .exports import export_filename, export_log
from .forms import AuditFilterForm

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require_auditor(user: Any) -> None:
    if not policy.has_perm(user, Perm.AUDIT_VIEW):
        raise PermissionDenied


def _filter_form(request: HttpRequest) -> AuditFilterForm:
    params = request.GET.copy()
    params.pop("page", None)
    form = AuditFilterForm(params or None)
    if form.is_bound:
        form.is_valid()
    return form


@login_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    _require_auditor(request.user)
    form = _filter_form(request)
    qs = selectors.entries(form.to_filter())
    page_obj, filter_qs = paginate(request, qs, PAGE_SIZE)
    filter_qs = filter_qs.rstrip("&")
    context = {
        "form": form,
        "page_obj": page_obj,
        "entries": selectors.decorate(page_obj.object_list),
        "query_string": filter_qs + "&" if filter_qs else "",
        "filter_qs": filter_qs,
    }
    return render(request, "audit/log.html", context)


@login_required
@require_GET
def audit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_auditor(request.user)
    entry = selectors.decorate([selectors.get_entry(pk)])[0]
    return render(request, "audit/detail.html", {"entry": entry})


@login_required
@require_GET
def audit_export(request: HttpRequest) -> HttpResponse:
    _require_auditor(request.user)
    form = _filter_form(request)
    out, _count = export_log(actor=request.user, filters=form.to_filter())
    response = FileResponse(out, as_attachment=True, filename=export_filename(), content_type=XLSX)
    response["Cache-Control"] = "no-store"
    return response
