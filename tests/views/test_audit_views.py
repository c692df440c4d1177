"""The audit log: only the 审计管理员 reads it; filters; Excel export; append-only."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from kaoping.accounts import services as account_services
from kaoping.accounts.models import Role
from kaoping.audit.actions import Action
from kaoping.audit.models import AppendOnlyError, AuditEntry
from kaoping.audit.services import log_action
from tests.factories import UserFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(db):
    user = UserFactory(username="auditor", full_name="审计管理员丙")
    grant(user, Role.AUDIT_ADMIN)
    return user


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
def history(sysadmin, secadmin):
    """A few real entries: an account created and renamed, a role granted, a failed login."""
    user, _ = account_services.create_user(actor=sysadmin, username="zhang", full_name="张三")
    account_services.update_user(actor=sysadmin, user=user, full_name="张三丰")
    account_services.grant_role(actor=secadmin, user=user, role=Role.MEMBER)
    log_action(
        Action.LOGIN_FAILED,
        actor_name='=HYPERLINK("http://evil")',
        object_type="accounts.user",
        object_repr='=HYPERLINK("http://evil")',
        ip="10.20.30.40",
    )
    return user


# --- access -------------------------------------------------------------------------------


def test_auditor_reads_the_log(client, auditor, history):
    client.force_login(auditor)
    response = client.get(reverse("audit:log"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "创建账号" in body and "修改账号" in body and "授予角色" in body
    assert "张三 → 张三丰" in body
    assert "10.20.30.40" in body


@pytest.mark.parametrize("who", ["sysadmin", "secadmin", "organizer", "member", "norole"])
def test_everyone_else_gets_403(client, request, who):
    client.force_login(request.getfixturevalue(who))
    for name in ("audit:log", "audit:export"):
        assert client.get(reverse(name)).status_code == 403
    assert AuditEntry.objects.filter(action=Action.PERMISSION_DENIED).count() == 2


def test_superuser_without_role_gets_403(client):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(root)
    assert client.get(reverse("audit:log")).status_code == 403
    assert client.get(reverse("audit:export")).status_code == 403


@pytest.mark.parametrize("name", ["audit:log", "audit:export"])
def test_anonymous_redirected_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_detail(client, auditor, history, sysadmin):
    entry = AuditEntry.objects.get(action=Action.USER_UPDATE)
    client.force_login(auditor)
    response = client.get(reverse("audit:detail", args=[entry.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "修改账号" in body and "张三丰" in body and "sysadmin" in body
    assert client.get(reverse("audit:detail", args=[999999])).status_code == 404
    client.force_login(sysadmin)
    assert client.get(reverse("audit:detail", args=[entry.pk])).status_code == 403


# --- filters ------------------------------------------------------------------------------


def listed(client, **params) -> list[str]:
    response = client.get(reverse("audit:log"), params)
    assert response.status_code == 200
    return [e.action for e in response.context["entries"]]


def test_filter_by_action_actor_object_type_ip_and_text(client, auditor, history):
    client.force_login(auditor)
    assert listed(client, action=Action.ROLE_GRANT) == [Action.ROLE_GRANT]
    assert set(listed(client, actor="sysadm")) == {Action.USER_CREATE, Action.USER_UPDATE}
    assert listed(client, ip="10.20.30") == [Action.LOGIN_FAILED]
    assert listed(client, q="张三丰") == [Action.ROLE_GRANT, Action.USER_UPDATE]
    assert listed(client, q="授予") == [Action.ROLE_GRANT]  # Chinese action labels match
    by_type = listed(client, object_type="accounts.user")
    assert Action.USER_CREATE in by_type and Action.LOGIN_FAILED in by_type
    # The action filter offers Chinese labels; object types are labelled too.
    body = client.get(reverse("audit:log")).content.decode()
    assert '<option value="role.grant">授予角色</option>' in body
    assert '<option value="accounts.user">账号</option>' in body


def test_filter_by_date_range(client, auditor, history):
    client.force_login(auditor)
    today = timezone.localdate()
    assert len(listed(client, date_from=today.isoformat(), date_to=today.isoformat())) >= 4
    yesterday = today - dt.timedelta(days=1)
    assert listed(client, date_to=yesterday.isoformat()) == []
    assert listed(client, date_from=(today + dt.timedelta(days=1)).isoformat()) == []
    response = client.get(
        reverse("audit:log"), {"date_from": today.isoformat(), "date_to": yesterday.isoformat()}
    )
    assert "截止日期不能早于起始日期" in response.content.decode()


def test_pagination_keeps_filters(client, auditor):
    for i in range(60):
        log_action(Action.EXPORT, actor_name=f"bulk{i}", object_repr="x")
    client.force_login(auditor)
    response = client.get(reverse("audit:log"), {"action": Action.EXPORT})
    assert len(response.context["entries"]) == 50
    body = response.content.decode()
    assert "action=data.export&amp;page=2" in body
    page2 = client.get(reverse("audit:log"), {"action": Action.EXPORT, "page": 2})
    assert len(page2.context["entries"]) == 10


# --- export -------------------------------------------------------------------------------


def read_export(response) -> list[tuple]:
    content = b"".join(response.streaming_content)
    ws = load_workbook(io.BytesIO(content)).active
    return list(ws.iter_rows(values_only=True))


def test_export_filtered_log_to_excel(client, auditor, history):
    client.force_login(auditor)
    response = client.get(reverse("audit:export"), {"actor": "sysadmin"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response["Content-Disposition"]
    rows = read_export(response)
    assert rows[0][:5] == ("时间", "操作人", "操作人ID", "IP", "操作")
    data = rows[1:]
    assert [r[4] for r in data] == ["修改账号", "创建账号"]
    assert all(r[1] == "sysadmin" for r in data)
    assert isinstance(data[0][0], dt.datetime)
    assert "姓名：张三 → 张三丰" in data[0][8]
    # The export is itself audited, with its filters and size.
    entry = AuditEntry.objects.get(action=Action.EXPORT)
    assert entry.actor_id == auditor.pk
    assert entry.data == {"filters": {"actor": "sysadmin"}, "rows": 2}


def test_export_never_writes_formulas(client, auditor, history):
    client.force_login(auditor)
    rows = read_export(client.get(reverse("audit:export"), {"action": Action.LOGIN_FAILED}))
    content_rows = rows[1:]
    assert len(content_rows) == 1
    assert content_rows[0][1] == '=HYPERLINK("http://evil")'
    response = client.get(reverse("audit:export"), {"action": Action.LOGIN_FAILED})
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert ws["B2"].data_type == "s"
    assert ws["H2"].data_type == "s"


def test_export_everything(client, auditor, history):
    client.force_login(auditor)
    before = AuditEntry.objects.count()
    rows = read_export(client.get(reverse("audit:export")))
    assert len(rows) == before + 1  # header; the export's own entry comes after the snapshot


# --- append-only --------------------------------------------------------------------------


def test_entries_cannot_be_changed_or_deleted_through_the_orm(history):
    entry = AuditEntry.objects.first()
    entry.object_repr = "篡改"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(object_repr="篡改")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()


def test_database_trigger_refuses_raw_update(history):
    entry = AuditEntry.objects.first()
    table = AuditEntry._meta.db_table
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET object_repr = %s WHERE id = %s", ["篡改", entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).object_repr != "篡改"


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite's test flush deletes rows; PostgreSQL only"
)
def test_database_trigger_refuses_raw_delete_on_postgresql(history):
    entry = AuditEntry.objects.first()
    table = AuditEntry._meta.db_table
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
