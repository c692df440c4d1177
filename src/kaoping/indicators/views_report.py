"""The validation report and version diff pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kaoping import policy

from .diff import diff_versions
from .models import SchemeVersion
from .validation import validate


@login_required
def validation(request: HttpRequest, pk: int) -> HttpResponse:
    version, can_write = policy.get_version_for_user(request.user, pk)
    report = validate(version)
    template = "indicators/_validation.html" if request.htmx else "indicators/validation.html"
    return render(
        request,
        template,
        {"version": version, "report": report, "can_write": can_write},
    )


@login_required
def diff(request: HttpRequest, pk: int) -> HttpResponse:
    version, _ = policy.get_version_for_user(request.user, pk)
    others = SchemeVersion.objects.filter(scheme=version.scheme).exclude(pk=version.pk)
    other = None
    if request.GET.get("against"):
        other, _ = policy.get_version_for_user(request.user, request.GET["against"])
        if other.scheme_id != version.scheme_id:
            other = None
    if other is None:
        other = version.based_on if version.based_on_id else others.order_by("-number").first()
    result = diff_versions(other, version) if other is not None else None
    return render(
        request,
        "indicators/diff.html",
        {"version": version, "other": other, "others": others, "result": result},
    )
