"""Appeal pages (申诉) and the organizer's input corrections (thin views over appeal_services and
appeal_selectors). Every page first locks results whose publication period has ended, and
fetches its objects through ``policy`` (404 outside the user's scope)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kaoping import policy
from kaoping.collection import evidence as evidence_store
from kaoping.collection.models import Evidence
from kaoping.core.web import apply_errors
from kaoping.policy import Perm

from . import appeal_selectors as sel
from . import appeal_services as svc
from .appeal_forms import AppealForm, RejectForm
from .models import AppealStatus
from .services import current_set, publication_open


def _entries(request: Any) -> list[tuple[str, dict[str, Any]]]:
    """The correction rows of a posted form, plus an added row (``add_indicator``), minus a
    removed one (``remove``)."""
    entries = [
        (
            c.indicator_code,
            {
                "score": c.score,
                "grade": c.grade,
                "occurrences": c.occurrences or {},
                "value": c.value,
                "veto": c.veto,
                "reason": c.reason,
            },
        )  # fmt: skip
        for c in svc.parse_rows(request.POST)
    ]
    remove = request.POST.get("remove")
    if remove is not None and remove.isdigit() and int(remove) < len(entries):
        del entries[int(remove)]
    add = (request.POST.get("add_indicator") or "").strip()
    if request.POST.get("action") == "add" and add:
        entries.append((add, {}))
    return entries


# ---- lists ---------------------------------------------------------------------------------


@login_required
@require_GET
def appeal_list(request, campaign_id):  # type: ignore[no-untyped-def]
    """Organizers: the campaign's appeals (filter by status). A target's side: its own."""
    svc.lock_expired()
    campaign, manages = policy.get_campaign_for_user(request.user, campaign_id)
    rs = current_set(campaign)
    ctx: dict[str, Any] = {
        "campaign": campaign,
        "can_manage": manages,
        "tab": "appeals",
        "result_set": rs,
        "open": publication_open(rs),
        "refusal": svc.decision_refusal(rs) if rs is not None else "",
    }
    if manages:
        status = request.GET.get("status", "")
        ctx.update(
            appeals=sel.campaign_appeals(campaign, status=status),
            counts=sel.status_counts(campaign),
            statuses=AppealStatus.choices,
            status=status,
            styles=sel.STATUS_STYLES,
            correction_refusal=svc.correction_refusal(campaign),
        )
    else:
        ctx["rows"] = sel.own_rows(request.user, campaign=campaign)
    return render(request, "results/appeals/list.html", ctx)


@login_required
@require_GET
def my_appeals(request):  # type: ignore[no-untyped-def]
    """我的申诉: the targets the user answers for (its unit's, or the person's own), their
    published results and their appeals across campaigns."""
    if not (policy.has_perm(request.user, Perm.SELF_ASSESS) or request.user.person_id):
        raise PermissionDenied
    svc.lock_expired()
    return render(
        request,
        "results/appeals/mine.html",
        {"rows": sel.own_rows(request.user), "styles": sel.STATUS_STYLES},
    )


# ---- filing --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def appeal_file(request, target_id):  # type: ignore[no-untyped-def]
    svc.lock_expired()
    target = policy.get_own_target_for_user(request.user, target_id)
    campaign = target.campaign
    rs = current_set(campaign)
    refusal = svc.filing_refusal(rs)
    result = sel.current_result(campaign, target) if rs is not None else None
    library = (
        list(Evidence.objects.filter(organization=target.unit).select_related("file")[:200])
        if policy.can_self_assess(request.user, target)
        else []
    )
    leaves = sel.appeal_leaves(campaign)
    form = AppealForm(
        request.POST or None,
        leaves=leaves,
        library=library,
        initial={"indicator": request.GET.get("indicator", "")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            appeal = svc.file_appeal(
                actor=request.user,
                target=target,
                reason=form.cleaned_data["reason"],
                indicator_code=form.cleaned_data["indicator"],
                uploads=request.FILES.getlist("files"),
                evidence_ids=[int(x) for x in form.cleaned_data.get("evidence") or []],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "申诉已提交，请等待考核组织者处理")
            return redirect("results:appeal_detail", appeal.pk)
    leaf_rows = [sel.leaf_view(result, i) for i in leaves] if result else []
    return render(
        request,
        "results/appeals/file.html",
        {
            "campaign": campaign,
            "target": target,
            "form": form,
            "result_set": rs,
            "result": result,
            "refusal": refusal,
            "open": not refusal,
            "leaf_rows": leaf_rows,
            "accept": evidence_store.ACCEPT,
            "allowed": evidence_store.ALLOWED_TEXT,
            "max_files": svc.MAX_FILES,
        },
        status=400 if request.method == "POST" else 200,
    )


# ---- the appeal and its decision -----------------------------------------------------------


def _detail(
    request: Any,
    appeal: Any,
    can_decide: bool,
    *,
    entries: list[tuple[str, dict[str, Any]]] | None = None,
    reject_form: RejectForm | None = None,
    uphold_errors: list[str] | None = None,
    decision: str = "",
    status: int = 200,
) -> HttpResponse:
    campaign, target = appeal.campaign, appeal.target
    rs = current_set(campaign)
    indicator = sel.leaf_by_code(campaign, appeal.indicator_code)
    current = sel.current_result(campaign, target)
    ctx: dict[str, Any] = {
        "appeal": appeal,
        "campaign": campaign,
        "target": target,
        "can_decide": can_decide,
        "can_manage": can_decide,
        "tab": "appeals",
        "styles": sel.STATUS_STYLES,
        "indicator": indicator,
        "filed_leaf": sel.leaf_view(appeal.result, indicator) if indicator else None,
        "current": current,
        "current_leaf": sel.leaf_view(current, indicator) if indicator and current else None,
        "evidence": list(appeal.evidence.select_related("file")),
        "corrections": [
            (c, sel.correction_text(sel.leaf_by_code(campaign, c.indicator_code), c))
            for c in appeal.corrections.select_related("created_by").order_by("id")
        ],
        "refusal": svc.decision_refusal(rs),
    }
    if appeal.recomputed_id:
        changes = appeal.recomputed.changes or {}
        ctx["changes"] = changes
        ctx["own_change"] = sel.target_change(changes, target.code)
    if can_decide and appeal.status == AppealStatus.FILED and not ctx["refusal"]:
        if entries is None:
            entries = [(appeal.indicator_code, {})] if appeal.indicator_code else []
        ctx.update(
            rows=sel.correction_rows(campaign, target, entries, current),
            leaves=sel.correctable_leaves(campaign),
            reject_form=reject_form or RejectForm(),
            uphold_errors=uphold_errors or [],
            decision=decision,
        )
    return render(request, "results/appeals/detail.html", ctx, status=status)


@login_required
@require_GET
def appeal_detail(request, appeal_id):  # type: ignore[no-untyped-def]
    svc.lock_expired()
    appeal, can_decide = policy.get_appeal_for_user(request.user, appeal_id)
    return _detail(request, appeal, can_decide)


def _decider(request: Any, appeal_id: Any) -> Any:
    svc.lock_expired()
    appeal, can_decide = policy.get_appeal_for_user(request.user, appeal_id)
    if not can_decide:
        raise PermissionDenied
    return appeal


@login_required
@require_POST
def appeal_reject(request, appeal_id):  # type: ignore[no-untyped-def]
    appeal = _decider(request, appeal_id)
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            svc.reject(actor=request.user, appeal=appeal, decision=form.cleaned_data["decision"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "已驳回申诉")
            return redirect("results:appeal_detail", appeal.pk)
    return _detail(request, appeal, True, reject_form=form, status=400)


@login_required
@require_POST
def appeal_uphold(request, appeal_id):  # type: ignore[no-untyped-def]
    """The uphold form: ``action=add`` adds a row, ``remove=<n>`` removes one (the page is shown
    again with what was entered); ``action=uphold`` corrects, recomputes and decides."""
    appeal = _decider(request, appeal_id)
    entries = _entries(request)
    decision = request.POST.get("decision", "")
    if request.POST.get("action") != "uphold":
        return _detail(request, appeal, True, entries=entries, decision=decision)
    try:
        svc.uphold(
            actor=request.user,
            appeal=appeal,
            corrections=svc.parse_rows(request.POST),
            decision=decision,
        )
    except ValidationError as exc:
        return _detail(
            request, appeal, True, entries=entries, decision=decision,
            uphold_errors=exc.messages, status=400,
        )  # fmt: skip
    messages.success(request, "申诉成立：数据已更正，考核结果已重新计算")
    return redirect("results:appeal_detail", appeal.pk)


@login_required
@require_GET
def appeal_evidence(request, appeal_id, evidence_id):  # type: ignore[no-untyped-def]
    """A file attached to the appeal, for whoever may see the appeal (PDF and images inline,
    Word/Excel as a download)."""
    appeal, _ = policy.get_appeal_for_user(request.user, appeal_id)
    try:
        evidence = appeal.evidence.select_related("file").get(pk=evidence_id)
    except (ValueError, TypeError, Evidence.DoesNotExist) as exc:
        raise Http404 from exc
    stored = evidence.file
    kind = evidence_store.kind_of(stored)
    if kind is None:
        raise Http404
    try:
        fh = stored.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    name = evidence.name
    if not name.lower().endswith(
        tuple(e for e, k in evidence_store.EXTENSIONS.items() if k == kind.ext)
    ):
        name = f"{name}.{kind.ext}"
    response = FileResponse(
        fh, as_attachment=not kind.inline, filename=name, content_type=kind.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    if kind.content_type.startswith("image/"):
        response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'"
    return response


# ---- corrections outside appeals -----------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def corrections(request, campaign_id):  # type: ignore[no-untyped-def]
    """更正数据: during 汇总 the organizer corrects a target's inputs (a reason each) and the
    results are recomputed; the list of every correction made in the campaign."""
    svc.lock_expired()
    campaign, manages = policy.get_campaign_for_user(request.user, campaign_id)
    if not manages:
        raise PermissionDenied
    targets = list(campaign.targets.order_by("code"))
    by_pk = {str(t.pk): t for t in targets}
    source = request.POST if request.method == "POST" else request.GET
    target = by_pk.get(str(source.get("target") or ""))
    errors: list[str] = []
    status = 200
    entries: list[tuple[str, dict[str, Any]]] = []
    if request.method == "POST":
        entries = _entries(request)
        if request.POST.get("action") == "correct":
            if target is None:
                errors = ["请选择考核对象"]
            else:
                try:
                    rs = svc.correct_inputs(
                        actor=request.user,
                        campaign=campaign,
                        target=target,
                        corrections=svc.parse_rows(request.POST),
                    )
                except ValidationError as exc:
                    errors = exc.messages
                else:
                    messages.success(
                        request,
                        f"数据已更正，考核结果已重新计算（第 {rs.number} 次计算，"
                        f"{rs.changes.get('changed', 0)} 个考核对象结果有变化）",
                    )
                    return redirect(
                        reverse("results:corrections", args=[campaign.pk]) + f"?target={target.pk}"
                    )
            status = 400
    elif request.GET.get("indicator"):
        entries = [(request.GET["indicator"], {})]
    refusal = svc.correction_refusal(campaign)
    rows = sel.correction_rows(campaign, target, entries) if target is not None else []
    return render(
        request,
        "results/appeals/corrections.html",
        {
            "campaign": campaign,
            "can_manage": True,
            "tab": "appeals",
            "targets": targets,
            "target": target,
            "rows": rows,
            "leaves": sel.correctable_leaves(campaign),
            "errors": errors,
            "refusal": refusal,
            "done": [
                (c, sel.correction_text(sel.leaf_by_code(campaign, c.indicator_code), c))
                for c in sel.corrections_of(campaign)[:200]
            ],
            "result_set": (rs := current_set(campaign)),
            "open": publication_open(rs),
        },
        status=status,
    )
