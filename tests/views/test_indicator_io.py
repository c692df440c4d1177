import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kaoping.accounts.models import Role
from kaoping.audit.actions import Action
from kaoping.audit.models import AuditEntry
from kaoping.indicators.library import install_library_scheme
from kaoping.indicators.models import Indicator, Scheme
from kaoping.indicators.scheme_doc import canonical_json, version_document
from tests.factories import UserFactory, grant
from tests.indicator_workbooks import build, to_bytes

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(data, name="细则.xlsx"):
    raw = data.getvalue() if hasattr(data, "getvalue") else data
    return SimpleUploadedFile(name, raw, XLSX if name.endswith("xlsx") else "application/json")


def post_new(client, data, *, owner, name="支部考核", filename="细则.xlsx", **extra):
    return client.post(
        reverse("indicators:import_new"),
        {"file": upload(data, filename), "mode": "new", "name": name, "owner": owner.pk, **extra},
    )


@pytest.fixture
def leader(tree):
    user = UserFactory(username="leader")
    grant(user, Role.LEADER, tree["root"])
    return user


@pytest.fixture
def version(tree):
    return install_library_scheme(actor=None, owner=tree["a"], key="secretary_debriefing")


@pytest.mark.parametrize("who", ["norole", "member", "leader"])
def test_import_and_library_need_scheme_manage(client, request, who, tree, version):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("indicators:import_new")).status_code == 403
    assert client.get(reverse("indicators:import", args=[version.pk])).status_code == 403
    assert client.get(reverse("indicators:library")).status_code == 403
    assert post_new(client, to_bytes(build()), owner=tree["root"]).status_code == 403
    response = client.post(
        reverse("indicators:library"), {"key": "branch_annual", "owner": tree["root"].pk}
    )
    assert response.status_code == 403
    assert Scheme.objects.count() == 1


def test_anonymous_goes_to_login(client, db, tree, version):
    for url in (
        reverse("indicators:import_new"),
        reverse("indicators:library"),
        reverse("indicators:export", args=[version.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_upload_creates_a_draft_and_shows_warnings_on_the_version_page(client, organizer, tree):
    client.force_login(organizer)
    page = client.get(reverse("indicators:import_new"))
    assert page.status_code == 200 and "考核评分细则" in page.content.decode()
    response = post_new(client, to_bytes(build(total=90)), owner=tree["a"])
    scheme = Scheme.objects.get(name="支部考核")
    v = scheme.versions.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "indicators:version", args=[v.pk]
    )
    assert scheme.owner == tree["a"] and v.indicators.count() == 28
    page = client.get(response["Location"]).content.decode()
    assert "合计行为 90 分" in page and "需逐项确认" in page
    assert AuditEntry.objects.get(action=Action.IMPORT).actor_id == organizer.pk


def test_errors_are_listed_with_rows_and_nothing_is_written(client, organizer, tree):
    client.force_login(organizer)
    wb = build()
    wb.active["D4"] = "五分"
    response = post_new(client, to_bytes(wb), owner=tree["root"])
    assert response.status_code == 200
    html = response.content.decode()
    assert "未写入任何数据" in html and 'id="import-errors"' in html
    assert "分值“五分”不是数字" in html and "（D 列）" in html
    assert not Scheme.objects.exists() and not Indicator.objects.exists()


def test_dry_run_shows_warnings_without_writing(client, organizer, tree):
    client.force_login(organizer)
    response = post_new(client, to_bytes(build(total=90)), owner=tree["root"], dry_run="on")
    html = response.content.decode()
    assert "检查通过" in html and 'id="import-warnings"' in html and "合计行为 90 分" in html
    assert not Scheme.objects.exists()


def test_form_checks_file_type_name_and_owner_scope(client, sub_organizer, tree):
    client.force_login(sub_organizer)
    response = post_new(client, b"a,b", owner=tree["a"], filename="细则.csv")
    assert "请上传 .xlsx" in response.content.decode()
    response = post_new(client, b"not a zip", owner=tree["a"], filename="细则.xlsx")
    assert "请上传 .xlsx" in response.content.decode()
    response = post_new(client, to_bytes(build()), owner=tree["root"])  # outside the subtree
    assert response.status_code == 200 and "选择一个有效的选项" in response.content.decode()
    response = post_new(client, to_bytes(build()), owner=tree["a"], name="")
    assert "请填写新指标体系名称" in response.content.decode()
    assert not Scheme.objects.exists()


def test_new_draft_of_a_scheme_from_its_version_page(client, organizer, version):
    client.force_login(organizer)
    page = client.get(reverse("indicators:import", args=[version.pk]))
    assert page.status_code == 200
    data = client.get(reverse("indicators:export", args=[version.pk]) + "?format=json").content
    response = client.post(
        reverse("indicators:import", args=[version.pk]),
        {"file": upload(data, "体系.json"), "mode": "draft", "scheme": version.scheme_id},
    )
    new = version.scheme.versions.get(number=2)
    assert response["Location"] == reverse("indicators:version", args=[new.pk])
    assert canonical_json(version_document(new)) == canonical_json(version_document(version))


def test_outsider_cannot_import_into_or_export_others_schemes(client, outsider, version):
    client.force_login(outsider)
    assert client.get(reverse("indicators:import", args=[version.pk])).status_code == 404
    assert client.get(reverse("indicators:export", args=[version.pk])).status_code == 404
    response = client.post(
        reverse("indicators:import_new"),
        {"file": upload(to_bytes(build())), "mode": "draft", "scheme": version.scheme_id},
    )
    assert response.status_code == 200 and version.scheme.versions.count() == 1


def test_export_downloads_both_formats_and_is_audited(client, leader, version):
    client.force_login(leader)  # SCHEME_VIEW is enough
    response = client.get(reverse("indicators:export", args=[version.pk]))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(response.content))["评分细则"]
    assert ws["A1"].value == "党组织书记抓基层党建工作述职评议考核评分细则"
    response = client.get(reverse("indicators:export", args=[version.pk]) + "?format=json")
    doc = json.loads(response.content)
    assert doc["format"] == "kaoping.scheme/1" and len(doc["indicators"]) == 17
    assert (
        client.get(reverse("indicators:export", args=[version.pk]) + "?format=pdf").status_code
        == 404
    )
    assert AuditEntry.objects.filter(action=Action.EXPORT, actor_id=leader.pk).count() == 2


def test_library_lists_entries_and_installs(client, organizer, tree):
    client.force_login(organizer)
    page = client.get(reverse("indicators:library")).content.decode()
    assert "党支部年度工作考核" in page and "党组织书记抓基层党建工作述职评议" in page
    response = client.post(
        reverse("indicators:library"), {"key": "branch_annual", "owner": tree["a"].pk}
    )
    scheme = Scheme.objects.get(name="党支部年度工作考核")
    assert response["Location"] == reverse("indicators:version", args=[scheme.versions.get().pk])
    assert scheme.owner == tree["a"]
    response = client.post(
        reverse("indicators:library"), {"key": "branch_annual", "owner": tree["a"].pk}, follow=True
    )
    assert "已有名为" in response.content.decode()
    response = client.post(
        reverse("indicators:library"),
        {"key": "branch_annual", "owner": tree["a"].pk, "name": "第二份"},
    )
    assert Scheme.objects.filter(name="第二份").exists()


def test_library_install_refuses_an_owner_outside_scope(client, sub_organizer, tree):
    client.force_login(sub_organizer)
    response = client.post(
        reverse("indicators:library"), {"key": "branch_annual", "owner": tree["b"].pk}, follow=True
    )
    assert "请选择所属党组织" in response.content.decode()
    assert not Scheme.objects.exists()
