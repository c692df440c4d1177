"""Excel import and export of an indicator-system version (placeholders: replaced by the
import/export work)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse


@login_required
def import_upload(request: HttpRequest, pk: int) -> HttpResponse:
    return HttpResponse("导入功能尚未完成。", status=501, content_type="text/plain; charset=utf-8")


@login_required
def export(request: HttpRequest, pk: int) -> HttpResponse:
    return HttpResponse("导出功能尚未完成。", status=501, content_type="text/plain; charset=utf-8")
