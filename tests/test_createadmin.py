"""``kaoping createadmin``: the first administrators of a fresh install, one account each."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kaoping.accounts.models import Role, RoleGrant, User
from kaoping.audit.actions import Action
from kaoping.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

GOOD = "Anquan-mima-2024"


def run(*args: str, **kwargs) -> str:
    out = StringIO()
    call_command("createadmin", *args, stdout=out, stderr=StringIO(), **kwargs)
    return out.getvalue()


def test_fresh_install_has_no_accounts():
    assert User.objects.count() == 0
    assert RoleGrant.objects.count() == 0


def test_scripted_install_creates_the_three_admins(monkeypatch):
    monkeypatch.setenv("KAOPING_ADMIN_PASSWORD", GOOD)
    out = run("--username", "sysadmin", "--full-name", "张系统")
    assert "已创建系统管理员账号" in out
    assert "三员分立" in out
    assert "kaoping createadmin --role security_admin" in out
    assert "kaoping createadmin --role audit_admin" in out

    sysadmin = User.objects.get(username="sysadmin")
    assert sysadmin.full_name == "张系统"
    assert sysadmin.check_password(GOOD)
    assert not sysadmin.must_change_password  # the installer chose the password
    assert not sysadmin.is_superuser and not sysadmin.is_staff
    assert list(sysadmin.grants.values_list("role", flat=True)) == [Role.SYSTEM_ADMIN]

    run("--username", "secadmin", "--full-name", "李安全", "--role", "security_admin")
    out = run("--username", "auditor", "--full-name", "王审计", "--role", "audit_admin")
    assert "尚无" not in out
    roles = dict(RoleGrant.objects.values_list("user__username", "role"))
    assert roles == {
        "sysadmin": Role.SYSTEM_ADMIN,
        "secadmin": Role.SECURITY_ADMIN,
        "auditor": Role.AUDIT_ADMIN,
    }


def test_creation_is_audited_without_password(monkeypatch):
    monkeypatch.setenv("KAOPING_ADMIN_PASSWORD", GOOD)
    run("--username", "sysadmin", "--full-name", "张系统")
    actions = list(AuditEntry.objects.order_by("id").values_list("action", "actor_name"))
    assert actions == [(Action.USER_CREATE, "系统"), (Action.ROLE_GRANT, "系统")]
    for entry in AuditEntry.objects.all():
        assert GOOD not in f"{entry.changes} {entry.data} {entry.object_repr}"


def test_refuses_existing_username(monkeypatch):
    monkeypatch.setenv("KAOPING_ADMIN_PASSWORD", GOOD)
    run("--username", "sysadmin", "--full-name", "张系统")
    with pytest.raises(CommandError, match="已存在"):
        run("--username", "SYSADMIN", "--full-name", "别人", "--role", "audit_admin")
    assert User.objects.count() == 1
    assert RoleGrant.objects.count() == 1


def test_scripted_install_validates_password(monkeypatch):
    monkeypatch.setenv("KAOPING_ADMIN_PASSWORD", "12345678")
    with pytest.raises(CommandError, match="密码不符合要求"):
        run("--username", "sysadmin", "--full-name", "张系统")
    assert User.objects.count() == 0


def test_no_input_needs_everything(monkeypatch):
    monkeypatch.delenv("KAOPING_ADMIN_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="KAOPING_ADMIN_PASSWORD"):
        run("--username", "sysadmin", "--full-name", "张系统", "--no-input")


def test_unknown_role_refused(monkeypatch):
    monkeypatch.setenv("KAOPING_ADMIN_PASSWORD", GOOD)
    with pytest.raises(CommandError):
        run("--username", "x", "--full-name", "某", "--role", "assessment_admin")


def test_interactive(monkeypatch):
    monkeypatch.delenv("KAOPING_ADMIN_PASSWORD", raising=False)
    answers = iter(["", "secadmin", "李安全"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    # A mismatch, then a password the validators refuse, then a good one.
    passwords = iter(["Aa-123456789", "Bb-123456789", "1234567890", "1234567890", GOOD, GOOD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(passwords))
    err = StringIO()
    out = StringIO()
    call_command("createadmin", "--role", "security_admin", stdout=out, stderr=err)
    assert "不一致" in err.getvalue()
    assert "密码不符合要求" in err.getvalue()
    assert "用户名不能为空" in err.getvalue()
    user = User.objects.get(username="secadmin")
    assert user.full_name == "李安全" and user.check_password(GOOD)
    assert list(user.grants.values_list("role", flat=True)) == [Role.SECURITY_ADMIN]
    assert "尚无系统管理员" in out.getvalue()


def test_interactive_refuses_existing_username_before_asking_password(monkeypatch):
    monkeypatch.setenv("KAOPING_ADMIN_PASSWORD", GOOD)
    run("--username", "sysadmin", "--full-name", "张系统")
    monkeypatch.delenv("KAOPING_ADMIN_PASSWORD")
    monkeypatch.setattr("builtins.input", lambda prompt="": "sysadmin")

    def no_password(prompt=""):
        raise AssertionError("should not ask for a password")

    monkeypatch.setattr("getpass.getpass", no_password)
    with pytest.raises(CommandError, match="已存在"):
        run("--role", "audit_admin")


def test_interactive_cancel(monkeypatch):
    monkeypatch.delenv("KAOPING_ADMIN_PASSWORD", raising=False)

    def eof(prompt=""):
        raise EOFError

    monkeypatch.setattr("builtins.input", eof)
    with pytest.raises(CommandError, match="已取消"):
        run()
    assert User.objects.count() == 0
