"""Simultaneous submissions: one token submitted by many threads at the same instant counts
exactly once; many tokens submitted at once all count. Runs against the configured database
(SQLite file under KAOPING_VAR, or PostgreSQL from DATABASE_URL), with real transactions."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from kaoping.ballots import services
from kaoping.ballots.models import Ballot, BallotAnswer, Token, TokenUse

from .ballot_helpers import appraisal_campaign, full_answers, open_appraisal

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20


@pytest.fixture(params=["checked", "hinted"])
def path(request):
    """How the ballots come in: ``checked`` (the token read first) or ``hinted`` (the ballot
    form's appraisal, whose design this process holds: on PostgreSQL the whole cast is one
    statement)."""
    services._DESIGNS.clear()
    yield request.param
    services._DESIGNS.clear()


def _hint(path, appraisal):
    if path == "checked":
        return None
    services.open_design(appraisal)
    return appraisal.pk


def _run_at_once(work, n):
    """Run ``work(i)`` in ``n`` threads released together; return what each returned."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def runner(i):
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def _cast(credential, answers, hint=None):
    try:
        services.cast(credential=credential, answers=answers, appraisal_hint=hint)
    except services.BallotError as exc:
        return exc.code
    return "ok"


def test_one_token_submitted_simultaneously_counts_once(organizer, tree, path):
    campaign = appraisal_campaign(organizer, tree)
    appraisal, pairs = open_appraisal(organizer, campaign, count=3)
    answers = full_answers(appraisal, 1)
    hint = _hint(path, appraisal)
    for token, _ in pairs:  # three rounds: each time a fresh token, all threads at once
        results = _run_at_once(lambda i, t=token: _cast(t, answers, hint), THREADS)
        assert results.count("ok") == 1, results
        assert results.count("used") == THREADS - 1, results
    used = Token.objects.filter(used=True).count()
    assert Ballot.objects.count() == used
    assert BallotAnswer.objects.count() == used * 4 * 3
    assert sum(TokenUse.objects.values_list("count", flat=True)) == used


def test_many_tokens_submitted_simultaneously_all_count(organizer, tree, path):
    campaign = appraisal_campaign(organizer, tree)
    appraisal, pairs = open_appraisal(organizer, campaign, count=THREADS)
    answers = full_answers(appraisal, 2)
    hint = _hint(path, appraisal)
    results = _run_at_once(lambda i: _cast(pairs[i][0], answers, hint), THREADS)
    assert results == ["ok"] * THREADS, results
    assert Ballot.objects.count() == THREADS
    assert Token.objects.filter(used=True).count() == THREADS
    assert sum(TokenUse.objects.values_list("count", flat=True)) == THREADS


def test_close_while_voting_leaves_no_ballot_behind(organizer, tree, path):
    """Ballots racing a close are either stored before the rewrite or refused."""
    campaign = appraisal_campaign(organizer, tree)
    appraisal, pairs = open_appraisal(organizer, campaign, count=THREADS)
    answers = full_answers(appraisal, 0)
    hint = _hint(path, appraisal)

    def work(i):
        if i == 0:
            services.close_appraisal(actor=organizer, appraisal=appraisal)
            return "closed"
        return _cast(pairs[i][0], answers, hint)

    results = _run_at_once(work, THREADS)
    assert results[0] == "closed"
    accepted = results.count("ok")
    assert set(results[1:]) <= {"ok", "expired"}, results
    assert Ballot.objects.count() == accepted == Token.objects.filter(used=True).count()
