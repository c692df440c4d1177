"""Import and export of indicator systems, and the built-in library (thin views over
``scheme_io`` and ``library``).

Imports run synchronously: a 500-row workbook is read, checked and written in well under two
seconds (bench/scheme_import.py), so the organizer sees the error table (行 | 列 | 问题) or lands
on the new draft at once. Import and install need ``Perm.SCHEME_MANAGE`` on the owner (or the
scheme); export needs ``Perm.SCHEME_VIEW`` on the version. Every import, install and export is
audited by the service that does it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods

from kaoping import policy
from kaoping.policy import Perm

from .library import LibraryError, entries, install_library_scheme
from .models import Scheme
from .scheme_io import FORMATS, export_filename, export_version, format_of, import_scheme

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json; charset=utf-8",
}
MAX_WARNING_MESSAGES = 20


def _require(user: Any, perm: Perm) -> None:
    if not policy.has_perm(user, perm):
        raise PermissionDenied


def _owners(user: Any) -> Any:
    return policy.visible_organizations(user, Perm.SCHEME_MANAGE).order_by("path")


def _manageable_schemes(user: Any) -> Any:
    schemes = policy.visible_schemes(user).select_related("owner")
    ids = [s.pk for s in schemes if policy.can_manage_scheme(user, s)]
    return Scheme.objects.filter(pk__in=ids).order_by("name")


def _url(name: str) -> str:
    """The URL of an optional page, or "" while it is not routed."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


class SchemeImportForm(forms.Form):
    file = forms.FileField(label="文件（Excel 考核评分细则 .xlsx，或 .json）")
    mode = forms.ChoiceField(
        label="导入为",
        choices=[("new", "新的指标体系"), ("draft", "已有指标体系的新草稿")],
        widget=forms.RadioSelect,
        initial="new",
    )
    name = forms.CharField(label="新指标体系名称", max_length=100, required=False)
    owner = forms.ModelChoiceField(label="所属党组织", queryset=None, required=False)
    scheme = forms.ModelChoiceField(label="指标体系", queryset=None, required=False)
    dry_run = forms.BooleanField(label="只检查，不写入", required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _owners(user)
        self.fields["scheme"].queryset = _manageable_schemes(user)
        self.fields["owner"].empty_label = "请选择"
        self.fields["scheme"].empty_label = "请选择"
        for name in ("file", "name"):
            self.fields[name].widget.attrs["class"] = "form-control"
        for name in ("owner", "scheme"):
            self.fields[name].widget.attrs["class"] = "form-select"
        self.fields["dry_run"].widget.attrs["class"] = "form-check-input"
        self.fields["file"].widget.attrs["accept"] = ".xlsx,.json"

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.KAOPING_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(f"文件超过 {limit // (1024 * 1024)} MB")
        fmt = format_of(upload.name)
        head = upload.read(4)
        upload.seek(0)
        if not fmt or (fmt == "xlsx" and head != b"PK\x03\x04"):
            raise forms.ValidationError(
                "请上传 .xlsx 格式的 Excel 文件（旧版 .xls 请先另存为 .xlsx）或 .json 文件"
            )
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("mode") == "draft":
            if not data.get("scheme"):
                self.add_error("scheme", "请选择要导入为新草稿的指标体系")
        else:
            if not (data.get("name") or "").strip():
                self.add_error("name", "请填写新指标体系名称")
            if not data.get("owner"):
                self.add_error("owner", "请选择所属党组织")
        return data


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Upload page; with ``pk`` (a version) it offers a new draft of that version's scheme."""
    _require(request.user, Perm.SCHEME_MANAGE)
    initial: dict[str, Any] = {}
    version = None
    if pk is not None:
        version, can_manage = policy.get_version_for_user(request.user, pk)
        if not can_manage:
            raise PermissionDenied
        initial = {"mode": "draft", "scheme": version.scheme_id}
    form = SchemeImportForm(
        request.POST or None, request.FILES or None, user=request.user, initial=initial
    )
    report = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        draft = data["mode"] == "draft"
        upload = data["file"]
        report = import_scheme(
            actor=request.user,
            source=upload,
            filename=upload.name,
            owner=None if draft else data["owner"],
            scheme=data["scheme"] if draft else None,
            name="" if draft else data["name"].strip(),
            dry_run=data["dry_run"],
        )
        if report.ok and report.version is not None:
            for w in report.warnings[:MAX_WARNING_MESSAGES]:
                messages.warning(request, f"导入提醒：第 {w.row} 行 {w.column}：{w.message}")
            messages.success(
                request,
                f"已导入 {report.indicators} 个指标。从评分标准中识别出的计分规则需逐项确认。",
            )
            return redirect("indicators:version", report.version.pk)
    context = {
        "form": form,
        "report": report,
        "version": version,
        "library_url": _url("indicators:library"),
    }
    return render(request, "indicators/import.html", context)


@login_required
def export(request: HttpRequest, pk: int) -> HttpResponse:
    """The version as .xlsx (default) or .json (``?format=json``)."""
    _require(request.user, Perm.SCHEME_VIEW)
    version, _can_manage = policy.get_version_for_user(request.user, pk)
    fmt = request.GET.get("format", "xlsx")
    if fmt not in FORMATS:
        raise Http404
    data = export_version(actor=request.user, version=version, fmt=fmt)
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = _attachment(export_filename(version, fmt))
    return response


def _attachment(filename: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename*=UTF-8''{quote(filename)}"


class InstallForm(forms.Form):
    key = forms.CharField()
    owner = forms.ModelChoiceField(label="所属党组织", queryset=None)
    name = forms.CharField(label="名称", max_length=100, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _owners(user)


@login_required
@require_http_methods(["GET", "POST"])
def library(request: HttpRequest) -> HttpResponse:
    """从指标库新建: the built-in systems, each with an install button."""
    _require(request.user, Perm.SCHEME_MANAGE)
    form = InstallForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                version = install_library_scheme(
                    actor=request.user,
                    owner=data["owner"],
                    key=data["key"],
                    name=data["name"].strip(),
                )
            except LibraryError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, "已从指标库新建草稿，请结合本机关实际修改后发布。")
                return redirect("indicators:version", version.pk)
        else:
            messages.error(request, "请选择所属党组织")
    owners = list(_owners(request.user))
    return render(
        request,
        "indicators/library.html",
        {"entries": entries(), "owners": owners, "import_url": _url("indicators:import_new")},
    )
