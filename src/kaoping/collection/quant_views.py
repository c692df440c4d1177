"""Quantitative data pages (organizers only): the template, import with a row-level error
report, the history of batches with undo, and manual entry. Thin over ``quant_services``."""

from __future__ import annotations

import io

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from kaoping import policy
from kaoping.campaigns.models import Campaign, Target
from kaoping.policy import Perm

from . import quant_io
from . import quant_selectors as selectors
from . import quant_services as services

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _campaign(request: HttpRequest, campaign_pk: int) -> Campaign:
    """The campaign if the user runs it (403 without the permission or when only seeing it)."""
    if not policy.has_perm(request.user, Perm.CAMPAIGN_MANAGE):
        raise PermissionDenied
    campaign, can_manage = policy.get_campaign_for_user(request.user, campaign_pk)
    if not can_manage:
        raise PermissionDenied
    return campaign


def _home(request: HttpRequest, campaign: Campaign, report: object = None) -> HttpResponse:
    return render(
        request,
        "collection/quant_home.html",
        {
            "campaign": campaign,
            "indicators": selectors.quant_indicators(campaign),
            "batches": selectors.batches(campaign)[:100],
            "report": report,
            "max_mb": settings.KAOPING_IMPORT_MAX_BYTES // (1024 * 1024),
        },
    )


@login_required
def quant_home(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    return _home(request, _campaign(request, campaign_pk))


@login_required
def quant_template(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    campaign = _campaign(request, campaign_pk)
    wb = quant_io.template_workbook(
        Target.objects.filter(campaign=campaign).order_by("code"),
        selectors.quant_indicators(campaign),
        selectors.current_values(campaign),
    )
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    name = f"{campaign.name}_量化数据模板.xlsx"
    return FileResponse(buf, as_attachment=True, filename=name, content_type=XLSX)


@login_required
@require_POST
def quant_import(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    campaign = _campaign(request, campaign_pk)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择要导入的 .xlsx 或 .csv 文件")
        return redirect("collection:quant_home", campaign_pk=campaign.pk)
    if upload.size > settings.KAOPING_IMPORT_MAX_BYTES:
        messages.error(request, "文件过大，请拆分后分批导入")
        return redirect("collection:quant_home", campaign_pk=campaign.pk)
    try:
        report = services.import_values(
            actor=request.user, campaign=campaign, filename=upload.name, data=upload.read()
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("collection:quant_home", campaign_pk=campaign.pk)
    if report.ok:
        messages.success(
            request, f"已导入 {report.batch.rows} 个数值（{report.batch.source_name}）"
        )
        return redirect("collection:quant_home", campaign_pk=campaign.pk)
    return _home(request, campaign, report)


@login_required
@require_POST
def quant_undo(request: HttpRequest, batch_pk: int) -> HttpResponse:
    if not policy.has_perm(request.user, Perm.CAMPAIGN_MANAGE):
        raise PermissionDenied
    batch = selectors.get_batch_for_user(request.user, batch_pk)
    try:
        services.undo_batch(actor=request.user, batch=batch)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已撤销批次“{batch.source_name}”，其数值不再计入")
    return redirect("collection:quant_home", campaign_pk=batch.campaign_id)


@login_required
@require_http_methods(["GET", "POST"])
def quant_manual(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    """A table of targets × quantitative indicators with the current values, typed over."""
    campaign = _campaign(request, campaign_pk)
    indicators = selectors.quant_indicators(campaign)
    targets = list(Target.objects.filter(campaign=campaign).order_by("code"))
    current = selectors.current_values(campaign)
    errors: dict[tuple[int, int], str] = {}
    posted: dict[tuple[int, int], str] = {}
    if request.method == "POST":
        posted = {
            (t.pk, i.pk): request.POST.get(f"v_{t.pk}_{i.pk}", "").strip()
            for t in targets
            for i in indicators
        }
        try:
            batch, errors = services.enter_values(
                actor=request.user, campaign=campaign, values=posted
            )
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
            return redirect("collection:quant_home", campaign_pk=campaign.pk)
        if not errors:
            if batch is None:
                messages.info(request, "没有修改任何数值")
            else:
                messages.success(request, f"已保存 {batch.rows} 个数值（手工录入批次）")
            return redirect("collection:quant_home", campaign_pk=campaign.pk)
    rows = []
    for t in targets:
        cells = []
        for i in indicators:
            key = (t.pk, i.pk)
            value = posted[key] if key in posted else quant_io.text(_plain(current.get(key)))
            cells.append({"name": f"v_{t.pk}_{i.pk}", "value": value, "error": errors.get(key)})
        rows.append({"target": t, "cells": cells})
    return render(
        request,
        "collection/quant_manual.html",
        {"campaign": campaign, "indicators": indicators, "rows": rows, "errors": errors},
        status=400 if errors else 200,
    )


def _plain(value: object) -> object:
    """4-place decimals shown without trailing zeros (95.5000 → 95.5)."""
    if value is None:
        return None
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
