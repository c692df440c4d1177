"""Self-assessment pages (thin views over self_services / self_selectors).

Every page fetches the campaign and the target through ``policy`` (404 outside the user's
scope); the unit's own submitter edits, the campaign's organizers return or accept, assigned
reviewers and leaders read.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from kaoping import policy
from kaoping.indicators.models import Indicator
from kaoping.policy import Perm

from . import evidence as evidence_store
from . import self_selectors as sel
from . import self_services as svc
from .daily_selectors import daily_records_for
from .models import AssessmentStatus, Evidence, SelfAssessment

STATUS_STYLES = {
    AssessmentStatus.DRAFT: "secondary",
    AssessmentStatus.SUBMITTED: "primary",
    AssessmentStatus.RETURNED: "warning",
    AssessmentStatus.ACCEPTED: "success",
}


def _message(exc: ValidationError) -> str:
    return "；".join(exc.messages)


# ---- context -------------------------------------------------------------------------------


class Access:
    """What the user may do with one target's self-assessment."""

    def __init__(self, user: Any, campaign_id: Any, target_id: Any) -> None:
        self.campaign, self.manages = policy.get_campaign_for_user(user, campaign_id)
        self.target = policy.get_target_for_user(user, self.campaign, target_id)
        self.target.campaign = self.campaign
        self.assessment = sel.assessment_for(self.target)
        self.is_unit = policy.can_self_assess(user, self.target)
        self.stage_open = svc.self_assessment_open(self.campaign)
        status = self.assessment.status if self.assessment else AssessmentStatus.DRAFT
        self.status = AssessmentStatus(status)
        self.can_edit = self.is_unit and self.stage_open and self.status in sel.EDITABLE_STATUSES

    def indicator(self, indicator_id: Any) -> Indicator:
        try:
            return self.campaign.scheme_version.indicators.get(pk=indicator_id)
        except (ValueError, TypeError, Indicator.DoesNotExist) as exc:
            raise Http404 from exc

    def evidence(self, evidence_id: Any) -> Evidence:
        try:
            return Evidence.objects.select_related("file").get(
                pk=evidence_id, organization=self.target.unit
            )
        except (ValueError, TypeError, Evidence.DoesNotExist) as exc:
            raise Http404 from exc

    def form_url(self) -> str:
        return reverse("collection:self_form", args=[self.campaign.pk, self.target.pk])


def _row_context(acc: Access, row: sel.Row) -> dict[str, Any]:
    return {"row": row, "acc": acc, "accept": evidence_store.ACCEPT}


def _render_row(request: Any, acc: Access, indicator: Indicator, **extra: Any) -> HttpResponse:
    acc.assessment = sel.assessment_for(acc.target)
    row = sel.build_row(indicator, sel.item_for(acc.assessment, indicator))
    for key, value in extra.items():
        setattr(row, key, value)
    return render(request, "collection/_self_row.html", _row_context(acc, row))


def _done(request: Any, acc: Access, indicator: Indicator, **extra: Any) -> HttpResponse:
    """After a row action: the row (HTMX) or back to the page with a message."""
    if request.htmx:
        return _render_row(request, acc, indicator, **extra)
    if extra.get("error"):
        messages.error(request, extra["error"])
    elif extra.get("notice"):
        messages.success(request, extra["notice"])
    return redirect(f"{acc.form_url()}#row-{indicator.pk}")


# ---- pages ---------------------------------------------------------------------------------


@login_required
@require_GET
def self_list(request):  # type: ignore[no-untyped-def]
    """The user's self-assessments (units) and the campaigns whose self-assessments they run."""
    if not policy.has_perm(request.user, Perm.CAMPAIGN_VIEW):
        raise PermissionDenied
    own, managed = [], []
    for campaign in policy.visible_campaigns(request.user).select_related("owner"):
        if policy.can_manage_campaign(request.user, campaign):
            managed.append(campaign)
        for target in policy.visible_targets(request.user, campaign).select_related(
            "organization", "person__organization", "self_assessment"
        ):
            if policy.can_self_assess(request.user, target):
                status = getattr(getattr(target, "self_assessment", None), "status", "draft")
                own.append(
                    {
                        "campaign": campaign,
                        "target": target,
                        "status": AssessmentStatus(status),
                        "style": STATUS_STYLES[AssessmentStatus(status)],
                        "open": svc.self_assessment_open(campaign),
                    }
                )
    return render(request, "collection/self_list.html", {"own": own, "managed": managed})


@login_required
@require_GET
def self_overview(request, campaign_id):  # type: ignore[no-untyped-def]
    """Every visible target's self-assessment status in one campaign."""
    campaign, manages = policy.get_campaign_for_user(request.user, campaign_id)
    targets = policy.visible_targets(request.user, campaign).select_related(
        "organization", "person"
    )
    by_target = {
        a.target_id: a
        for a in SelfAssessment.objects.filter(target__in=targets).select_related("submitted_by")
    }
    rows = []
    for t in targets:
        a = by_target.get(t.pk)
        status = AssessmentStatus(a.status if a else AssessmentStatus.DRAFT)
        rows.append({"target": t, "a": a, "status": status, "style": STATUS_STYLES[status]})
    return render(
        request,
        "collection/self_overview.html",
        {"campaign": campaign, "manages": manages, "rows": rows},
    )


def _page(request: Any, acc: Access, **extra: Any) -> HttpResponse:
    rows = sel.form_rows(acc.target, acc.assessment)
    records = list(daily_records_for(acc.campaign, acc.target))
    context = {
        "acc": acc,
        "campaign": acc.campaign,
        "target": acc.target,
        "assessment": acc.assessment,
        "status_style": STATUS_STYLES[acc.status],
        "rows": rows,
        "held": sel.held_rows(acc.target),
        "records": records,
        "filled": sum(1 for r in rows if r.filled),
        "accept": evidence_store.ACCEPT,
        "max_size": evidence_store.human_size(evidence_store.max_bytes()),
        **extra,
    }
    return render(request, "collection/self_form.html", context)


@login_required
@require_GET
def self_for_target(request, target_id):  # type: ignore[no-untyped-def]
    """A target's self-assessment by the target alone (links from the to-do list)."""
    from kaoping.campaigns.models import Target

    campaign_id = (
        Target.objects.filter(pk=target_id, campaign__in=policy.visible_campaigns(request.user))
        .values_list("campaign_id", flat=True)
        .first()
    )
    if campaign_id is None:
        raise Http404
    acc = Access(request.user, campaign_id, target_id)
    return redirect(acc.form_url())


@login_required
@require_GET
def self_form(request, campaign_id, target_id):  # type: ignore[no-untyped-def]
    return _page(request, Access(request.user, campaign_id, target_id))


def _editing(request: Any, campaign_id: Any, target_id: Any) -> Access:
    acc = Access(request.user, campaign_id, target_id)
    if not acc.is_unit:
        raise PermissionDenied
    return acc


@login_required
@require_POST
def save_row(request, campaign_id, target_id, indicator_id):  # type: ignore[no-untyped-def]
    acc = _editing(request, campaign_id, target_id)
    indicator = acc.indicator(indicator_id)
    post = request.POST
    occurrences = {
        key.removeprefix("occ_"): value for key, value in post.items() if key.startswith("occ_")
    }
    try:
        svc.save_item(
            actor=request.user,
            target=acc.target,
            indicator=indicator,
            score=post.get("score"),
            grade=post.get("grade"),
            occurrences=occurrences or None,
            narrative=post.get("narrative", ""),
        )
    except ValidationError as exc:
        posted = {
            "posted": {
                "score": post.get("score", ""),
                "grade": post.get("grade", ""),
                "narrative": post.get("narrative", ""),
                "occurrences": occurrences,
            }
        }
        return _done(request, acc, indicator, error=_message(exc), **posted)
    return _done(request, acc, indicator, notice="已保存")


@login_required
@require_POST
def upload(request, campaign_id, target_id, indicator_id):  # type: ignore[no-untyped-def]
    acc = _editing(request, campaign_id, target_id)
    indicator = acc.indicator(indicator_id)
    uploaded = request.FILES.get("file")
    if uploaded is None:
        return _done(request, acc, indicator, error="请选择要上传的文件")
    try:
        _, evidence = svc.upload_and_attach(
            actor=request.user, target=acc.target, indicator=indicator, uploaded_file=uploaded
        )
    except ValidationError as exc:
        return _done(request, acc, indicator, error=f"“{uploaded.name}”未能上传：{_message(exc)}")
    if getattr(evidence, "reused", False):
        notice = f"本单位已上传过相同的文件（{evidence.name}），已直接选用，未重复保存"
    else:
        notice = f"已上传：{evidence.name}"
    return _done(request, acc, indicator, notice=notice)


@login_required
@require_GET
def library(request, campaign_id, target_id, indicator_id):  # type: ignore[no-untyped-def]
    """The reuse picker: the unit's evidence from this and earlier campaigns, searchable."""
    acc = _editing(request, campaign_id, target_id)
    indicator = acc.indicator(indicator_id)
    q = request.GET.get("q", "").strip()
    items = list(sel.unit_evidence(acc.target.unit, q=q)[:50])
    used_in = sel.evidence_campaigns([e.pk for e in items])
    item = sel.item_for(acc.assessment, indicator)
    attached = set(item.evidence.values_list("pk", flat=True)) if item else set()
    return render(
        request,
        "collection/_self_library.html",
        {
            "acc": acc,
            "indicator": indicator,
            "items": [
                {"e": e, "used_in": used_in.get(e.pk, []), "attached": e.pk in attached}
                for e in items
            ],
            "q": q,
        },
    )


@login_required
@require_POST
def attach(request, campaign_id, target_id, indicator_id):  # type: ignore[no-untyped-def]
    acc = _editing(request, campaign_id, target_id)
    indicator = acc.indicator(indicator_id)
    evidence = acc.evidence(request.POST.get("evidence"))
    try:
        svc.attach_evidence(
            actor=request.user, target=acc.target, indicator=indicator, evidence=evidence
        )
    except ValidationError as exc:
        return _done(request, acc, indicator, error=_message(exc))
    return _done(request, acc, indicator, notice=f"已选用：{evidence.name}（未重复上传）")


@login_required
@require_POST
def detach(request, campaign_id, target_id, indicator_id, evidence_id):  # type: ignore[no-untyped-def]
    acc = _editing(request, campaign_id, target_id)
    indicator = acc.indicator(indicator_id)
    evidence = acc.evidence(evidence_id)
    try:
        svc.detach_evidence(
            actor=request.user, target=acc.target, indicator=indicator, evidence=evidence
        )
    except ValidationError as exc:
        return _done(request, acc, indicator, error=_message(exc))
    return _done(
        request, acc, indicator, notice=f"已移除：{evidence.name}（仍保留在本单位材料库中）"
    )


@login_required
@require_POST
def submit(request, campaign_id, target_id):  # type: ignore[no-untyped-def]
    acc = _editing(request, campaign_id, target_id)
    try:
        svc.submit(actor=request.user, target=acc.target)
    except ValidationError as exc:
        return _page(request, acc, submit_errors=exc.messages)
    messages.success(request, "自评已提交")
    return redirect(acc.form_url())


@login_required
@require_POST
def return_assessment(request, campaign_id, target_id):  # type: ignore[no-untyped-def]
    acc = Access(request.user, campaign_id, target_id)
    if not acc.manages:
        raise PermissionDenied
    try:
        svc.return_assessment(
            actor=request.user, target=acc.target, comment=request.POST.get("comment", "")
        )
    except ValidationError as exc:
        return _page(request, acc, review_error=_message(exc))
    messages.success(request, f"已退回{acc.target.name}的自评")
    return redirect(acc.form_url())


@login_required
@require_POST
def accept(request, campaign_id, target_id):  # type: ignore[no-untyped-def]
    acc = Access(request.user, campaign_id, target_id)
    if not acc.manages:
        raise PermissionDenied
    try:
        svc.accept(actor=request.user, target=acc.target)
    except ValidationError as exc:
        return _page(request, acc, review_error=_message(exc))
    messages.success(request, f"已确认{acc.target.name}的自评")
    return redirect(acc.form_url())


# ---- evidence ------------------------------------------------------------------------------


@login_required
@require_GET
def evidence_preview(request, evidence_id):  # type: ignore[no-untyped-def]
    """The file itself: PDF and images inline, Word/Excel as a download; 404 to anyone who may
    not see the evidence's organization or an assessment using it."""
    evidence = sel.get_evidence_for_user(request.user, evidence_id)
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
