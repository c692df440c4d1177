"""The ballot pages' fast path: the per-process design of an open appraisal (used, reused,
dropped on close, never taken for another appraisal), and the public pages bypassing the
signed-in site's middlewares while CSRF, the frame headers and the guessing limit still hold."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kaoping.ballots import public_views, services
from kaoping.ballots.models import Ballot, BallotAnswer, Token
from kaoping.core import middleware

from ..ballot_helpers import appraisal_campaign, full_answers, open_appraisal

pytestmark = pytest.mark.django_db

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
HINT_INPUT = re.compile(r'name="ap" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _fresh():
    services._DESIGNS.clear()
    yield
    services._DESIGNS.clear()


@pytest.fixture
def campaign(organizer, tree):
    return appraisal_campaign(organizer, tree)


@pytest.fixture
def opened(organizer, campaign):
    return open_appraisal(organizer, campaign, count=4)


def form_data(appraisal, grade=0, comment=""):
    data = {}
    for target, row in full_answers(appraisal, grade).items():
        for code, value in row.items():
            data[f"a-{target}-{code}"] = str(value)
        data[f"c-{target}"] = comment
    return data


def vote(client, appraisal, token, grade=0, comment=""):
    url = reverse("vote:ballot", args=[token])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    csrf = CSRF_INPUT.search(html).group(1)
    hint = HINT_INPUT.search(html).group(1)  # the form says which appraisal it is for
    return page, client.post(
        url, {"csrfmiddlewaretoken": csrf, "ap": hint, **form_data(appraisal, grade, comment)}
    )


# ---- the design of an open appraisal -------------------------------------------------------


def test_design_is_read_once_and_reused(opened, django_assert_num_queries):
    appraisal, pairs = opened
    client = Client(enforce_csrf_checks=True)
    vote(client, appraisal, pairs[0][0])
    assert appraisal.pk in services._DESIGNS
    design_ = services._DESIGNS[appraisal.pk]
    assert design_.target_ids == services.target_ids(appraisal)
    assert design_.form and "kp-csrf-mark" in design_.form
    # Later ballot pages read the token (with its appraisal and campaign) and nothing else.
    with django_assert_num_queries(1):
        page = client.get(reverse("vote:ballot", args=[pairs[1][0]]))
    assert page.status_code == 200 and "kp-csrf-mark" not in page.content.decode()
    assert services._DESIGNS[appraisal.pk] is design_


def test_each_page_gets_its_own_csrf_token_and_store_key(opened):
    appraisal, pairs = opened
    one = Client().get(reverse("vote:ballot", args=[pairs[0][0]])).content.decode()
    two = Client().get(reverse("vote:ballot", args=[pairs[1][0]])).content.decode()
    assert CSRF_INPUT.search(one).group(1) != CSRF_INPUT.search(two).group(1)
    keys = [re.search(r'data-store-key="([^"]+)"', html).group(1) for html in (one, two)]
    assert keys[0] != keys[1] and all(k.startswith("kp-vote-") for k in keys)


def test_every_ballot_is_stored_with_all_its_answers(opened):
    appraisal, pairs = opened
    client = Client(enforce_csrf_checks=True)
    for i, (token, _) in enumerate(pairs[:3]):
        _, done = vote(client, appraisal, token, grade=i, comment="意见" if i == 1 else "")
        assert done.status_code == 302 and done["Location"] == reverse("vote:thanks")
    n_targets = len(services.target_ids(appraisal))
    n_questions = len([q for q in appraisal.questions if q["kind"] == "grade"])
    assert Ballot.objects.filter(appraisal=appraisal).count() == 3
    assert BallotAnswer.objects.count() == 3 * n_targets * n_questions + n_targets
    assert Token.objects.filter(appraisal=appraisal, used=True).count() == 3
    for ballot in Ballot.objects.all():
        grades = set(ballot.answers.exclude(grade=None).values_list("grade", flat=True))
        assert len(grades) == 1


def _cast_statements(queries):
    return [q["sql"] for q in queries if "WITH consumed AS" in q["sql"]]


def _token_reads(queries):
    return [
        q["sql"] for q in queries if q["sql"].lstrip().startswith("SELECT") and "_hash" in q["sql"]
    ]


def test_the_form_names_its_appraisal_and_a_hinted_cast_is_one_statement(opened):
    appraisal, pairs = opened
    client = Client(enforce_csrf_checks=True)
    page, _ = vote(client, appraisal, pairs[0][0])  # reads the design into this process
    assert HINT_INPUT.search(page.content.decode()).group(1) == str(appraisal.pk)
    url = reverse("vote:ballot", args=[pairs[1][0]])
    csrf = CSRF_INPUT.search(client.get(url).content.decode()).group(1)
    with CaptureQueriesContext(connection) as queries:
        done = client.post(
            url, {"csrfmiddlewaretoken": csrf, "ap": str(appraisal.pk), **form_data(appraisal)}
        )
    assert done.status_code == 302
    assert Ballot.objects.count() == 2 and Token.objects.filter(used=True).count() == 2
    if connection.vendor == "postgresql":
        # No token read: the statement checks the token, the appraisal and the window itself.
        assert len(_cast_statements(queries)) == 1 and not _token_reads(queries)
    else:
        assert not _cast_statements(queries) and len(_token_reads(queries)) == 1


@pytest.mark.parametrize("hint", ["wrong", "other", "huge", "none"])
def test_a_wrong_hint_only_costs_the_checked_path(opened, hint):
    appraisal, pairs = opened
    services.open_design(appraisal)
    # another open appraisal whose design this process holds: the token is not of it
    other = services.OpenDesign(
        (appraisal.pk + 1000, None), "另一测评", appraisal.questions, appraisal.grades,
        [(pk, name, group) for pk, name, group in services.ballot_targets(appraisal)],
    )  # fmt: skip
    services._DESIGNS[appraisal.pk + 1000] = other
    value = {"wrong": "abc", "other": str(appraisal.pk + 1000), "huge": "9" * 40, "none": ""}
    client = Client(enforce_csrf_checks=True)
    url = reverse("vote:ballot", args=[pairs[0][0]])
    csrf = CSRF_INPUT.search(client.get(url).content.decode()).group(1)
    done = client.post(
        url, {"csrfmiddlewaretoken": csrf, "ap": value[hint], **form_data(appraisal)}
    )
    assert done.status_code == 302
    assert Ballot.objects.filter(appraisal=appraisal).count() == 1


@pytest.mark.parametrize("state", ["used", "voided", "expired", "not_open", "unknown"])
def test_a_hinted_cast_refused_says_why(organizer, opened, state):
    from django.utils import timezone

    appraisal, pairs = opened
    services.open_design(appraisal)
    credential = pairs[1][0]
    if state == "used":
        services.cast(credential=credential, answers=full_answers(appraisal))
    elif state == "voided":
        Token.objects.filter(appraisal=appraisal, used=False).update(voided=True)
    elif state == "expired":
        appraisal.__class__.objects.filter(pk=appraisal.pk).update(closes_at=timezone.now())
    elif state == "not_open":
        appraisal.__class__.objects.filter(pk=appraisal.pk).update(
            opens_at=timezone.now() + dt.timedelta(hours=1)
        )
    else:
        credential = "x" * 32
    before = Ballot.objects.count()
    with pytest.raises(services.BallotError) as err:
        services.cast(credential=credential, answers=full_answers(appraisal),
                      appraisal_hint=appraisal.pk)  # fmt: skip
    assert err.value.code == state
    assert Ballot.objects.count() == before


def test_closing_drops_the_design_and_refuses_further_ballots(organizer, opened):
    appraisal, pairs = opened
    client = Client(enforce_csrf_checks=True)
    page, _ = vote(client, appraisal, pairs[0][0])
    assert appraisal.pk in services._DESIGNS
    services.close_appraisal(actor=organizer, appraisal=appraisal)
    assert appraisal.pk not in services._DESIGNS
    url = reverse("vote:ballot", args=[pairs[1][0]])
    csrf = CSRF_INPUT.search(page.content.decode()).group(1)
    refused = client.post(url, {"csrfmiddlewaretoken": csrf, **form_data(appraisal)})
    assert refused.status_code == 410 and "测评已结束" in refused.content.decode()
    assert Ballot.objects.count() == 1


def test_another_process_drops_its_design_when_it_sees_the_appraisal_closed(organizer, opened):
    appraisal, pairs = opened
    Client().get(reverse("vote:ballot", args=[pairs[0][0]]))
    kept = services._DESIGNS[appraisal.pk]
    services.close_appraisal(actor=organizer, appraisal=appraisal)
    services._DESIGNS[appraisal.pk] = kept  # as a process that did not close it still has it
    expired = Client().get(reverse("vote:ballot", args=[pairs[1][0]]))
    assert expired.status_code == 410
    assert appraisal.pk not in services._DESIGNS


def test_a_design_kept_for_another_appraisal_with_the_same_id_is_not_used(opened):
    appraisal, pairs = opened
    stale = services.OpenDesign(
        (appraisal.pk, "another appraisal"), "旧测评", appraisal.questions, appraisal.grades,
        [(999999, "不相干的对象", "")],
    )  # fmt: skip
    stale.form = "stale form"
    services._DESIGNS[appraisal.pk] = stale
    page = Client().get(reverse("vote:ballot", args=[pairs[0][0]]))
    html = page.content.decode()
    assert page.status_code == 200 and "stale form" not in html and "不相干的对象" not in html
    assert services._DESIGNS[appraisal.pk].target_ids == services.target_ids(appraisal)
    token = services.lookup_token(pairs[1][0])
    with pytest.raises(services.AnswerError):
        services.cast(credential=pairs[1][0], answers={999999: {"overall": 0}})
    services.cast(credential=pairs[1][0], answers=full_answers(token.appraisal))
    assert Ballot.objects.count() == 1


def test_incomplete_ballot_is_shown_again_from_the_kept_design(opened):
    appraisal, pairs = opened
    client = Client(enforce_csrf_checks=True)
    url = reverse("vote:ballot", args=[pairs[0][0]])
    csrf = CSRF_INPUT.search(client.get(url).content.decode()).group(1)
    data = form_data(appraisal, comment="保留的意见")
    data.pop(next(k for k in data if k.startswith("a-")))
    again = client.post(url, {"csrfmiddlewaretoken": csrf, **data})
    html = again.content.decode()
    assert again.status_code == 400 and "请完成全部必答题" in html and "保留的意见" in html
    assert not Ballot.objects.exists() and not Token.objects.filter(used=True).exists()


def test_lookup_reads_the_window_as_aware_datetimes(organizer, campaign):
    import datetime as dt

    from django.utils import timezone

    from kaoping.ballots import design

    appraisal = design.design_from_campaign(
        actor=organizer, campaign=campaign, rater_group="members"
    )
    opens = timezone.now() + dt.timedelta(hours=1)
    design.update_design(actor=organizer, appraisal=appraisal, opens_at=opens)
    from kaoping.ballots import tokens

    ((token, _),) = tokens.issue_tokens(actor=organizer, appraisal=appraisal, count=1)
    services.open_appraisal(actor=organizer, appraisal=appraisal)
    found = services.lookup_token(token)
    assert found.appraisal.opens_at == opens and timezone.is_aware(found.appraisal.opens_at)
    assert services.token_state(found, campaign_fresh=True) == "not_open"
    assert found.appraisal.campaign.status == campaign.status


# ---- the public pages and the middlewares --------------------------------------------------


def test_public_pages_keep_csrf(opened):
    appraisal, pairs = opened
    client = Client(enforce_csrf_checks=True)
    url = reverse("vote:ballot", args=[pairs[0][0]])
    assert client.post(url, form_data(appraisal)).status_code == 403  # no cookie, no token
    client.get(url)  # sets the cookie
    wrong = client.post(url, {"csrfmiddlewaretoken": "x" * 64, **form_data(appraisal)})
    assert wrong.status_code == 403
    other = Client(enforce_csrf_checks=True)
    page = other.get(reverse("vote:ballot", args=[pairs[1][0]])).content.decode()
    stolen = CSRF_INPUT.search(page).group(1)  # another browser's form token: no cookie here
    fresh = Client(enforce_csrf_checks=True)
    assert (
        fresh.post(url, {"csrfmiddlewaretoken": stolen, **form_data(appraisal)}).status_code == 403
    )
    assert not Ballot.objects.exists() and not Token.objects.filter(used=True).exists()


def test_public_pages_keep_their_headers(opened):
    appraisal, pairs = opened
    page = Client().get(reverse("vote:ballot", args=[pairs[0][0]]))
    assert page["X-Frame-Options"] == "DENY"
    assert page["X-Content-Type-Options"] == "nosniff"
    assert page["Referrer-Policy"] == "same-origin" and "no-store" in page["Cache-Control"]


def test_public_pages_do_not_touch_a_signed_in_session(client, organizer, opened):
    appraisal, pairs = opened
    client.force_login(organizer)
    assert "sessionid" in client.get(reverse("core:home")).cookies  # renewed on every page
    page = client.get(reverse("vote:ballot", args=[pairs[0][0]]))
    assert page.status_code == 200 and "sessionid" not in page.cookies
    assert page.wsgi_request.user.is_anonymous
    assert not hasattr(page.wsgi_request, "session")
    thanks = client.get(reverse("vote:thanks"))
    assert thanks.status_code == 200 and "sessionid" not in thanks.cookies
    assert client.get(reverse("core:home")).status_code == 200  # still signed in elsewhere


def test_guessing_limit_still_applies(settings, opened):
    settings.KAOPING_VOTE_GUESS_LIMIT = 2
    appraisal, pairs = opened
    client = Client()
    for i in range(2):
        assert client.get(reverse("vote:ballot", args=[f"guess{i:027d}"])).status_code == 404
    assert client.get(reverse("vote:ballot", args=[pairs[0][0]])).status_code == 429


def test_guessing_limit_holds_for_a_hinted_cast(settings, opened):
    """The one-statement cast checks the client's failed look-ups itself."""
    settings.KAOPING_VOTE_GUESS_LIMIT = 2
    appraisal, pairs = opened
    client = Client(enforce_csrf_checks=True)
    url = reverse("vote:ballot", args=[pairs[0][0]])
    csrf = CSRF_INPUT.search(client.get(url).content.decode()).group(1)  # design now held
    for i in range(2):
        assert client.get(reverse("vote:ballot", args=[f"guess{i:027d}"])).status_code == 404
    refused = client.post(
        url, {"csrfmiddlewaretoken": csrf, "ap": str(appraisal.pk), **form_data(appraisal)}
    )
    assert refused.status_code == 429 and "尝试次数过多" in refused.content.decode()
    assert not Ballot.objects.exists() and not Token.objects.filter(used=True).exists()


def test_wrappers_run_the_middleware_everywhere_but_the_public_pages():
    calls = []

    class Inner:
        def __init__(self, get_response):
            self.get_response = get_response

        def __call__(self, request):
            calls.append(request.path)
            return self.get_response(request)

    class Wrapped(middleware._SkipOnPublicPages):
        wrapped = f"{__name__}.INNER"

    globals()["INNER"] = Inner
    try:
        chain = Wrapped(lambda request: HttpResponse("ok"))
        factory = RequestFactory()
        for path in ("/v/abc/", "/v/", "/v/thanks/", "/campaigns/", "/vote/", "/"):
            chain(factory.get(path))
    finally:
        del globals()["INNER"]
    assert calls == ["/campaigns/", "/vote/", "/"]


def test_auth_wrapper_leaves_an_anonymous_user_on_public_pages():
    seen = {}

    def view(request):
        seen["user"] = request.user
        return HttpResponse("ok")

    chain = middleware.AuthenticationMiddleware(view)
    chain(RequestFactory().get("/v/abc/"))
    assert seen["user"].is_anonymous


def test_locale_wrapper_speaks_the_site_language_on_public_pages():
    from django.utils import translation

    seen = {}

    def view(request):
        seen["language"] = translation.get_language()
        seen["code"] = request.LANGUAGE_CODE
        return HttpResponse("ok")

    chain = middleware.LocaleMiddleware(view)
    translation.activate("en")  # as a thread that served something else may have left it
    try:
        chain(RequestFactory().get("/v/abc/", HTTP_ACCEPT_LANGUAGE="en-US"))
    finally:
        translation.deactivate()
    assert seen == {"language": "zh-hans", "code": "zh-hans"}


def test_the_empty_form_marks_are_replaced(opened):
    appraisal, pairs = opened
    html = Client().get(reverse("vote:ballot", args=[pairs[0][0]])).content.decode()
    assert public_views._CSRF_MARK not in html and public_views._STORE_MARK not in html


def test_the_ballot_statements_are_prepared_once_per_connection(opened):
    """On PostgreSQL the look-up and the cast are parsed and planned once per connection."""
    appraisal, pairs = opened
    client = Client(enforce_csrf_checks=True)
    for token, _ in pairs[:3]:
        _, done = vote(client, appraisal, token)
        assert done.status_code == 302
    if connection.vendor != "postgresql":
        assert Ballot.objects.count() == 3  # SQLite: Django's cursor, nothing to prepare
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert sum("WITH consumed AS" in sql for sql in prepared) == 1
    assert sum("token_hash" in sql and sql.lstrip().startswith("SELECT") for sql in prepared) == 1


@pytest.mark.parametrize("hinted", [False, True])
def test_comments_are_stored_exactly(opened, hinted):
    """The answers travel as one JSON text on PostgreSQL: quotes, backslashes, line breaks,
    emoji and JSON-looking text come back unchanged."""
    appraisal, pairs = opened
    services.open_design(appraisal)
    comment = '他说："好"\\n 第二行\n{"a": [1, null]} 😀 \\u0041'
    answers = full_answers(appraisal, 1)
    first = next(iter(answers))
    answers[first]["comment"] = comment
    services.cast(credential=pairs[0][0], answers=answers,
                  appraisal_hint=appraisal.pk if hinted else None)  # fmt: skip
    stored = BallotAnswer.objects.get(question="comment")
    assert stored.comment == comment.strip() and stored.target_id == first
    assert stored.grade is None
    assert set(
        BallotAnswer.objects.exclude(question="comment").values_list("grade", flat=True)
    ) == {1}


def _token_updates():
    """(updates, heap-only updates) of the token table in this transaction so far."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = %s",
            [Token._meta.db_table],
        )
        return cursor.fetchone()


def test_a_cast_updates_its_token_in_place(opened):
    """On PostgreSQL consuming a token is a heap-only update: no index of the token table is
    touched (the used flag is in no index, the table leaves room in its pages)."""
    appraisal, pairs = opened
    services.open_design(appraisal)
    before = _token_updates() if connection.vendor == "postgresql" else None
    for i, (token, _) in enumerate(pairs):
        services.cast(credential=token, answers=full_answers(appraisal),
                      appraisal_hint=appraisal.pk if i % 2 else None)  # fmt: skip
    assert Token.objects.filter(appraisal=appraisal, used=True).count() == len(pairs)
    if connection.vendor != "postgresql":
        return
    updated, hot = (after - b for after, b in zip(_token_updates(), before, strict=True))
    assert updated == hot == len(pairs)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s", [Token._meta.db_table])
        assert "fillfactor=50" in cursor.fetchone()[0]
