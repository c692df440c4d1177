"""The policy module: roles give permissions; grants give scope; superusers get nothing extra."""

import pytest

from kaoping import policy
from kaoping.accounts.models import Role
from kaoping.policy import Perm

from .factories import PersonFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


def test_subtree_scope(tree, sub_organizer):
    codes = set(policy.visible_organizations(sub_organizer).values_list("code", flat=True))
    assert codes == {"ZZ1", "ZB11", "ZB12"}
    assert policy.can_manage_org(sub_organizer, tree["a1"])
    assert not policy.can_manage_org(sub_organizer, tree["b1"])
    assert not policy.can_manage_org(sub_organizer, tree["root"])


def test_superuser_without_grants_has_nothing(tree):
    su = UserFactory(is_superuser=True, is_staff=True)
    assert not policy.has_perm(su, Perm.ORG_VIEW)
    assert not policy.has_perm(su, Perm.AUDIT_VIEW)
    assert policy.visible_organizations(su).count() == 0


def test_submitter_sees_only_its_unit(tree):
    user = UserFactory()
    grant(user, Role.SUBMITTER, tree["a"])
    codes = set(policy.visible_organizations(user).values_list("code", flat=True))
    assert codes == {"ZZ1"}  # one organization, not its subtree
    assert not policy.has_perm(user, Perm.ORG_MANAGE)


def test_leader_reads_subtree_and_may_export_but_not_manage(tree):
    user = UserFactory()
    grant(user, Role.LEADER, tree["b"])
    assert set(policy.visible_organizations(user).values_list("code", flat=True)) == {
        "ZZ2",
        "ZB21",
        "ZB22",
    }
    assert policy.has_perm(user, Perm.ORG_EXPORT)
    assert not policy.can_manage_org(user, tree["b1"])


def test_member_sees_own_branch_and_self(tree, member):
    assert list(policy.visible_organizations(member).values_list("code", flat=True)) == ["ZB11"]
    other = PersonFactory(organization=tree["b1"])
    people = policy.visible_people(member)
    assert member.person in people and other not in people


def test_audit_admin_sees_no_register(tree):
    user = UserFactory()
    grant(user, Role.AUDIT_ADMIN)
    assert policy.has_perm(user, Perm.AUDIT_VIEW)
    assert policy.visible_organizations(user).count() == 0
    assert policy.visible_people(user).count() == 0


def test_every_role_has_a_permission_set():
    assert set(policy.ROLE_PERMS) == set(Role)
    # the audit log is readable by the audit admin alone
    assert [r for r, perms in policy.ROLE_PERMS.items() if Perm.AUDIT_VIEW in perms] == [
        Role.AUDIT_ADMIN
    ]
