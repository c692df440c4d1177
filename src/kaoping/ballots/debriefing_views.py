"""述职评议 pages: the secretary's report upload, the meeting page (一述一评) for the organizer
or leader. Thin: ``debriefing`` checks who may do what and audits."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from kaoping import policy
from kaoping.accounts.models import Role
from kaoping.campaigns.models import Target
from kaoping.collection.evidence import ACCEPT, ALLOWED_TEXT
from kaoping.core.web import flash_errors
from kaoping.policy import Perm

from . import debriefing


def _meeting_campaign(request: HttpRequest, pk: Any) -> tuple[Any, bool]:
    """The campaign for its organizers (all targets) and for 领导 (targets in their scope)."""
    if not policy.has_perm(request.user, Perm.CAMPAIGN_VIEW):
        raise PermissionDenied
    campaign, can_manage = policy.get_campaign_for_user(request.user, pk)
    if not (can_manage or policy.has_role(request.user, Role.LEADER)):
        raise PermissionDenied
    if not debriefing.is_debriefing(campaign):
        raise Http404
    return campaign, can_manage


def _target_for_report(request: HttpRequest, campaign_pk: Any, target_pk: Any) -> Target:
    """The target if the user is its secretary or its unit's submitter (else 404)."""
    try:
        target = Target.objects.select_related(
            "campaign__owner", "person__organization", "organization"
        ).get(pk=target_pk, campaign_id=campaign_pk)
    except (ValueError, TypeError, Target.DoesNotExist) as exc:
        raise Http404 from exc
    if not debriefing.is_debriefing(target.campaign):
        raise Http404
    if not debriefing.may_submit_report(request.user, target):
        raise Http404
    return target


@login_required
def debriefing_mine(request: HttpRequest) -> HttpResponse:
    """The 述职 reports the user is to submit (as secretary or as the unit's submitter)."""
    user: Any = request.user
    if not (user.person_id or policy.has_perm(user, Perm.SELF_ASSESS)):
        raise PermissionDenied
    q = Target.objects.filter(campaign__status__in=debriefing.REPORT_STAGES).select_related(
        "campaign", "person__organization", "organization", "debriefing"
    )
    candidates = q.filter(person_id=user.person_id) if user.person_id else q.none()
    if policy.has_perm(user, Perm.SELF_ASSESS):
        units = policy.visible_organizations(user, Perm.SELF_ASSESS)
        candidates = candidates | q.filter(person__organization__in=units)
    targets = [
        t for t in candidates.distinct().order_by("-campaign__period_end", "code")
        if debriefing.is_debriefing(t.campaign) and debriefing.may_submit_report(user, t)
    ]  # fmt: skip
    return render(request, "ballots/debriefing_mine.html", {"targets": targets})


@login_required
def debriefing_report(request: HttpRequest, campaign_pk: int, target_pk: int) -> HttpResponse:
    target = _target_for_report(request, campaign_pk, target_pk)
    if request.method == "POST":
        try:
            debriefing.submit_report(
                actor=request.user, target=target, summary=request.POST.get("summary", ""),
                uploaded_file=request.FILES.get("report"),
            )  # fmt: skip
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, "述职报告已提交。")
            return redirect("ballots:debriefing_report", target.campaign_id, target.pk)
    report = getattr(target, "debriefing", None)
    return render(
        request,
        "ballots/debriefing_report.html",
        {
            "target": target,
            "campaign": target.campaign,
            "report": report,
            "accept": ACCEPT,
            "allowed": ALLOWED_TEXT,
            "can_submit": target.campaign.status in debriefing.REPORT_STAGES,
            "summary": request.POST.get("summary", report.summary if report else ""),
        },
    )


@login_required
def debriefing_meeting(request: HttpRequest, pk: int) -> HttpResponse:
    campaign, can_manage = _meeting_campaign(request, pk)
    visible = set(policy.visible_targets(request.user, campaign).values_list("pk", flat=True))
    items = [i for i in debriefing.meeting(campaign) if i.target.pk in visible]
    current = request.GET.get("t")
    return render(
        request,
        "ballots/debriefing_meeting.html",
        {
            "campaign": campaign,
            "can_manage": can_manage,
            "items": items,
            "current": int(current) if current and current.isdigit() else None,
            "can_comment": campaign.status in debriefing.COMMENT_STAGES,
        },
    )


@login_required
@require_POST
def debriefing_comment(request: HttpRequest, pk: int, target_pk: int) -> HttpResponse:
    campaign, _ = _meeting_campaign(request, pk)
    target = policy.get_target_for_user(request.user, campaign, target_pk)
    try:
        debriefing.record_comment(
            actor=request.user, target=target, comment=request.POST.get("comment", "")
        )
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, f"已记录对{target.name}的点评意见。")
    return redirect(f"{reverse('ballots:debriefing_meeting', args=[campaign.pk])}#t{target.pk}")
