"""The rules across rows and against the database, and the plan of what an import would write."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kaoping.jobs.registry import Progress

from . import workbook as wbk
from .import_read import Row, RowError, SheetRows
from .models import PARTY_STATUSES, Organization, OrgStatus, OrgType, Person, Post, PostTitle
from .services import ALLOWED_PARENTS

ORG_FIELDS = ("name", "org_type", "business_department", "founded_on", "status", "dissolved_on",
              "note")  # fmt: skip
PERSON_FIELDS = ("name", "gender", "political_status", "position", "is_leading_cadre",
                 "cadre_level", "business_department", "phone", "is_active")  # fmt: skip
DEFAULTS = {"founded_on": None, "dissolved_on": None, "is_leading_cadre": False, "is_active": True}


@dataclass
class OrgState:
    code: str
    org_type: str
    parent: str | None
    status: str
    db: Organization | None = None
    row: Row | None = None
    values: dict[str, Any] = field(default_factory=dict)
    secretary: str = ""
    newly_dissolved: bool = False
    changes: dict[str, list[Any]] = field(default_factory=dict)


@dataclass
class PersonState:
    staff_no: str
    org: str | None
    values: dict[str, Any]
    row: Row
    db: Person | None = None
    changes: dict[str, list[Any]] = field(default_factory=dict)


@dataclass
class Plan:
    orgs: dict[str, OrgState] = field(default_factory=dict)
    new_orgs: list[OrgState] = field(default_factory=list)
    changed_orgs: list[OrgState] = field(default_factory=list)
    unchanged_orgs: int = 0
    new_people: list[PersonState] = field(default_factory=list)
    changed_people: list[PersonState] = field(default_factory=list)
    unchanged_people: int = 0
    secretaries: dict[str, str] = field(default_factory=dict)  # org code -> staff_no

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            "orgs": {"created": len(self.new_orgs), "updated": len(self.changed_orgs),
                     "unchanged": self.unchanged_orgs},
            "people": {"created": len(self.new_people), "updated": len(self.changed_people),
                       "unchanged": self.unchanged_people},
        }  # fmt: skip

    def change_total(self) -> int:
        return sum(len(x) for x in (self.new_orgs, self.changed_orgs, self.new_people,
                                    self.changed_people))  # fmt: skip

    def details(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for kind, new, changed in (
            ("党组织", self.new_orgs, self.changed_orgs),
            ("人员", self.new_people, self.changed_people),
        ):
            for st in new:
                out.append({"类型": kind, "编号": _key(st), "操作": "新增"})
            for st in changed:
                out.append({"类型": kind, "编号": _key(st), "操作": "修改", "变更": st.changes})
        return out


def _key(st: OrgState | PersonState) -> str:
    return st.code if isinstance(st, OrgState) else st.staff_no


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


class Checker:
    def __init__(self, sheets: dict[str, SheetRows], *, roots: list[str] | None, errors: list):
        self.org_sheet = sheets.get(wbk.ORG_SHEET)
        self.person_sheet = sheets.get(wbk.PERSON_SHEET)
        self.roots = roots  # None: the system, no restriction
        self.errors: list[RowError] = errors
        self.plan = Plan()
        self.by_id: dict[int, Organization] = {}
        self.people: dict[str, PersonState] = {}
        self.db_people: dict[str, Person] = {}

    # ---- helpers ------------------------------------------------------------------------

    def error(self, sheet: SheetRows, row: Row, key: str, message: str) -> None:
        header, letter = sheet.where(key)
        self.errors.append(RowError(sheet.sheet.name, row.number, header, message, letter))

    def _in_roots(self, org: Organization | None) -> bool:
        if self.roots is None:
            return True
        if org is None:
            return self.unrestricted
        return any(org.path.startswith(r) for r in self.roots)

    @property
    def unrestricted(self) -> bool:
        """May create top-level organizations and people outside any organization."""
        return self.roots is None or any(r.count("/") == 2 for r in self.roots)

    def _chain_in_scope(self, code: str | None) -> bool:
        """Whether ``code`` (in its final place) lies in one of the user's subtrees."""
        if self.roots is None:
            return True
        if code is None:
            return self.unrestricted
        seen: set[str] = set()
        while code is not None and code not in seen:
            seen.add(code)
            st = self.plan.orgs.get(code)
            if st is None:
                return False
            if st.db is not None and st.db.path in self.roots:
                return True
            if st.db is None and st.parent is None and self.unrestricted:
                return True
            code = st.parent
        return False

    # ---- the run ------------------------------------------------------------------------

    def run(self, progress: Progress) -> Plan:
        n = len(self.org_sheet.rows if self.org_sheet else []) + len(
            self.person_sheet.rows if self.person_sheet else []
        )
        progress.start("校验数据", n)
        self._load_orgs()
        file_orgs = self._org_rows()
        self._load_people(file_orgs)
        people = self._person_rows()
        for st in file_orgs:
            self._check_org(st)
            progress.advance()
        self._check_dissolutions(file_orgs)
        for ps in people:
            self._check_person(ps)
            progress.advance()
        self._diff(file_orgs, people)
        return self.plan

    def _load_orgs(self) -> None:
        orgs = list(Organization.objects.all())
        self.by_id = {o.pk: o for o in orgs}
        for o in orgs:
            parent = self.by_id[o.parent_id].code if o.parent_id else None
            self.plan.orgs[o.code] = OrgState(o.code, o.org_type, parent, o.status, db=o)

    def _org_rows(self) -> list[OrgState]:
        out: list[OrgState] = []
        if self.org_sheet is None:
            return out
        first: dict[str, int] = {}
        for row in self.org_sheet.rows:
            v = row.values
            code = v.get("code")
            if not code or "code" in row.bad:
                continue
            if code in first:
                self.error(
                    self.org_sheet, row, "code", f"组织编码“{code}”与第 {first[code]} 行重复"
                )
                continue
            first[code] = row.number
            db = self.plan.orgs[code].db if code in self.plan.orgs else None
            values = {f: v.get(f, DEFAULTS.get(f, "")) for f in ORG_FIELDS}
            st = OrgState(code, values["org_type"], v.get("parent") or None, values["status"],
                          db=db, row=row, values=values, secretary=v.get("secretary", ""))  # fmt: skip
            self.plan.orgs[code] = st
            out.append(st)
        return out

    def _load_people(self, file_orgs: list[OrgState]) -> None:
        wanted = (
            {r.values.get("staff_no") for r in self.person_sheet.rows}
            if self.person_sheet
            else set()
        )
        wanted |= {st.secretary for st in file_orgs if st.secretary}
        wanted.discard(None)
        wanted.discard("")
        keys = sorted(wanted)
        for i in range(0, len(keys), 500):
            for p in Person.objects.filter(staff_no__in=keys[i : i + 500]):
                self.db_people[p.staff_no] = p

    def _person_rows(self) -> list[PersonState]:
        out: list[PersonState] = []
        if self.person_sheet is None:
            return out
        first: dict[str, int] = {}
        for row in self.person_sheet.rows:
            v = row.values
            staff_no = v.get("staff_no")
            if not staff_no or "staff_no" in row.bad:
                continue
            if staff_no in first:
                msg = f"工号“{staff_no}”与第 {first[staff_no]} 行重复"
                self.error(self.person_sheet, row, "staff_no", msg)
                continue
            first[staff_no] = row.number
            values = {f: v.get(f, DEFAULTS.get(f, "")) for f in PERSON_FIELDS}
            ps = PersonState(staff_no, v.get("organization") or None, values, row,
                             db=self.db_people.get(staff_no))  # fmt: skip
            self.people[staff_no] = ps
            out.append(ps)
        return out

    # ---- organizations ----------------------------------------------------------------------

    def _check_org(self, st: OrgState) -> None:
        sheet, row = self.org_sheet, st.row
        assert sheet is not None and row is not None
        type_ok = "org_type" not in row.bad and st.org_type in ALLOWED_PARENTS
        label = OrgType(st.org_type).label if type_ok else ""
        parent = self.plan.orgs.get(st.parent) if st.parent else None
        if st.parent == st.code:
            self.error(sheet, row, "parent", "上级组织不能是它自己")
            return
        if st.parent and parent is None:
            self.error(sheet, row, "parent", f"上级组织编码“{st.parent}”在本表和系统中都不存在")
        if type_ok:
            allowed = ALLOWED_PARENTS[st.org_type]
            if not st.parent and allowed:
                self.error(sheet, row, "parent", f"{label}必须填写上级组织编码")
            elif st.parent and not allowed:
                self.error(sheet, row, "parent", f"{label}是最高层级，不能有上级组织")
            elif parent and parent.org_type in ALLOWED_PARENTS and parent.org_type not in allowed:
                ptype = OrgType(parent.org_type).label
                self.error(sheet, row, "parent", f"{label}不能隶属于{ptype}（{parent.code}）")
        if (
            parent is not None
            and parent.status != OrgStatus.ACTIVE
            and st.status == OrgStatus.ACTIVE
        ):
            self.error(sheet, row, "parent", f"上级组织“{parent.code}”已撤销")
        cyclic = self._check_cycle(st)
        self._check_children(st, label)
        if not cyclic:
            self._check_org_scope(st)
        self._check_secretary(st)

    def _check_cycle(self, st: OrgState) -> bool:
        """Report (on this row) a parent chain that comes back to it; True when in any cycle."""
        chain, code = [st.code], st.parent
        while code is not None and code in self.plan.orgs:
            if code == st.code:
                path = " → ".join([*chain, code])
                self.error(self.org_sheet, st.row, "parent", f"上级组织关系形成循环：{path}")
                return True
            if code in chain:
                return True  # a cycle above this row, reported on its own rows
            chain.append(code)
            code = self.plan.orgs[code].parent
        return False

    def _check_children(self, st: OrgState, label: str) -> None:
        if st.db is None:
            return
        sheet, row = self.org_sheet, st.row
        for child in self.plan.orgs.values():
            if child.parent != st.code:
                continue
            if label and child.row is None and st.org_type not in ALLOWED_PARENTS[child.org_type]:
                ctype = OrgType(child.org_type).label
                msg = f"其下有{ctype}（{child.code}），不能改为{label}"
                self.error(sheet, row, "org_type", msg)
            if st.status == OrgStatus.DISSOLVED and child.status == OrgStatus.ACTIVE:
                msg = f"仍有未撤销的下级组织（{child.code}），不能撤销"
                self.error(sheet, row, "status", msg)

    def _check_org_scope(self, st: OrgState) -> None:
        sheet, row = self.org_sheet, st.row
        if st.db is not None and not self._in_roots(st.db):
            self.error(sheet, row, "code", f"组织“{st.code}”不在您管理的范围内，不能修改")
            return
        old_parent = self.by_id[st.db.parent_id].code if st.db and st.db.parent_id else None
        if st.db is not None and st.parent == old_parent:
            return
        if st.parent is None and not self.unrestricted:
            self.error(sheet, row, "parent", "您只能在自己管理的组织之下新建或调整组织")
        elif st.parent and st.parent in self.plan.orgs and not self._chain_in_scope(st.parent):
            self.error(sheet, row, "parent", f"上级组织“{st.parent}”不在您管理的范围内")

    def _check_secretary(self, st: OrgState) -> None:
        if not st.secretary:
            return
        sheet, row = self.org_sheet, st.row
        ps = self.people.get(st.secretary)
        person = self.db_people.get(st.secretary)
        if ps is None and person is None:
            self.error(sheet, row, "secretary", f"工号“{st.secretary}”在本表和系统中都不存在")
            return
        status = ps.values["political_status"] if ps else person.political_status
        active = ps.values["is_active"] if ps else person.is_active
        if status not in PARTY_STATUSES:
            self.error(sheet, row, "secretary", f"“{st.secretary}”不是党员，不能担任书记")
        elif not active:
            self.error(sheet, row, "secretary", f"“{st.secretary}”已不在册，不能担任书记")
        elif st.status != OrgStatus.ACTIVE:
            self.error(sheet, row, "secretary", "已撤销的组织不能任命书记")

    def _check_dissolutions(self, file_orgs: list[OrgState]) -> None:
        for st in file_orgs:
            st.newly_dissolved = st.status == OrgStatus.DISSOLVED and (
                st.db is None or st.db.status != OrgStatus.DISSOLVED
            )
        ids = {st.db.pk: st for st in file_orgs if st.newly_dissolved and st.db is not None}
        remaining: dict[str, int] = {}
        for ps in self.people.values():
            if ps.values["is_active"] and ps.org:
                remaining[ps.org] = remaining.get(ps.org, 0) + 1
        stay = Person.objects.filter(organization_id__in=list(ids), is_active=True)
        for org_id, staff_no in stay.values_list("organization_id", "staff_no"):
            if staff_no not in self.people:
                remaining[ids[org_id].code] = remaining.get(ids[org_id].code, 0) + 1
        for st in file_orgs:
            if st.newly_dissolved and remaining.get(st.code):
                msg = f"仍有 {remaining[st.code]} 名在册人员，请先将其转到其他组织"
                self.error(self.org_sheet, st.row, "status", msg)

    # ---- people -------------------------------------------------------------------------

    def _check_person(self, ps: PersonState) -> None:
        sheet, row = self.person_sheet, ps.row
        org = self.plan.orgs.get(ps.org) if ps.org else None
        if ps.org and org is None and "organization" not in row.bad:
            msg = f"所在党组织编码“{ps.org}”在本表和系统中都不存在"
            self.error(sheet, row, "organization", msg)
        if ps.db is not None:
            db_org = self.by_id.get(ps.db.organization_id) if ps.db.organization_id else None
            if not self._in_roots(db_org):
                msg = f"工号“{ps.staff_no}”的人员不在您管理的范围内，不能修改"
                self.error(sheet, row, "staff_no", msg)
                return
        if org is not None and not self._chain_in_scope(ps.org):
            self.error(sheet, row, "organization", f"党组织“{ps.org}”不在您管理的范围内")
        elif ps.org is None and not self.unrestricted:
            self.error(sheet, row, "organization", "请填写您管理范围内的党组织编码")
        if org is not None and org.status != OrgStatus.ACTIVE:
            moved = ps.db is None or ps.db.organization_id != (org.db.pk if org.db else None)
            if ps.values["is_active"] or moved:
                msg = f"党组织“{ps.org}”已撤销，不能转入或保留在册人员"
                self.error(sheet, row, "organization", msg)

    # ---- what would change ------------------------------------------------------------------

    def _diff(self, file_orgs: list[OrgState], people: list[PersonState]) -> None:
        plan = self.plan
        current = dict(
            Post.objects.filter(title=PostTitle.SECRETARY, ended_on__isnull=True).values_list(
                "organization__code", "person__staff_no"
            )
        )
        for st in file_orgs:
            if st.secretary and current.get(st.code) != st.secretary:
                plan.secretaries[st.code] = st.secretary
            if st.db is None:
                plan.new_orgs.append(st)
                continue
            before = {f: getattr(st.db, f) for f in ORG_FIELDS}
            before["parent"] = self.by_id[st.db.parent_id].code if st.db.parent_id else None
            after = {**st.values, "parent": st.parent}
            st.changes = _changes(before, after, wbk.ORG)
            if st.code in plan.secretaries:
                st.changes["书记工号"] = [current.get(st.code), st.secretary]
            if st.changes:
                plan.changed_orgs.append(st)
            else:
                plan.unchanged_orgs += 1
        for ps in people:
            if ps.db is None:
                plan.new_people.append(ps)
                continue
            before = {f: getattr(ps.db, f) for f in PERSON_FIELDS}
            db_org = self.by_id.get(ps.db.organization_id) if ps.db.organization_id else None
            before["organization"] = db_org.code if db_org else None
            ps.changes = _changes(before, {**ps.values, "organization": ps.org}, wbk.PERSON)
            if ps.changes:
                plan.changed_people.append(ps)
            else:
                plan.unchanged_people += 1


def _changes(before: dict[str, Any], after: dict[str, Any], sheet: wbk.Sheet) -> dict[str, list]:
    headers = {c.key: c.header for c in sheet.columns}
    return {
        headers.get(k, k): [_plain(before[k]), _plain(after[k])]
        for k in after
        if k in before and before[k] != after[k]
    }
