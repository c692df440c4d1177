"""Reviewer scoring pages (评审): the grid, one cell's side panel and autosave, submitting, and the
organizer's list of sheets with reopen. Thin: objects through ``kaoping.policy``'s scoped helpers
(404 outside scope), reads through ``review_selectors``, writes through ``review_services``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods, require_POST

from kaoping import policy
from kaoping.campaigns.models import Campaign, Target
from kaoping.indicators.models import Indicator
from kaoping.policy import Perm

from . import review_selectors as selectors
from . import review_services as services
from .models import ReviewSheet
from .review_render import rows_html
from .review_rules import fmt


def _reviewer_campaign(request: HttpRequest, campaign_pk: int) -> Campaign:
    """The campaign if the user is one of its assigned reviewers (403 without the role,
    404 otherwise)."""
    if not policy.has_perm(request.user, Perm.REVIEW):
        raise PermissionDenied
    campaign, _ = policy.get_campaign_for_user(request.user, campaign_pk)
    if not campaign.assignments.filter(reviewer=request.user).exists():
        raise Http404
    return campaign


def _cell_objects(
    request: HttpRequest, campaign_pk: int, target_pk: int, indicator_pk: int
) -> tuple[Campaign, Target, Indicator]:
    campaign = _reviewer_campaign(request, campaign_pk)
    target = policy.get_target_for_user(request.user, campaign, target_pk)
    if not policy.is_assigned_reviewer(request.user, target):
        raise Http404
    try:
        indicator = Indicator.objects.get(pk=indicator_pk, version_id=campaign.scheme_version_id)
    except Indicator.DoesNotExist as exc:
        raise Http404 from exc
    target.campaign = campaign
    return campaign, target, indicator


@login_required
def review_grid(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    campaign = _reviewer_campaign(request, campaign_pk)
    grid = selectors.grid(campaign, request.user)
    is_open = services.review_open(campaign)
    editable = is_open and not grid.submitted
    return render(
        request,
        "collection/review_grid.html",
        {
            "campaign": campaign,
            "grid": grid,
            "stage_open": is_open,
            "editable": editable,
            "rows": rows_html(grid, editable),
            "cell_url": reverse("collection:review_cell", args=[campaign.pk, 0, 0]),
        },
    )


def _evidence_links(evidence: list[Any]) -> list[tuple[Any, str | None]]:
    out = []
    for ev in evidence:
        try:
            url: str | None = reverse("collection:evidence_preview", args=[ev.pk])
        except NoReverseMatch:
            url = None
        out.append((ev, url))
    return out


def _parse_value(request: HttpRequest, rule: Any) -> dict[str, Any]:
    value = request.POST.get("value", "").strip()
    if rule.input == "number":
        return {"score": value or None}
    if rule.input == "grade":
        return {"grade": value}
    if rule.input == "count":
        return {"occurrences": {rule.items[0].code: value} if value != "" else None}
    counts = {it.code: request.POST.get(f"occ_{it.code}", "").strip() for it in rule.items}
    if not any(counts.values()) and request.POST.get("clear"):
        return {"occurrences": None}
    return {"occurrences": {k: v for k, v in counts.items() if v != ""}}


@login_required
@require_http_methods(["GET", "POST"])
def review_cell(
    request: HttpRequest, campaign_pk: int, target_pk: int, indicator_pk: int
) -> HttpResponse:
    """GET: the side panel of one cell. POST: autosave of the cell (JSON)."""
    campaign, target, indicator = _cell_objects(request, campaign_pk, target_pk, indicator_pk)
    try:
        data = selectors.panel(campaign, request.user, target, indicator)
    except Indicator.DoesNotExist as exc:
        raise Http404 from exc
    if request.method == "GET":
        sheet = data.score.sheet if data.score else selectors.get_sheet(campaign, request.user)
        editable = services.review_open(campaign) and not (
            sheet is not None and sheet.status == "submitted"
        )
        return render(
            request,
            "collection/review_panel.html",
            {
                "campaign": campaign,
                "d": data,
                "evidence": _evidence_links(data.evidence),
                "editable": editable,
                "occurrences": data.score.occurrences if data.score else {},
            },
        )
    rule = data.column.rule
    try:
        cell = services.save_score(
            actor=request.user,
            target=target,
            indicator=indicator,
            reason=request.POST.get("reason", ""),
            **_parse_value(request, rule),
        )
    except ValidationError as exc:
        return JsonResponse(
            {"ok": False, "error": "；".join(exc.messages), "code": exc.code or ""}, status=400
        )
    sheet = selectors.get_sheet(campaign, request.user)
    columns = selectors.review_columns(campaign)
    occ = cell.occurrences if cell and rule.input in ("count", "items") else None
    return JsonResponse(
        {
            "ok": True,
            "value": rule.value_for_input(cell.score, cell.grade, occ) if cell else "",
            "reason": cell.reason if cell else "",
            "points": fmt(rule.points_of(cell.score, cell.grade, occ)) if cell else "",
            "total": fmt(selectors.target_total(sheet, target, columns)) if sheet else "",
            "filled": sheet.scores.count() if sheet else 0,
        }
    )


@login_required
@require_POST
def review_submit(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    campaign = _reviewer_campaign(request, campaign_pk)
    try:
        services.submit_sheet(actor=request.user, campaign=campaign)
    except ValidationError as exc:
        for line in exc.messages:
            messages.error(request, line)
    else:
        messages.success(request, "评分表已提交，如需修改请联系组织者退回")
    return redirect("collection:review_grid", campaign_pk=campaign.pk)


def _managed_campaign(request: HttpRequest, campaign_pk: int) -> Campaign:
    if not policy.has_perm(request.user, Perm.CAMPAIGN_MANAGE):
        raise PermissionDenied
    campaign, can_manage = policy.get_campaign_for_user(request.user, campaign_pk)
    if not can_manage:
        raise PermissionDenied
    return campaign


@login_required
def review_sheets(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    """The organizer's list of reviewers' sheets, with reopen."""
    campaign = _managed_campaign(request, campaign_pk)
    return render(
        request,
        "collection/review_sheets.html",
        {"campaign": campaign, "rows": selectors.sheets_for_campaign(campaign)},
    )


@login_required
@require_POST
def review_reopen(request: HttpRequest, sheet_pk: int) -> HttpResponse:
    if not policy.has_perm(request.user, Perm.CAMPAIGN_MANAGE):
        raise PermissionDenied
    try:
        sheet = ReviewSheet.objects.select_related("campaign", "campaign__owner").get(
            pk=sheet_pk, campaign__in=policy.visible_campaigns(request.user)
        )
    except (ValueError, ReviewSheet.DoesNotExist) as exc:
        raise Http404 from exc
    if not policy.can_manage_campaign(request.user, sheet.campaign):
        raise PermissionDenied
    try:
        services.reopen_sheet(
            actor=request.user, sheet=sheet, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        for line in exc.messages:
            messages.error(request, line)
    else:
        messages.success(request, f"已退回 {sheet.reviewer.display_name} 的评分表，并已通知本人")
    return redirect("collection:review_sheets", campaign_pk=sheet.campaign_id)
