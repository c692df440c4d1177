"""Weights of one sibling group (a parent's weighted children, or the level-1 set): the AHP page
(a pairwise comparison matrix on Saaty's 1–9 scale, live weights and consistency through HTMX,
"应用权重" storing them) and direct entry (percent in 权重制, points in 分值制, with a live sum),
both writing through ``services``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import selectors, services
from .constants import Weighting
from .forms import SAATY, WeightsForm, parse_matrix, saaty_label
from .models import Indicator, PublishedVersionError, SchemeVersion
from .views import _get_version, _refused, _writable_version

AHP_METHODS = [
    ("eigenvector", "特征向量法"),
    ("geometric_mean", "方根法"),
    ("arithmetic_mean", "和积法"),
]


def _group(
    request: HttpRequest, pk: int, source: Any
) -> tuple[SchemeVersion, bool, Indicator | None, list[Indicator]]:
    version, can_manage = _get_version(request, pk)
    parent = None
    if source.get("parent"):
        parent = version.indicators.filter(pk=source["parent"]).first()
    return version, can_manage, parent, selectors.weighted_children(version, parent)


def _stored(version: SchemeVersion, parent: Indicator | None, kids: list[Indicator]) -> Any:
    record = (version.options or {}).get("ahp", {}).get(parent.code if parent else "_root")
    if record and record.get("children") == [k.code for k in kids]:
        return record
    return None


def _result_context(kids: list[Indicator], matrix: list[list[float]], method: str) -> Any:
    try:
        result = services.compute_ahp(matrix, method)
    except ValidationError as exc:
        return {"error": "；".join(exc.messages)}
    names = [k.name for k in kids]
    return {
        "result": result,
        "rows": list(zip(kids, [float(w) for w in result.weights], strict=True)),
        "message": services.ahp_message(result, names),
    }


@login_required
def ahp_page(request: HttpRequest, pk: int) -> HttpResponse:
    version, can_manage, parent, kids = _group(request, pk, request.GET)
    can_edit = can_manage and not version.is_published
    n = len(kids)
    method = "eigenvector"
    stored = _stored(version, parent, kids)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        method = request.POST.get("method", method)
        matrix = parse_matrix(request.POST, n)
        try:
            services.set_weights_ahp(
                actor=request.user, version=version, parent=parent, matrix=matrix, method=method
            )
        except PublishedVersionError as exc:
            return _refused(request, version.pk, str(exc))
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, f"已按层次分析法设置“{parent or '一级指标'}”下的权重。")
            return redirect("indicators:version", version.pk)
    elif stored:
        matrix = stored["matrix"]
        method = stored.get("method", method)
    else:
        matrix = [[1.0] * n for _ in range(n)]
    cells = [
        [
            {
                "i": i,
                "j": j,
                "col": kids[j].name,
                "upper": j > i,
                "diag": i == j,
                "value": saaty_label(matrix[i][j]) if j > i else None,
                "lower": saaty_label(matrix[i][j]) if j < i else None,
            }
            for j in range(n)
        ]
        for i in range(n)
    ]
    context = {
        "version": version,
        "parent": parent,
        "kids": kids,
        "cells": list(zip(kids, cells, strict=True)),
        "method": method,
        "methods": AHP_METHODS,
        "can_edit": can_edit,
        "stored": stored,
        "scale": SAATY,
    }
    if n >= 2:
        context |= _result_context(kids, matrix, method)
    return render(request, "indicators/ahp.html", context)


@login_required
@require_POST
def ahp_compute(request: HttpRequest, pk: int) -> HttpResponse:
    """Weights, λmax, CI, CR and the verdict of the posted matrix (no write)."""
    version, can_manage, parent, kids = _group(request, pk, request.GET)
    method = request.POST.get("method", "eigenvector")
    context: dict[str, Any] = {
        "version": version,
        "can_edit": can_manage and not version.is_published,
    }
    if len(kids) >= 2:
        context |= _result_context(kids, parse_matrix(request.POST, len(kids)), method)
    return render(request, "indicators/_ahp_result.html", context)


@login_required
def weights_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Direct entry of the weights (or points) of ``?parent=``'s weighted children, the level-1
    indicators without it (managers of a draft only)."""
    try:
        version = _writable_version(request, pk)
    except PublishedVersionError as exc:
        return _refused(request, pk, str(exc))
    parent = None
    if request.GET.get("parent"):
        parent = version.indicators.filter(pk=_int_or_404(request.GET["parent"])).first()
        if parent is None:
            raise Http404
    kids = selectors.weighted_children(version, parent)
    form = WeightsForm(request.POST or None, version=version, kids=kids)
    if request.method == "POST" and kids and form.is_valid():
        try:
            services.set_weights(
                actor=request.user, version=version, parent=parent, **form.to_service()
            )
        except PublishedVersionError as exc:
            return _refused(request, version.pk, str(exc))
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            what = "分值" if form.points_mode else "权重"
            messages.success(request, f"已设置“{parent.name if parent else '一级指标'}”的{what}。")
            return redirect("indicators:version", version.pk)
    points_mode = version.weighting == Weighting.POINTS
    target = (version.total_points if parent is None else parent.points) if points_mode else 100
    context = {
        "version": version,
        "parent": parent,
        "form": form,
        "points_mode": points_mode,
        "target": target,
        "extras": [k for k in version.indicators.filter(parent=parent) if selectors.is_extra(k)],
    }
    return render(request, "indicators/weights.html", context)


def _int_or_404(value: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise Http404 from exc


@login_required
def entropy_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Objective weights of ``?parent=``'s children from a finished campaign (熵权法), shown
    beside the current weights and combined with them; applied on POST."""
    from kaoping import policy

    from . import data_weights as dw

    try:
        version = _writable_version(request, pk)
    except PublishedVersionError as exc:
        return _refused(request, pk, str(exc))
    data = request.POST if request.method == "POST" else request.GET
    parent = None
    if data.get("parent"):
        parent = version.indicators.filter(pk=_int_or_404(str(data["parent"]))).first()
        if parent is None:
            raise Http404
    campaigns = dw.source_campaigns(version, policy.visible_campaigns(request.user))
    campaign = None
    if data.get("campaign"):
        campaign = campaigns.filter(pk=_int_or_404(str(data["campaign"]))).first()
        if campaign is None:
            raise Http404
    alpha_text = str(data.get("alpha") or "50")
    result, errors = None, []
    if campaign is not None:
        alpha: Any
        try:
            alpha = float(alpha_text) / 100
        except ValueError:
            alpha = alpha_text  # refused by the service with its message
        try:
            if request.method == "POST":
                dw.apply_data_weights(
                    actor=request.user, version=version, parent=parent, campaign=campaign,
                    alpha=alpha,
                )  # fmt: skip
                messages.success(
                    request,
                    f"已按“{campaign.name}”的数据设置“{parent.name if parent else '一级指标'}”的权重。",
                )
                return redirect("indicators:version", version.pk)
            result = dw.data_weights(version, parent, campaign, alpha)
        except PublishedVersionError as exc:
            return _refused(request, version.pk, str(exc))
        except ValidationError as exc:
            errors = exc.messages
    rows = []
    if result is not None:
        rows = [
            {"kid": k, "subjective": s * 100, "objective": o * 100, "combined": c * 100}
            for k, s, o, c in zip(
                result.kids, result.subjective, result.objective, result.combined, strict=True
            )
        ]
    return render(
        request,
        "indicators/entropy.html",
        {
            "version": version,
            "parent": parent,
            "campaigns": campaigns,
            "campaign": campaign,
            "alpha": alpha_text,
            "result": result,
            "rows": rows,
            "errors": errors,
        },
    )
