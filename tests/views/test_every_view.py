"""Every URL the product serves, tried by an anonymous visitor, a user without any role, and an
organizer of another subtree. New views are picked up automatically: a view that forgets its
permission check fails here."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from kaoping.accounts.models import Role
from kaoping.audit.models import AuditEntry

from ..factories import PersonFactory, UserFactory, grant

pytestmark = pytest.mark.django_db

# Pages any signed-in account may open.
OPEN_TO_ALL = {"core:home", "accounts:password_change", "accounts:logout"}
PUBLIC = {
    "core:healthz",
    "accounts:login",
    "accounts:logout",
    # the anonymous ballot pages (a token is the credential; tested in test_ballot_views)
    "vote:entry",
    "vote:ballot",
    "vote:thanks",
}


def named_patterns():
    out = []

    def walk(patterns, ns):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, p.namespace or ns)
            elif isinstance(p, URLPattern) and p.name:
                out.append((f"{ns}:{p.name}" if ns else p.name, list(p.pattern.converters)))

    walk(get_resolver().url_patterns, None)
    return sorted(set((n, tuple(a)) for n, a in out))


PATTERNS = named_patterns()


@pytest.fixture
def objects_in_first_subtree(tree, organizer):
    """One object of each kind, inside 第一党总支 (where the outsider has no scope)."""
    person = PersonFactory(organization=tree["a1"])
    target_user = UserFactory(username="target", person=person)
    grant(target_user, Role.SUBMITTER, tree["a1"])
    from kaoping.organizations import services

    post = services.appoint(
        actor=organizer, organization=tree["a1"], person=person, title="secretary"
    )
    entry = AuditEntry.objects.filter(action="post.create").first()
    return {
        "org": tree["a1"].pk,
        "person": person.pk,
        "post": post.pk,
        "user": target_user.pk,
        "grant": target_user.grants.first().pk,
        "audit": entry.pk,
    }


def _args(name, converters, objs):
    if not converters:
        return []
    if name.startswith("organizations:person"):
        return [objs["person"]]
    if name == "organizations:post_end":
        return [objs["post"]]
    if name.startswith("organizations:"):
        return [objs["org"]]
    if name == "accounts:role_revoke":
        return [objs["grant"]]
    if name.startswith("accounts:"):
        return [objs["user"]]
    if name.startswith("audit:"):
        return [objs["audit"]]
    return [987654] * len(converters)  # unknown objects: must not be found


def test_patterns_were_found():
    names = {n for n, _ in PATTERNS}
    assert {"organizations:detail", "accounts:users", "audit:log", "core:healthz"} <= names


@pytest.mark.parametrize("name,converters", PATTERNS, ids=[n for n, _ in PATTERNS])
def test_anonymous_is_sent_to_login(client, objects_in_first_subtree, name, converters):
    if name in PUBLIC:
        return
    url = reverse(name, args=_args(name, converters, objects_in_first_subtree))
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


@pytest.mark.parametrize("name,converters", PATTERNS, ids=[n for n, _ in PATTERNS])
def test_user_without_role_is_refused(client, norole, objects_in_first_subtree, name, converters):
    if name in PUBLIC | OPEN_TO_ALL:
        return
    client.force_login(norole)
    url = reverse(name, args=_args(name, converters, objects_in_first_subtree))
    for method in (client.get, client.post):
        status = method(url).status_code
        assert status in (403, 404, 405), f"{method.__name__.upper()} {url}: {status}"


@pytest.mark.parametrize(
    "name,converters",
    [(n, c) for n, c in PATTERNS if c and n.split(":")[0] in ("organizations",)],
    ids=[n for n, c in PATTERNS if c and n.split(":")[0] in ("organizations",)],
)
def test_organizer_of_another_subtree_gets_404(
    client, outsider, objects_in_first_subtree, name, converters
):
    client.force_login(outsider)
    url = reverse(name, args=_args(name, converters, objects_in_first_subtree))
    for method in (client.get, client.post):
        assert method(url).status_code in (404, 405), f"{method.__name__.upper()} {url}"
