"""Organization and people pages: the owner (organizer), a member of the team limited to a
subtree (sub_organizer), an outsider (organizer of another subtree), and users without roles."""

import datetime as dt

import pytest
from django.urls import reverse

from kaoping.audit.models import AuditEntry
from kaoping.organizations.models import Organization, OrgStatus, Person, Post

from ..factories import PersonFactory

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def test_tree_shows_visible_subtree_only(client, tree, sub_organizer):
    PersonFactory(organization=tree["a1"])
    PersonFactory(organization=tree["b1"])
    html = login(client, sub_organizer).get(reverse("organizations:tree")).content.decode()
    assert "办公室党支部" in html and "第一党总支" in html
    assert "法规处党支部" not in html and "第二党总支" not in html


def test_tree_member_counts_roll_up(client, tree, organizer):
    for _ in range(3):
        PersonFactory(organization=tree["a1"])
    PersonFactory(organization=tree["a2"], political_status="masses")
    response = login(client, organizer).get(reverse("organizations:tree"))
    rows = {r["org"].code: r for r in response.context["rows"]}
    assert rows["ZB11"]["direct_members"] == 3
    assert rows["ZZ1"]["members_total"] == 3  # masses are not counted as members
    assert rows["JG"]["members_total"] == 3


def test_tree_search_by_pinyin_initials(client, tree, organizer):
    response = login(client, organizer).get(reverse("organizations:tree"), {"q": "bgs"})
    assert [o.code for o in response.context["matches"]] == ["ZB11"]


@pytest.mark.parametrize("name", ["detail", "edit", "move", "dissolve", "post_create"])
def test_outsider_gets_404_for_org_pages(client, tree, outsider, name):
    url = reverse(f"organizations:{name}", args=[tree["a1"].pk])
    assert login(client, outsider).get(url).status_code == 404


@pytest.mark.parametrize("name", ["edit", "move", "dissolve", "post_create"])
def test_member_sees_own_org_but_cannot_change_it(client, tree, member, name):
    login(client, member)
    assert client.get(reverse("organizations:detail", args=[tree["a1"].pk])).status_code == 200
    assert client.get(reverse(f"organizations:{name}", args=[tree["a1"].pk])).status_code == 403
    # Another organization is outside the member's scope: 404.
    assert client.get(reverse("organizations:detail", args=[tree["a2"].pk])).status_code == 404


@pytest.mark.parametrize("name", ["tree", "people", "create", "person_create"])
def test_user_without_role_is_refused_and_denial_is_audited(client, norole, name):
    response = login(client, norole).get(reverse(f"organizations:{name}"))
    assert response.status_code == 403
    assert AuditEntry.objects.filter(action="auth.denied", actor_id=norole.pk).exists()


def test_anonymous_is_sent_to_login(client, tree):
    response = client.get(reverse("organizations:detail", args=[tree["a1"].pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_create_organization_under_managed_parent(client, tree, sub_organizer):
    login(client, sub_organizer)
    response = client.post(
        reverse("organizations:create"),
        {"code": "ZB13", "name": "人事处党支部", "org_type": "branch", "parent": tree["a"].pk},
    )
    org = Organization.objects.get(code="ZB13")
    assert response.status_code == 302
    assert org.path == f"{tree['a'].path}{org.pk:08d}/" and org.depth == 2
    entry = AuditEntry.objects.get(action="org.create", object_id=str(org.pk))
    assert entry.actor_id == sub_organizer.pk
    assert entry.changes["组织名称"] == [None, "人事处党支部"]


def test_create_rejects_parent_outside_scope_and_bad_input(client, tree, sub_organizer):
    login(client, sub_organizer)
    response = client.post(
        reverse("organizations:create"),
        {"code": "bad code!", "name": "", "org_type": "branch", "parent": tree["b"].pk},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "parent" in errors and "name" in errors
    assert not Organization.objects.filter(code="bad code!").exists()


def test_create_rejects_duplicate_code_with_chinese_message(client, tree, organizer):
    login(client, organizer)
    response = client.post(
        reverse("organizations:create"),
        {"code": "ZB11", "name": "重复", "org_type": "branch", "parent": tree["a"].pk},
    )
    assert "组织编码“ZB11”已存在" in response.content.decode()


def test_branch_cannot_hold_a_branch(client, tree, organizer):
    login(client, organizer)
    response = client.post(
        reverse("organizations:create"),
        {"code": "X1", "name": "错误层级", "org_type": "branch", "parent": tree["a1"].pk},
    )
    assert "党支部不能隶属于党支部" in response.content.decode()


def test_move_rewrites_subtree_paths_and_is_audited(client, tree, organizer):
    login(client, organizer)
    response = client.post(
        reverse("organizations:move", args=[tree["a1"].pk]), {"new_parent": tree["b"].pk}
    )
    assert response.status_code == 302
    moved = Organization.objects.get(pk=tree["a1"].pk)
    assert moved.parent_id == tree["b"].pk and moved.path.startswith(tree["b"].path)
    assert AuditEntry.objects.filter(action="org.move", object_id=str(moved.pk)).exists()


def test_move_general_branch_moves_its_children(client, tree, organizer):
    new_root_child = Organization.objects.get(code="ZZ2")
    login(client, organizer)
    # ZZ1 under ZZ2 is not allowed (党总支 cannot sit under 党总支)
    response = client.post(
        reverse("organizations:move", args=[tree["a"].pk]), {"new_parent": new_root_child.pk}
    )
    assert response.status_code == 200
    assert "党总支不能隶属于党总支" in response.content.decode()


def test_cannot_move_into_own_subtree(client, tree, organizer):
    login(client, organizer)
    response = client.post(
        reverse("organizations:move", args=[tree["root"].pk]), {"new_parent": tree["a"].pk}
    )
    assert response.status_code in (200, 404, 403)
    assert Organization.objects.get(pk=tree["root"].pk).parent_id is None


def test_dissolve_requires_members_moved_out_then_keeps_history(client, tree, organizer):
    person = PersonFactory(organization=tree["a2"])
    login(client, organizer)
    url = reverse("organizations:dissolve", args=[tree["a2"].pk])
    response = client.post(url, {"on": "2026-06-30", "reason": "机构改革"})
    assert "仍有 1 名在册人员" in response.content.decode()
    Person.objects.filter(pk=person.pk).update(organization=tree["a1"])
    response = client.post(url, {"on": "2026-06-30", "reason": "机构改革"})
    assert response.status_code == 302
    org = Organization.objects.get(pk=tree["a2"].pk)
    assert org.status == OrgStatus.DISSOLVED and org.dissolved_on == dt.date(2026, 6, 30)
    # The dissolved organization is still shown (with history) and cannot be edited.
    assert client.get(reverse("organizations:detail", args=[org.pk])).status_code == 200
    assert "已撤销" in client.get(reverse("organizations:tree") + "?dissolved=1").content.decode()


def test_appoint_secretary_replaces_the_previous_one(client, tree, organizer):
    old = PersonFactory(organization=tree["a1"])
    new = PersonFactory(organization=tree["a1"])
    login(client, organizer)
    url = reverse("organizations:post_create", args=[tree["a1"].pk])
    client.post(url, {"person": old.pk, "title": "secretary", "started_on": "2025-01-01"})
    client.post(url, {"person": new.pk, "title": "secretary", "started_on": "2026-01-01"})
    current = Post.objects.get(organization=tree["a1"], title="secretary", ended_on__isnull=True)
    assert current.person_id == new.pk
    assert Post.objects.get(person=old).ended_on == dt.date(2026, 1, 1)


def test_masses_cannot_hold_party_posts(client, tree, organizer):
    masses = PersonFactory(organization=tree["a1"], political_status="masses")
    login(client, organizer)
    response = client.post(
        reverse("organizations:post_create", args=[tree["a1"].pk]),
        {"person": masses.pk, "title": "secretary", "started_on": "2025-01-01"},
    )
    assert response.status_code == 200
    assert not Post.objects.exists()


def test_people_search_by_name_staff_no_and_initials(client, tree, organizer):
    PersonFactory(name="王晓明", staff_no="A001", organization=tree["a1"])
    PersonFactory(name="李红", staff_no="B002", organization=tree["b1"])
    login(client, organizer)
    for q, expected in [("晓明", ["A001"]), ("B00", ["B002"]), ("wxm", ["A001"]), ("LH", ["B002"])]:
        response = client.get(reverse("organizations:people"), {"q": q})
        assert [p.staff_no for p in response.context["page_obj"]] == expected, q


def test_people_list_is_paginated(client, tree, organizer):
    for _ in range(55):
        PersonFactory(organization=tree["a1"])
    login(client, organizer)
    first = client.get(reverse("organizations:people"))
    second = client.get(reverse("organizations:people"), {"page": 2})
    assert len(first.context["page_obj"]) == 50 and len(second.context["page_obj"]) == 5


def test_people_scope_for_sub_organizer(client, tree, sub_organizer):
    PersonFactory(staff_no="IN1", organization=tree["a1"])
    outside = PersonFactory(staff_no="OUT1", organization=tree["b1"])
    login(client, sub_organizer)
    response = client.get(reverse("organizations:people"))
    assert [p.staff_no for p in response.context["page_obj"]] == ["IN1"]
    assert client.get(reverse("organizations:person_detail", args=[outside.pk])).status_code == 404
    assert client.get(reverse("organizations:person_edit", args=[outside.pk])).status_code == 404


def test_person_create_validates_phone_and_staff_no(client, tree, organizer):
    PersonFactory(staff_no="DUP1", organization=tree["a1"])
    login(client, organizer)
    data = {
        "name": "赵六",
        "staff_no": "DUP1",
        "gender": "M",
        "organization": tree["a1"].pk,
        "political_status": "full",
        "phone": "12345",
        "is_active": "on",
    }
    response = client.post(reverse("organizations:person_create"), data)
    html = response.content.decode()
    assert "手机号格式不正确" in html or "工号“DUP1”已存在" in html
    data["phone"] = "13800138000"
    response = client.post(reverse("organizations:person_create"), data)
    assert "工号“DUP1”已存在" in response.content.decode()
    data["staff_no"] = "NEW1"
    response = client.post(reverse("organizations:person_create"), data)
    assert response.status_code == 302
    person = Person.objects.get(staff_no="NEW1")
    assert person.pinyin_initials == "zl"


def test_person_edit_records_before_and_after(client, tree, organizer):
    person = PersonFactory(name="钱七", organization=tree["a1"], position="科员")
    login(client, organizer)
    data = {
        "name": "钱七",
        "staff_no": person.staff_no,
        "gender": "M",
        "organization": tree["a2"].pk,
        "political_status": "full",
        "position": "副处长",
        "is_active": "on",
    }
    assert (
        client.post(reverse("organizations:person_edit", args=[person.pk]), data).status_code == 302
    )
    entry = AuditEntry.objects.get(action="person.update", object_id=str(person.pk))
    assert entry.changes["职务"] == ["科员", "副处长"]
    assert entry.changes["所在党组织"] == ["办公室党支部", "财务处党支部"]


def test_org_detail_shows_warnings(client, tree, organizer):
    PersonFactory(organization=tree["a1"])
    html = (
        login(client, organizer)
        .get(reverse("organizations:detail", args=[tree["a1"].pk]))
        .content.decode()
    )
    assert "正式党员仅 1 人" in html and "未配备书记" in html
