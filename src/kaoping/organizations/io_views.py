"""Excel import and export of the organization register (thin views over importing/exporting)."""

from __future__ import annotations

import io

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from kaoping import policy
from kaoping.jobs.models import Job
from kaoping.jobs.selectors import get_job_for_user
from kaoping.jobs.services import enqueue
from kaoping.policy import Perm

from . import workbook as wbk
from .exporting import export_workbook
from .io_jobs import IMPORT_KIND, IMPORT_RESULT_TEMPLATE

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportForm(forms.Form):
    file = forms.FileField(label="Excel 文件（.xlsx）")
    dry_run = forms.BooleanField(label="只检查，不写入", required=False)

    def clean_file(self):  # type: ignore[no-untyped-def]
        upload = self.cleaned_data["file"]
        limit = settings.KAOPING_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(f"文件超过 {limit // (1024 * 1024)} MB，请拆分后分批导入")
        head = upload.read(4)
        upload.seek(0)
        if not upload.name.lower().endswith(".xlsx") or head != b"PK\x03\x04":
            raise forms.ValidationError(
                "请上传 .xlsx 格式的 Excel 文件（旧版 .xls 请先在 Excel 中另存为 .xlsx）"
            )
        return upload


def _require(request, perm: Perm) -> None:  # type: ignore[no-untyped-def]
    if not policy.has_perm(request.user, perm):
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request):  # type: ignore[no-untyped-def]
    _require(request, Perm.ORG_MANAGE)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = enqueue(
            IMPORT_KIND,
            actor=request.user,
            params={
                "result_template": IMPORT_RESULT_TEMPLATE,
                "dry_run": form.cleaned_data["dry_run"],
                "filename": upload.name[:200],
            },
            input_file=upload,
            input_name=upload.name,
        )
        if request.htmx:
            job.refresh_from_db()
            return render(request, "jobs/_status.html", {"job": job})
        return redirect("organizations:import_status", job_id=job.pk)
    if request.htmx and request.method == "POST":
        return render(request, "organizations/_import_invalid.html", {"form": form})
    recent = Job.objects.filter(created_by=request.user, kind=IMPORT_KIND)[:5]
    return render(request, "organizations/import.html", {"form": form, "recent": recent})


@login_required
def import_template(request):  # type: ignore[no-untyped-def]
    _require(request, Perm.ORG_MANAGE)
    buf = io.BytesIO()
    wbk.template_workbook().save(buf)
    buf.seek(0)
    return FileResponse(
        buf, as_attachment=True, filename="党组织和人员导入模板.xlsx", content_type=XLSX
    )


@login_required
def import_status(request, job_id):  # type: ignore[no-untyped-def]
    job = get_job_for_user(request.user, job_id)
    if job.kind != IMPORT_KIND:
        raise Http404
    return render(request, "organizations/import_status.html", {"job": job})


@login_required
def export(request):  # type: ignore[no-untyped-def]
    _require(request, Perm.ORG_EXPORT)
    buf = io.BytesIO()
    export_workbook(actor=request.user, target=buf)
    buf.seek(0)
    name = f"党组织和人员_{timezone.localdate():%Y%m%d}.xlsx"
    return FileResponse(buf, as_attachment=True, filename=name, content_type=XLSX)
