"""Organizer pages of 民主测评 (under /appraisals/): the appraisals of a campaign, creating one
from the campaign's design, editing a draft, issuing tokens (the print sheet), voiding, opening,
closing, live turnout; and the identified-mode pages for logged-in members.

Thin: every campaign is fetched through ``policy.get_campaign_for_user`` (404 outside scope),
writes need ``policy.can_manage_campaign`` (403), every write goes through a service.
"""

from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from kaoping import policy
from kaoping.campaigns.models import Campaign, Stage
from kaoping.core.web import flash_errors
from kaoping.indicators.constants import RaterGroupCode
from kaoping.policy import Perm

from . import design, services, tokens
from .models import Appraisal, AppraisalMode, AppraisalStatus
from .public_views import answers_from_post, ballot_context


def _campaign(request: HttpRequest, pk: Any, *, manage: bool = False) -> tuple[Campaign, bool]:
    if not policy.has_perm(request.user, Perm.CAMPAIGN_VIEW):
        raise PermissionDenied
    campaign, can_manage = policy.get_campaign_for_user(request.user, pk)
    if manage and not can_manage:
        raise PermissionDenied
    return campaign, can_manage


def _appraisal(request: HttpRequest, pk: Any, *, manage: bool = False) -> tuple[Appraisal, bool]:
    """The appraisal if its campaign is visible to the user (else 404)."""
    if not policy.has_perm(request.user, Perm.CAMPAIGN_VIEW):
        raise PermissionDenied
    appraisal, can_manage = policy.get_appraisal_for_user(request.user, pk)
    if manage and not can_manage:
        raise PermissionDenied
    return appraisal, can_manage


@login_required
def campaign_appraisals(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    campaign, can_manage = _campaign(request, campaign_pk)
    return render(
        request,
        "ballots/appraisal_list.html",
        {
            "campaign": campaign,
            "can_manage": can_manage,
            "tab": "appraisals",
            "rows": services.campaign_turnout(campaign),
            "groups": RaterGroupCode.choices,
            "modes": AppraisalMode.choices,
            "in_appraisal": campaign.status == Stage.APPRAISAL,
        },
    )


@login_required
def campaign_turnout(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    """The live turnout table (HTMX polls it every 5 s)."""
    campaign, can_manage = _campaign(request, campaign_pk)
    return render(
        request,
        "ballots/_turnout_table.html",
        {"campaign": campaign, "rows": services.campaign_turnout(campaign), "poll": True},
    )


@login_required
@require_POST
def appraisal_create(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    campaign, _ = _campaign(request, campaign_pk, manage=True)
    try:
        appraisal = design.design_from_campaign(
            actor=request.user,
            campaign=campaign,
            rater_group=request.POST.get("rater_group", ""),
            name=request.POST.get("name") or None,
            mode=request.POST.get("mode") or AppraisalMode.TOKEN,
        )
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("ballots:campaign_appraisals", campaign.pk)
    messages.success(request, f"已生成测评票“{appraisal.name}”。请核对题目，然后生成选票。")
    return redirect("ballots:appraisal_detail", appraisal.pk)


@login_required
def appraisal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    appraisal, can_manage = _appraisal(request, pk)
    targets = list(appraisal.targets.order_by("code"))
    chosen = {t.pk for t in targets}
    return render(
        request,
        "ballots/appraisal_detail.html",
        {
            "campaign": appraisal.campaign,
            "appraisal": appraisal,
            "can_manage": can_manage,
            "tab": "appraisals",
            "targets": targets,
            "all_targets": [
                {"target": t, "chosen": t.pk in chosen}
                for t in appraisal.campaign.targets.order_by("code")
            ],
            "grade_questions": design.grade_questions(appraisal),
            "has_comment": design.has_comment(appraisal),
            "batches": tokens.batches(appraisal) if appraisal.mode == AppraisalMode.TOKEN else [],
            "figures_rows": [services.turnout(appraisal)],
            "max_batch": tokens.MAX_BATCH,
            "editable": can_manage and appraisal.status == AppraisalStatus.DRAFT,
            "group_label": RaterGroupCode(appraisal.rater_group).label
            if appraisal.rater_group in RaterGroupCode.values
            else appraisal.rater_group,
            "modes": AppraisalMode.choices,
        },
    )


def _when(value: str | None) -> Any:
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValidationError("时间格式不正确")
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@login_required
@require_POST
def appraisal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    appraisal, _ = _appraisal(request, pk, manage=True)
    post = request.POST
    codes = [q["code"] for q in design.grade_questions(appraisal)]
    try:
        design.update_design(
            actor=request.user,
            appraisal=appraisal,
            name=post.get("name"),
            mode=post.get("mode") or None,
            question_texts={c: post[f"q_{c}"] for c in codes if f"q_{c}" in post},
            drop_questions=[c for c in codes if c != design.OVERALL and not post.get(f"keep_{c}")],
            comment=bool(post.get("comment")),
            target_ids=[int(t) for t in post.getlist("targets") if t.isdigit()],
            opens_at=_when(post.get("opens_at")),
            closes_at=_when(post.get("closes_at")),
            min_breakdown=int(post.get("min_breakdown") or appraisal.min_breakdown),
        )
    except (ValidationError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            flash_errors(request, exc)
        else:
            messages.error(request, "最少显示票数应为整数")
    else:
        messages.success(request, "测评票已保存。")
    return redirect("ballots:appraisal_detail", appraisal.pk)


def _qr_svg(url: str) -> str:
    return segno.make(url, error="m", micro=False).svg_inline(scale=0.75, unit="mm", border=2)


@never_cache
@login_required
@require_POST
def tokens_issue(request: HttpRequest, pk: int) -> HttpResponse:
    """Generate a batch and render its print sheet — once: the tokens are not kept."""
    appraisal, _ = _appraisal(request, pk, manage=True)
    try:
        pairs = tokens.issue_tokens(
            actor=request.user,
            appraisal=appraisal,
            count=request.POST.get("count") or 0,
            void_previous=bool(request.POST.get("void_previous")),
        )
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("ballots:appraisal_detail", appraisal.pk)
    slips = []
    for token, short in pairs:
        url = request.build_absolute_uri(reverse("vote:ballot", args=[token]))
        slips.append({"qr": mark_safe(_qr_svg(url)), "short": short})  # noqa: S308 - segno SVG
    response = render(
        request,
        "ballots/print_sheet.html",
        {
            "appraisal": appraisal,
            "slips": slips,
            "entry_url": request.build_absolute_uri(reverse("vote:entry")),
        },
    )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


@login_required
@require_POST
def tokens_void(request: HttpRequest, pk: int) -> HttpResponse:
    appraisal, _ = _appraisal(request, pk, manage=True)
    batch = request.POST.get("batch")
    n = tokens.void_unused(
        actor=request.user, appraisal=appraisal, batch=int(batch) if batch else None
    )
    messages.success(request, f"已作废 {n} 张未使用的选票。")
    return redirect("ballots:appraisal_detail", appraisal.pk)


@login_required
@require_POST
def appraisal_open(request: HttpRequest, pk: int) -> HttpResponse:
    appraisal, _ = _appraisal(request, pk, manage=True)
    try:
        services.open_appraisal(actor=request.user, appraisal=appraisal)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, "测评已开始投票。")
    return redirect("ballots:appraisal_detail", appraisal.pk)


@login_required
@require_POST
def appraisal_close(request: HttpRequest, pk: int) -> HttpResponse:
    appraisal, _ = _appraisal(request, pk, manage=True)
    try:
        services.close_appraisal(actor=request.user, appraisal=appraisal)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, "测评已结束，选票已按随机顺序重新存放。")
    return redirect("ballots:appraisal_detail", appraisal.pk)


@login_required
@require_POST
def close_all(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    campaign, _ = _campaign(request, campaign_pk, manage=True)
    n = services.close_open_appraisals(actor=request.user, campaign=campaign)
    messages.success(request, f"已结束 {n} 项测评。")
    return redirect("ballots:campaign_appraisals", campaign.pk)


@login_required
def appraisal_turnout(request: HttpRequest, pk: int) -> HttpResponse:
    appraisal, _ = _appraisal(request, pk)
    return render(
        request,
        "ballots/_turnout_table.html",
        {"campaign": appraisal.campaign, "rows": [services.turnout(appraisal)], "single": True},
    )


# ---- identified mode (实名) ----------------------------------------------------------------


def _member(request: HttpRequest) -> None:
    if not getattr(request.user, "person_id", None):
        raise PermissionDenied


@login_required
def my_appraisals(request: HttpRequest) -> HttpResponse:
    _member(request)
    return render(
        request,
        "ballots/my_appraisals.html",
        {"rows": services.identified_appraisals(request.user)},
    )


@login_required
def vote_identified(request: HttpRequest, pk: int) -> HttpResponse:
    _member(request)
    try:
        appraisal = Appraisal.objects.select_related("campaign__owner").get(
            pk=pk, mode=AppraisalMode.IDENTIFIED
        )
    except (ValueError, Appraisal.DoesNotExist) as exc:
        raise Http404 from exc
    if not services.may_vote_identified(request.user, appraisal):
        raise Http404
    answers = errors = None
    if request.method == "POST":
        answers = answers_from_post(request.POST)
        try:
            services.cast_identified(user=request.user, appraisal=appraisal, answers=answers)
        except services.AnswerError as exc:
            errors = exc.errors
        except services.BallotError as exc:
            messages.error(request, exc.message)
            return redirect("ballots:my_appraisals")
        else:
            messages.success(request, f"“{appraisal.name}”的选票已提交，感谢参与。")
            return redirect("ballots:my_appraisals")
    else:
        state = services.window_state(appraisal) or (
            "voted" if services.has_voted(request.user, appraisal) else None
        )
        if state:
            messages.info(request, services.MESSAGES[state])
            return redirect("ballots:my_appraisals")
    context = ballot_context(appraisal, answers, errors)
    context["store_key"] = f"kp-vote-id-{appraisal.pk}-{request.user.pk}"
    return render(request, "ballots/vote_identified.html", context, status=400 if errors else 200)
