from __future__ import annotations

import os

os.environ.setdefault("KAOPING_TESTING", "1")
os.environ.setdefault("JOBS_MODE", "immediate")

import pytest  # noqa: E402

from kaoping.accounts.models import Role  # noqa: E402

from .factories import PersonFactory, UserFactory, grant, make_tree  # noqa: E402


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.KAOPING_JOBS_MODE = "immediate"


@pytest.fixture
def tree(db):
    return make_tree()


@pytest.fixture
def organizer(tree):
    """考核管理员 of the whole agency (the owner)."""
    user = UserFactory(username="organizer", full_name="组织部张")
    grant(user, Role.ASSESSMENT_ADMIN, tree["root"])
    return user


@pytest.fixture
def sub_organizer(tree):
    """考核管理员 of 第一党总支 only (a member of the team, limited to a subtree)."""
    user = UserFactory(username="suborg", full_name="一总支李")
    grant(user, Role.ASSESSMENT_ADMIN, tree["a"])
    return user


@pytest.fixture
def outsider(tree):
    """考核管理员 of 第二党总支: sees nothing of 第一党总支."""
    user = UserFactory(username="outsider", full_name="二总支王")
    grant(user, Role.ASSESSMENT_ADMIN, tree["b"])
    return user


@pytest.fixture
def norole(db):
    return UserFactory(username="norole", full_name="无角色")


@pytest.fixture
def member(tree):
    person = PersonFactory(name="党员甲", organization=tree["a1"])
    user = UserFactory(username="member", full_name="党员甲", person=person)
    grant(user, Role.MEMBER)
    return user
