"""Account pages, login/logout/lockout, session expiry, and who may do what."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from kaoping.accounts.models import Role, RoleGrant, User
from kaoping.audit.actions import Action
from kaoping.audit.models import AuditEntry
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


@pytest.fixture
def auditor(db):
    user = UserFactory(username="auditor", full_name="审计管理员丙")
    grant(user, Role.AUDIT_ADMIN)
    return user


@pytest.fixture
def superuser(db):
    """Django's superuser flag without any role grant: nothing in the product."""
    return UserFactory(username="root", is_superuser=True, is_staff=True)


def login_post(client, username, password=PASSWORD, **extra):
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password}, **extra
    )


# --- who may see what -------------------------------------------------------------------


@pytest.mark.parametrize("who", ["sysadmin", "secadmin"])
def test_user_list_visible_to_both_admins(client, request, who, norole):
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("accounts:users"))
    assert response.status_code == 200
    assert "norole" in response.content.decode()


@pytest.mark.parametrize("who", ["auditor", "organizer", "member", "norole", "superuser"])
def test_user_list_forbidden_to_others(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("accounts:users")).status_code == 403


def test_permission_denial_is_audited(client, norole):
    client.force_login(norole)
    response = client.get(reverse("accounts:users"), REMOTE_ADDR="10.9.8.7")
    assert response.status_code == 403
    entry = AuditEntry.objects.get(action=Action.PERMISSION_DENIED)
    assert entry.actor_id == norole.pk
    assert entry.object_repr == "/accounts/users/"
    assert entry.ip == "10.9.8.7"


def test_superuser_gets_nothing(client, superuser):
    client.force_login(superuser)
    for name in ("accounts:users", "accounts:user_create", "accounts:security_settings"):
        assert client.get(reverse(name)).status_code == 403
    assert client.get(reverse("audit:log")).status_code == 403


ANONYMOUS_URLS = [
    ("accounts:users", {}),
    ("accounts:user_create", {}),
    ("accounts:user_detail", {"pk": 1}),
    ("accounts:user_edit", {"pk": 1}),
    ("accounts:security_settings", {}),
    ("accounts:person_picker", {}),
    ("accounts:org_picker", {}),
]
ANONYMOUS_POSTS = [
    ("accounts:user_reset_password", {"pk": 1}),
    ("accounts:user_set_active", {"pk": 1}),
    ("accounts:user_unlock", {"pk": 1}),
    ("accounts:role_grant", {"pk": 1}),
    ("accounts:role_revoke", {"pk": 1}),
]


@pytest.mark.parametrize(("name", "kwargs"), ANONYMOUS_URLS)
def test_anonymous_get_redirects_to_login(client, name, kwargs):
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(("name", "kwargs"), ANONYMOUS_POSTS)
def test_anonymous_post_redirects_to_login(client, name, kwargs):
    response = client.post(reverse(name, kwargs=kwargs))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_user_list_search_and_roles(client, sysadmin, organizer, norole):
    client.force_login(sysadmin)
    body = client.get(reverse("accounts:users"), {"q": "组织部"}).content.decode()
    assert "organizer" in body and "考核管理员（机关党委）" in body
    assert "norole" not in body
    htmx = client.get(reverse("accounts:users"), {"q": "norole"}, HTTP_HX_REQUEST="true")
    assert "<html" not in htmx.content.decode() and "norole" in htmx.content.decode()


def test_user_list_paginates(client, sysadmin):
    for i in range(35):
        UserFactory(username=f"bulk{i:02d}")
    client.force_login(sysadmin)
    body = client.get(reverse("accounts:users"), {"q": "bulk"}).content.decode()
    assert "第 1 / 2 页" in body
    body2 = client.get(reverse("accounts:users"), {"q": "bulk", "page": 2}).content.decode()
    assert "bulk34" in body2 and "bulk00" not in body2


# --- system administrator: accounts -------------------------------------------------------


def test_create_user_shows_initial_password_once(client, sysadmin, tree):
    person = PersonFactory(name="孙八", organization=tree["a2"])
    client.force_login(sysadmin)
    assert client.get(reverse("accounts:user_create")).status_code == 200
    response = client.post(
        reverse("accounts:user_create"),
        {"username": "sunba", "full_name": "孙八", "person": person.pk},
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    user = User.objects.get(username="sunba")
    password = response.context["password"]
    assert user.check_password(password) and user.must_change_password
    assert user.person == person
    assert password in response.content.decode()
    entry = AuditEntry.objects.get(action=Action.USER_CREATE)
    assert password not in str(entry.changes)


def test_create_user_errors_in_chinese(client, sysadmin, norole):
    client.force_login(sysadmin)
    response = client.post(
        reverse("accounts:user_create"), {"username": "norole", "full_name": "重复"}
    )
    assert response.status_code == 200
    assert "已存在" in response.content.decode()


@pytest.mark.parametrize("who", ["secadmin", "auditor", "organizer", "norole"])
def test_create_user_forbidden_to_others(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("accounts:user_create")).status_code == 403
    response = client.post(reverse("accounts:user_create"), {"username": "x", "full_name": "某"})
    assert response.status_code == 403
    assert not User.objects.filter(username="x").exists()


def test_user_detail(client, sysadmin, secadmin, organizer):
    url = reverse("accounts:user_detail", args=[organizer.pk])
    for who in (sysadmin, secadmin):
        client.force_login(who)
        response = client.get(url)
        assert response.status_code == 200
        assert "考核管理员" in response.content.decode()
    assert client.get(reverse("accounts:user_detail", args=[99999])).status_code == 404
    client.force_login(organizer)
    assert client.get(url).status_code == 403


def test_edit_user_links_person(client, sysadmin, norole, tree):
    person = PersonFactory(name="周九", organization=tree["b1"])
    client.force_login(sysadmin)
    url = reverse("accounts:user_edit", args=[norole.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"full_name": "周九", "person": person.pk})
    assert response.status_code == 302
    norole.refresh_from_db()
    assert norole.full_name == "周九" and norole.person == person
    entry = AuditEntry.objects.get(action=Action.USER_UPDATE)
    assert entry.changes["姓名"] == ["无角色", "周九"]
    # Unlink.
    client.post(url, {"full_name": "周九", "person": ""})
    norole.refresh_from_db()
    assert norole.person is None


def test_edit_forbidden_to_security_admin(client, secadmin, norole):
    client.force_login(secadmin)
    url = reverse("accounts:user_edit", args=[norole.pk])
    assert client.post(url, {"full_name": "改名"}).status_code == 403
    norole.refresh_from_db()
    assert norole.full_name == "无角色"


def test_reset_password_view(client, sysadmin, norole):
    client.force_login(sysadmin)
    response = client.post(reverse("accounts:user_reset_password", args=[norole.pk]))
    assert response.status_code == 200
    norole.refresh_from_db()
    assert norole.check_password(response.context["password"])
    assert norole.must_change_password
    assert AuditEntry.objects.filter(action=Action.USER_RESET_PASSWORD).count() == 1
    # GET is not allowed (a link must not reset a password).
    assert client.get(reverse("accounts:user_reset_password", args=[norole.pk])).status_code == 405


def test_reset_password_forbidden_to_security_admin(client, secadmin, norole):
    client.force_login(secadmin)
    url = reverse("accounts:user_reset_password", args=[norole.pk])
    assert client.post(url).status_code == 403


def test_disable_account_ends_its_session_and_blocks_login(client, sysadmin, norole):
    other = client.__class__()
    other.force_login(norole)
    assert other.get(reverse("core:home")).status_code == 200
    client.force_login(sysadmin)
    response = client.post(reverse("accounts:user_set_active", args=[norole.pk]), {"active": "0"})
    assert response.status_code == 302
    norole.refresh_from_db()
    assert not norole.is_active
    assert other.get(reverse("core:home")).status_code == 302  # logged out
    response = login_post(client.__class__(), "norole")
    assert response.status_code == 200
    assert "停用" in response.content.decode() or "错误" in response.content.decode()
    client.post(reverse("accounts:user_set_active", args=[norole.pk]), {"active": "1"})
    norole.refresh_from_db()
    assert norole.is_active
    assert list(
        AuditEntry.objects.filter(action__startswith="user.")
        .values_list("action", flat=True)
        .order_by("id")
    ) == [Action.USER_DISABLE, Action.USER_ENABLE]


# --- security administrator: roles, unlock, settings -------------------------------------


def test_grant_and_revoke_roles(client, secadmin, norole, tree):
    client.force_login(secadmin)
    url = reverse("accounts:role_grant", args=[norole.pk])
    response = client.post(url, {"role": Role.LEADER, "organization": tree["a"].pk})
    assert response.status_code == 302
    g = RoleGrant.objects.get(user=norole)
    assert (g.role, g.organization, g.granted_by) == (Role.LEADER, tree["a"], secadmin)
    response = client.post(reverse("accounts:role_revoke", args=[g.pk]))
    assert response.status_code == 302
    assert not RoleGrant.objects.filter(user=norole).exists()
    actions = AuditEntry.objects.filter(action__startswith="role.").order_by("id")
    assert list(actions.values_list("action", flat=True)) == [
        Action.ROLE_GRANT,
        Action.ROLE_REVOKE,
    ]


def test_grant_separation_refused_with_clear_message(client, secadmin, sysadmin):
    client.force_login(secadmin)
    url = reverse("accounts:role_grant", args=[sysadmin.pk])
    response = client.post(url, {"role": Role.AUDIT_ADMIN, "organization": ""}, follow=True)
    body = response.content.decode()
    assert "三员分立" in body and "不能再授予审计管理员" in body
    assert list(sysadmin.grants.values_list("role", flat=True)) == ["system_admin"]


def test_grant_scoped_role_without_organization_shows_error(client, secadmin, norole):
    client.force_login(secadmin)
    url = reverse("accounts:role_grant", args=[norole.pk])
    response = client.post(url, {"role": Role.SUBMITTER}, follow=True)
    assert "须指定适用的党组织" in response.content.decode()
    assert not norole.grants.exists()


@pytest.mark.parametrize("who", ["sysadmin", "auditor", "organizer", "norole"])
def test_grant_forbidden_to_others(client, request, who, member):
    client.force_login(request.getfixturevalue(who))
    url = reverse("accounts:role_grant", args=[member.pk])
    assert client.post(url, {"role": Role.SYSTEM_ADMIN}).status_code == 403
    g = member.grants.get()
    assert client.post(reverse("accounts:role_revoke", args=[g.pk])).status_code == 403
    assert member.grants.count() == 1


def test_security_admin_cannot_grant_to_self(client, secadmin):
    client.force_login(secadmin)
    url = reverse("accounts:role_grant", args=[secadmin.pk])
    response = client.post(url, {"role": Role.MEMBER}, follow=True)
    assert "不能给自己" in response.content.decode()
    assert secadmin.grants.count() == 1


def test_security_settings_page(client, secadmin, settings):
    settings.AXES_FAILURE_LIMIT = 7
    settings.SESSION_COOKIE_AGE = 20 * 60
    client.force_login(secadmin)
    body = client.get(reverse("accounts:security_settings")).content.decode()
    assert "连续失败 7 次" in body
    assert "20 分钟" in body
    assert "至少 10 位" in body


@pytest.mark.parametrize("who", ["sysadmin", "auditor", "norole"])
def test_security_settings_forbidden_to_others(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("accounts:security_settings")).status_code == 403


def test_person_picker(client, sysadmin, secadmin, tree):
    PersonFactory(name="吴十一", staff_no="W0011", organization=tree["a1"])
    client.force_login(sysadmin)
    body = client.get(reverse("accounts:person_picker"), {"q": "吴十"}).content.decode()
    assert "吴十一" in body and 'name="person"' in body
    body = client.get(reverse("accounts:person_picker"), {"q": "wsy"}).content.decode()
    assert "吴十一" in body
    client.force_login(secadmin)
    assert client.get(reverse("accounts:person_picker"), {"q": "吴"}).status_code == 403


def test_org_picker(client, secadmin, sysadmin, tree):
    client.force_login(secadmin)
    body = client.get(reverse("accounts:org_picker"), {"q": "财务"}).content.decode()
    assert "财务处党支部" in body and f'value="{tree["a2"].pk}"' in body
    client.force_login(sysadmin)
    assert client.get(reverse("accounts:org_picker"), {"q": "财务"}).status_code == 403


# --- login, logout, failures, lockout -----------------------------------------------------


def test_login_and_logout_are_audited_with_ip(client, norole):
    response = login_post(client, "norole", REMOTE_ADDR="192.168.3.4")
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action=Action.LOGIN)
    assert (entry.actor_id, entry.ip) == (norole.pk, "192.168.3.4")
    client.post(reverse("accounts:logout"), REMOTE_ADDR="192.168.3.4")
    entry = AuditEntry.objects.get(action=Action.LOGOUT)
    assert (entry.actor_name, entry.ip) == ("norole", "192.168.3.4")


def test_failed_login_records_username_and_ip(client, norole):
    response = login_post(client, "norole", "wrong-password", REMOTE_ADDR="172.16.0.5")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()
    entry = AuditEntry.objects.get(action=Action.LOGIN_FAILED)
    assert entry.actor_name == "norole"
    assert entry.object_repr == "norole"
    assert entry.object_id == str(norole.pk)
    assert entry.ip == "172.16.0.5"
    assert "wrong-password" not in f"{entry.changes} {entry.data}"
    # An unknown username is recorded too.
    login_post(client, "ghost", "x", REMOTE_ADDR="172.16.0.6")
    ghost = AuditEntry.objects.filter(action=Action.LOGIN_FAILED).order_by("-id").first()
    assert (ghost.actor_name, ghost.ip, ghost.object_id) == ("ghost", "172.16.0.6", "")


def test_lockout_after_failure_limit_and_unlock(client, settings, norole, secadmin):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit):
        login_post(client, "norole", "wrong-password")
    # Even the right password is refused now.
    response = login_post(client, "norole")
    assert response.status_code == 429
    assert "锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session
    failed = AuditEntry.objects.filter(action=Action.LOGIN_FAILED)
    assert failed.count() == limit + 1
    assert failed.order_by("-id").first().data == {"locked": True}

    admin = client.__class__()
    admin.force_login(secadmin)
    detail = admin.get(reverse("accounts:user_detail", args=[norole.pk])).content.decode()
    assert "登录已锁定" in detail
    settings_page = admin.get(reverse("accounts:security_settings")).content.decode()
    assert "norole" in settings_page
    response = admin.post(reverse("accounts:user_unlock", args=[norole.pk]))
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action=Action.USER_UNLOCK, actor_id=secadmin.pk).exists()

    response = login_post(client, "norole")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(norole.pk)


def test_unlock_forbidden_to_system_admin(client, sysadmin, norole):
    client.force_login(sysadmin)
    assert client.post(reverse("accounts:user_unlock", args=[norole.pk])).status_code == 403


def test_idle_session_expires(client, settings, norole):
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert 0 < settings.SESSION_COOKIE_AGE <= 2 * 3600
    login_post(client, "norole")
    assert client.get(reverse("core:home")).status_code == 200
    key = client.session.session_key
    session = Session.objects.get(session_key=key)
    remaining = (session.expire_date - timezone.now()).total_seconds()
    assert abs(remaining - settings.SESSION_COOKIE_AGE) < 60
    # Each request renews the session ...
    Session.objects.filter(pk=key).update(expire_date=timezone.now() + dt.timedelta(seconds=30))
    client.get(reverse("core:home"))
    renewed = Session.objects.get(session_key=key).expire_date
    assert (renewed - timezone.now()).total_seconds() > settings.SESSION_COOKIE_AGE - 60
    # ... and an idle one lapses.
    Session.objects.filter(pk=key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    response = client.get(reverse("core:home"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_must_change_password_redirects_until_changed(client, sysadmin, norole):
    from kaoping.accounts import services

    password = services.reset_password(actor=sysadmin, user=norole)
    response = login_post(client, "norole", password)
    assert response.status_code == 302
    response = client.get(reverse("core:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_change")
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": password,
            "new_password1": "Xin-mima-2025!",
            "new_password2": "Xin-mima-2025!",
        },
    )
    assert response.status_code == 302
    norole.refresh_from_db()
    assert not norole.must_change_password
    assert client.get(reverse("core:home")).status_code == 200
    assert AuditEntry.objects.filter(action=Action.PASSWORD_CHANGE, actor_id=norole.pk).exists()
