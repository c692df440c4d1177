"""Result-use pages (结果运用): overview, 评先评优 list, 问责 list, 选拔任用 files, and their Excel and
PDF exports. Thin: the campaign is fetched through the policy (404 outside the user's campaigns,
403 unless they run it or approve its results); the lists come from ``results.use``, the files
from ``results.use_exports`` (which audits each export)."""

from __future__ import annotations

import io
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from kaoping import policy
from kaoping.core.web import flash_errors
from kaoping.policy import Perm

from . import use, use_exports


def _campaign(request: HttpRequest, pk: Any) -> Any:
    if not policy.has_perm(request.user, Perm.CAMPAIGN_VIEW):
        raise PermissionDenied
    campaign, _ = policy.get_campaign_for_user(request.user, pk)
    if not policy.can_use_results(request.user, campaign):
        raise PermissionDenied
    return campaign


def _page(
    request: HttpRequest, campaign: Any, page: str, template: str, **ctx: Any
) -> HttpResponse:
    return render(
        request,
        template,
        {
            "campaign": campaign,
            "can_manage": policy.can_manage_campaign(request.user, campaign),
            "can_use_results": True,
            "tab": "use",
            "page": page,
            **ctx,
        },
    )


@login_required
def overview(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    u = use.usable(campaign)
    return _page(request, campaign, "overview", "results/use/overview.html", u=u,
                 counts=use.counts(u) if u.ok else {})  # fmt: skip


@login_required
def awards(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    u = use.usable(campaign)
    return _page(request, campaign, "awards", "results/use/list.html", u=u,
                 ul=use.award_list(u) if u.ok else None, kind="awards")  # fmt: skip


@login_required
def accountability(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    u = use.usable(campaign)
    return _page(request, campaign, "accountability", "results/use/list.html", u=u,
                 ul=use.accountability_list(u) if u.ok else None,
                 kind="accountability")  # fmt: skip


@login_required
def cadres(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    u = use.usable(campaign)
    return _page(request, campaign, "cadres", "results/use/cadres.html", u=u,
                 cf=use.cadre_files(u) if u.ok else None)  # fmt: skip


@login_required
def cadre(request: HttpRequest, pk: int, target_id: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    target = policy.get_target_for_user(request.user, campaign, target_id)
    u = use.usable(campaign)
    if not u.ok:
        return _page(request, campaign, "cadres", "results/use/cadre.html", u=u, f=None)
    cf = use.cadre_files(u, target_ids=[target.pk])
    if not cf.files:
        raise Http404("该考核对象没有干部考核档案")
    return _page(request, campaign, "cadres", "results/use/cadre.html", u=u, cf=cf,
                 f=cf.files[0])  # fmt: skip


BACK = {"awards": "results:use_awards", "accountability": "results:use_accountability",
        "cadres": "results:use_cadres", "cadre": "results:use_cadres"}  # fmt: skip


@login_required
def export(
    request: HttpRequest, pk: int, kind: str, fmt: str, target_id: int | None = None
) -> HttpResponse:
    campaign = _campaign(request, pk)
    if target_id is not None:
        target_id = policy.get_target_for_user(request.user, campaign, target_id).pk
    u = use.usable(campaign)
    if kind == "cadres" and fmt == "pdf" and u.ok:
        n = use.counts(u).get("cadre_file", 0)
        if n > use_exports.SYNC_CADRE_FILES:
            from kaoping.jobs.services import enqueue

            from .use_jobs import KIND

            job = enqueue(KIND, actor=request.user,
                          params={"campaign": campaign.pk, "kind": kind, "fmt": fmt})  # fmt: skip
            return redirect("jobs:status", job.pk)
    try:
        out = use_exports.export(actor=request.user, u=u, kind=kind, fmt=fmt, target_id=target_id)
    except ValidationError as exc:
        if kind == "cadre" and u.ok:
            raise Http404 from exc
        flash_errors(request, exc)
        return redirect(BACK[kind], campaign.pk)
    return FileResponse(
        io.BytesIO(out.data), as_attachment=True, filename=out.filename,
        content_type=out.content_type,
    )  # fmt: skip
