"""Reads over organizations and people. Callers pass querysets already scoped by the policy."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from .models import (
    BRANCH_TYPES,
    COMMITTEE_TITLES,
    Organization,
    OrgStatus,
    Person,
    PoliticalStatus,
    Post,
    PostTitle,
)


@dataclass(frozen=True)
class OrgWarning:
    org: Organization
    code: str
    message: str


def member_counts(orgs: QuerySet[Organization]) -> dict[int, dict[str, int]]:
    """Per organization: full, probationary members and masses directly in it."""
    rows = (
        Person.objects.filter(organization__in=orgs, is_active=True)
        .values("organization_id")
        .annotate(
            full=Count("id", filter=Q(political_status=PoliticalStatus.FULL_MEMBER)),
            probationary=Count("id", filter=Q(political_status=PoliticalStatus.PROBATIONARY)),
            masses=Count("id", filter=Q(political_status=PoliticalStatus.MASSES)),
        )
    )
    return {
        r["organization_id"]: {k: r[k] for k in ("full", "probationary", "masses")} for r in rows
    }


def current_posts(orgs: QuerySet[Organization]) -> dict[int, list[Post]]:
    out: dict[int, list[Post]] = defaultdict(list)
    for post in Post.objects.filter(organization__in=orgs, ended_on__isnull=True).select_related(
        "person"
    ):
        out[post.organization_id].append(post)
    return out


def organization_warnings(orgs: QuerySet[Organization]) -> list[OrgWarning]:
    """Warnings from the rules for agency party organizations, for active branches in ``orgs``.

    - a branch has fewer than 3 full members (正式党员3人以上方可成立党支部);
    - a branch of 7 or more full members has no branch committee (支部委员会);
    - a branch has no secretary.
    """
    branches = orgs.filter(status=OrgStatus.ACTIVE, org_type__in=BRANCH_TYPES)
    counts = member_counts(branches)
    posts = current_posts(branches)
    warnings: list[OrgWarning] = []
    for org in branches.order_by("path"):
        full = counts.get(org.pk, {}).get("full", 0)
        titles = {p.title for p in posts.get(org.pk, [])}
        if full < 3:
            warnings.append(OrgWarning(org, "too_few", f"正式党员仅 {full} 人，少于 3 人"))
        if full >= 7 and not titles.intersection(COMMITTEE_TITLES):
            warnings.append(
                OrgWarning(org, "no_committee", f"正式党员 {full} 人，应设立支部委员会而未设")
            )
        if PostTitle.SECRETARY not in titles:
            warnings.append(OrgWarning(org, "no_secretary", "未配备书记"))
    return warnings


def subtree(org: Organization, *, include_dissolved: bool = True) -> QuerySet[Organization]:
    qs = Organization.objects.filter(path__startswith=org.path)
    if not include_dissolved:
        qs = qs.filter(status=OrgStatus.ACTIVE)
    return qs


def tree_rows(orgs: QuerySet[Organization]) -> list[dict[str, Any]]:
    """The visible organizations in tree order (siblings by 排序 then code) with their direct
    and subtree member counts."""
    org_list = list(orgs)
    counts = member_counts(orgs)
    by_path = {o.path: o for o in org_list}

    def prefixes(org: Organization) -> list[str]:
        parts = org.path.strip("/").split("/")
        return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]

    def sort_key(org: Organization) -> tuple[tuple[int, str], ...]:
        return tuple(
            (by_path[p].sort_order, by_path[p].code) for p in prefixes(org) if p in by_path
        )

    org_list.sort(key=sort_key)
    subtree_members: dict[str, int] = defaultdict(int)
    for org in org_list:
        n = sum(counts.get(org.pk, {}).get(k, 0) for k in ("full", "probationary"))
        for p in prefixes(org):  # this org's members count for itself and every visible ancestor
            if p in by_path:
                subtree_members[p] += n
    base_depth = min((o.depth for o in org_list), default=0)
    return [
        {
            "org": o,
            "indent": o.depth - base_depth,
            "direct": counts.get(o.pk, {}),
            "direct_members": sum(counts.get(o.pk, {}).get(k, 0) for k in ("full", "probationary")),
            "members_total": subtree_members[o.path],
        }
        for o in org_list
    ]


def search_people(people: QuerySet[Person], q: str) -> QuerySet[Person]:
    q = (q or "").strip()
    if not q:
        return people
    cond = Q(name__icontains=q) | Q(staff_no__icontains=q)
    if q.isascii() and q.isalpha():
        cond |= Q(pinyin_initials__startswith=q.lower())
    return people.filter(cond)


def search_organizations(orgs: QuerySet[Organization], q: str) -> QuerySet[Organization]:
    q = (q or "").strip()
    if not q:
        return orgs
    cond = Q(name__icontains=q) | Q(code__icontains=q)
    if q.isascii() and q.isalpha():
        cond |= Q(pinyin_initials__startswith=q.lower())
    return orgs.filter(cond)


def post_rank():  # type: ignore[no-untyped-def]
    """An ORDER BY expression listing posts as their titles are listed (书记 first)."""
    from django.db.models import Case, IntegerField, Value, When

    return Case(
        *[When(title=t.value, then=Value(i)) for i, t in enumerate(PostTitle)],
        output_field=IntegerField(),
    )


def secretary_of(org: Organization) -> Person | None:
    post = (
        Post.objects.filter(organization=org, title=PostTitle.SECRETARY, ended_on__isnull=True)
        .select_related("person")
        .first()
    )
    return post.person if post else None
