"""Exporting the organization register to Excel, in the layout the import reads back."""

from __future__ import annotations

import os
from typing import IO, Any

from django.db.models import QuerySet

from kaoping import policy
from kaoping.audit.actions import Action
from kaoping.audit.services import log_action
from kaoping.jobs.registry import Progress

from . import workbook as wbk
from .models import (
    CadreLevel,
    Gender,
    Organization,
    OrgStatus,
    OrgType,
    Person,
    PoliticalStatus,
    Post,
    PostTitle,
)

CLI_ACTOR_NAME = "命令行"


def _label(enum: Any, value: str) -> str:
    return str(enum(value).label) if value else ""


def _yes_no(value: bool) -> str:
    return wbk.YES if value else wbk.NO


def export_scope(*, actor: Any) -> tuple[QuerySet[Organization], QuerySet[Person]]:
    """What ``actor`` may export (everything for the system, ``actor`` None)."""
    if actor is None:
        return Organization.objects.all(), Person.objects.all()
    return (
        policy.visible_organizations(actor, policy.Perm.ORG_EXPORT),
        policy.visible_people(actor, policy.Perm.ORG_EXPORT),
    )


def _org_rows(orgs: QuerySet[Organization]) -> list[list[Any]]:
    secretaries = dict(
        Post.objects.filter(
            organization__in=orgs, title=PostTitle.SECRETARY, ended_on__isnull=True
        ).values_list("organization_id", "person__staff_no")
    )
    return [
        [
            o.code,
            o.name,
            _label(OrgType, o.org_type),
            o.parent.code if o.parent_id else "",
            o.business_department,
            o.founded_on,
            _label(OrgStatus, o.status),
            o.dissolved_on,
            secretaries.get(o.pk, ""),
            o.note,
        ]
        for o in orgs.select_related("parent").order_by("path")
    ]


def _person_rows(people: QuerySet[Person], progress: Progress):  # type: ignore[no-untyped-def]
    fields = ("staff_no", "name", "gender", "organization__code", "political_status", "position",
              "is_leading_cadre", "cadre_level", "business_department", "phone", "is_active")  # fmt: skip
    for p in people.order_by("staff_no").values_list(*fields).iterator(chunk_size=2000):
        progress.advance()
        yield [
            p[0],
            p[1],
            _label(Gender, p[2]),
            p[3] or "",
            _label(PoliticalStatus, p[4]),
            p[5],
            _yes_no(p[6]),
            _label(CadreLevel, p[7]),
            p[8],
            p[9],
            _yes_no(p[10]),
        ]


def export_workbook(
    *, actor: Any, target: str | os.PathLike[str] | IO[bytes], progress: Progress | None = None
) -> dict[str, int]:
    """Write the register ``actor`` may export to ``target``; one ``Action.EXPORT`` entry."""
    progress = progress or Progress()
    orgs, people = export_scope(actor=actor)
    org_rows = _org_rows(orgs)
    n_people = people.count()
    progress.start("导出人员", n_people)
    book = wbk.new_workbook(write_only=True)
    wbk.add_data_sheet(book, wbk.ORG, org_rows, max_row=max(2000, len(org_rows) + 500))
    wbk.add_data_sheet(book, wbk.PERSON, _person_rows(people, progress),
                       max_row=max(2000, n_people + 1000))  # fmt: skip
    wbk.add_help_sheet(book)
    book.save(target)
    counts = {"orgs": len(org_rows), "people": n_people}
    log_action(
        Action.EXPORT,
        actor=actor,
        actor_name="" if actor is not None else CLI_ACTOR_NAME,
        object_type="organizations.register",
        object_repr="导出党组织和人员",
        data={wbk.ORG_SHEET: counts["orgs"], wbk.PERSON_SHEET: counts["people"]},
    )
    return counts
