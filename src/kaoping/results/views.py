"""Result pages: the campaign ranking (compute, submit, approve or return, export), the changes
of each compute, and each target's result with its explanation.

Thin: the campaign comes from ``policy.get_campaign_for_user`` (404 outside scope), rows from
``policy.visible_results`` / ``get_result_for_user``; writes go through ``services`` (and the
compute job); reads through ``selectors``."""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from kaoping import policy
from kaoping.campaigns.models import Campaign
from kaoping.core.web import flash_errors, paginate
from kaoping.jobs.models import JobStatus
from kaoping.jobs.services import enqueue
from kaoping.policy import Perm

from . import selectors as sel
from . import services
from .models import ResultSet, ResultStatus
from .ranking_export import export_ranking

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PER_PAGE = 100


def _campaign(request: HttpRequest, pk: int) -> tuple[Campaign, bool]:
    user = request.user
    if policy.has_perm(user, Perm.CAMPAIGN_VIEW):
        try:
            return policy.get_campaign_for_user(user, pk)
        except Http404:
            pass
    # a person who is a target sees their own published result, whatever their roles
    campaign = policy.own_result_campaigns(user).filter(pk=pk).first()
    if campaign is None:
        if not policy.has_perm(user, Perm.CAMPAIGN_VIEW):
            raise PermissionDenied
        raise Http404
    return campaign, False


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """我的考核结果: the published results of the user's own unit and own person."""
    user = request.user
    if not (getattr(user, "person_id", None) or policy.has_perm(user, Perm.SELF_ASSESS)):
        raise PermissionDenied
    rows = (
        policy.own_results(request.user)
        .select_related("target", "result_set__campaign")
        .order_by("-result_set__campaign__period_end", "target__code")
    )
    return render(request, "results/mine.html", {"rows": rows})


def _managed(request: HttpRequest, pk: int) -> Campaign:
    campaign, can_manage = _campaign(request, pk)
    if not can_manage:
        raise PermissionDenied
    return campaign


def _to_ranking(campaign: Campaign) -> HttpResponse:
    return redirect("results:ranking", campaign.pk)


def _without(request: HttpRequest, *keys: str) -> str:
    """The GET parameters but ``keys``, ready to take one more (``…&``)."""
    params = request.GET.copy()
    for k in keys:
        params.pop(k, None)
    q = params.urlencode()
    return q + "&" if q else ""


# ---- the ranking ------------------------------------------------------------------------------


def _refusal(campaign: Campaign) -> str:
    """Why results cannot be computed now ("" when they can)."""
    try:
        services.check_computable(campaign)
    except ValidationError as exc:
        return "；".join(exc.messages)
    return ""


@login_required
@require_GET
def ranking(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    campaign, can_manage = _campaign(request, campaign_pk)
    user = request.user
    rs = services.current_set(campaign)
    level = policy.result_access(user, rs)
    visible = policy.visible_results(user, rs)
    if level == "own":
        own = list(visible.values_list("target_id", flat=True)[:2])
        if len(own) == 1:
            return redirect("results:target", campaign.pk, own[0])
    f = sel.RankingFilters.from_query(request.GET)
    rows = sel.ranking(visible, f) if level else []
    page_obj, query = paginate(request, rows, PER_PAGE)
    for r in page_obj:
        r.flag_labels = sel.flag_labels(r.flags)
    context: dict[str, Any] = {
        "campaign": campaign,
        "can_manage": can_manage,
        "tab": "results",
        "rs": rs,
        "level": level,
        "filters": f,
        "page_obj": page_obj,
        "query": query,
        "n_rows": len(rows),
        "cols": sel.sort_columns(f),
        "sort_query": _without(request, "sort", "page"),
        "flag_choices": sel.FLAG_LABELS,
    }
    if request.htmx and request.headers.get("HX-Target") == "ranking-table":
        return render(request, "results/_ranking_table.html", context)
    if rs is not None and level:
        points = sel.dimension_points(rs)
        context.update(
            {
                "groups": sel.group_choices(visible),
                "grades": sel.grade_labels(rs),
                "chart": sel.grade_chart(rs),
                "dimensions": sel.dimension_table(rs, points),
            }
        )
    if level == "all":
        context["history"] = sel.history(campaign)
    context["can_approve"] = policy.can_approve_results(user, campaign)
    if can_manage:
        context["refusal"] = _refusal(campaign)
        context["job"] = sel.running_compute(campaign)
    return render(request, "results/ranking.html", context)


@login_required
@require_GET
def export(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    campaign, _ = _campaign(request, campaign_pk)
    rs = services.current_set(campaign)
    if not policy.result_access(request.user, rs):
        raise Http404
    assert rs is not None
    f = sel.RankingFilters.from_query(request.GET)
    rows = sel.ranking(policy.visible_results(request.user, rs), f)
    data = export_ranking(actor=request.user, rs=rs, rows=rows, filters=request.GET.urlencode())
    name = f"{campaign.name}_考核结果_{timezone.localtime():%Y%m%d_%H%M}.xlsx"
    return FileResponse(io.BytesIO(data), as_attachment=True, filename=name, content_type=XLSX)


# ---- compute ----------------------------------------------------------------------------------


@login_required
@require_POST
def compute(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    campaign = _managed(request, campaign_pk)
    refusal = _refusal(campaign)
    running = sel.running_compute(campaign)
    if refusal or running is not None:
        message = refusal or "该考核活动已有一个计算任务正在进行，请等待其完成"
        if request.htmx:
            return render(request, "results/_compute_refused.html", {"message": message})
        messages.error(request, message)
        return _to_ranking(campaign)
    reason = request.POST.get("reason", "").strip()[:200] or "在页面上计算"
    job = enqueue(
        sel.COMPUTE_KIND,
        actor=request.user,
        params={
            "campaign": campaign.pk,
            "reason": reason,
            "result_template": "results/_compute_done.html",
        },
    )
    if request.htmx:
        job.refresh_from_db()
        return render(request, "results/_compute_job.html", {"job": job, "campaign": campaign})
    return _to_ranking(campaign)


@login_required
@require_GET
def compute_status(request: HttpRequest, campaign_pk: int, job_pk: int) -> HttpResponse:
    """The compute job's progress (polled); when it is done the page reloads with the result."""
    campaign = _managed(request, campaign_pk)
    job = sel.compute_job(campaign, job_pk)
    if job.status == JobStatus.SUCCEEDED:
        r = job.result or {}
        if r.get("created"):
            messages.success(
                request,
                f"已完成第 {r.get('number')} 次计算，用时 {r.get('seconds', 0):.1f} 秒"
                + (f"，{r['changed']} 个考核对象的结果有变化" if r.get("changed") else "")
                + "。",
            )
        else:
            messages.info(request, f"考核数据未变化，沿用第 {r.get('number')} 次计算结果。")
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
            return response
        return _to_ranking(campaign)
    context = {"job": job, "campaign": campaign, "error": sel.job_error_text(job)}
    if request.htmx:
        return render(request, "results/_compute_job.html", context)
    return render(request, "results/compute_status.html", context)


# ---- approval ---------------------------------------------------------------------------------


@login_required
@require_POST
def submit(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    campaign = _managed(request, campaign_pk)
    try:
        rs = services.submit(actor=request.user, campaign=campaign)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, f"第 {rs.number} 次计算结果已提交审批。")
    return _to_ranking(campaign)


def _approver_campaign(request: HttpRequest, pk: int) -> Campaign:
    campaign, _ = _campaign(request, pk)
    if not policy.can_approve_results(request.user, campaign):
        raise PermissionDenied
    return campaign


@login_required
@require_POST
def approve(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    campaign = _approver_campaign(request, campaign_pk)
    try:
        services.approve(
            actor=request.user, campaign=campaign, comment=request.POST.get("comment", "")
        )
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, "考核结果已审批通过，考核管理员可进入“公示”阶段。")
    return _to_ranking(campaign)


@login_required
@require_POST
def return_results(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    campaign = _approver_campaign(request, campaign_pk)
    try:
        services.return_results(
            actor=request.user, campaign=campaign, comment=request.POST.get("comment", "")
        )
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, "考核结果已退回考核管理员。")
    return _to_ranking(campaign)


# ---- changes of one compute -------------------------------------------------------------------


@login_required
@require_GET
def changes(request: HttpRequest, campaign_pk: int, number: int) -> HttpResponse:
    campaign, can_manage = _campaign(request, campaign_pk)
    rs, level = policy.get_result_set_for_user(request.user, campaign, number)
    codes = None
    if level != "all":
        current = services.current_set(campaign)
        codes = set(
            policy.visible_results(request.user, current).values_list("target__code", flat=True)
        )
    previous = None
    if (rs.changes or {}).get("previous"):
        previous = ResultSet.objects.filter(
            campaign=campaign, number=rs.changes["previous"]
        ).first()
    return render(
        request,
        "results/changes.html",
        {
            "campaign": campaign,
            "can_manage": can_manage,
            "tab": "results",
            "rs": rs,
            "previous": previous,
            "level": level,
            "ch": sel.changes_view(rs, codes),
        },
    )


# ---- one target -------------------------------------------------------------------------------


@login_required
@require_GET
def target(request: HttpRequest, campaign_pk: int, target_pk: int) -> HttpResponse:
    campaign, can_manage = _campaign(request, campaign_pk)
    user = request.user
    rs = services.current_set(campaign)
    tr = policy.get_result_for_user(user, rs, target_pk)
    assert rs is not None
    level = policy.result_access(user, rs)
    sources = sel.target_sources(campaign, tr.target, reviewer_names=level == "all")
    tree = sel.explanation_tree(tr, sources, min_breakdown=sel.min_breakdown(campaign))
    previous = sel.previous_result(tr.target)
    return render(
        request,
        "results/target.html",
        {
            "campaign": campaign,
            "can_manage": can_manage,
            "tab": "results",
            "rs": rs,
            "level": level,
            "tr": tr,
            "flag_labels": sel.flag_labels(tr.flags),
            "tree": tree,
            "radar": sel.radar(tr, rs),
            "sources": sources,
            "previous": previous,
            "previous_link": previous is not None and policy.may_view_result(user, previous),
            "n_results": rs.summary.get("targets"),
            "published": rs.status in (ResultStatus.PUBLISHED, ResultStatus.FINAL),
            "self_form_url": _self_form_url(user, campaign, tr.target),
            "campaign_tabs": policy.has_perm(user, Perm.CAMPAIGN_VIEW),
            "may_appeal": services.publication_open(rs) and policy.can_appeal(user, tr.target),
        },
    )


def _self_form_url(user: Any, campaign: Campaign, target: Any) -> str:
    """The self-assessment form's page, for those who may open it."""
    if policy.can_manage_campaign(user, campaign) or policy.can_self_assess(user, target):
        return reverse("collection:self_form", args=[campaign.pk, target.pk])
    return ""
