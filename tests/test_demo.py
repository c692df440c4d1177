"""``kaoping demo``: the demo agency, its deliberate problems, its accounts, and the command."""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import call_command
from django.core.management.base import CommandError

from kaoping import policy
from kaoping.accounts.models import SEPARATED_ROLES, Role, RoleGrant, User
from kaoping.audit.actions import Action
from kaoping.audit.models import AuditEntry
from kaoping.core import demo as demo_module
from kaoping.core.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, DemoError, build_demo
from kaoping.organizations.models import (
    BRANCH_TYPES,
    CadreLevel,
    Organization,
    OrgStatus,
    OrgType,
    Person,
    PoliticalStatus,
    Post,
    PostTitle,
)
from kaoping.organizations.pinyin import initials
from kaoping.organizations.selectors import organization_warnings
from kaoping.organizations.services import PHONE_RE

pytestmark = pytest.mark.django_db


def fingerprint() -> dict[str, list[Any]]:
    """Everything the demo writes that must not vary between runs, in primary-key order.

    Primary keys are replaced by their rank: on PostgreSQL, sequences keep counting across
    rolled-back tests, so the same build may start from a different key.
    """
    orgs = list(
        Organization.objects.order_by("pk").values_list(
            "pk", "code", "name", "org_type", "path", "status", "founded_on", "dissolved_on"
        )
    )
    rank = {pk: str(i) for i, (pk, *_) in enumerate(orgs)}
    orgs = [
        (code, name, t, "/".join(rank[int(x)] if x else "" for x in path.split("/")), *rest)
        for _, code, name, t, path, *rest in orgs
    ]
    return {
        "orgs": orgs,
        "people": list(
            Person.objects.order_by("pk").values_list(
                "staff_no",
                "name",
                "gender",
                "organization__code",
                "political_status",
                "position",
                "cadre_level",
                "phone",
            )
        ),
        "posts": list(
            Post.objects.order_by("pk").values_list(
                "organization__code", "person__staff_no", "title", "started_on", "ended_on"
            )
        ),
        "users": list(
            User.objects.order_by("pk").values_list("username", "full_name", "person__staff_no")
        ),
    }


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """One build for the whole module (committed), flushed away afterwards."""
    with django_db_blocker.unblock():
        assert demo_module.existing_data() is None
        summary = build_demo()
        yield summary, fingerprint()
        call_command("flush", interactive=False, verbosity=0)


def test_counts_are_those_of_a_realistic_agency(demo):
    summary, _ = demo
    types = Counter(Organization.objects.values_list("org_type", flat=True))
    assert types[OrgType.AGENCY_COMMITTEE] == 1
    assert 5 <= types[OrgType.GENERAL_BRANCH] <= 8
    assert 35 <= types[OrgType.BRANCH] + types[OrgType.TEMPORARY_BRANCH] <= 45
    assert types[OrgType.TEMPORARY_BRANCH] == 1
    people = list(Person.objects.all())
    assert 750 <= len(people) <= 850
    status = Counter(p.political_status for p in people)
    assert 0.80 <= status[PoliticalStatus.FULL_MEMBER] / len(people) <= 0.90
    assert 0.03 <= status[PoliticalStatus.PROBATIONARY] / len(people) <= 0.08
    assert 0.07 <= status[PoliticalStatus.MASSES] / len(people) <= 0.13
    levels = Counter(p.cadre_level for p in people if p.is_leading_cadre)
    assert 3 <= levels[CadreLevel.BUREAU] <= 6
    assert levels[CadreLevel.DIVISION] >= 50
    assert levels[CadreLevel.SECTION] >= 10
    assert summary.counts["人员"] == len(people)
    assert summary.seconds < 30


def test_people_have_unique_names_numbers_and_valid_phones(demo):
    people = list(Person.objects.select_related("organization"))
    assert len({p.name for p in people}) == len(people)
    assert len({p.staff_no for p in people}) == len(people)
    phones = [p.phone for p in people if p.phone]
    assert len(phones) >= 0.9 * len(people)
    assert len(set(phones)) == len(phones)
    assert all(PHONE_RE.match(ph) and len(ph) == 11 for ph in phones)
    assert all(p.pinyin_initials == initials(p.name) for p in people)
    assert all(2 <= len(p.name) <= 3 for p in people)
    # masses sit in the branch of their own department
    for p in people:
        assert p.organization is not None and p.organization.is_active
        if p.political_status == PoliticalStatus.MASSES:
            assert p.organization.business_department == p.business_department
    assert {p.gender for p in people} == {"M", "F"}


def test_tree_paths_and_pinyin(demo):
    orgs = {o.pk: o for o in Organization.objects.all()}
    for org in orgs.values():
        parent_path = orgs[org.parent_id].path if org.parent_id else "/"
        assert org.path == f"{parent_path}{org.pk:08d}/"
        assert org.depth == org.path.count("/") - 2
        assert org.pinyin_initials == initials(org.name)
        if org.org_type in BRANCH_TYPES:
            assert org.business_department
    # paths sort in tree order: every organization comes right after its parent's subtree start
    ordered = list(Organization.objects.order_by("path"))
    assert ordered[0].code == "JG"
    assert [o.code for o in ordered if o.org_type == OrgType.GENERAL_BRANCH] == [
        code for code, _, _ in demo_module.GENERAL_BRANCHES
    ]


def test_warnings_show_exactly_the_deliberate_problems(demo):
    found = {(w.org.code, w.code) for w in organization_warnings(Organization.objects.all())}
    assert found == {
        (demo_module.TOO_FEW_CODE, "too_few"),
        (demo_module.NO_COMMITTEE_CODE, "no_committee"),
        (demo_module.NO_SECRETARY_CODE, "no_secretary"),
    }
    # the vacancy has a history: a secretary whose post ended
    assert Post.objects.filter(
        organization__code=demo_module.NO_SECRETARY_CODE,
        title=PostTitle.SECRETARY,
        ended_on__isnull=False,
    ).exists()


def test_posts(demo):
    current = Post.objects.filter(ended_on__isnull=True).select_related("person", "organization")
    assert all(p.person.is_party_member for p in current)
    secretaries = Counter(p.organization.org_type for p in current if p.title == "secretary")
    assert secretaries[OrgType.AGENCY_COMMITTEE] == 1
    assert (
        secretaries[OrgType.GENERAL_BRANCH]
        == Organization.objects.filter(org_type=OrgType.GENERAL_BRANCH).count()
    )
    # most branch secretaries are 处级 cadres
    branch_secretaries = [
        p.person for p in current if p.title == "secretary" and p.organization.is_branch
    ]
    division = sum(s.cadre_level == CadreLevel.DIVISION for s in branch_secretaries)
    assert division >= len(branch_secretaries) / 2
    committee = {p.organization_id for p in current if p.title == PostTitle.ORGANIZATION}
    assert len(committee) >= 20


def test_dissolved_branch_keeps_its_history(demo):
    org = Organization.objects.get(code=demo_module.DISSOLVED.code)
    assert org.status == OrgStatus.DISSOLVED
    assert org.dissolved_on == demo_module.DISSOLVED_ON
    assert not org.people.exists()
    posts = list(org.posts.all())
    assert posts and all(p.ended_on == demo_module.DISSOLVED_ON for p in posts)
    # its former members are now in the branch it merged into
    assert {p.person.organization.code for p in posts} == {demo_module.DISSOLVED_INTO}


def test_one_demo_account_per_role(demo):
    assert User.objects.count() == len(DEMO_ACCOUNTS)
    assert {role for _, role, _, _ in DEMO_ACCOUNTS} == set(Role)
    for username, role, scope, _ in DEMO_ACCOUNTS:
        user = User.objects.get(username=username)
        grants = list(user.grants.values_list("role", "organization__code"))
        assert grants == [(role, scope)], username
        assert not user.must_change_password
        assert not user.is_superuser and not user.is_staff
        assert check_password(DEMO_PASSWORD, user.password)
        assert user.full_name
    holders = RoleGrant.objects.filter(role__in=SEPARATED_ROLES).values_list("user_id", flat=True)
    assert len(set(holders)) == 3
    for username in ("organizer", "organizer2", "reviewer", "submitter", "leader", "member"):
        user = User.objects.get(username=username)
        assert user.person is not None and user.full_name == user.person.name


def test_demo_accounts_see_their_scope(demo):
    organizer2 = User.objects.get(username="organizer2")
    visible = set(policy.visible_organizations(organizer2).values_list("code", flat=True))
    zz06 = Organization.objects.get(code="ZZ06")
    assert visible == set(
        Organization.objects.filter(path__startswith=zz06.path).values_list("code", flat=True)
    )
    member = User.objects.get(username="member")
    assert set(policy.visible_organizations(member)) == {member.person.organization}
    submitter = User.objects.get(username="submitter")
    assert policy.has_role(submitter, Role.SUBMITTER)
    assert not policy.has_perm(submitter, policy.Perm.ORG_MANAGE)


def _remove_later_steps() -> None:
    """Data of later demo steps (campaigns, their inputs, indicator systems) that protects
    accounts and organizations from deletion."""
    from kaoping.campaigns.models import Campaign
    from kaoping.collection.models import DailyRecord, Evidence, EvidenceFile
    from kaoping.indicators.models import Scheme, SchemeVersion

    Campaign.objects.all().delete()
    DailyRecord.objects.all().delete()
    Evidence.objects.all().delete()
    EvidenceFile.objects.all().delete()
    SchemeVersion.objects.all().delete()
    Scheme.objects.all().delete()


def test_one_audit_entry_for_the_build(demo):
    # Later steps set up through audited services (as the demo accounts); the build itself is
    # one entry.
    entries = [e for e in AuditEntry.objects.all() if e.data.get("source") == "demo"]
    assert len(entries) == 1
    assert entries[0].action == Action.IMPORT
    assert entries[0].data["source"] == "demo"
    assert entries[0].data["counts"]["人员"] == Person.objects.count()


def test_logins_lists_every_demo_account(demo):
    out = io.StringIO()
    call_command("demo", "--logins", stdout=out)
    text = out.getvalue()
    assert DEMO_PASSWORD in text
    for username, role, _, _ in DEMO_ACCOUNTS:
        line = next(line for line in text.splitlines() if line.split()[:1] == [username])
        assert role.label in line
    assert "机关党委及下级" in text


def test_logins_marks_changed_passwords(demo):
    user = User.objects.get(username="leader")
    user.set_password("Another-pass-2024")
    user.save()
    out = io.StringIO()
    call_command("demo", "--logins", stdout=out)
    leader_line = next(line for line in out.getvalue().splitlines() if "leader" in line)
    assert "（已修改）" in leader_line and DEMO_PASSWORD not in leader_line


def test_logins_without_demo_accounts(demo):
    _remove_later_steps()
    User.objects.all().delete()
    out = io.StringIO()
    call_command("demo", "--logins", stdout=out)
    assert out.getvalue().strip() == "当前数据库没有演示账号。"


def test_running_demo_again_refuses_and_changes_nothing(demo):
    before = Person.objects.count(), Organization.objects.count(), AuditEntry.objects.count()
    with pytest.raises(CommandError, match="已有 .* 个党组织.*未做任何修改"):
        call_command("demo", stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(DemoError):
        build_demo()
    assert (Person.objects.count(), Organization.objects.count(), AuditEntry.objects.count()) == (
        before
    )


def test_refuses_when_only_people_or_demo_usernames_exist(demo):
    # Checked on the live database: refuse for people without organizations too.
    _remove_later_steps()
    Post.objects.all().delete()
    RoleGrant.objects.all().delete()
    Person.objects.update(organization=None)
    for depth in (2, 1, 0):
        Organization.objects.filter(depth=depth).delete()
    assert demo_module.existing_data() == f"数据库中已有 {Person.objects.count()} 名人员"
    User.objects.update(person=None)
    Person.objects.all().delete()
    assert demo_module.existing_data().startswith("数据库中已有账号 sysadmin")


def test_rebuild_in_an_empty_database_is_identical(demo):
    _, first = demo
    call_command("flush", interactive=False, verbosity=0)
    out = io.StringIO()
    call_command("demo", stdout=out, verbosity=1, stderr=io.StringIO())
    assert fingerprint() == first
    text = out.getvalue()
    assert "演示数据已生成" in text and "sysadmin" in text and DEMO_PASSWORD in text


def test_later_capabilities_can_add_steps(monkeypatch):
    monkeypatch.setattr(demo_module, "STEPS", list(demo_module.STEPS))

    @demo_module.register_step("考核活动")
    def campaigns(ctx):
        ctx.summary.counts["考核活动"] = 1

    @demo_module.register_step("指标体系", before="考核活动")
    def schemes(ctx):
        pass

    labels = [label for label, _ in demo_module.steps()]
    assert labels[:2] == ["党组织", "人员"]
    assert labels[-2:] == ["指标体系", "考核活动"]
