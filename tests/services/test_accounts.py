"""Account and role services: rules (三员分立, scopes), audit entries with before/after."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from kaoping import policy
from kaoping.accounts import selectors, services
from kaoping.accounts.models import Role, RoleGrant, User
from kaoping.audit.actions import Action
from kaoping.audit.models import AuditEntry
from kaoping.organizations.models import Organization, OrgStatus
from kaoping.policy import Perm
from tests.factories import PASSWORD, PersonFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def sysadmin(db):
    user = UserFactory(username="sysadmin", full_name="系统管理员甲")
    grant(user, Role.SYSTEM_ADMIN)
    return user


@pytest.fixture
def secadmin(db):
    user = UserFactory(username="secadmin", full_name="安全管理员乙")
    grant(user, Role.SECURITY_ADMIN)
    return user


def last_entry(action: Action) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).order_by("-id").first()


def no_password_in_log(*passwords: str) -> None:
    for entry in AuditEntry.objects.all():
        text = f"{entry.changes} {entry.data} {entry.object_repr}"
        for pw in passwords:
            assert pw not in text


# --- create / update / disable / reset ------------------------------------------------------


def test_create_user_generates_strong_password_and_audits(sysadmin):
    user, password = services.create_user(actor=sysadmin, username="zhang", full_name="张三")
    assert user.must_change_password is True
    assert user.check_password(password)
    assert len(password) >= 12
    assert any(c.isupper() for c in password) and any(c.isdigit() for c in password)
    assert not user.grants.exists()
    entry = last_entry(Action.USER_CREATE)
    assert entry.actor_name == "sysadmin"
    assert entry.object_id == str(user.pk)
    assert entry.changes["用户名"] == [None, "zhang"]
    assert entry.changes["姓名"] == [None, "张三"]
    no_password_in_log(password)


def test_create_user_with_given_password_is_validated(sysadmin):
    with pytest.raises(ValidationError) as exc:
        services.create_user(actor=sysadmin, username="li", full_name="李四", password="123")
    assert "password" in exc.value.message_dict
    user, pw = services.create_user(
        actor=sysadmin, username="li", full_name="李四", password="Qiang-mima-2024"
    )
    assert pw == "Qiang-mima-2024" and user.check_password(pw)


def test_create_user_refuses_duplicate_username_case_insensitive(sysadmin):
    services.create_user(actor=sysadmin, username="wang", full_name="王五")
    with pytest.raises(ValidationError) as exc:
        services.create_user(actor=sysadmin, username="WANG", full_name="王五")
    assert "已存在" in exc.value.message_dict["username"][0]


def test_create_user_requires_user_manage(secadmin, norole):
    for actor in (secadmin, norole):
        with pytest.raises(PermissionDenied):
            services.create_user(actor=actor, username="x1", full_name="某")


def test_person_links_to_one_account_only(sysadmin, tree):
    person = PersonFactory(name="赵六", organization=tree["a1"])
    services.create_user(actor=sysadmin, username="zhao", full_name="赵六", person=person)
    with pytest.raises(ValidationError) as exc:
        services.create_user(actor=sysadmin, username="zhao2", full_name="赵六", person=person)
    assert "已关联账号" in exc.value.message_dict["person"][0]


def test_update_user_audits_before_and_after(sysadmin, tree):
    user, _ = services.create_user(actor=sysadmin, username="qian", full_name="钱七")
    person = PersonFactory(name="钱七", organization=tree["b1"])
    services.update_user(actor=sysadmin, user=user, full_name="钱七七", person=person)
    user.refresh_from_db()
    assert user.full_name == "钱七七" and user.person == person
    entry = last_entry(Action.USER_UPDATE)
    assert entry.changes["姓名"] == ["钱七", "钱七七"]
    assert entry.changes["对应人员"] == [None, str(person)]
    # No change, no entry.
    before = AuditEntry.objects.count()
    services.update_user(actor=sysadmin, user=user, full_name="钱七七")
    assert AuditEntry.objects.count() == before


def test_set_active_disables_and_enables_never_deletes(sysadmin, norole):
    services.set_active(actor=sysadmin, user=norole, active=False)
    norole.refresh_from_db()
    assert norole.is_active is False
    assert last_entry(Action.USER_DISABLE).changes["状态"] == ["正常", "停用"]
    services.set_active(actor=sysadmin, user=norole, active=True)
    norole.refresh_from_db()
    assert norole.is_active is True
    assert last_entry(Action.USER_ENABLE).changes["状态"] == ["停用", "正常"]


def test_cannot_disable_own_account(sysadmin):
    with pytest.raises(ValidationError, match="不能停用自己"):
        services.set_active(actor=sysadmin, user=sysadmin, active=False)


def test_disabled_account_has_no_rights(sysadmin, secadmin):
    assert policy.has_perm(secadmin, Perm.ROLE_GRANT)
    services.set_active(actor=sysadmin, user=secadmin, active=False)
    fresh = User.objects.get(pk=secadmin.pk)
    assert not policy.has_perm(fresh, Perm.ROLE_GRANT)


def test_reset_password(sysadmin, norole):
    password = services.reset_password(actor=sysadmin, user=norole)
    norole.refresh_from_db()
    assert norole.check_password(password)
    assert not norole.check_password(PASSWORD)
    assert norole.must_change_password is True
    entry = last_entry(Action.USER_RESET_PASSWORD)
    assert entry.object_id == str(norole.pk)
    assert entry.changes == {"下次登录须修改密码": ["否", "是"]}
    no_password_in_log(password, PASSWORD)


def test_reset_own_password_refused(sysadmin):
    with pytest.raises(ValidationError):
        services.reset_password(actor=sysadmin, user=sysadmin)


# --- role grants ----------------------------------------------------------------------------


def test_grant_scoped_role_requires_organization(secadmin, norole, tree):
    with pytest.raises(ValidationError) as exc:
        services.grant_role(actor=secadmin, user=norole, role=Role.ASSESSMENT_ADMIN)
    assert "须指定" in exc.value.message_dict["organization"][0]
    g = services.grant_role(
        actor=secadmin, user=norole, role=Role.ASSESSMENT_ADMIN, organization=tree["a"]
    )
    assert g.granted_by == secadmin
    entry = last_entry(Action.ROLE_GRANT)
    assert entry.object_id == str(norole.pk)
    assert entry.changes == {"角色": [None, "考核管理员（第一党总支）"]}
    assert entry.data["role"] == "assessment_admin"


def test_unscoped_roles_take_no_organization(secadmin, norole, tree):
    for role in (Role.SYSTEM_ADMIN, Role.MEMBER):
        with pytest.raises(ValidationError) as exc:
            services.grant_role(actor=secadmin, user=norole, role=role, organization=tree["a"])
        assert "不限定党组织" in exc.value.message_dict["organization"][0]


def test_separation_of_three_admin_roles(secadmin, norole):
    services.grant_role(actor=secadmin, user=norole, role=Role.SYSTEM_ADMIN)
    for role in (Role.SECURITY_ADMIN, Role.AUDIT_ADMIN):
        with pytest.raises(ValidationError) as exc:
            services.grant_role(actor=secadmin, user=norole, role=role)
        message = exc.value.messages[0]
        assert "三员分立" in message and "系统管理员" in message
    assert set(norole.grants.values_list("role", flat=True)) == {"system_admin"}


def test_grant_to_self_refused(secadmin):
    with pytest.raises(ValidationError, match="不能给自己"):
        services.grant_role(actor=secadmin, user=secadmin, role=Role.MEMBER)


def test_only_security_admin_grants(sysadmin, norole, organizer):
    for actor in (sysadmin, organizer):
        with pytest.raises(PermissionDenied):
            services.grant_role(actor=actor, user=norole, role=Role.MEMBER)


def test_duplicate_grant_refused(secadmin, norole, tree):
    services.grant_role(actor=secadmin, user=norole, role=Role.LEADER, organization=tree["a"])
    with pytest.raises(ValidationError, match="已拥有"):
        services.grant_role(actor=secadmin, user=norole, role=Role.LEADER, organization=tree["a"])
    # The same role on another subtree is a second grant.
    services.grant_role(actor=secadmin, user=norole, role=Role.LEADER, organization=tree["b"])
    assert norole.grants.count() == 2


def test_submitter_is_for_one_organization_of_any_type(secadmin, norole, tree):
    services.grant_role(actor=secadmin, user=norole, role=Role.SUBMITTER, organization=tree["a"])
    with pytest.raises(ValidationError, match="只能为一个党组织填报"):
        services.grant_role(
            actor=secadmin, user=norole, role=Role.SUBMITTER, organization=tree["a1"]
        )


def test_grant_on_dissolved_organization_refused(secadmin, norole, tree):
    Organization.objects.filter(pk=tree["b2"].pk).update(
        status=OrgStatus.DISSOLVED, dissolved_on=dt.date(2024, 1, 1)
    )
    tree["b2"].refresh_from_db()
    with pytest.raises(ValidationError, match="已撤销"):
        services.grant_role(
            actor=secadmin, user=norole, role=Role.REVIEWER, organization=tree["b2"]
        )


def test_grant_to_disabled_account_refused(secadmin, sysadmin, norole):
    services.set_active(actor=sysadmin, user=norole, active=False)
    with pytest.raises(ValidationError, match="已停用"):
        services.grant_role(actor=secadmin, user=norole, role=Role.MEMBER)


def test_revoke_role_audits(secadmin, norole, tree):
    g = services.grant_role(
        actor=secadmin, user=norole, role=Role.REVIEWER, organization=tree["b1"]
    )
    services.revoke_role(actor=secadmin, grant=g)
    assert not RoleGrant.objects.filter(pk=g.pk).exists()
    entry = last_entry(Action.ROLE_REVOKE)
    assert entry.changes == {"角色": ["评审员（法规处党支部）", None]}
    assert entry.object_id == str(norole.pk)


def test_revoke_own_role_refused(secadmin):
    g = secadmin.grants.get()
    with pytest.raises(ValidationError, match="不能收回自己"):
        services.revoke_role(actor=secadmin, grant=g)


def test_grant_locks_the_account_row(secadmin, norole):
    """The 三员分立 check runs under a row lock on the account (SELECT ... FOR UPDATE)."""
    calls = []
    original = services._lock_user

    def spy(user):
        calls.append(user.pk)
        return original(user)

    services._lock_user = spy
    try:
        with CaptureQueriesContext(connection) as ctx:
            services.grant_role(actor=secadmin, user=norole, role=Role.AUDIT_ADMIN)
    finally:
        services._lock_user = original
    assert calls == [norole.pk]
    if connection.features.has_select_for_update:
        assert any("FOR UPDATE" in q["sql"] for q in ctx.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_concurrent_admin_grants_cannot_both_pass(monkeypatch):
    """Two security admins grant two different admin roles to one account at the same moment:
    one wins, the other is refused. A delay between the check and the insert would let both
    pass without the row lock."""
    sec1 = UserFactory(username="sec1")
    sec2 = UserFactory(username="sec2")
    RoleGrant.objects.create(user=sec1, role=Role.SECURITY_ADMIN)
    RoleGrant.objects.create(user=sec2, role=Role.SECURITY_ADMIN)
    target = UserFactory(username="target")

    original_create = RoleGrant.objects.create

    def slow_create(**kwargs):
        time.sleep(0.3)
        return original_create(**kwargs)

    monkeypatch.setattr(RoleGrant.objects, "create", slow_create)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def run(actor_pk: int, role: Role) -> None:
        try:
            actor = User.objects.get(pk=actor_pk)
            barrier.wait()
            services.grant_role(actor=actor, user=User.objects.get(pk=target.pk), role=role)
            results.append("ok")
        except ValidationError:
            results.append("refused")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(sec1.pk, Role.SYSTEM_ADMIN)),
        threading.Thread(target=run, args=(sec2.pk, Role.AUDIT_ADMIN)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "refused"]
    assert RoleGrant.objects.filter(user=target).count() == 1


# --- unlock ---------------------------------------------------------------------------------


def test_unlock_clears_axes_attempts_and_audits(secadmin, norole, settings):
    from axes.models import AccessAttempt

    AccessAttempt.objects.create(
        username="norole",
        ip_address="10.0.0.9",
        user_agent="test",
        get_data="",
        post_data="",
        http_accept="",
        path_info="/accounts/login/",
        failures_since_start=settings.AXES_FAILURE_LIMIT,
    )
    assert selectors.locked_usernames() == {"norole"}
    count = services.unlock(actor=secadmin, username="norole")
    assert count == 1
    assert selectors.locked_usernames() == set()
    entry = last_entry(Action.USER_UNLOCK)
    assert entry.object_id == str(norole.pk)
    assert entry.changes == {"锁定": [True, False]}


def test_unlock_requires_role_grant(sysadmin):
    with pytest.raises(PermissionDenied):
        services.unlock(actor=sysadmin, username="x")


def test_system_actor_is_named_in_log(db):
    user, _ = services.create_user(actor=None, username="boot", full_name="初始")
    entry = last_entry(Action.USER_CREATE)
    assert entry.actor_id is None and entry.actor_name == "系统"
    assert entry.object_id == str(user.pk)
