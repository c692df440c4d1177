"""Excel import and export of an indicator-system version (placeholders: replaced by the
import/export work). They already check the permission and the scope."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from .views import _get_version

NOT_YET = "该功能尚未完成。"


@login_required
def import_upload(request: HttpRequest, pk: int) -> HttpResponse:
    _version, can_manage = _get_version(request, pk)
    if not can_manage:
        raise PermissionDenied
    return HttpResponse(NOT_YET, status=501, content_type="text/plain; charset=utf-8")


@login_required
def export(request: HttpRequest, pk: int) -> HttpResponse:
    _get_version(request, pk)
    return HttpResponse(NOT_YET, status=501, content_type="text/plain; charset=utf-8")
