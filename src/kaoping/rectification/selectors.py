"""Reads for rectification (整改): task lists with filters and counts, 我的整改任务, the tasks
a later campaign inherits (上期整改), the to-do entries, and what other apps show:

- ``open_tasks_for(unit)``: a unit's tasks still being worked on;
- ``previous_status(target)``: the short status of the target unit's tasks from the previous
  campaign (beside the 述职 report), a ``str`` carrying the ``url`` of the list.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from kaoping import policy
from kaoping.accounts.models import Role, RoleGrant

from .models import (
    ACTIVE_STATUSES,
    CONFIRMED_STATUSES,
    WORKING_STATUSES,
    RectificationTask,
    SourceKind,
    TaskStatus,
)

#: 我的整改任务 in the to-do list: those due within this many days (and every overdue one)
TODO_DAYS = 30


def _related(qs: QuerySet[RectificationTask]) -> QuerySet[RectificationTask]:
    return qs.select_related("campaign", "organization", "target", "responsible", "supervisor")


def overdue_q(today: dt.date | None = None) -> Q:
    return Q(status__in=ACTIVE_STATUSES, deadline__lt=today or timezone.localdate())


def open_tasks_for(unit: Any) -> QuerySet[RectificationTask]:
    """The unit's tasks still being worked on (整改中, 完成待验收, 已退回), earliest deadline first."""
    return _related(
        RectificationTask.objects.filter(organization=unit, status__in=ACTIVE_STATUSES)
    ).order_by("deadline", "pk")


@dataclass
class Filters:
    status: str = ""
    overdue: bool = False
    organization: Any = None
    source_kind: str = ""
    q: str = ""


def filter_tasks(qs: QuerySet[RectificationTask], f: Filters) -> QuerySet[RectificationTask]:
    if f.status in TaskStatus.values:
        qs = qs.filter(status=f.status)
    if f.overdue:
        qs = qs.filter(overdue_q())
    if f.organization is not None:
        qs = qs.filter(organization__path__startswith=f.organization.path)
    if f.source_kind in SourceKind.values:
        qs = qs.filter(source_kind=f.source_kind)
    if f.q:
        qs = qs.filter(
            Q(problem__icontains=f.q) | Q(organization__name__icontains=f.q)
            | Q(responsible__name__icontains=f.q) | Q(indicator_name__icontains=f.q)
        )  # fmt: skip
    return _related(qs).order_by("organization__path", "deadline", "pk")


def counts(qs: QuerySet[RectificationTask]) -> dict[str, int]:
    """Tasks by status, and overdue, in one query."""
    agg = qs.order_by().aggregate(
        total=Count("pk"),
        overdue=Count("pk", filter=overdue_q()),
        **{s.value: Count("pk", filter=Q(status=s.value)) for s in TaskStatus},
    )
    return {k: v or 0 for k, v in agg.items()}


def campaign_tasks(user: Any, campaign: Any) -> QuerySet[RectificationTask]:
    return policy.visible_rect_tasks(user).filter(campaign=campaign)


def my_tasks(user: Any) -> QuerySet[RectificationTask]:
    """Tasks the user answers for: as the responsible person (user.person), the 督办 leader, or
    the unit's 单位填报员."""
    q = Q(pk__in=[])
    if getattr(user, "person_id", None):
        q |= Q(responsible_id=user.person_id) | Q(supervisor_id=user.person_id)
    units = list(
        RoleGrant.objects.filter(user=user, role=Role.SUBMITTER).values_list(
            "organization_id", flat=True
        )
    )
    if units:
        q |= Q(organization_id__in=units)
    return _related(RectificationTask.objects.filter(q, status__in=CONFIRMED_STATUSES)).order_by(
        "status", "deadline", "pk"
    )


def campaign_units(campaign: Any, user: Any = None) -> list[int]:
    """Ids of the units of the campaign's targets (those the user may see)."""
    targets = policy.visible_targets(user, campaign) if user is not None else campaign.targets
    ids = set()
    for t in targets.select_related("person"):
        unit = t.organization_id or (t.person.organization_id if t.person_id else None)
        if unit:
            ids.add(unit)
    return sorted(ids)


def previous_tasks(user: Any, campaign: Any) -> QuerySet[RectificationTask]:
    """Tasks of earlier campaigns for the units assessed in ``campaign`` (上期整改): what this
    cycle checks."""
    return _related(
        policy.visible_rect_tasks(user).filter(
            organization_id__in=campaign_units(campaign, user),
            campaign__period_end__lt=campaign.period_end,
            status__in=CONFIRMED_STATUSES,
        )
    ).order_by("organization__path", "-campaign__period_end", "deadline", "pk")


class StatusText(str):
    """A status line that also carries the URL of the task list it summarizes."""

    url: str = ""
    counts: dict[str, int]


def previous_campaign_tasks(target: Any) -> tuple[Any, QuerySet[RectificationTask]] | None:
    """The latest earlier campaign with confirmed tasks for the target's unit, and those."""
    unit = target.unit
    if unit is None:
        return None
    campaign = target.campaign
    latest = (
        RectificationTask.objects.filter(
            organization=unit,
            status__in=CONFIRMED_STATUSES,
            campaign__period_end__lt=campaign.period_end,
        )
        .exclude(campaign=campaign)
        .select_related("campaign")
        .order_by("-campaign__period_end", "-campaign_id")
        .first()
    )
    if latest is None:
        return None
    return latest.campaign, RectificationTask.objects.filter(
        organization=unit, campaign=latest.campaign, status__in=CONFIRMED_STATUSES
    )


def previous_status(target: Any) -> StatusText | None:
    """``上年度整改任务 3 项：已销号 2 项，逾期未完成 1 项`` for the target's unit, from the
    previous campaign that had tasks for it; None when there were none."""
    found = previous_campaign_tasks(target)
    if found is None:
        return None
    prev, tasks = found
    c = counts(tasks)
    in_time = c["total"] - c[TaskStatus.VERIFIED] - c["overdue"]
    parts = [f"已销号 {c[TaskStatus.VERIFIED]} 项"]
    if c["overdue"]:
        parts.append(f"逾期未完成 {c['overdue']} 项")
    if in_time:
        parts.append(f"整改中 {in_time} 项")
    period = "上年度" if prev.campaign_type == "annual" else f"上期（{prev.name}）"
    text = StatusText(f"{period}整改任务 {c['total']} 项：{'，'.join(parts)}")
    unit = target.unit
    text.url = reverse("rectification:campaign", args=[prev.pk]) + f"?org={unit.pk}"
    text.counts = c
    return text


# ---- to-do entries ---------------------------------------------------------------------------


def todo_items(user: Any, *, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Entries for the to-do list (campaigns.selectors.todo_for): the user's tasks due within
    ``TODO_DAYS`` or overdue (and every returned one); for organizers, per campaign, proposals
    to review and completions waiting for verification."""
    today = today or timezone.localdate()
    items: list[dict[str, Any]] = []
    mine = (
        my_tasks(user)
        .filter(status__in=WORKING_STATUSES)
        .filter(
            Q(deadline__lte=today + dt.timedelta(days=TODO_DAYS)) | Q(status=TaskStatus.RETURNED)
        )
    )
    for t in mine[:50]:
        items.append(
            {
                "kind": "整改",
                "campaign": t.campaign,
                "stage": "",
                "text": f"{t.organization.name}整改：{t.problem[:40]}",
                "detail": t.get_status_display(),
                "url": reverse("rectification:detail", args=[t.pk]),
                "deadline": t.deadline,
                "overdue": t.deadline < today,
                "days_left": (t.deadline - today).days,
            }
        )
    if policy.has_perm(user, policy.Perm.CAMPAIGN_MANAGE):
        from kaoping.campaigns.models import Campaign

        waiting = (
            RectificationTask.objects.filter(
                policy.org_scope(user, policy.Perm.CAMPAIGN_MANAGE, prefix="campaign__owner__"),
                status__in=(TaskStatus.PROPOSED, TaskStatus.SUBMITTED),
            )
            .values("campaign_id", "status")
            .annotate(n=Count("pk"))
            .order_by("campaign_id", "status")
        )
        rows = list(waiting)
        campaigns = Campaign.objects.in_bulk({r["campaign_id"] for r in rows})
        for r in rows:
            proposed = r["status"] == TaskStatus.PROPOSED
            url = reverse("rectification:campaign", args=[r["campaign_id"]])
            items.append(
                {
                    "kind": "整改",
                    "campaign": campaigns[r["campaign_id"]],
                    "stage": "",
                    "text": (
                        f"审核 {r['n']} 项整改建议" if proposed else f"验收 {r['n']} 项整改完成情况"
                    ),
                    "detail": "待确认" if proposed else "完成待验收",
                    "url": f"{url}?status={r['status']}",
                    "deadline": None,
                    "overdue": False,
                    "days_left": None,
                }
            )
    return items
