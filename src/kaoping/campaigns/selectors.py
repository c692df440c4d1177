"""Reads over campaigns: the progress dashboard (in a constant number of queries, however many
targets), each user's to-do list, the rater-weight matrix, the timeline and the history.
Callers pass campaigns already fetched through ``kaoping.policy``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from kaoping.accounts.models import Role, RoleGrant, User
from kaoping.indicators.constants import DataSource, RaterGroupCode

from . import workflow
from .models import Campaign, CampaignStage, ReviewerAssignment, Stage, Target

DONE_SELF = ("submitted", "accepted")
SELF_LABELS = {"": "未开始", "draft": "填报中", "submitted": "已提交", "returned": "已退回",
               "accepted": "已确认"}  # fmt: skip
SHEET_LABELS = {"": "未开始", "open": "评分中", "submitted": "已提交"}


def _url(name: str, *args: Any, fallback: str = "") -> str:
    """A URL of another app's page when it exists (collection pages are built alongside)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return fallback


def _percent(done: int, total: int) -> int:
    return round(100 * done / total) if total else 0


# ---- indicator columns ---------------------------------------------------------------------


def _leaves(campaign: Campaign) -> list[Any]:
    from kaoping.indicators.selectors import in_tree_order

    inds = in_tree_order(list(campaign.scheme_version.indicators.all()))
    parents = {i.parent_id for i in inds}
    return [i for i in inds if i.pk not in parents]


def review_indicator_ids(campaign: Campaign, leaves: list[Any] | None = None) -> list[int]:
    """The leaves reviewers score (the collection app's rule when present)."""
    try:
        from kaoping.collection.review_rules import is_rated_leaf
    except ImportError:  # pragma: no cover - the collection app decides when it is there

        def is_rated_leaf(ind: Any) -> bool:
            return ind.data_source == DataSource.REVIEWER

    return [i.pk for i in (leaves if leaves is not None else _leaves(campaign)) if is_rated_leaf(i)]


def quant_indicator_ids(campaign: Campaign, leaves: list[Any] | None = None) -> list[int]:
    leaves = leaves if leaves is not None else _leaves(campaign)
    return [i.pk for i in leaves if i.data_source == DataSource.QUANTITATIVE]


# ---- progress ------------------------------------------------------------------------------


def progress(campaign: Campaign, *, today: dt.date | None = None) -> dict[str, Any]:
    """Completion of the campaign: per stage, per target, per reviewer, and what is overdue.

    A constant number of queries: every count is one aggregate query, whatever the number of
    targets and reviewers."""
    from kaoping.collection.models import QuantValue, ReviewScore, ReviewSheet, SelfAssessment

    today = today or timezone.localdate()
    stages = list(CampaignStage.objects.filter(campaign=campaign))
    plan = {s.stage: s for s in stages}
    enabled = [
        s for s in workflow.STAGE_ORDER if s not in workflow.OPTIONAL_STAGES or plan[s].enabled
    ] if plan else list(workflow.STAGE_ORDER)  # fmt: skip
    leaves = _leaves(campaign)
    review_cols = review_indicator_ids(campaign, leaves)
    quant_cols = quant_indicator_ids(campaign, leaves)

    targets = list(
        Target.objects.filter(campaign=campaign)
        .select_related("organization", "person")
        .annotate(n_reviewers=Count("assignments"))
        .order_by("group_code", "code")
    )
    self_status = dict(
        SelfAssessment.objects.filter(target__campaign=campaign).values_list("target_id", "status")
    )
    scores = ReviewScore.objects.filter(sheet__campaign=campaign, indicator_id__in=review_cols)
    scores = scores.filter(
        Exists(
            ReviewerAssignment.objects.filter(
                campaign=campaign, target=OuterRef("target"), reviewer=OuterRef("sheet__reviewer")
            )
        )
    )
    by_target = dict(
        scores.values("target_id").annotate(n=Count("id")).values_list("target_id", "n")
    )
    by_reviewer = dict(
        scores.values("sheet__reviewer_id")
        .annotate(n=Count("id"))
        .values_list("sheet__reviewer_id", "n")
    )
    quant = dict(
        QuantValue.objects.filter(
            batch__campaign=campaign, batch__undone_at__isnull=True, indicator_id__in=quant_cols
        )
        .values("target_id")
        .annotate(n=Count("indicator", distinct=True))
        .values_list("target_id", "n")
    )
    sheets = {
        r["reviewer_id"]: r
        for r in ReviewSheet.objects.filter(campaign=campaign).values(
            "reviewer_id", "status", "submitted_at"
        )
    }
    assigned = list(
        ReviewerAssignment.objects.filter(campaign=campaign)
        .values("reviewer_id", "reviewer__username", "reviewer__full_name")
        .annotate(n=Count("target", distinct=True))
        .order_by("reviewer__username")
    )

    n_review, n_quant = len(review_cols), len(quant_cols)
    target_rows = []
    for t in targets:
        status = self_status.get(t.pk, "")
        r_total = t.n_reviewers * n_review
        r_done = min(by_target.get(t.pk, 0), r_total)
        q_done = quant.get(t.pk, 0)
        target_rows.append(
            {
                "target": t,
                "id": t.pk,
                "code": t.code,
                "name": t.name,
                "group": t.group_name,
                "self_status": status,
                "self_label": SELF_LABELS.get(status, status),
                "self_done": status in DONE_SELF,
                "reviewers": t.n_reviewers,
                "review_filled": r_done,
                "review_total": r_total,
                "review_percent": _percent(r_done, r_total),
                "quant_filled": q_done,
                "quant_total": n_quant,
                "quant_percent": _percent(q_done, n_quant),
            }
        )
    reviewer_rows = []
    for a in assigned:
        sheet = sheets.get(a["reviewer_id"])
        total = a["n"] * n_review
        done = min(by_reviewer.get(a["reviewer_id"], 0), total)
        status = sheet["status"] if sheet else ""
        reviewer_rows.append(
            {
                "id": a["reviewer_id"],
                "username": a["reviewer__username"],
                "name": a["reviewer__full_name"] or a["reviewer__username"],
                "targets": a["n"],
                "filled": done,
                "total": total,
                "percent": _percent(done, total),
                "sheet_status": status,
                "sheet_label": SHEET_LABELS.get(status, status),
                "submitted": status == "submitted",
            }
        )

    n_targets = len(targets)
    self_done = sum(1 for r in target_rows if r["self_done"])
    sheets_done = sum(1 for r in reviewer_rows if r["submitted"])
    figures = {
        Stage.SELF_ASSESSMENT: (self_done, n_targets, "个单位已提交自评"),
        Stage.REVIEW: (sheets_done, len(reviewer_rows), "名评审员已提交评分表"),
    }
    current = workflow.index(campaign.status)
    stage_rows = []
    for stage in workflow.STAGE_ORDER:
        row = plan.get(stage)
        done, total, unit = figures.get(stage, (None, None, ""))
        pos = workflow.index(stage)
        state = "current" if pos == current else ("done" if pos < current else "pending")
        if stage not in enabled:
            state = "skipped"
        deadline = row.deadline if row else None
        stage_rows.append(
            {
                "stage": stage.value,
                "label": stage.label,
                "enabled": stage in enabled,
                "state": state,
                "starts_on": row.starts_on if row else None,
                "deadline": deadline,
                "opened_at": row.opened_at if row else None,
                "closed_at": row.closed_at if row else None,
                "done": done,
                "total": total,
                "percent": _percent(done, total) if total is not None else None,
                "unit": unit,
                "overdue": bool(state == "current" and deadline and deadline < today),
            }
        )
    quant_done = sum(min(r["quant_filled"], n_quant) for r in target_rows)
    cells_done = sum(r["filled"] for r in reviewer_rows)
    cells_total = sum(r["total"] for r in reviewer_rows)

    overdue: list[dict[str, Any]] = []
    status = Stage(campaign.status)
    row = plan.get(status)
    if row and row.deadline and row.deadline < today:
        late = (today - row.deadline).days
        if status == Stage.SELF_ASSESSMENT:
            overdue += [
                {"kind": "自评", "who": r["name"], "detail": r["self_label"],
                 "deadline": row.deadline, "days": late}
                for r in target_rows if not r["self_done"]
            ]  # fmt: skip
        elif status == Stage.REVIEW:
            overdue += [
                {"kind": "评审", "who": r["name"], "detail": f"已评 {r['filled']}/{r['total']}",
                 "deadline": row.deadline, "days": late}
                for r in reviewer_rows if not r["submitted"]
            ]  # fmt: skip
    return {
        "campaign": campaign,
        "today": today,
        "stages": stage_rows,
        "targets": target_rows,
        "reviewers": reviewer_rows,
        "overdue": overdue,
        "summary": {
            "targets": n_targets,
            "self_submitted": self_done,
            "self_percent": _percent(self_done, n_targets),
            "review_cells_filled": cells_done,
            "review_cells_total": cells_total,
            "review_percent": _percent(cells_done, cells_total),
            "sheets_submitted": sheets_done,
            "reviewers": len(reviewer_rows),
            "quant_filled": quant_done,
            "quant_total": n_quant * n_targets,
            "quant_percent": _percent(quant_done, n_quant * n_targets),
            "overdue": len(overdue),
        },
    }


def progress_json(campaign: Campaign, *, today: dt.date | None = None) -> dict[str, Any]:
    """``progress`` as plain JSON-ready data (for the command line and the chart)."""
    data = progress(campaign, today=today)

    def day(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": campaign.pk,
        "name": campaign.name,
        "status": campaign.status,
        "status_label": campaign.get_status_display(),
        "stages": [
            {
                "stage": s["stage"],
                "label": s["label"],
                "enabled": s["enabled"],
                "state": s["state"],
                "deadline": day(s["deadline"]),
                "done": s["done"],
                "total": s["total"],
                "percent": s["percent"],
                "overdue": s["overdue"],
            }
            for s in data["stages"]
        ],
        "summary": data["summary"],
        "targets": [
            {
                k: r[k]
                for k in (
                    "code",
                    "name",
                    "self_status",
                    "review_filled",
                    "review_total",
                    "review_percent",
                    "quant_filled",
                    "quant_total",
                    "quant_percent",
                )
            }
            for r in data["targets"]
        ],  # fmt: skip
        "reviewers": [
            {
                k: r[k]
                for k in (
                    "username",
                    "name",
                    "targets",
                    "filled",
                    "total",
                    "percent",
                    "sheet_status",
                )
            }
            for r in data["reviewers"]
        ],  # fmt: skip
        "overdue": [
            {
                "kind": o["kind"],
                "who": o["who"],
                "detail": o["detail"],
                "deadline": day(o["deadline"]),
                "days": o["days"],
            }
            for o in data["overdue"]
        ],  # fmt: skip
    }


# ---- the to-do list ------------------------------------------------------------------------


def todo_for(user: Any, *, today: dt.date | None = None) -> list[dict[str, Any]]:
    """A user's open work across campaigns: the self-assessments their unit owes (单位填报员),
    the score sheets they owe (评审员), and the campaigns they run that wait for them
    (考核管理员), the results waiting for their approval (领导 with approval rights), with
    deadlines; overdue first, then by deadline."""
    from kaoping import policy
    from kaoping.collection.models import ReviewSheet

    if not getattr(user, "is_authenticated", False):
        return []
    today = today or timezone.localdate()
    items: list[dict[str, Any]] = []
    deadlines: dict[tuple[int, str], dt.date | None] = {}

    def deadline(campaign_id: int, stage: str) -> dt.date | None:
        return deadlines.get((campaign_id, stage))

    if policy.has_perm(user, policy.Perm.SELF_ASSESS):
        orgs = list(
            RoleGrant.objects.filter(user=user, role=Role.SUBMITTER).values_list(
                "organization_id", flat=True
            )
        )
        targets = list(
            Target.objects.filter(campaign__status=Stage.SELF_ASSESSMENT)
            .filter(Q(organization_id__in=orgs) | Q(person__organization_id__in=orgs))
            .exclude(self_assessment__status__in=DONE_SELF)
            .select_related("campaign", "self_assessment")
            .order_by("campaign_id", "code")
        )
        for t in targets:
            sa = getattr(t, "self_assessment", None)
            status = sa.status if sa is not None else ""
            items.append(
                {
                    "kind": "自评",
                    "campaign": t.campaign,
                    "stage": Stage.SELF_ASSESSMENT.value,
                    "text": f"填写并提交“{t.name}”的自评",
                    "detail": SELF_LABELS.get(status, status),
                    "url": _url(
                        "collection:self_assessment",
                        t.pk,
                        fallback=reverse("campaigns:detail", args=[t.campaign_id]),
                    ),
                }
            )
    if policy.has_perm(user, policy.Perm.REVIEW):
        submitted = ReviewSheet.objects.filter(reviewer=user, status="submitted").values(
            "campaign_id"
        )
        campaigns = (
            Campaign.objects.filter(status=Stage.REVIEW, assignments__reviewer=user)
            .exclude(pk__in=submitted)
            .annotate(n=Count("assignments", filter=Q(assignments__reviewer=user)))
            .order_by("pk")
        )
        for c in campaigns:
            items.append(
                {
                    "kind": "评审",
                    "campaign": c,
                    "stage": Stage.REVIEW.value,
                    "text": f"为 {c.n} 个考核对象评分并提交评分表",
                    "detail": "",
                    "url": _url(
                        "collection:review_grid",
                        c.pk,
                        fallback=reverse("campaigns:detail", args=[c.pk]),
                    ),  # fmt: skip
                }
            )
    if policy.has_perm(user, policy.Perm.CAMPAIGN_MANAGE):
        running = (
            Campaign.objects.filter(
                policy.org_scope(user, policy.Perm.CAMPAIGN_MANAGE, prefix="owner__")
            )  # fmt: skip
            .exclude(status=Stage.ARCHIVED)
            .order_by("pk")
        )
        for c in running:
            items.append(
                {
                    "kind": "组织",
                    "campaign": c,
                    "stage": c.status,
                    "text": (
                        "完成设置并发布" if c.status == Stage.DRAFT
                        else f"跟进“{c.get_status_display()}”阶段进度"
                    ),
                    "detail": "",
                    "url": reverse(
                        "campaigns:detail" if c.status == Stage.DRAFT else "campaigns:progress",
                        args=[c.pk],
                    ),
                }
            )  # fmt: skip
    if policy.has_perm(user, policy.Perm.RESULT_APPROVE):
        from kaoping.results.models import ResultSet, ResultStatus

        pending = (
            ResultSet.objects.filter(is_current=True, status=ResultStatus.SUBMITTED)
            .filter(policy.org_scope(user, policy.Perm.RESULT_APPROVE, prefix="campaign__owner__"))
            .exclude(submitted_by=user)
            .select_related("campaign")
            .order_by("campaign_id")
        )
        for rs in pending:
            items.append(
                {
                    "kind": "审批",
                    "campaign": rs.campaign,
                    "stage": rs.campaign.status,
                    "text": f"审批第 {rs.number} 次计算的考核结果",
                    "detail": "待审批",
                    "url": reverse("results:ranking", args=[rs.campaign_id]),
                }
            )
    ids = {i["campaign"].pk for i in items}
    for row in CampaignStage.objects.filter(campaign_id__in=ids).values(
        "campaign_id", "stage", "deadline"
    ):
        deadlines[(row["campaign_id"], row["stage"])] = row["deadline"]
    for item in items:
        d = deadline(item["campaign"].pk, item["stage"])
        item["deadline"] = d
        item["overdue"] = bool(d and d < today)
        item["days_left"] = (d - today).days if d else None
    from kaoping.rectification.selectors import todo_items

    items.extend(todo_items(user, today=today))
    items.sort(key=lambda i: (not i["overdue"], i["deadline"] or dt.date.max, i["campaign"].pk))
    return items


# ---- set-up pages --------------------------------------------------------------------------


def rater_matrix(campaign: Campaign) -> dict[str, Any]:
    """Leaf indicators × rater groups: effective weights, defaults and which rows differ."""
    from .services import default_rater_weights

    defaults = default_rater_weights(campaign)
    stored = campaign.rater_weights or {}
    groups = list(RaterGroupCode)
    rows = []
    for ind in _leaves(campaign):
        default = defaults.get(ind.code, {})
        weights = stored.get(ind.code, default)
        rows.append(
            {
                "indicator": ind,
                "code": ind.code,
                "cells": [
                    {
                        "group": g.value,
                        "value": weights.get(g.value, ""),
                        "default": default.get(g.value, ""),
                    }
                    for g in groups
                ],  # fmt: skip
                "overridden": ind.code in stored,
                "total": round(sum(float(v) for v in weights.values()), 6),
            }
        )
    return {"groups": groups, "rows": rows}


def timeline(campaign: Campaign) -> list[dict[str, Any]]:
    return progress(campaign)["stages"]


def reviewer_candidates(campaign: Campaign) -> list[User]:
    """Active accounts with the 评审员 role, for the assignment form."""
    return list(
        User.objects.filter(is_active=True, grants__role=Role.REVIEWER)
        .select_related("person__organization")
        .distinct()
        .order_by("username")
    )


def assignments_by_target(campaign: Campaign) -> list[dict[str, Any]]:
    """Each target with its assigned reviewers (two queries)."""
    rows: dict[int, dict[str, Any]] = {
        t.pk: {"target": t, "assignments": []}
        for t in Target.objects.filter(campaign=campaign).order_by("group_code", "code")
    }
    for a in ReviewerAssignment.objects.filter(campaign=campaign).select_related("reviewer"):
        rows[a.target_id]["assignments"].append(a)
    return list(rows.values())
