import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kaoping.accounts.models import Role
from kaoping.audit.actions import Action
from kaoping.audit.models import AuditEntry
from kaoping.jobs.models import Job, JobStatus
from kaoping.organizations import workbook as wbk
from kaoping.organizations.models import Person
from tests.factories import PersonFactory, UserFactory, grant
from tests.xlsx import make_xlsx, read_rows

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(data, name="名单.xlsx"):
    return SimpleUploadedFile(name, data.getvalue() if hasattr(data, "getvalue") else data, XLSX)


def good_file():
    return make_xlsx(
        [["ZB13", "新支部", "党支部", "ZZ1", "", "", "", "", "", ""]],
        [["N1", "新人", "男", "ZB13", "正式党员", "", "否", "", "", "13800138000", "是"]],
    )


def post_import(client, data, *, htmx=False, **extra):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        reverse("organizations:import"), {"file": upload(data), **extra}, headers=headers
    )


@pytest.fixture
def leader(tree):
    user = UserFactory(username="leader")
    grant(user, Role.LEADER, tree["root"])
    return user


@pytest.mark.parametrize("who", ["norole", "member", "leader"])
def test_import_pages_are_403_without_org_manage(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("organizations:import")).status_code == 403
    assert client.get(reverse("organizations:import_template")).status_code == 403
    assert post_import(client, good_file()).status_code == 403
    assert not Job.objects.exists()


def test_export_is_403_without_org_export(client, norole, member):
    for user in (norole, member):
        client.force_login(user)
        assert client.get(reverse("organizations:export")).status_code == 403


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(reverse("organizations:import"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_import_page_and_template_download(client, organizer):
    client.force_login(organizer)
    page = client.get(reverse("organizations:import"))
    assert page.status_code == 200 and "下载导入模板" in page.content.decode()
    response = client.get(reverse("organizations:import_template"))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    data = b"".join(response.streaming_content)
    assert read_rows(data, wbk.ORG_SHEET)[0][0] == "组织编码"
    assert read_rows(data, wbk.HELP_SHEET)[0][0] == "填写说明"


def test_upload_runs_the_job_and_shows_counts(
    client, organizer, django_capture_on_commit_callbacks
):
    client.force_login(organizer)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_import(client, good_file())
    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("organizations:import_status", args=[job.pk])
    assert job.status == JobStatus.SUCCEEDED and job.result["ok"]
    assert Person.objects.get(staff_no="N1").organization.code == "ZB13"
    page = client.get(response["Location"]).content.decode()
    assert "导入完成" in page and "新增" in page


def test_htmx_upload_returns_the_status_partial(
    client, organizer, django_capture_on_commit_callbacks
):
    client.force_login(organizer)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_import(client, good_file(), htmx=True, dry_run="on")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'id="job-' in html
    job = Job.objects.get()
    assert job.result["dry_run"] and not Person.objects.filter(staff_no="N1").exists()
    poll = client.get(reverse("jobs:status", args=[job.pk]), headers={"HX-Request": "true"})
    assert "检查通过" in poll.content.decode()


def test_errors_are_listed_in_a_table_and_nothing_written(
    client, organizer, django_capture_on_commit_callbacks
):
    client.force_login(organizer)
    data = make_xlsx(
        None,
        [
            ["E1", "甲", "男", "ZB11", "正式党员", "", "否", "", "", "123", "是"],
            ["E1", "乙", "男", "NOPE", "正式党员", "", "否", "", "", "", "是"],
        ],
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = post_import(client, data)
    page = client.get(response["Location"]).content.decode()
    assert "发现 2 个问题" in page and "未写入任何数据" in page
    assert "手机号" in page and "与第 2 行重复" in page
    assert "<th>工作表</th>" in page and "<th>问题</th>" in page
    assert not Person.objects.filter(staff_no="E1").exists()


def test_bad_upload_is_rejected_with_a_chinese_message(client, organizer, settings):
    client.force_login(organizer)
    response = post_import(client, io.BytesIO(b"a,b,c\n"), htmx=True)
    assert ".xlsx" in response.content.decode() and not Job.objects.exists()
    settings.KAOPING_IMPORT_MAX_BYTES = 100
    response = post_import(client, good_file())
    assert "超过" in response.content.decode() and not Job.objects.exists()


def test_sub_organizer_import_outside_subtree_is_refused(
    client, sub_organizer, django_capture_on_commit_callbacks
):
    client.force_login(sub_organizer)
    data = make_xlsx(None, [["X1", "越权", "男", "ZB21", "正式党员", "", "否", "", "", "", "是"]])
    with django_capture_on_commit_callbacks(execute=True):
        post_import(client, data)
    job = Job.objects.get()
    assert not job.result["ok"]
    assert "不在您管理的范围内" in job.result["errors"][0]["message"]
    assert not Person.objects.filter(staff_no="X1").exists()


def test_job_is_visible_only_to_its_creator(
    client, organizer, outsider, django_capture_on_commit_callbacks
):
    client.force_login(organizer)
    with django_capture_on_commit_callbacks(execute=True):
        post_import(client, good_file())
    job = Job.objects.get()
    client.force_login(outsider)
    assert client.get(reverse("organizations:import_status", args=[job.pk])).status_code == 404
    assert client.get(reverse("jobs:status", args=[job.pk])).status_code == 404
    client.force_login(organizer)
    other = Job.objects.create(kind="other", created_by=organizer)
    assert client.get(reverse("organizations:import_status", args=[other.pk])).status_code == 404


def test_export_is_scoped_to_what_the_user_sees(client, tree, sub_organizer):
    PersonFactory(staff_no="A1", organization=tree["a1"])
    PersonFactory(staff_no="B1", organization=tree["b1"])
    client.force_login(sub_organizer)
    response = client.get(reverse("organizations:export"))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    data = b"".join(response.streaming_content)
    codes = [r[0] for r in read_rows(data, wbk.ORG_SHEET)[1:]]
    staff = [r[0] for r in read_rows(data, wbk.PERSON_SHEET)[1:]]
    assert codes == ["ZZ1", "ZB11", "ZB12"] and staff == ["A1"]
    entry = AuditEntry.objects.get(action=Action.EXPORT)
    assert entry.actor_id == sub_organizer.pk and entry.data["人员"] == 1
