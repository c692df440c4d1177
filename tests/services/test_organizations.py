import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from kaoping.audit.models import AuditEntry
from kaoping.organizations import selectors, services
from kaoping.organizations.models import Organization, OrgType, Post

from ..factories import OrganizationFactory, PersonFactory

pytestmark = pytest.mark.django_db


def test_paths_follow_the_tree(tree):
    assert tree["root"].path == f"/{tree['root'].pk:08d}/" and tree["root"].depth == 0
    assert tree["a1"].path == f"/{tree['root'].pk:08d}/{tree['a'].pk:08d}/{tree['a1'].pk:08d}/"
    assert tree["a1"].depth == 2


def test_move_rewrites_descendants(tree, organizer):
    sub = OrganizationFactory(
        code="C1", name="分党委", org_type=OrgType.COMMITTEE, parent=tree["root"]
    )
    services.move_organization(actor=organizer, org=tree["a"], new_parent=sub)
    a1 = Organization.objects.get(pk=tree["a1"].pk)
    assert a1.path == f"{sub.path}{tree['a'].pk:08d}/{a1.pk:08d}/"
    assert a1.depth == 3
    assert set(selectors.subtree(sub).values_list("code", flat=True)) == {
        "C1",
        "ZZ1",
        "ZB11",
        "ZB12",
    }


def test_move_into_own_subtree_is_refused(tree, organizer):
    with pytest.raises(ValidationError, match="不能把组织移到它自己或它的下级组织之下"):
        services.move_organization(actor=organizer, org=tree["root"], new_parent=tree["a"])


def test_dissolve_refuses_with_active_children(tree, organizer):
    with pytest.raises(ValidationError, match="仍有未撤销的下级组织"):
        services.dissolve_organization(actor=organizer, org=tree["a"], on=dt.date(2026, 1, 1))


def test_dissolve_ends_posts_and_keeps_history(tree, organizer):
    person = PersonFactory(organization=tree["a2"])
    post = services.appoint(
        actor=organizer,
        organization=tree["a2"],
        person=person,
        title="secretary",
        started_on=dt.date(2024, 1, 1),
    )
    services.update_person(actor=organizer, person=person, organization=tree["a1"])
    services.dissolve_organization(actor=organizer, org=tree["a2"], on=dt.date(2026, 3, 1))
    post.refresh_from_db()
    assert post.ended_on == dt.date(2026, 3, 1)
    assert Organization.objects.filter(pk=tree["a2"].pk).exists()
    with pytest.raises(ValidationError, match="已撤销"):
        services.update_person(actor=organizer, person=person, organization=tree["a2"])


def test_one_current_secretary_is_enforced_by_the_database(tree):
    p1 = PersonFactory(organization=tree["a1"])
    p2 = PersonFactory(organization=tree["a1"])
    Post.objects.create(organization=tree["a1"], person=p1, title="secretary")
    with pytest.raises(IntegrityError), transaction.atomic():
        Post.objects.create(organization=tree["a1"], person=p2, title="secretary")


def test_warnings_follow_the_rules(tree, organizer):
    small, large, ok = tree["a1"], tree["a2"], tree["b1"]
    for _ in range(2):
        PersonFactory(organization=small)
    large_people = [PersonFactory(organization=large) for _ in range(7)]
    ok_people = [PersonFactory(organization=ok) for _ in range(7)]
    services.appoint(actor=organizer, organization=large, person=large_people[0], title="secretary")
    services.appoint(actor=organizer, organization=ok, person=ok_people[0], title="secretary")
    services.appoint(actor=organizer, organization=ok, person=ok_people[1], title="organization")
    found = {
        (w.org.code, w.code) for w in selectors.organization_warnings(Organization.objects.all())
    }
    assert ("ZB11", "too_few") in found and ("ZB11", "no_secretary") in found
    assert ("ZB12", "no_committee") in found and ("ZB12", "no_secretary") not in found
    assert not any(code == "ZB21" for code, _ in found)
    # probationary members do not count as full members
    assert ("ZB22", "too_few") in found


def test_update_is_audited_with_before_and_after(tree, organizer):
    services.update_organization(actor=organizer, org=tree["a1"], name="综合处党支部")
    entry = AuditEntry.objects.get(action="org.update")
    assert entry.changes == {"组织名称": ["办公室党支部", "综合处党支部"]}
    assert entry.actor_name == organizer.username


def test_update_without_change_writes_no_entry(tree, organizer):
    services.update_organization(actor=organizer, org=tree["a1"], name="办公室党支部")
    assert not AuditEntry.objects.filter(action="org.update").exists()


def test_type_change_checks_children(tree, organizer):
    with pytest.raises(ValidationError, match="其下有党支部"):
        services.update_organization(actor=organizer, org=tree["a"], org_type=OrgType.BRANCH)


def test_tree_order_does_not_depend_on_id_length(tree, organizer):
    """Paths are zero-padded: /…/16/ must not sort before /…/2/; siblings follow 排序 then code."""
    from kaoping.organizations.models import Organization as Org

    for i in range(12):  # push ids past one digit
        OrganizationFactory(code=f"X{i:02d}", name=f"临时{i}", parent=tree["b"], sort_order=5)
    late = OrganizationFactory(code="ZB10", name="最后建的支部", parent=tree["a"], sort_order=-1)
    rows = selectors.tree_rows(Org.objects.all())
    codes = [r["org"].code for r in rows]
    assert codes.index("ZB10") < codes.index("ZB11") < codes.index("ZZ2")
    assert codes[:2] == ["JG", "ZZ1"]
    ordered_by_path = list(Org.objects.order_by("path").values_list("code", flat=True))
    assert (
        ordered_by_path.index("ZZ1") < ordered_by_path.index("ZB11") < ordered_by_path.index("ZZ2")
    )
    assert late.path.endswith(f"/{late.pk:08d}/")
