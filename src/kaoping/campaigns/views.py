"""Campaign pages: the list, the set-up form, and the campaign page's tabs (概况, 考核对象,
评价主体权重, 评审分工, 进度); notifications. Thin: every campaign is fetched through
``policy.get_campaign_for_user`` (404 outside scope), management needs
``policy.can_manage_campaign`` (403), every write goes through ``services``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_POST

from kaoping import policy
from kaoping.accounts.models import User
from kaoping.core.web import flash_errors
from kaoping.indicators.models import SchemeVersion, VersionStatus
from kaoping.policy import Perm

from . import rules, selectors, services, workflow
from .forms import AssignForm, CadreTargetsForm, CampaignForm, ReopenForm, SubtreeTargetsForm
from .models import (
    OPTIONAL_STAGES,
    Campaign,
    CampaignStage,
    Notification,
    ReviewerAssignment,
    Stage,
    Target,
    TargetKind,
)


def _require(user: Any, perm: Perm) -> None:
    if not policy.has_perm(user, perm):
        raise PermissionDenied


def _get(request: HttpRequest, pk: int) -> tuple[Campaign, bool]:
    _require(request.user, Perm.CAMPAIGN_VIEW)
    return policy.get_campaign_for_user(request.user, pk)


def _managed(request: HttpRequest, pk: int) -> Campaign:
    campaign, can_manage = _get(request, pk)
    if not can_manage:
        raise PermissionDenied
    return campaign


def _page(request: HttpRequest, campaign: Campaign, can_manage: bool, tab: str,
          template: str, **context: Any) -> HttpResponse:  # fmt: skip
    return render(
        request,
        template,
        {"campaign": campaign, "can_manage": can_manage, "tab": tab, **context},
    )


# ---- list and set-up -----------------------------------------------------------------------


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    _require(request.user, Perm.CAMPAIGN_VIEW)
    campaigns = list(
        policy.visible_campaigns(request.user)
        .select_related("owner", "scheme_version__scheme")
        .order_by("-period_end", "-id")
    )
    rows = [{"campaign": c, "can_manage": policy.can_manage_campaign(request.user, c)}
            for c in campaigns]  # fmt: skip
    return render(
        request,
        "campaigns/list.html",
        {"rows": rows, "can_create": policy.has_perm(request.user, Perm.CAMPAIGN_MANAGE)},
    )


def _form_querysets(user: Any) -> dict[str, Any]:
    versions = (
        SchemeVersion.objects.filter(
            scheme__in=policy.visible_schemes(user), status=VersionStatus.PUBLISHED
        )
        .select_related("scheme")
        .order_by("scheme__name", "-number")
    )
    owners = policy.visible_organizations(user, Perm.CAMPAIGN_MANAGE).order_by("path")
    return {"versions": versions, "owners": owners}


@login_required
def campaign_create(request: HttpRequest) -> HttpResponse:
    _require(request.user, Perm.CAMPAIGN_MANAGE)
    qs = _form_querysets(request.user)
    initial = {
        "campaign_type": "annual",
        "rules": [f"{r['when']}:{r.get('value', '')}:{r['then']}" for r in rules.DEFAULT_RULES],
        "owner": qs["owners"].first(),
    }
    form = CampaignForm(request.POST or None, initial=initial, **qs)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.create_campaign(actor=request.user, **form.service_kwargs())
        except ValidationError as exc:
            _apply(form, exc)
        else:
            messages.success(
                request, f"已新建考核活动“{campaign.name}”（草稿）。下一步：添加考核对象。"
            )
            return redirect("campaigns:targets", campaign.pk)
    return render(request, "campaigns/form.html", {"form": form, "creating": True})


def _apply(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errs in exc.message_dict.items():
            name = "rules" if field == "result_rules" else field
            form.add_error(name if name in form.fields else None, errs)
    else:
        form.add_error(None, exc.messages)


@login_required
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _managed(request, pk)
    if campaign.status != Stage.DRAFT:
        messages.error(request, "活动已发布，基本信息不能再修改。")
        return redirect("campaigns:detail", campaign.pk)
    initial = {
        "name": campaign.name,
        "campaign_type": campaign.campaign_type,
        "period_start": campaign.period_start,
        "period_end": campaign.period_end,
        "purpose": campaign.purpose,
        "scheme_version": campaign.scheme_version,
        "target_kind": campaign.target_kind,
        "rules": [f"{r['when']}:{r.get('value', '')}:{r['then']}" for r in campaign.result_rules],
    }
    form = CampaignForm(request.POST or None, initial=initial, editing=True,
                        **_form_querysets(request.user))  # fmt: skip
    if request.method == "POST" and form.is_valid():
        try:
            services.update_campaign(actor=request.user, campaign=campaign,
                                     **form.service_kwargs())  # fmt: skip
        except ValidationError as exc:
            _apply(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("campaigns:detail", campaign.pk)
    return render(request, "campaigns/form.html", {"form": form, "campaign": campaign})


# ---- 概况: status, timeline, transitions, history ------------------------------------------


def _overview_context(request: HttpRequest, campaign: Campaign, can_manage: bool) -> dict:
    move = workflow.next_move(campaign)
    reopen_stages = workflow.reopen_targets(campaign) if can_manage else []
    return {
        "timeline": selectors.timeline(campaign),
        "move": move,
        "rules_text": [rules.describe(r) for r in campaign.result_rules],
        "events": campaign.events.select_related("actor"),
        "reopen_form": ReopenForm(stages=reopen_stages) if reopen_stages else None,
        "overlaps": services.annual_overlaps(campaign) if can_manage else [],
        "optional_stages": [s.value for s in OPTIONAL_STAGES],
        "n_targets": policy.visible_targets(request.user, campaign).count(),
    }


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign, can_manage = _get(request, pk)
    return _page(request, campaign, can_manage, "overview", "campaigns/detail.html",
                 **_overview_context(request, campaign, can_manage))  # fmt: skip


@login_required
@require_POST
def transition(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _managed(request, pk)
    to_stage = request.POST.get("to_stage", "")
    try:
        services.transition(
            actor=request.user,
            campaign=campaign,
            to_stage=to_stage,
            confirm=request.POST.get("confirm") == "1",
            reason=request.POST.get("reason", ""),
        )
    except services.GuardError as exc:
        context = _overview_context(request, campaign, True)
        context["guard"] = exc
        context["guard_stage"] = to_stage
        return _page(request, campaign, True, "overview", "campaigns/detail.html", **context)
    except services.WorkflowError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"活动已进入“{campaign.get_status_display()}”阶段。")
    return redirect("campaigns:detail", campaign.pk)


@login_required
@require_POST
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _managed(request, pk)
    form = ReopenForm(request.POST, stages=workflow.reopen_targets(campaign))
    if not form.is_valid():
        messages.error(request, "请选择要退回的阶段并说明理由。")
        return redirect("campaigns:detail", campaign.pk)
    try:
        services.reopen(actor=request.user, campaign=campaign, **form.cleaned_data)
    except (ValidationError, services.WorkflowError) as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, f"已重新开放“{campaign.get_status_display()}”阶段。")
    return redirect("campaigns:detail", campaign.pk)


@login_required
@require_POST
def stage_plan(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the timeline: for each stage, enabled (optional stages), start and deadline."""
    campaign = _managed(request, pk)
    problems = []
    for row in CampaignStage.objects.filter(campaign=campaign):
        key = row.stage
        enabled = row.enabled
        if row.stage in OPTIONAL_STAGES:
            enabled = request.POST.get(f"enabled-{key}") == "on"
        starts = parse_date(request.POST.get(f"starts-{key}", "") or "") or None
        deadline = parse_date(request.POST.get(f"deadline-{key}", "") or "") or None
        if (enabled, starts, deadline) == (row.enabled, row.starts_on, row.deadline):
            continue
        try:
            services.set_stage_plan(actor=request.user, campaign=campaign, stage=row.stage,
                                    enabled=enabled, starts_on=starts, deadline=deadline)  # fmt: skip
        except ValidationError as exc:
            problems += [f"{Stage(row.stage).label}：{m}" for m in exc.messages]
    for p in problems:
        messages.error(request, p)
    if not problems:
        messages.success(request, "阶段安排已保存。")
    return redirect("campaigns:detail", campaign.pk)


# ---- 考核对象 ------------------------------------------------------------------------------


def _roots(request: HttpRequest, campaign: Campaign) -> Any:
    """Organizations under the campaign's owner that the user manages (target pickers)."""
    return (
        policy.visible_organizations(request.user, Perm.CAMPAIGN_MANAGE)
        .filter(path__startswith=campaign.owner.path, status="active")
        .order_by("path")
    )


@login_required
def targets(request: HttpRequest, pk: int) -> HttpResponse:
    campaign, can_manage = _get(request, pk)
    rows = policy.visible_targets(request.user, campaign).select_related(
        "organization", "person"
    ).order_by("group_code", "code")  # fmt: skip
    context: dict[str, Any] = {"targets": rows,
                               "editable": can_manage and campaign.status in workflow.TARGET_STAGES}  # fmt: skip
    if context["editable"]:
        roots = _roots(request, campaign)
        if campaign.target_kind == TargetKind.ORGANIZATION:
            context["subtree_form"] = SubtreeTargetsForm(
                roots=roots, initial={"root": campaign.owner}
            )
        else:
            context["cadre_form"] = CadreTargetsForm(roots=roots, initial={"root": campaign.owner})
    return _page(request, campaign, can_manage, "targets", "campaigns/targets.html", **context)


@login_required
@require_POST
def targets_add(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _managed(request, pk)
    roots = _roots(request, campaign)
    try:
        if campaign.target_kind == TargetKind.ORGANIZATION:
            form: Any = SubtreeTargetsForm(request.POST, roots=roots)
            if not form.is_valid():
                raise ValidationError("请选择范围和组织类型")
            created = services.add_targets_by_subtree(actor=request.user, campaign=campaign,
                                                      **form.cleaned_data)  # fmt: skip
        else:
            form = CadreTargetsForm(request.POST, roots=roots)
            if not form.is_valid():
                raise ValidationError("请选择范围")
            created = services.add_cadre_targets(actor=request.user, campaign=campaign,
                                                 **form.cleaned_data)  # fmt: skip
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        if created:
            messages.success(request, f"已添加 {len(created)} 个考核对象。")
        else:
            messages.info(request, "没有新的考核对象（符合条件的均已在名单中）。")
    return redirect("campaigns:targets", campaign.pk)


@login_required
@require_POST
def target_remove(request: HttpRequest, pk: int, target_pk: int) -> HttpResponse:
    campaign = _managed(request, pk)
    target = get_object_or_404(Target, campaign=campaign, pk=target_pk)
    try:
        services.remove_target(actor=request.user, campaign=campaign, target=target)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, f"已移除“{target.name}”。")
    return redirect("campaigns:targets", campaign.pk)


# ---- 评价主体权重 --------------------------------------------------------------------------


@login_required
def weights(request: HttpRequest, pk: int) -> HttpResponse:
    campaign, can_manage = _get(request, pk)
    editable = can_manage and campaign.status in workflow.TARGET_STAGES
    matrix = selectors.rater_matrix(campaign)
    errors: list[str] = []
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        submitted = {
            row["code"]: {
                g.value: request.POST.get(f"w-{row['code']}-{g.value}", "").strip()
                for g in matrix["groups"]
            }
            for row in matrix["rows"]
        }
        try:
            services.set_rater_weights(actor=request.user, campaign=campaign, matrix=submitted)
        except ValidationError as exc:
            errors = exc.messages
            for row in matrix["rows"]:
                for cell in row["cells"]:
                    cell["value"] = submitted[row["code"]][cell["group"]]
        else:
            messages.success(request, "评价主体权重已保存。")
            return redirect("campaigns:weights", campaign.pk)
    return _page(request, campaign, can_manage, "weights", "campaigns/weights.html",
                 matrix=matrix, editable=editable, errors=errors)  # fmt: skip


# ---- 评审分工 ------------------------------------------------------------------------------


@login_required
def reviewers(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _managed(request, pk)
    editable = campaign.status in workflow.ASSIGNMENT_STAGES
    form = AssignForm(
        request.POST or None,
        reviewers=User.objects.filter(
            pk__in=[u.pk for u in selectors.reviewer_candidates(campaign)]
        )
        .select_related("person__organization")
        .order_by("username"),
        targets=campaign.targets.order_by("group_code", "code"),
    )
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        if form.is_valid():
            try:
                created = services.assign_reviewer(actor=request.user, campaign=campaign,
                                                   **form.cleaned_data)  # fmt: skip
            except ValidationError as exc:
                flash_errors(request, exc)
            else:
                messages.success(
                    request,
                    f"已为“{form.cleaned_data['reviewer'].display_name}”分配 {len(created)} 个考核对象。",
                )
                return redirect("campaigns:reviewers", campaign.pk)
    return _page(request, campaign, True, "reviewers", "campaigns/reviewers.html", form=form,
                 rows=selectors.assignments_by_target(campaign), editable=editable)  # fmt: skip


@login_required
@require_POST
def unassign(request: HttpRequest, pk: int, assignment_pk: int) -> HttpResponse:
    campaign = _managed(request, pk)
    assignment = get_object_or_404(ReviewerAssignment, campaign=campaign, pk=assignment_pk)
    try:
        services.unassign_reviewer(actor=request.user, campaign=campaign, assignment=assignment)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, "已取消该评审分工。")
    return redirect("campaigns:reviewers", campaign.pk)


# ---- 进度 ----------------------------------------------------------------------------------


@login_required
def progress(request: HttpRequest, pk: int) -> HttpResponse:
    campaign, can_manage = _get(request, pk)
    data = selectors.progress(campaign)
    if not can_manage:  # a unit, a reviewer or a sub-organizer: only the targets they see
        visible = set(policy.visible_targets(request.user, campaign).values_list("pk", flat=True))
        data["targets"] = [r for r in data["targets"] if r["id"] in visible]
        names = {r["name"] for r in data["targets"]}
        data["reviewers"] = []
        data["overdue"] = [o for o in data["overdue"] if o["kind"] == "自评" and o["who"] in names]
    # Percentages: units, reviewers and data cells are counted on different scales.
    shown = [s for s in data["stages"] if s["total"] is not None and s["enabled"]]
    chart = {
        "labels": [s["label"] for s in shown],
        "done": [s["percent"] for s in shown],
        "todo": [100 - s["percent"] for s in shown],
    }
    if can_manage and data["summary"]["quant_total"]:
        chart["labels"].append("量化数据")
        chart["done"].append(data["summary"]["quant_percent"])
        chart["todo"].append(100 - data["summary"]["quant_percent"])
    return _page(request, campaign, can_manage, "progress", "campaigns/progress.html",
                 data=data, chart=chart)  # fmt: skip


@login_required
@require_POST
def remind(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _managed(request, pk)
    url = request.build_absolute_uri(reverse("core:home"))
    n = services.send_reminders(actor=request.user, campaign=campaign, url=url)
    if n:
        messages.success(request, f"已发送 {n} 条提醒。")
    else:
        messages.info(request, "当前阶段没有需要提醒的单位或评审员。")
    return redirect("campaigns:progress", campaign.pk)


# ---- notifications -------------------------------------------------------------------------


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    _require(request.user, Perm.CAMPAIGN_VIEW)
    rows = Notification.objects.filter(user=request.user).select_related("campaign")[:200]
    return render(request, "campaigns/notifications.html", {"notifications": rows})


@login_required
def notifications_menu(request: HttpRequest) -> HttpResponse:
    """The bell's dropdown: the five newest notifications (HTMX partial)."""
    _require(request.user, Perm.CAMPAIGN_VIEW)
    rows = Notification.objects.filter(user=request.user).select_related("campaign")[:5]
    return render(request, "campaigns/_notifications_menu.html", {"notifications": rows})


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, Perm.CAMPAIGN_VIEW)
    note = get_object_or_404(Notification, user=request.user, pk=pk)
    services.mark_read(user=request.user, notifications=[note.pk])
    if note.url and request.POST.get("follow") == "1":
        return redirect(note.url)
    return redirect("campaigns:notifications")


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    _require(request.user, Perm.CAMPAIGN_VIEW)
    n = services.mark_read(user=request.user)
    messages.success(request, f"已将 {n} 条通知标为已读。")
    return redirect("campaigns:notifications")
