"""Writes to the organization register. Each function checks its rules, writes in one
transaction, and leaves an audit entry. Callers have already checked the permission."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr

from kaoping.audit.actions import Action
from kaoping.audit.services import diff, log_action, snapshot

from .models import (
    BRANCH_TYPES,
    Organization,
    OrgStatus,
    OrgType,
    Person,
    Post,
    PostTitle,
    path_segment,
)
from .pinyin import initials

ORG_FIELDS = (
    "code",
    "name",
    "org_type",
    "parent",
    "business_department",
    "founded_on",
    "status",
    "dissolved_on",
    "sort_order",
    "note",
)
PERSON_FIELDS = (
    "name",
    "staff_no",
    "gender",
    "organization",
    "political_status",
    "position",
    "is_leading_cadre",
    "cadre_level",
    "business_department",
    "phone",
    "is_active",
)
PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")
CODE_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")

# Which parent types each organization type may sit under.
ALLOWED_PARENTS: dict[str, tuple[str, ...]] = {
    OrgType.AGENCY_COMMITTEE: (),
    OrgType.COMMITTEE: (OrgType.AGENCY_COMMITTEE, OrgType.COMMITTEE),
    OrgType.GENERAL_BRANCH: (OrgType.AGENCY_COMMITTEE, OrgType.COMMITTEE),
    OrgType.BRANCH: (OrgType.AGENCY_COMMITTEE, OrgType.COMMITTEE, OrgType.GENERAL_BRANCH),
    OrgType.TEMPORARY_BRANCH: (
        OrgType.AGENCY_COMMITTEE,
        OrgType.COMMITTEE,
        OrgType.GENERAL_BRANCH,
    ),
}


def validate_phone(phone: str) -> None:
    if phone and not PHONE_RE.match(phone):
        raise ValidationError({"phone": "手机号格式不正确（应为 11 位手机号或带区号的固定电话）"})


def _check_parent(org_type: str, parent: Organization | None) -> None:
    allowed = ALLOWED_PARENTS[org_type]
    label = OrgType(org_type).label
    if parent is None:
        if allowed:
            raise ValidationError({"parent": f"{label}必须有上级组织"})
        return
    if not allowed:
        raise ValidationError({"parent": f"{label}是最高层级，不能有上级组织"})
    if parent.org_type not in allowed:
        raise ValidationError(
            {"parent": f"{label}不能隶属于{parent.get_org_type_display()}（{parent.name}）"}
        )
    if parent.status != OrgStatus.ACTIVE:
        raise ValidationError({"parent": f"上级组织“{parent.name}”已撤销"})


def _set_path(org: Organization) -> None:
    parent_path = org.parent.path if org.parent_id else "/"
    org.path = f"{parent_path}{path_segment(org.pk)}/"
    org.depth = org.path.count("/") - 2


@transaction.atomic
def create_organization(*, actor: Any, audit: bool = True, **fields: Any) -> Organization:
    org = Organization(**fields)
    org.code = (org.code or "").strip()
    org.name = (org.name or "").strip()
    if not CODE_RE.match(org.code):
        raise ValidationError({"code": "组织编码只能由字母、数字、-、_、. 组成，最多 32 位"})
    if Organization.objects.filter(code=org.code).exists():
        raise ValidationError({"code": f"组织编码“{org.code}”已存在"})
    _check_parent(org.org_type, org.parent)
    org.status, org.dissolved_on = OrgStatus.ACTIVE, None
    org.pinyin_initials = initials(org.name)
    org.full_clean(exclude=["path"])
    org.save()
    _set_path(org)
    org.save(update_fields=["path", "depth"])
    if audit:
        log_action(
            Action.ORG_CREATE, actor=actor, obj=org, changes=diff({}, snapshot(org, ORG_FIELDS))
        )
    return org


@transaction.atomic
def update_organization(*, actor: Any, org: Organization, **fields: Any) -> Organization:
    """Change an organization's own fields (not its parent: see ``move_organization``)."""
    org = Organization.objects.select_for_update().get(pk=org.pk)
    before = snapshot(org, ORG_FIELDS)
    for key in ("parent", "status", "dissolved_on", "path", "depth"):
        if key in fields:
            raise ValueError(f"use move/dissolve to change {key}")
    for key, value in fields.items():
        setattr(org, key, value.strip() if isinstance(value, str) else value)
    if not CODE_RE.match(org.code):
        raise ValidationError({"code": "组织编码只能由字母、数字、-、_、. 组成，最多 32 位"})
    if Organization.objects.filter(code=org.code).exclude(pk=org.pk).exists():
        raise ValidationError({"code": f"组织编码“{org.code}”已存在"})
    if "org_type" in fields:
        _check_parent(org.org_type, org.parent)
        child_types = set(org.children.values_list("org_type", flat=True))
        for ct in child_types:
            if org.org_type not in ALLOWED_PARENTS[ct]:
                raise ValidationError(
                    {"org_type": f"其下有{OrgType(ct).label}，不能改为{org.get_org_type_display()}"}
                )
    org.pinyin_initials = initials(org.name)
    org.full_clean()
    changes = diff(before, snapshot(org, ORG_FIELDS))
    if changes:
        org.save()
        log_action(Action.ORG_UPDATE, actor=actor, obj=org, changes=changes)
    return org


@transaction.atomic
def move_organization(*, actor: Any, org: Organization, new_parent: Organization) -> Organization:
    org = Organization.objects.select_for_update().get(pk=org.pk)
    if new_parent.path.startswith(org.path):
        raise ValidationError({"parent": "不能把组织移到它自己或它的下级组织之下"})
    _check_parent(org.org_type, new_parent)
    if org.parent_id == new_parent.pk:
        return org
    old_parent, old_path = org.parent, org.path
    org.parent = new_parent
    _set_path(org)
    depth_shift = org.depth - (old_path.count("/") - 2)
    # Re-root every descendant's path in one statement.
    Organization.objects.filter(path__startswith=old_path).exclude(pk=org.pk).update(
        path=Concat(Value(org.path), Substr(F("path"), len(old_path) + 1)),
        depth=F("depth") + depth_shift,
    )
    org.save(update_fields=["parent", "path", "depth", "updated_at"])
    log_action(
        Action.ORG_MOVE,
        actor=actor,
        obj=org,
        changes={"上级组织": [str(old_parent) if old_parent else None, str(new_parent)]},
    )
    return org


@transaction.atomic
def dissolve_organization(
    *, actor: Any, org: Organization, on: dt.date, reason: str = ""
) -> Organization:
    """Dissolve (撤销) an organization. It keeps its history; active members must move first."""
    org = Organization.objects.select_for_update().get(pk=org.pk)
    if org.status == OrgStatus.DISSOLVED:
        raise ValidationError({"status": "该组织已撤销"})
    if org.children.filter(status=OrgStatus.ACTIVE).exists():
        raise ValidationError({"status": "仍有未撤销的下级组织，请先撤销或移走下级组织"})
    remaining = org.people.filter(is_active=True).count()
    if remaining:
        raise ValidationError({"status": f"仍有 {remaining} 名在册人员，请先将其转到其他组织"})
    org.status, org.dissolved_on = OrgStatus.DISSOLVED, on
    org.save(update_fields=["status", "dissolved_on", "updated_at"])
    Post.objects.filter(organization=org, ended_on__isnull=True).update(ended_on=on)
    log_action(
        Action.ORG_DISSOLVE,
        actor=actor,
        obj=org,
        changes={"状态": ["正常", "已撤销"], "撤销日期": [None, on.isoformat()]},
        data={"reason": reason},
    )
    return org


def _clean_person(person: Person) -> None:
    person.name = (person.name or "").strip()
    person.staff_no = (person.staff_no or "").strip()
    person.phone = (person.phone or "").strip()
    validate_phone(person.phone)
    if not person.is_leading_cadre:
        person.cadre_level = ""
    if (
        person.organization_id
        and person.is_active
        and not Organization.objects.filter(
            pk=person.organization_id, status=OrgStatus.ACTIVE
        ).exists()
    ):
        raise ValidationError(
            {"organization": f"“{person.organization.name}”已撤销，不能再转入人员"}
        )
    person.pinyin_initials = initials(person.name)


@transaction.atomic
def create_person(*, actor: Any, audit: bool = True, **fields: Any) -> Person:
    person = Person(**fields)
    _clean_person(person)
    if Person.objects.filter(staff_no=person.staff_no).exists():
        raise ValidationError({"staff_no": f"工号“{person.staff_no}”已存在"})
    person.full_clean()
    person.save()
    if audit:
        log_action(
            Action.PERSON_CREATE,
            actor=actor,
            obj=person,
            changes=diff({}, snapshot(person, PERSON_FIELDS)),
        )
    return person


@transaction.atomic
def update_person(*, actor: Any, person: Person, **fields: Any) -> Person:
    person = Person.objects.select_for_update().get(pk=person.pk)
    before = snapshot(person, PERSON_FIELDS)
    for key, value in fields.items():
        setattr(person, key, value)
    _clean_person(person)
    if Person.objects.filter(staff_no=person.staff_no).exclude(pk=person.pk).exists():
        raise ValidationError({"staff_no": f"工号“{person.staff_no}”已存在"})
    person.full_clean()
    changes = diff(before, snapshot(person, PERSON_FIELDS))
    if changes:
        person.save()
        log_action(Action.PERSON_UPDATE, actor=actor, obj=person, changes=changes)
    return person


@transaction.atomic
def appoint(
    *,
    actor: Any,
    organization: Organization,
    person: Person,
    title: str,
    started_on: dt.date | None = None,
) -> Post:
    """Give ``person`` a post in ``organization``; a new secretary replaces the current one."""
    if organization.status != OrgStatus.ACTIVE:
        raise ValidationError({"organization": "该组织已撤销，不能任职"})
    if not person.is_party_member:
        raise ValidationError({"person": f"{person.name}不是党员，不能担任党内职务"})
    if Post.objects.filter(
        organization=organization, person=person, title=title, ended_on__isnull=True
    ).exists():
        raise ValidationError({"title": f"{person.name}已担任该职务"})
    started_on = started_on or dt.date.today()
    if title == PostTitle.SECRETARY:
        for old in Post.objects.select_for_update().filter(
            organization=organization, title=PostTitle.SECRETARY, ended_on__isnull=True
        ):
            end_post(actor=actor, post=old, on=started_on)
    post = Post.objects.create(
        organization=organization, person=person, title=title, started_on=started_on
    )
    log_action(
        Action.POST_CREATE,
        actor=actor,
        obj=post,
        data={"组织": organization.name, "人员": person.name, "职务": post.get_title_display()},
    )
    return post


@transaction.atomic
def end_post(*, actor: Any, post: Post, on: dt.date | None = None) -> Post:
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.ended_on is not None:
        return post
    on = on or dt.date.today()
    if post.started_on and on < post.started_on:
        raise ValidationError({"ended_on": "离任日期不能早于任职日期"})
    post.ended_on = on
    post.save(update_fields=["ended_on"])
    log_action(Action.POST_END, actor=actor, obj=post, changes={"离任日期": [None, on.isoformat()]})
    return post


def is_branch(org: Organization) -> bool:
    return org.org_type in BRANCH_TYPES
