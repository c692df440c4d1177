"""Importing the organization register from Excel: check every row, then write all or nothing.

``import_workbook`` reads the workbook (``import_read``), checks every rule across rows and
against the database (duplicates, unknown or disallowed parents, cycles, the importing user's
scope ...), and only when no row has a problem writes everything in one transaction with bulk
statements and a single ``Action.IMPORT`` audit entry. Organizations are matched by 组织编码 and
people by 工号, so importing a file again (or an export) changes only what differs.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from kaoping import policy
from kaoping.audit.actions import Action
from kaoping.audit.services import log_action
from kaoping.jobs.registry import Progress

from . import workbook as wbk
from .import_checks import Checker, OrgState
from .import_read import RowError, WorkbookError, read_workbook
from .models import Organization, Person, Post, PostTitle, path_segment
from .pinyin import initials

__all__ = ["ImportReport", "RowError", "WorkbookError", "import_workbook"]

ORG_VALUE_FIELDS = ("name", "org_type", "business_department", "founded_on", "status",
                    "dissolved_on", "note")  # fmt: skip
PERSON_VALUE_FIELDS = ("name", "gender", "political_status", "position", "is_leading_cadre",
                       "cadre_level", "business_department", "phone", "is_active")  # fmt: skip
MAX_ERRORS = 2000
MAX_AUDIT_DETAILS = 50
CLI_ACTOR_NAME = "命令行"


@dataclass
class ImportReport:
    errors: list[RowError] = field(default_factory=list)
    error_total: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    secretaries: int = 0
    dry_run: bool = False
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.error_total

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "errors": [e.as_dict() for e in self.errors],
            "error_total": self.error_total,
            "counts": self.counts,
            "secretaries": self.secretaries,
            "dry_run": self.dry_run,
            "written": self.written,
        }


def import_workbook(
    *,
    actor: Any,
    source: str | os.PathLike[str] | IO[bytes],
    filename: str = "",
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Check ``source`` and, when every row is fine and not ``dry_run``, write it.

    ``actor`` None means the system (the command line): no scope restriction. Otherwise the
    caller has checked ``Perm.ORG_MANAGE``; every row must lie in the actor's subtrees.
    """
    progress = progress or Progress()
    report = ImportReport(dry_run=dry_run)
    try:
        sheets, errors = read_workbook(source, progress)
    except WorkbookError as exc:
        report.errors, report.error_total = [RowError("", 0, "", str(exc))], 1
        return report
    roots = None if actor is None else policy.manageable_roots(actor)
    checker = Checker(sheets, roots=roots, errors=errors)
    plan = checker.run(progress)
    errors.sort(key=lambda e: (e.sheet != wbk.ORG_SHEET, e.sheet, e.row, e.letter))
    report.error_total = len(errors)
    report.errors = errors[:MAX_ERRORS]
    report.counts = plan.counts()
    report.secretaries = len(plan.secretaries)
    if errors or dry_run:
        return report
    try:
        _write(plan, actor=actor, filename=filename, report=report, progress=progress)
    except IntegrityError:
        # Someone changed the register between the check and the write (same code or staff
        # number created meanwhile): nothing was written; checking again will show why.
        message = "导入期间数据被他人修改，未写入任何数据，请重新导入"
        report.errors, report.error_total = [RowError("", 0, "", message)], 1
        return report
    report.written = True
    return report


@transaction.atomic
def _write(plan: Any, *, actor: Any, filename: str, report: ImportReport, progress: Progress):
    now = timezone.now()
    total = len(plan.new_orgs) + len(plan.changed_orgs) + len(plan.new_people)
    progress.start("写入数据库", total + len(plan.changed_people))
    ids = {code: st.db.pk for code, st in plan.orgs.items() if st.db is not None}
    _create_orgs(plan, ids, progress)
    changed = []
    for st in plan.changed_orgs:
        org = st.db
        for name in ORG_VALUE_FIELDS:
            setattr(org, name, st.values[name])
        org.parent_id = ids[st.parent] if st.parent else None
        org.pinyin_initials = initials(org.name)
        org.updated_at = now
        changed.append(org)
    Organization.objects.bulk_update(
        changed, [*ORG_VALUE_FIELDS, "parent", "pinyin_initials", "updated_at"], batch_size=500
    )
    progress.advance(len(changed))
    _recompute_paths()
    for st in plan.changed_orgs:
        if st.newly_dissolved:
            Post.objects.filter(organization_id=ids[st.code], ended_on__isnull=True).update(
                ended_on=st.values["dissolved_on"]
            )

    new_people = []
    for p in plan.new_people:
        person = Person(staff_no=p.staff_no, organization_id=ids.get(p.org) if p.org else None)
        for name in PERSON_VALUE_FIELDS:
            setattr(person, name, p.values[name])
        person.pinyin_initials = initials(person.name)
        new_people.append(person)
    for i in range(0, len(new_people), 1000):
        Person.objects.bulk_create(new_people[i : i + 1000])
        progress.advance(len(new_people[i : i + 1000]))
    changed_people = []
    for p in plan.changed_people:
        person = p.db
        for name in PERSON_VALUE_FIELDS:
            setattr(person, name, p.values[name])
        person.organization_id = ids.get(p.org) if p.org else None
        person.pinyin_initials = initials(person.name)
        person.updated_at = now
        changed_people.append(person)
    fields = [*PERSON_VALUE_FIELDS, "organization", "pinyin_initials", "updated_at"]
    for i in range(0, len(changed_people), 500):
        Person.objects.bulk_update(changed_people[i : i + 500], fields)
        progress.advance(len(changed_people[i : i + 500]))
    _appoint_secretaries(plan, ids)
    details = plan.details() if plan.change_total() <= MAX_AUDIT_DETAILS else []
    log_action(
        Action.IMPORT,
        actor=actor,
        actor_name="" if actor is not None else CLI_ACTOR_NAME,
        object_type="organizations.register",
        object_repr=f"导入 {filename}"[:200] if filename else "导入党组织和人员",
        data={
            "文件": filename,
            **{wbk.ORG_SHEET if k == "orgs" else wbk.PERSON_SHEET: v for k, v in
               report.counts.items()},
            "书记任免": len(plan.secretaries),
            "明细": details,
        },
    )  # fmt: skip


def _create_orgs(plan: Any, ids: dict[str, int], progress: Progress) -> None:
    """Create new organizations parents first (a parent may itself be new in the file)."""
    pending: list[OrgState] = list(plan.new_orgs)
    while pending:
        ready = [st for st in pending if not st.parent or st.parent in ids]
        if not ready:  # cannot happen: cycles are reported by the checker
            raise RuntimeError("organization parents form a cycle")
        for st in ready:
            org = Organization(code=st.code, parent_id=ids[st.parent] if st.parent else None)
            for name in ORG_VALUE_FIELDS:
                setattr(org, name, st.values[name])
            org.pinyin_initials = initials(org.name)
            org.save()
            ids[st.code] = org.pk
        progress.advance(len(ready))
        pending = [st for st in pending if st.code not in ids]


def _recompute_paths() -> None:
    """Materialized paths of every organization from the parent links (a few hundred rows)."""
    rows = {pk: (parent, path) for pk, parent, path in
            Organization.objects.values_list("pk", "parent_id", "path")}  # fmt: skip
    paths: dict[int, str] = {}

    def path_of(pk: int) -> str:
        chain, cur = [], pk
        while cur is not None and cur not in paths:
            chain.append(cur)
            cur = rows[cur][0]
        base = paths[cur] if cur is not None else "/"
        for node in reversed(chain):
            base = paths[node] = f"{base}{path_segment(node)}/"
        return paths[pk]

    changed = []
    for pk, (_, old) in rows.items():
        new = path_of(pk)
        if new != old:
            changed.append(Organization(pk=pk, path=new, depth=new.count("/") - 2))
    Organization.objects.bulk_update(changed, ["path", "depth"], batch_size=500)


def _appoint_secretaries(plan: Any, ids: dict[str, int]) -> None:
    if not plan.secretaries:
        return
    today = dt.date.today()
    org_ids = [ids[code] for code in plan.secretaries]
    Post.objects.filter(
        organization_id__in=org_ids, title=PostTitle.SECRETARY, ended_on__isnull=True
    ).update(ended_on=today)
    staff = dict(
        Person.objects.filter(staff_no__in=list(plan.secretaries.values())).values_list(
            "staff_no", "pk"
        )
    )
    Post.objects.bulk_create(
        Post(
            organization_id=ids[code],
            person_id=staff[staff_no],
            title=PostTitle.SECRETARY,
            started_on=today,
        )
        for code, staff_no in plan.secretaries.items()
    )
