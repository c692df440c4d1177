"""Reading the audit log: filters, labels for display, and rows for the Excel export."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from .actions import Action
from .models import AuditEntry

ACTION_LABELS: dict[str, str] = {str(value): str(label) for value, label in Action.choices}
# Object types that are not models.
EXTRA_OBJECT_TYPES = {"url": "页面"}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def object_type_label(object_type: str) -> str:
    if not object_type:
        return ""
    if object_type in EXTRA_OBJECT_TYPES:
        return EXTRA_OBJECT_TYPES[object_type]
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type


@dataclass(frozen=True)
class AuditFilter:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    actor: str = ""
    action: str = ""
    object_type: str = ""
    ip: str = ""
    q: str = ""

    def as_params(self) -> dict[str, str]:
        """Non-empty filters as strings (recorded in the export's audit entry)."""
        out: dict[str, str] = {}
        for key, value in self.__dict__.items():
            if value:
                out[key] = value.isoformat() if isinstance(value, dt.date) else str(value)
        return out


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def entries(f: AuditFilter) -> QuerySet[AuditEntry]:
    """Entries matching every given filter, newest first. Dates are local calendar days,
    both ends included; ``actor`` matches the username; ``q`` matches the object, the actor,
    the object id and action labels."""
    qs = AuditEntry.objects.all()
    if f.date_from:
        qs = qs.filter(at__gte=_day_start(f.date_from))
    if f.date_to:
        qs = qs.filter(at__lt=_day_start(f.date_to + dt.timedelta(days=1)))
    if f.actor:
        qs = qs.filter(actor_name__icontains=f.actor.strip())
    if f.action:
        qs = qs.filter(action=f.action)
    if f.object_type:
        qs = qs.filter(object_type=f.object_type)
    if f.ip:
        qs = qs.filter(ip__startswith=f.ip.strip())
    if f.q:
        text = f.q.strip()
        matching_actions = [code for code, label in ACTION_LABELS.items() if text in label]
        qs = qs.filter(
            Q(object_repr__icontains=text)
            | Q(actor_name__icontains=text)
            | Q(object_id=text)
            | Q(action__in=matching_actions)
        )
    return qs.order_by("-at", "-id")


def get_entry(pk: Any) -> AuditEntry:
    try:
        return AuditEntry.objects.get(pk=pk)
    except (AuditEntry.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def object_type_choices() -> list[tuple[str, str]]:
    types = (
        AuditEntry.objects.exclude(object_type="")
        .order_by()
        .values_list("object_type", flat=True)
        .distinct()
    )
    return sorted(((t, object_type_label(t)) for t in types), key=lambda c: c[1])


def action_choices() -> list[tuple[str, str]]:
    return [(str(v), str(label)) for v, label in Action.choices]


def _plain_text(value: Any) -> str:
    if value is None:
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


def changes_of(entry: AuditEntry) -> list[Change]:
    out: list[Change] = []
    for name, pair in (entry.changes or {}).items():
        before, after = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
        out.append(Change(name, _plain_text(before), _plain_text(after)))
    return out


def decorate(items: Any) -> list[AuditEntry]:
    """Attach display labels and the list of changes to each entry (for templates)."""
    out = []
    for e in items:
        e.action_label = action_label(e.action)
        e.object_type_label = object_type_label(e.object_type)
        e.change_list = changes_of(e)
        out.append(e)
    return out


EXPORT_HEADERS = [
    "时间",
    "操作人",
    "操作人ID",
    "IP",
    "操作",
    "对象类型",
    "对象ID",
    "对象",
    "变更（前 → 后）",
    "附加信息",
]


def export_rows(qs: QuerySet[AuditEntry]) -> Iterator[list[Any]]:
    """One row per entry, in local time, read in chunks so big logs stay out of memory."""
    tz = timezone.get_current_timezone()
    for e in qs.iterator(chunk_size=2000):
        changes = "\n".join(f"{c.field}：{c.before} → {c.after}" for c in changes_of(e))
        yield [
            timezone.localtime(e.at, tz).replace(tzinfo=None),
            e.actor_name,
            e.actor_id,
            e.ip or "",
            action_label(e.action),
            object_type_label(e.object_type),
            e.object_id,
            e.object_repr,
            changes,
            json.dumps(e.data, ensure_ascii=False) if e.data else "",
        ]
