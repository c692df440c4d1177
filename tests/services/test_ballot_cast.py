"""Casting a ballot: the happy path, every refused token, invalid answers, a crash mid-submit,
identified mode, design, tokens, opening and closing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError
from django.utils import timezone

from kaoping.audit.models import AuditEntry
from kaoping.ballots import design, services, tokens
from kaoping.ballots.models import (
    Appraisal,
    AppraisalStatus,
    Ballot,
    BallotAnswer,
    FailedLookup,
    IdentifiedVote,
    Token,
    TokenUse,
)
from kaoping.campaigns import services as campaign_services
from kaoping.campaigns.models import Stage
from kaoping.organizations.models import PoliticalStatus

from ..ballot_helpers import appraisal_campaign, full_answers, open_appraisal
from ..factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(organizer, tree):
    return appraisal_campaign(organizer, tree)


@pytest.fixture
def opened(organizer, campaign):
    return open_appraisal(organizer, campaign, count=5)


# ---- design --------------------------------------------------------------------------------


def test_design_takes_the_groups_ballot_questions_targets_and_grades(organizer, campaign):
    members = design.design_from_campaign(actor=organizer, campaign=campaign, rater_group="members")
    masses = design.design_from_campaign(actor=organizer, campaign=campaign, rater_group="masses")
    assert [q["code"] for q in members.questions] == ["Q1", "Q2", "overall", "comment"]
    assert [q["code"] for q in masses.questions] == ["Q1", "overall", "comment"]
    assert members.questions[0]["text"] == "群众满意度"
    assert [g["label"] for g in members.grades] == ["好", "较好", "一般", "差"]
    assert members.targets.count() == campaign.targets.count() == 4
    assert members.name.endswith("党员民主测评")
    assert AuditEntry.objects.filter(action=design.ACTION_CREATE).count() == 2


def test_design_uses_the_versions_ballot_grades(organizer, campaign):
    version = campaign.scheme_version
    version.options = {**version.options, "ballot_grades": [
        {"label": "满意", "coefficient": 100}, {"label": "基本满意", "coefficient": 70},
        {"label": "不满意", "coefficient": 0},
    ]}  # fmt: skip
    version.save(update_fields=["options"])
    a = design.design_from_campaign(actor=organizer, campaign=campaign, rater_group="masses")
    assert [g["label"] for g in a.grades] == ["满意", "基本满意", "不满意"]


def test_design_refuses_unknown_group(organizer, campaign):
    with pytest.raises(ValidationError):
        design.design_from_campaign(actor=organizer, campaign=campaign, rater_group="nobody")


def test_update_design_only_in_draft(organizer, campaign):
    a = design.design_from_campaign(actor=organizer, campaign=campaign, rater_group="members")
    first = campaign.targets.order_by("code").first()
    a = design.update_design(
        actor=organizer, appraisal=a, name="党员测评", drop_questions=["Q2"], comment=False,
        question_texts={"Q1": "支部工作满意度"}, target_ids=[first.pk],
    )  # fmt: skip
    assert a.name == "党员测评"
    assert [q["code"] for q in a.questions] == ["Q1", "overall"]
    assert a.questions[0]["text"] == "支部工作满意度"
    assert list(a.targets.all()) == [first]
    services.open_appraisal(actor=organizer, appraisal=a)
    with pytest.raises(ValidationError):
        design.update_design(actor=organizer, appraisal=a, name="改名")


# ---- tokens --------------------------------------------------------------------------------


def test_tokens_are_long_random_and_stored_only_hashed(organizer, campaign):
    a = design.design_from_campaign(actor=organizer, campaign=campaign, rater_group="members")
    pairs = tokens.issue_tokens(actor=organizer, appraisal=a, count=20)
    assert len(pairs) == len({t for t, _ in pairs}) == 20
    for token, short in pairs:
        assert len(token) >= 32  # 24 random bytes
        code = short.replace("-", "")
        assert len(code) == 10 and not set(code) & set("0O1IL")
    stored = list(Token.objects.values_list("token_hash", "short_hash"))
    flat = " ".join(h for row in stored for h in row)
    for token, short in pairs:
        assert token not in flat and short.replace("-", "") not in flat
        assert Token.objects.filter(token_hash=tokens.hash_token(token)).exists()
        assert Token.objects.filter(short_hash=tokens.hash_short(short)).exists()
    # the short code's hash is keyed: plain SHA-256 of it is not what is stored
    import hashlib

    code = pairs[0][1].replace("-", "")
    assert not Token.objects.filter(short_hash=hashlib.sha256(code.encode()).hexdigest()).exists()
    entry = AuditEntry.objects.get(action=tokens.ACTION_ISSUE)
    assert entry.data["count"] == 20
    assert pairs[0][0] not in str(entry.data)


def test_reprint_voids_the_old_unused_batch(organizer, opened):
    a, pairs = opened
    services.cast(credential=pairs[0][0], answers=full_answers(a))
    new = tokens.issue_tokens(actor=organizer, appraisal=a, count=3, void_previous=True)
    assert Token.objects.filter(appraisal=a, voided=True).count() == 4
    with pytest.raises(services.BallotError) as err:
        services.cast(credential=pairs[1][0], answers=full_answers(a))
    assert err.value.code == "voided"
    services.cast(credential=new[0][1], answers=full_answers(a))  # short code works too
    assert tokens.batches(a)[1] == {"batch": 2, "issued": 3, "used": 1, "voided": 0}


def test_void_unused(organizer, opened):
    a, pairs = opened
    assert tokens.void_unused(actor=organizer, appraisal=a) == 5
    with pytest.raises(services.BallotError) as err:
        services.cast(credential=pairs[0][0], answers=full_answers(a))
    assert err.value.code == "voided"


# ---- casting -------------------------------------------------------------------------------


def test_cast_stores_an_anonymous_ballot(opened):
    a, pairs = opened
    services.cast(credential=pairs[0][0], answers=full_answers(a, 1, comment="多开展活动"))
    ballot = Ballot.objects.get()
    assert ballot.appraisal == a and ballot.source == "online"
    assert ballot.cast_on == timezone.localdate()
    answers = BallotAnswer.objects.filter(ballot=ballot)
    assert answers.filter(grade=1).count() == 4 * 3
    assert answers.filter(question="comment").count() == 4
    assert Token.objects.filter(used=True).count() == 1
    assert TokenUse.objects.get().count == 1
    assert services.turnout(a)["ballots"] == 1


def test_short_code_with_separator_and_lower_case(opened):
    a, pairs = opened
    services.cast(credential=pairs[2][1].lower().replace("-", " "), answers=full_answers(a))
    assert Ballot.objects.count() == 1


@pytest.mark.parametrize("case", ["used", "voided", "unknown"])
def test_refused_tokens(opened, case):
    a, pairs = opened
    credential = pairs[0][0]
    if case == "used":
        services.cast(credential=credential, answers=full_answers(a))
    elif case == "voided":
        Token.objects.update(voided=True)
    else:
        credential = "x" * 32
    with pytest.raises(services.BallotError) as err:
        services.cast(credential=credential, answers=full_answers(a))
    assert err.value.code == case
    assert Ballot.objects.count() == (1 if case == "used" else 0)


def test_not_open_and_expired(organizer, campaign):
    a = design.design_from_campaign(actor=organizer, campaign=campaign, rater_group="members")
    ((token, _),) = tokens.issue_tokens(actor=organizer, appraisal=a, count=1)
    with pytest.raises(services.BallotError) as err:  # still being designed
        services.cast(credential=token, answers=full_answers(a))
    assert err.value.code == "not_open"
    now = timezone.now()
    design.update_design(actor=organizer, appraisal=a, opens_at=now + dt.timedelta(hours=1))
    services.open_appraisal(actor=organizer, appraisal=a)
    with pytest.raises(services.BallotError) as err:  # before opens_at
        services.cast(credential=token, answers=full_answers(a))
    assert err.value.code == "not_open"
    with pytest.raises(services.BallotError) as err:  # after closes_at
        Appraisal.objects.filter(pk=a.pk).update(opens_at=None, closes_at=now)
        services.cast(credential=token, answers=full_answers(a))
    assert err.value.code == "expired"
    Appraisal.objects.filter(pk=a.pk).update(closes_at=None)
    services.close_appraisal(actor=organizer, appraisal=a)
    with pytest.raises(services.BallotError) as err:
        services.cast(credential=token, answers=full_answers(a))
    assert err.value.code == "expired"
    assert not Token.objects.filter(used=True).exists()


def test_campaign_past_the_appraisal_stage_expires_tokens(organizer, opened):
    a, pairs = opened
    campaign_services.transition(
        actor=organizer, campaign=a.campaign, to_stage=Stage.CONSOLIDATION, confirm=True
    )
    with pytest.raises(services.BallotError) as err:
        services.cast(credential=pairs[0][0], answers=full_answers(a))
    assert err.value.code == "expired"


def test_opening_needs_the_appraisal_stage(organizer, tree):
    campaign = appraisal_campaign(organizer, tree, stage=Stage.REVIEW)
    a = design.design_from_campaign(actor=organizer, campaign=campaign, rater_group="members")
    with pytest.raises(ValidationError):
        services.open_appraisal(actor=organizer, appraisal=a)


@pytest.mark.parametrize(
    "spoil",
    ["missing_question", "missing_target", "bad_grade", "foreign_target", "long_comment"],
)
def test_invalid_answers_are_refused_and_the_token_stays_unused(opened, spoil):
    a, pairs = opened
    answers = full_answers(a)
    first = next(iter(answers))
    if spoil == "missing_question":
        del answers[first]["overall"]
    elif spoil == "missing_target":
        del answers[first]
    elif spoil == "bad_grade":
        answers[first]["Q1"] = 9
    elif spoil == "foreign_target":
        answers[999999] = dict(answers[first])
    else:
        answers[first]["comment"] = "长" * (design.COMMENT_MAX + 1)
    with pytest.raises(services.AnswerError) as err:
        services.cast(credential=pairs[0][0], answers=answers)
    assert err.value.errors
    assert not Ballot.objects.exists()
    assert not Token.objects.filter(used=True).exists()


def test_crash_mid_submit_leaves_the_token_unused(opened, monkeypatch):
    a, pairs = opened

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    def overlong(rows):
        return real_param([*rows[:-1], (rows[-1][0], "x" * 40, *rows[-1][2:])])

    # The answers' INSERT fails after the token was consumed and the ballot row inserted. On
    # PostgreSQL all three are one statement: the last answer's question code is too long for
    # its column, so the database itself fails it midway; on SQLite the insert raises.
    real_param = services._answers_param
    monkeypatch.setattr(services, "_answers_param", overlong)
    monkeypatch.setattr(services, "_insert_ballot", crash)
    with pytest.raises((RuntimeError, DataError)):
        services.cast(credential=pairs[0][0], answers=full_answers(a))
    assert not Ballot.objects.exists()
    assert not BallotAnswer.objects.exists()
    assert not Token.objects.filter(used=True).exists()
    assert not TokenUse.objects.exists()
    monkeypatch.undo()
    services.cast(credential=pairs[0][0], answers=full_answers(a))  # the slip still works
    assert Ballot.objects.count() == 1


def test_answers_are_stored_as_given(opened):
    a, pairs = opened
    answers = full_answers(a, grade=lambda ti, qi: (ti + qi) % 4, comment="作风扎实")
    services.cast(credential=pairs[0][0], answers=answers)
    got = {
        (x.target_id, x.question, x.grade, x.comment)
        for x in BallotAnswer.objects.filter(ballot=Ballot.objects.get())
    }
    want = set()
    for t, row in answers.items():
        for q, v in row.items():
            want.add((t, q, None, v) if q == design.COMMENT else (t, q, v, ""))
    if not design.has_comment(a):
        want = {w for w in want if w[1] != design.COMMENT}
    assert got == want


def test_no_audit_entry_per_ballot(organizer, opened):
    a, pairs = opened
    before = AuditEntry.objects.count()
    for token, _ in pairs:
        services.cast(credential=token, answers=full_answers(a))
    assert AuditEntry.objects.count() == before


def test_close_rewrites_ballots_under_new_ids(organizer, opened):
    a, pairs = opened
    for i, (token, _) in enumerate(pairs):
        services.cast(credential=token, answers=full_answers(a, i % 4))
    before_ids = set(Ballot.objects.values_list("id", flat=True))
    before = sorted(BallotAnswer.objects.values_list("target_id", "question", "grade", "comment"))
    services.close_appraisal(actor=organizer, appraisal=a)
    assert not before_ids & set(Ballot.objects.values_list("id", flat=True))
    after = sorted(BallotAnswer.objects.values_list("target_id", "question", "grade", "comment"))
    assert after == before
    assert Ballot.objects.count() == 5
    entry = AuditEntry.objects.get(action=services.ACTION_CLOSE)
    assert entry.data["ballots"] == 5
    with pytest.raises(ValidationError):
        services.close_appraisal(actor=organizer, appraisal=a)


def test_close_refuses_answers_for_targets_outside_the_appraisal(organizer, opened):
    """Answers name their target without a database constraint; closing verifies them."""
    a, pairs = opened
    services.cast(credential=pairs[0][0], answers=full_answers(a))
    ballot = Ballot.objects.get()
    BallotAnswer.objects.create(ballot=ballot, target_id=987654321, question="overall", grade=0)
    with pytest.raises(ValidationError, match="不属于本测评的考核对象"):
        services.close_appraisal(actor=organizer, appraisal=a)
    a.refresh_from_db()
    assert a.status == AppraisalStatus.OPEN  # nothing of the close was kept
    assert Ballot.objects.filter(pk=ballot.pk).exists()


def test_turnout(organizer, opened):
    a, pairs = opened
    services.cast(credential=pairs[0][0], answers=full_answers(a))
    tokens.void_unused(actor=organizer, appraisal=a)
    figures = services.turnout(a)
    assert (figures["issued"], figures["used"], figures["voided"], figures["unused"]) == (
        5,
        1,
        4,
        0,
    )
    assert figures["percent"] == 100
    assert sum(m["count"] for m in figures["series"]) == 1


@pytest.mark.parametrize("hinted", [False, True])
def test_turnout_per_minute_sums_the_shards(monkeypatch, opened, hinted):
    a, pairs = opened
    services._DESIGNS.clear()
    services.open_design(a)
    shards = iter([3, 7, 3, 0, 7])
    monkeypatch.setattr(services, "_use_shard", lambda: next(shards))
    first = timezone.now().replace(second=5)
    for i, (token, _) in enumerate(pairs):
        now = first + dt.timedelta(seconds=10 * i, minutes=1 if i == 4 else 0)
        services.cast(credential=token, answers=full_answers(a), now=now,
                      appraisal_hint=a.pk if hinted else None)  # fmt: skip
    assert TokenUse.objects.count() == 4  # 3 shards in the first minute, 1 in the next
    series = [(m["minute"].minute, m["count"]) for m in services.turnout(a)["series"]]
    assert series == [(first.astimezone(timezone.get_current_timezone()).minute, 4),
                      ((first + dt.timedelta(minutes=1)).astimezone(
                          timezone.get_current_timezone()).minute, 1)]  # fmt: skip
    services._DESIGNS.clear()


# ---- guessing limit ------------------------------------------------------------------------


def test_guessing_limit_counts_per_address(settings, opened):
    settings.KAOPING_VOTE_GUESS_LIMIT = 3
    a, pairs = opened
    for i in range(3):
        assert services.failed_lookups("10.0.0.1") == i
        with pytest.raises(services.BallotError) as err:
            services.find_token("x" * 32, "10.0.0.1")
        assert err.value.code == "unknown"
    # Past the limit the address is refused whether the token exists or not: a right guess
    # would not be revealed.
    for credential in ("y" * 32, pairs[0][0]):
        with pytest.raises(services.BallotError) as err:
            services.find_token(credential, "10.0.0.1")
        assert err.value.code == "limited"
    with pytest.raises(services.BallotError) as err:
        services.cast(credential=pairs[0][0], answers=full_answers(a), ip="10.0.0.1")
    assert err.value.code == "limited"
    assert not Ballot.objects.exists()
    # another address, and a found token, are not counted
    assert services.find_token(pairs[0][0], "10.0.0.2").pk
    assert services.failed_lookups("10.0.0.2") == 0
    services.cast(credential=pairs[0][0], answers=full_answers(a), ip="10.0.0.2")
    assert Ballot.objects.count() == 1
    # stored under an HMAC of the address, never the address itself
    assert FailedLookup.objects.count() == 1
    assert not FailedLookup.objects.filter(client__contains="10.0.0").exists()


def test_guessing_limit_starts_again_each_minute(settings):
    settings.KAOPING_VOTE_GUESS_LIMIT = 2
    now = timezone.now().replace(second=30)
    for _ in range(3):
        services.record_failed_lookup("10.0.0.1", now)
    assert services.failed_lookups("10.0.0.1", now) == 3
    later = now + dt.timedelta(minutes=1)
    assert services.failed_lookups("10.0.0.1", later) == 0
    assert services.record_failed_lookup("10.0.0.1", later) == 1
    assert FailedLookup.objects.count() == 1  # the earlier minute's row is gone


# ---- identified mode -----------------------------------------------------------------------


@pytest.fixture
def voter(tree):
    person = PersonFactory(name="党员乙", organization=tree["a1"])
    return UserFactory(username="voter", person=person)


@pytest.fixture
def masses_voter(tree):
    person = PersonFactory(
        name="群众丙", organization=tree["a2"], political_status=PoliticalStatus.MASSES
    )
    return UserFactory(username="masses", person=person)


def test_identified_vote_once_per_member(organizer, campaign, voter, masses_voter):
    a, _ = open_appraisal(organizer, campaign, mode="identified")
    assert services.may_vote_identified(voter, a)
    assert not services.may_vote_identified(masses_voter, a)
    assert [r["appraisal"] for r in services.identified_appraisals(voter)] == [a]
    services.cast_identified(user=voter, appraisal=a, answers=full_answers(a, 2))
    with pytest.raises(services.BallotError) as err:
        services.cast_identified(user=voter, appraisal=a, answers=full_answers(a, 2))
    assert err.value.code == "voted"
    with pytest.raises(services.BallotError) as err:
        services.cast_identified(user=masses_voter, appraisal=a, answers=full_answers(a))
    assert err.value.code == "not_eligible"
    assert Ballot.objects.count() == 1
    assert IdentifiedVote.objects.filter(user=voter).count() == 4
    assert services.identified_appraisals(voter)[0]["voted"]
    assert services.turnout(a)["voters"] == 1


def test_identified_needs_every_target(organizer, campaign, voter):
    a, _ = open_appraisal(organizer, campaign, mode="identified")
    answers = full_answers(a)
    answers.pop(next(iter(answers)))
    with pytest.raises(services.AnswerError):
        services.cast_identified(user=voter, appraisal=a, answers=answers)
    assert not IdentifiedVote.objects.exists()


def test_identified_masses_group(organizer, campaign, voter, masses_voter):
    a, _ = open_appraisal(organizer, campaign, group="masses", mode="identified")
    assert services.may_vote_identified(masses_voter, a)
    assert not services.may_vote_identified(voter, a)


def test_outside_the_owners_subtree_may_not_vote(organizer, campaign, tree):
    from ..factories import OrganizationFactory

    elsewhere = OrganizationFactory(code="OTHER", name="外单位党委", org_type="agency_committee")
    user = UserFactory(username="far", person=PersonFactory(organization=elsewhere))
    a, _ = open_appraisal(organizer, campaign, mode="identified")
    assert not services.may_vote_identified(user, a)


def test_leaving_the_appraisal_stage_closes_open_appraisals(organizer, campaign, opened):
    appraisal, pairs = opened
    services.cast(credential=pairs[0][0], answers=full_answers(appraisal, grade=1))
    campaign_services.transition(
        actor=organizer, campaign=campaign, to_stage=Stage.CONSOLIDATION, confirm=True
    )
    appraisal.refresh_from_db()
    assert appraisal.status == AppraisalStatus.CLOSED
    assert Ballot.objects.filter(appraisal=appraisal).count() == 1
