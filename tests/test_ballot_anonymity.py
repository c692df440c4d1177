"""The re-identification test: cast ballots in a known order with known, distinct answers, then
try to tell from everything stored — every column of Ballot, BallotAnswer, Token and TokenUse,
the audit log, the default read order, the order by primary key and the physical order of the
rows — which ballot came from which token or voting position. After the appraisal is closed,
no stored order may do better than chance.

The test's own choices (the voting order) use a fixed seed; the service's random ids never do.
With M = 100 ballots, Spearman's ρ of an unrelated order is about N(0, 0.1²): |ρ| ≥ 0.4 has a
probability below 1e-4 by chance, so the test is not flaky, and a real leak (ρ ≈ 1) fails it.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

import pytest
from django.db import connection, models
from scipy.stats import spearmanr

from kaoping.audit.models import AuditEntry
from kaoping.ballots import design, services, tokens
from kaoping.ballots.models import (
    Ballot,
    BallotAnswer,
    FailedLookup,
    IdentifiedVote,
    Token,
    TokenUse,
)

from .ballot_helpers import appraisal_campaign, open_appraisal
from .factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

M = 100
RHO_LIMIT = 0.4
SEED = 20260101


def _encode(appraisal, position):
    """Answers that spell ``position`` in base-(number of grades) digits over every slot."""
    base = len(appraisal.grades)
    slots = [
        (t, q["code"])
        for t in services.target_ids(appraisal)
        for q in design.grade_questions(appraisal)
    ]
    assert base ** len(slots) > M
    answers: dict = {}
    n = position
    for target, code in slots:
        answers.setdefault(target, {})[code] = n % base
        n //= base
    return answers


def _decode(appraisal):
    """Ballot id → the voting position its answers spell."""
    base = len(appraisal.grades)
    slot_index = {
        (t, q["code"]): i
        for i, (t, q) in enumerate(
            (t, q)
            for t in services.target_ids(appraisal)
            for q in design.grade_questions(appraisal)
        )
    }
    out: dict = {}
    for ballot_id, target, question, grade in BallotAnswer.objects.filter(
        ballot__appraisal=appraisal, grade__isnull=False
    ).values_list("ballot_id", "target_id", "question", "grade"):
        out[ballot_id] = out.get(ballot_id, 0) + grade * base ** slot_index[(target, question)]
    return out


def _physical(table, column, where_column, value):
    order = "ctid" if connection.vendor == "postgresql" else "rowid"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM {table} WHERE {where_column} = %s ORDER BY {order}",  # noqa: S608
            [value],
        )
        return [row[0] for row in cursor.fetchall()]


def _uuid(value):
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _first_seen(ids):
    seen: dict = {}
    for i in ids:
        seen.setdefault(_uuid(i), len(seen))
    return list(seen)


def _orders(appraisal):
    """Every order in which the stored ballots can be read, as lists of ballot ids."""
    ballot_table = Ballot._meta.db_table
    answer_table = BallotAnswer._meta.db_table
    ballot_ids = [str(b) for b in Ballot.objects.filter(appraisal=appraisal).values_list("id")]
    answer_rows = []
    with connection.cursor() as cursor:
        order = "ctid" if connection.vendor == "postgresql" else "rowid"
        cursor.execute(
            f"SELECT a.ballot_id FROM {answer_table} a JOIN {ballot_table} b ON b.id = a.ballot_id "  # noqa: S608
            f"WHERE b.appraisal_id = %s ORDER BY a.{order}",
            [appraisal.pk],
        )
        answer_rows = [r[0] for r in cursor.fetchall()]
    assert ballot_ids
    return {
        "default read order": [b.id for b in Ballot.objects.filter(appraisal=appraisal)],
        "order by pk": list(
            Ballot.objects.filter(appraisal=appraisal).order_by("pk").values_list("id", flat=True)
        ),
        "physical order of ballots": [
            _uuid(i) for i in _physical(ballot_table, "id", "appraisal_id", appraisal.pk)
        ],
        "answers, default read order": _first_seen(
            BallotAnswer.objects.filter(ballot__appraisal=appraisal).values_list(
                "ballot_id", flat=True
            )
        ),
        "answers, physical order": _first_seen(answer_rows),
    }


def _rho(order, position_of):
    positions = [position_of[b] for b in order]
    return spearmanr(range(len(positions)), positions).statistic


@pytest.fixture
def voted(organizer, tree):
    """M ballots cast in a random order of the tokens, each spelling its voting position."""
    campaign = appraisal_campaign(organizer, tree)
    appraisal, pairs = open_appraisal(organizer, campaign, count=M)
    rng = random.Random(SEED)
    order = list(range(M))
    rng.shuffle(order)  # token order[k] votes k-th
    opened_at = max(AuditEntry.objects.values_list("pk", flat=True))
    for position, token_index in enumerate(order):
        services.cast(credential=pairs[token_index][0], answers=_encode(appraisal, position))
    return appraisal, pairs, order, opened_at


def test_ballot_rows_cannot_hold_token_user_ip_or_time():
    fields = {f.name: f for f in Ballot._meta.get_fields() if f.concrete}
    assert set(fields) == {"id", "appraisal", "cast_on", "source"}
    assert type(fields["cast_on"]) is models.DateField
    assert isinstance(fields["id"], models.UUIDField)
    answer_fields = {f.name for f in BallotAnswer._meta.get_fields() if f.concrete}
    assert answer_fields == {"id", "ballot", "target", "question", "grade", "comment"}
    # nothing that points at a ballot from the token side, nor the other way round
    for model in (Token, TokenUse, IdentifiedVote, FailedLookup):
        for f in model._meta.get_fields():
            assert getattr(f, "related_model", None) not in (Ballot, BallotAnswer), (model, f)
    assert {f.name for f in TokenUse._meta.get_fields() if f.concrete} == {
        "id", "appraisal", "minute", "shard", "count",  # the shard: random per ballot
    }  # fmt: skip
    # the guessing limit: failed look-ups only, an HMAC of the address, no key to anything
    assert {f.name for f in FailedLookup._meta.get_fields() if f.concrete} == {
        "id", "client", "minute", "count",
    }  # fmt: skip


def test_cast_on_has_no_time_part(voted):
    appraisal = voted[0]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT cast_on FROM {Ballot._meta.db_table} WHERE appraisal_id = %s",  # noqa: S608
            [appraisal.pk],
        )
        values = [row[0] for row in cursor.fetchall()]
    for value in values:
        if isinstance(value, str):
            assert len(value) == 10  # YYYY-MM-DD
        else:
            assert type(value) is dt.date


def test_the_audit_log_has_no_per_ballot_entries(voted):
    appraisal, pairs, _, opened_at = voted
    assert not AuditEntry.objects.filter(pk__gt=opened_at).exists()
    texts = " ".join(str(e.data) + str(e.changes) for e in AuditEntry.objects.all())
    for token, short in pairs:
        assert token not in texts and short not in texts
    for ballot_id in Ballot.objects.values_list("id", flat=True):
        assert str(ballot_id) not in texts


def test_during_voting_the_physical_order_reflects_arrival(voted):
    """The documented weakness that closing removes: a control that the test can see a leak."""
    appraisal = voted[0]
    position_of = _decode(appraisal)
    assert sorted(position_of.values()) == list(range(M))
    orders = _orders(appraisal)
    assert _rho(orders["physical order of ballots"], position_of) > 0.9
    assert abs(_rho(orders["order by pk"], position_of)) < RHO_LIMIT  # random keys


def test_after_close_no_stored_order_reveals_the_voting_order(organizer, voted):
    appraisal, pairs, order, _ = voted
    services.close_appraisal(actor=organizer, appraisal=appraisal)
    position_of = _decode(appraisal)
    assert sorted(position_of.values()) == list(range(M))
    for name, stored in _orders(appraisal).items():
        assert len(stored) == M, name
        rho = _rho(stored, position_of)
        assert abs(rho) < RHO_LIMIT, f"{name}: ρ = {rho:.2f}"


def test_after_close_tokens_cannot_be_matched_to_ballots(organizer, voted):
    """The attacker knows the order in which tokens were used (from the token table's physical
    order, or from watching the hall) and pairs it with each stored order of ballots. The
    number of correct pairs must look like chance (about 1 of M)."""
    appraisal, pairs, order, _ = voted
    services.close_appraisal(actor=organizer, appraisal=appraisal)
    position_of = _decode(appraisal)
    token_pk_by_index = {
        i: Token.objects.get(token_hash=tokens.hash_token(t)).pk for i, (t, _) in enumerate(pairs)
    }
    true_token_of_ballot = {b: token_pk_by_index[order[p]] for b, p in position_of.items()}
    used_tokens_physical = [
        pk for pk in _physical(Token._meta.db_table, "id", "appraisal_id", appraisal.pk)
    ]
    used = set(Token.objects.filter(appraisal=appraisal, used=True).values_list("pk", flat=True))
    guesses_by_token_order = [pk for pk in used_tokens_physical if pk in used]
    true_use_order = [token_pk_by_index[i] for i in order]
    for token_order_name, token_order in (
        ("token table's physical order", guesses_by_token_order),
        ("true order of use", true_use_order),
        ("token ids", sorted(used)),
    ):
        for name, stored in _orders(appraisal).items():
            hits = sum(
                1 for b, t in zip(stored, token_order, strict=True) if true_token_of_ballot[b] == t
            )
            # Poisson(1) under chance: P(hits >= 8) < 1e-5
            assert hits < 8, f"{name} × {token_order_name}: {hits} of {M}"


def test_identified_votes_cannot_be_joined_to_ballots(organizer, tree):
    campaign = appraisal_campaign(organizer, tree)
    appraisal, _ = open_appraisal(organizer, campaign, mode="identified")
    users = [
        UserFactory(username=f"v{i}", person=PersonFactory(organization=tree["a1"]))
        for i in range(M)
    ]
    rng = random.Random(SEED + 1)
    rng.shuffle(users)
    for position, user in enumerate(users):
        services.cast_identified(
            user=user, appraisal=appraisal, answers=_encode(appraisal, position)
        )
    services.close_appraisal(actor=organizer, appraisal=appraisal)
    position_of = _decode(appraisal)
    # The order of IdentifiedVote rows is the voting order of users; the ballots' is not.
    vote_order = list(
        IdentifiedVote.objects.filter(appraisal=appraisal)
        .order_by("pk")
        .values_list("user_id", flat=True)
        .distinct()
    )
    assert len(set(vote_order)) == M
    for name, stored in _orders(appraisal).items():
        rho = _rho(stored, position_of)
        assert abs(rho) < RHO_LIMIT, f"{name}: ρ = {rho:.2f}"
    assert {f.name for f in IdentifiedVote._meta.get_fields() if f.concrete} == {
        "id", "appraisal", "user", "target",
    }  # fmt: skip
