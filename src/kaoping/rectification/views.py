"""Rectification pages (整改): the campaign's task list (review of proposals, filters, export),
the tasks a later campaign inherits (上期整改), 我的整改任务, a task's page with its forms.
Thin: ``services`` checks and writes, ``selectors`` reads, ``policy`` scopes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kaoping import policy
from kaoping.core.web import apply_errors, flash_errors, paginate
from kaoping.policy import Perm

from . import exports, selectors, services
from .forms import ManualTaskForm, TaskForm
from .models import SourceKind, TaskStatus, UpdateKind


def _campaign(request: HttpRequest, pk: int) -> tuple[Any, bool]:
    return policy.get_campaign_for_user(request.user, pk)


def _filters(request: HttpRequest, campaign: Any) -> selectors.Filters:
    get = request.GET
    f = selectors.Filters(
        status=get.get("status", ""),
        overdue=get.get("overdue") == "1",
        source_kind=get.get("source", ""),
        q=get.get("q", "").strip()[:50],
    )
    org = get.get("org", "")
    if org.isdigit():
        f.organization = (
            policy.visible_organizations(request.user, Perm.CAMPAIGN_VIEW).filter(pk=org).first()
        )
    return f


def _next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


@login_required
@require_GET
def campaign_tasks(request: HttpRequest, pk: int) -> HttpResponse:
    campaign, can_manage = _campaign(request, pk)
    services.sync_daily_records(campaign)
    base = selectors.campaign_tasks(request.user, campaign)
    f = _filters(request, campaign)
    tasks = selectors.filter_tasks(base, f)
    page_obj, query_string = paginate(request, tasks)
    from kaoping.results.services import current_set

    result_set = current_set(campaign)
    units = (
        policy.visible_organizations(request.user, Perm.CAMPAIGN_VIEW)
        .filter(pk__in=base.values("organization_id"))
        .order_by("path")
    )
    return render(
        request,
        "rectification/campaign.html",
        {
            "campaign": campaign,
            "can_manage": can_manage,
            "tab": "rectification",
            "page_obj": page_obj,
            "query_string": query_string,
            "filters": f,
            "counts": selectors.counts(base),
            "statuses": TaskStatus.choices,
            "sources": SourceKind.choices,
            "units": units,
            "result_set": result_set,
            "can_propose": can_manage
            and result_set is not None
            and result_set.status in services.PROPOSE_RESULT_STATUSES,
            "previous_count": selectors.previous_tasks(request.user, campaign).count(),
            "rules": services.result_rule_targets(campaign),
            "weak_percent": round(100 * services.weak_ratio()),
        },
    )


@login_required
@require_POST
def propose(request: HttpRequest, pk: int) -> HttpResponse:
    campaign, can_manage = _campaign(request, pk)
    if not can_manage:
        raise PermissionDenied
    from kaoping.results.services import current_set

    result_set = current_set(campaign)
    if result_set is None:
        messages.error(request, "尚未计算考核结果，不能生成整改建议")
    else:
        try:
            done = services.propose_from_results(actor=request.user, result_set=result_set)
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, done.message)
    return redirect(reverse("rectification:campaign", args=[campaign.pk]) + "?status=proposed")


@login_required
@require_POST
def bulk(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm (下达) or drop (撤销) the selected proposals."""
    campaign, can_manage = _campaign(request, pk)
    if not can_manage:
        raise PermissionDenied
    ids = [int(x) for x in request.POST.getlist("task") if x.isdigit()]
    tasks = list(selectors.campaign_tasks(request.user, campaign).filter(pk__in=ids))
    action = request.POST.get("action")
    try:
        if action == "confirm":
            done = services.confirm(actor=request.user, tasks=tasks)
            messages.success(request, f"已确认下达 {len(done)} 项整改任务")
        elif action == "drop":
            n = services.drop(
                actor=request.user, tasks=tasks, reason=request.POST.get("reason", "")
            )
            messages.success(request, f"已撤销 {n} 项整改建议")
        else:
            messages.error(request, "请选择操作")
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect(_next(request, reverse("rectification:campaign", args=[campaign.pk])))


@login_required
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest, pk: int) -> HttpResponse:
    campaign, can_manage = _campaign(request, pk)
    if not can_manage:
        raise PermissionDenied
    form = ManualTaskForm(
        request.POST or None,
        campaign=campaign,
        initial={"deadline": services.default_deadline()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            task = services.create_task(
                actor=request.user,
                target=data["target"],
                problem=data["problem"],
                deadline=data["deadline"],
                indicator_code=data["indicator_code"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "已添加整改任务")
            return redirect("rectification:detail", task.pk)
    return render(
        request,
        "rectification/create.html",
        {"campaign": campaign, "can_manage": can_manage, "tab": "rectification", "form": form},
    )


@login_required
@require_GET
def export(request: HttpRequest, pk: int) -> HttpResponse:
    campaign, _ = _campaign(request, pk)
    f = _filters(request, campaign)
    tasks = selectors.filter_tasks(selectors.campaign_tasks(request.user, campaign), f)
    return exports.task_workbook_response(request.user, campaign, tasks)


@login_required
@require_GET
def previous(request: HttpRequest, pk: int) -> HttpResponse:
    """上期整改: earlier campaigns' tasks of the units assessed in this one."""
    campaign, can_manage = _campaign(request, pk)
    services.sync_daily_records(campaign)
    tasks = selectors.previous_tasks(request.user, campaign)
    if request.GET.get("open") == "1":
        tasks = tasks.exclude(status=TaskStatus.VERIFIED)
    page_obj, query_string = paginate(request, tasks)
    from kaoping.collection.models import DailyRecord

    records = {
        r.source: r
        for r in DailyRecord.objects.filter(
            source__in=[services.RECORD_SOURCE.format(t.pk) for t in page_obj]
        )
    }
    for t in page_obj:
        t.daily_record = records.get(services.RECORD_SOURCE.format(t.pk))
    return render(
        request,
        "rectification/previous.html",
        {
            "campaign": campaign,
            "can_manage": can_manage,
            "tab": "rectification",
            "page_obj": page_obj,
            "query_string": query_string,
            "counts": selectors.counts(selectors.previous_tasks(request.user, campaign)),
            "record_item": services.record_item(campaign.scheme_version),
            "only_open": request.GET.get("open") == "1",
        },
    )


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (getattr(user, "person_id", None) or policy.has_perm(user, Perm.SELF_ASSESS)):
        raise PermissionDenied
    tasks = selectors.my_tasks(user)
    page_obj, query_string = paginate(request, tasks)
    return render(
        request,
        "rectification/mine.html",
        {"page_obj": page_obj, "query_string": query_string, "counts": selectors.counts(tasks)},
    )


def _detail_context(request: HttpRequest, task: Any, manage: bool, work: bool) -> dict[str, Any]:
    updates = task.updates.select_related("author").prefetch_related("evidence")
    return {
        "task": task,
        "campaign": task.campaign,
        "can_manage": manage,
        "can_work": work and task.status in services.TRANSITIONS["progress"]["from"],
        "can_edit": manage and task.status in services.TRANSITIONS["edit"]["from"],
        "can_verify": manage and task.status == TaskStatus.SUBMITTED,
        "can_review": manage and task.status == TaskStatus.PROPOSED,
        "updates": updates,
        "evidence": task.evidence.select_related("file"),
        "today": timezone.localdate(),
        "progress_kind": UpdateKind.PROGRESS,
        "accept": _accept(),
        "can_view_campaign": policy.visible_campaigns(request.user)
        .filter(pk=task.campaign_id)
        .exists(),
    }


def _accept() -> str:
    from kaoping.collection.evidence import ACCEPT

    return ACCEPT


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    task, manage, work = policy.get_rect_task_for_user(request.user, pk)
    return render(
        request, "rectification/detail.html", _detail_context(request, task, manage, work)
    )


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    task, manage, _ = policy.get_rect_task_for_user(request.user, pk)
    if not manage:
        raise PermissionDenied
    form = TaskForm(
        request.POST or None,
        unit=task.organization,
        current=task.responsible,
        initial={
            "problem": task.problem,
            "responsible": task.responsible,
            "deadline": task.deadline,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_task(
                actor=request.user,
                task=task,
                problem=data["problem"],
                deadline=data["deadline"],
                responsible=data["responsible"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "已保存")
            return redirect("rectification:detail", task.pk)
    return render(request, "rectification/edit.html", {"task": task, "form": form})


def _post_action(request: HttpRequest, pk: int, need: str, call: Any, ok: str) -> HttpResponse:
    task, manage, work = policy.get_rect_task_for_user(request.user, pk)
    if (need == "manage" and not manage) or (need == "work" and not work):
        raise PermissionDenied
    try:
        call(task)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, ok)
    return redirect("rectification:detail", task.pk)


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip()) if value and value.strip() else None
    except ValueError as exc:
        raise ValidationError({"date": "进展日期格式应为 YYYY-MM-DD"}) from exc


@login_required
@require_POST
def plan(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(
        request, pk, "work",
        lambda t: services.save_plan(actor=request.user, task=t, plan=request.POST.get("plan", "")),
        "已保存整改措施",
    )  # fmt: skip


@login_required
@require_POST
def progress(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(
        request, pk, "work",
        lambda t: services.report_progress(
            actor=request.user, task=t, text=request.POST.get("text", ""),
            date=_date(request.POST.get("date", "")), files=request.FILES.getlist("files"),
        ),
        "已记录整改进展",
    )  # fmt: skip


@login_required
@require_POST
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(
        request, pk, "work",
        lambda t: services.submit_completion(
            actor=request.user, task=t, completion=request.POST.get("completion", ""),
            files=request.FILES.getlist("files"),
        ),
        "已提交整改完成情况，等待验收",
    )  # fmt: skip


@login_required
@require_POST
def verify(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(
        request, pk, "manage",
        lambda t: services.verify(actor=request.user, task=t, comment=request.POST.get("comment", "")),
        "已销号",
    )  # fmt: skip


@login_required
@require_POST
def return_task(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(
        request, pk, "manage",
        lambda t: services.return_task(actor=request.user, task=t, reason=request.POST.get("reason", "")),
        "已退回整改",
    )  # fmt: skip


@login_required
@require_GET
def evidence(request: HttpRequest, pk: int, evidence_id: int) -> HttpResponse:
    """A file attached to the task (completion or a progress report), to those who see the
    task."""
    from django.db.models import Q

    from kaoping.collection import evidence as evidence_store
    from kaoping.collection.models import Evidence

    task, _, _ = policy.get_rect_task_for_user(request.user, pk)
    ev = (
        Evidence.objects.filter(Q(rectification_tasks=task) | Q(rectification_updates__task=task))
        .select_related("file")
        .filter(pk=evidence_id)
        .first()
    )
    if ev is None:
        raise Http404
    kind = evidence_store.kind_of(ev.file)
    if kind is None:
        raise Http404
    try:
        fh = ev.file.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    response = FileResponse(
        fh, as_attachment=not kind.inline, filename=ev.name, content_type=kind.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    if kind.content_type.startswith("image/"):
        response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'"
    return response
