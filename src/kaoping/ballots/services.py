"""Casting ballots, opening and closing an appraisal, turnout, and the guessing limit.

Exactly one ballot per token
    ``cast`` checks the token and the answers, then in ONE transaction: consumes the token with
    a conditional ``UPDATE … SET used = true WHERE … AND NOT used AND NOT voided AND`` the
    appraisal still takes votes (its row read ``FOR SHARE`` on PostgreSQL, so ``close_appraisal``
    waits for ballots in flight; a second submit of the same token updates 0 rows and is
    refused), stores the ballot and its answers, and adds one to the minute's ``TokenUse``
    count (one of ``USE_SHARDS`` rows picked at random, so simultaneous ballots rarely wait for
    the same row). Anything that fails rolls the whole transaction back, so the token stays
    unused. On SQLite a busy database (``database is locked``) is retried with backoff a
    bounded number of times; a ballot is only acknowledged once its transaction has committed.

    On PostgreSQL that transaction is ONE prepared statement (``_cast_sql``: data-modifying
    CTEs, each step only if the previous one happened), so a ballot costs one round trip. The
    ballot form names its appraisal; when this process holds that appraisal's design, the
    statement finds the token by the credential's hash and checks it, the window and the
    guessing limit itself — the submit reads nothing first (``cast``'s ``appraisal_hint``). The
    ballot pages read the token with its appraisal and campaign in one query; the appraisal's
    design (name, questions, grades, targets, the rendered empty form) is kept per process while
    it is open (``open_design``: it cannot change then) and dropped once it is seen closed. The
    window, the status and the token are read on every request.

Anonymity
    A ballot row holds the appraisal, the day and the source, nothing else. No audit entry is
    written per ballot (the audit log would date and order them); only issuing, voiding, opening
    and closing are audited. ``TokenUse`` counts per minute and has no key to a ballot or token.
    During voting, someone with raw access to the database files could still read the physical
    order of rows (PostgreSQL appends new row versions; SQLite assigns increasing rowids), and
    so the arrival order of ballots. ``close_appraisal`` removes that: it deletes the
    appraisal's ballots and answers and inserts them again under fresh random UUIDs, in the
    order of those UUIDs. (On PostgreSQL the old row versions stay in the data files as dead
    tuples until VACUUM runs; autovacuum does this soon after, ``VACUUM ballots_ballot,
    ballots_ballotanswer`` does it at once.) The web server's access log holds the token URL and
    the client address of each request: switch access logging off for ``/v/`` (docs/deploy.md).

Identified mode (实名)
    ``cast_identified``: a logged-in member votes once, on every target of the appraisal at once
    (a ballot on part of the targets could single its voter out by the set of targets). The
    ``IdentifiedVote`` rows (who voted on which target, never how) are inserted in the same
    transaction as the ballot; nothing links them to it, and closing reorders the ballots.
    Who may vote (``may_vote_identified``): an active account linked to an active person in the
    campaign owner's subtree, and by group — 党员: a (probationary) party member; 群众: not a
    party member; 班子成员: a leading cadre or the holder of a current post in a party
    committee; 机关党委: the holder of a current post in the owner organization's committee.
    上级党组织 and 服务对象 vote with tokens only.

Guessing limit
    Failed token look-ups are counted per client address and minute in ``FailedLookup``, keyed by
    an HMAC of the address (never the address itself); look-ups that find a token are not
    recorded. Past ``settings.KAOPING_VOTE_GUESS_LIMIT`` (default 10) the public pages answer
    429, whether the token exists or not. The count is read by the token look-up's own query
    and checked by the cast statement itself (no extra round trip), and it is shared by every
    server process and machine.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import random
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from kaoping.audit.services import log_action
from kaoping.campaigns.models import Campaign, Stage
from kaoping.campaigns.services import stage_is_open
from kaoping.campaigns.workflow import index as stage_index
from kaoping.indicators.constants import RaterGroupCode

from . import design, selectors
from .models import (
    Appraisal,
    AppraisalMode,
    AppraisalStatus,
    Ballot,
    BallotAnswer,
    BallotSource,
    FailedLookup,
    IdentifiedVote,
    Token,
    TokenUse,
)
from .tokens import credential_hashes

T = TypeVar("T")
ACTION_OPEN = "appraisal.open"
ACTION_CLOSE = "appraisal.close"
RETRIES = 8

MESSAGES = {
    "unknown": "无效的选票：未找到这张票，请核对二维码或短码。",
    "used": "该票已使用，每张票只能投一次。",
    "voided": "该票已作废，请向工作人员领取新票。",
    "not_open": "测评尚未开始，请在工作人员宣布开始后再扫码。",
    "expired": "测评已结束，该票已过期。",
    "voted": "您已参加过本测评，每人只能投一次。",
    "not_eligible": "您不在本测评的评价主体范围内。",
    "limited": "尝试次数过多，请一分钟后再试。",
}


class BallotError(Exception):
    """A ballot refused: ``code`` names the case (see ``MESSAGES``)."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or MESSAGES.get(code, code))
        self.code = code
        self.message = message or MESSAGES.get(code, code)


class AnswerError(BallotError):
    """Answers missing or invalid; ``errors`` maps ``"<target_id>:<question>"`` to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("invalid", "请完成全部必答题后再提交。")
        self.errors = errors


# ---- the statements every ballot runs --------------------------------------------------------


def statement_cursor() -> Any:
    """A cursor for the statements every ballot page runs (the token look-up, the cast). On
    PostgreSQL its parameters are bound by the server and each statement is prepared once per
    connection (parsed and planned once, not per ballot; Django's own cursors quote parameters
    into the SQL text and prepare nothing, which suits poolers). Prepared statements need a
    direct connection or a pooler that keeps them (PgBouncer ≥ 1.21 in transaction mode with
    ``max_prepared_statements``): see docs/deploy.md. Elsewhere Django's cursor."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        cursor = _prepared_cursor_class()(connection.connection)
        cursor.log_queries = connection.queries_logged
        return connection._prepare_cursor(cursor)


_PREPARED_CURSOR: list[type] = []


def _prepared_cursor_class() -> type:
    if not _PREPARED_CURSOR:
        from django.db.backends.postgresql.base import ServerBindingCursor

        class PreparedCursor(ServerBindingCursor):  # type: ignore[misc, valid-type]
            # When Django logs queries (DEBUG, tests), the statement it shows: psycopg keeps
            # none for a prepared execution.
            log_queries = False

            def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
                kwargs.setdefault("prepare", True)
                result = super().execute(query, params, **kwargs)
                if self.log_queries:
                    self._query = self._convert_query(query, params)
                return result

        _PREPARED_CURSOR.append(PreparedCursor)
    return _PREPARED_CURSOR[0]


# ---- looking up a token --------------------------------------------------------------------


def lookup_token(
    credential: str, ip: str | None = None, now: dt.datetime | None = None
) -> Token | None:
    """The token for a scanned token or a typed short code (None if unknown), with its
    appraisal and campaign: one query reading only what the ballot pages check on every request
    (the token's state, the appraisal's status and window, the campaign's stage) and, in the
    same query, the failed look-ups of the client ``ip`` this minute (``token.failed_lookups``,
    see ``find_token``). The appraisal's design (name, questions, grades, targets) comes from
    ``open_design``; any other field is still loaded on first access."""
    hashed = credential_hashes(credential)
    if hashed is None:
        return None
    field, value = hashed
    with statement_cursor() as cursor:
        cursor.execute(_lookup_sql(field), [*_guess_params(ip, now), value])
        row = cursor.fetchone()
    if row is None:
        return None
    db = connection.alias
    token = Token.from_db(db, _TOKEN_FIELDS, row[1:5])
    token.failed_lookups = row[0] or 0
    opens_at, closes_at, created_at = (_db_datetime(v) for v in row[9:12])
    appraisal = Appraisal.from_db(
        db, _APPRAISAL_FIELDS, (*row[5:9], opens_at, closes_at, created_at)
    )
    campaign = Campaign.from_db(db, _CAMPAIGN_FIELDS, row[12:14])
    appraisal.campaign = campaign
    token.appraisal = appraisal
    if appraisal.status != AppraisalStatus.OPEN:
        forget_design(appraisal.pk)
    return token


def find_token(credential: str, ip: str | None, now: dt.datetime | None = None) -> Token:
    """The ballot pages' look-up under the guessing limit: the token, or ``BallotError``
    ``limited`` (the client ``ip`` failed ``guess_limit()`` look-ups this minute: refused
    whether the token exists or not) or ``unknown`` (recorded as a failed look-up)."""
    token = lookup_token(credential, ip, now)
    if token is None:
        if record_failed_lookup(ip, now) > guess_limit():
            raise BallotError("limited")
        raise BallotError("unknown")
    if token.failed_lookups >= guess_limit():
        raise BallotError("limited")
    return token


# In the order of each model's concrete fields (``Model.from_db`` defers the others).
_TOKEN_FIELDS = ("id", "appraisal_id", "used", "voided")
_APPRAISAL_FIELDS = (
    "id", "campaign_id", "mode", "status", "opens_at", "closes_at", "created_at",
)  # fmt: skip
_CAMPAIGN_FIELDS = ("id", "status")
_LOOKUP_SQL: dict[tuple[str, str], str] = {}


def _lookup_sql(field: str) -> str:
    """The look-up by ``token_hash`` or ``short_hash`` (unique indexes; no ORDER BY, which
    could make PostgreSQL walk the primary key instead), written once per database vendor."""
    key = (connection.vendor, field)
    sql = _LOOKUP_SQL.get(key)
    if sql is None:
        if field not in ("token_hash", "short_hash"):
            raise ValueError(field)
        qn = connection.ops.quote_name
        t, a, c = (
            qn(Token._meta.db_table),
            qn(Appraisal._meta.db_table),
            qn(Campaign._meta.db_table),
        )
        f_ = qn(FailedLookup._meta.db_table)
        columns = [
            f"(SELECT {f_}.{qn('count')} FROM {f_} WHERE {f_}.{qn('client')} = %s "
            f"AND {f_}.{qn('minute')} = %s)"
        ]
        columns += [f"{t}.{qn(f)}" for f in _TOKEN_FIELDS]
        columns += [f"{a}.{qn(f)}" for f in _APPRAISAL_FIELDS]
        columns += [f"{c}.{qn(f)}" for f in _CAMPAIGN_FIELDS]
        sql = (
            f"SELECT {', '.join(columns)} FROM {t} "  # noqa: S608 - names, not values
            f"INNER JOIN {a} ON {a}.{qn('id')} = {t}.{qn('appraisal_id')} "
            f"INNER JOIN {c} ON {c}.{qn('id')} = {a}.{qn('campaign_id')} "
            f"WHERE {t}.{qn(field)} = %s LIMIT 1"
        )
        _LOOKUP_SQL[key] = sql
    return sql


def _db_datetime(value: Any) -> dt.datetime | None:
    """A datetime column read with a plain cursor, as the ORM would return it (SQLite gives
    naive UTC datetimes or text; PostgreSQL aware datetimes)."""
    convert = getattr(connection.ops, "convert_datetimefield_value", None)
    if value is None or convert is None:
        return value
    return convert(value, None, connection)


# ---- the design of an open appraisal, kept per process -------------------------------------


class OpenDesign:
    """What every ballot of an open appraisal shares: its name, questions, grades and targets
    (``(pk, name, group_name)`` in ballot order), and the empty ballot form once rendered
    (``public_views``). None of it can change while the appraisal is open: ``update_design``
    works on drafts only, targets are added and removed only before the campaign reaches 测评,
    and an appraisal never goes back from open to draft."""

    __slots__ = ("stamp", "name", "questions", "grades", "targets", "target_ids", "form")

    def __init__(self, stamp: Any, name: str, questions: list[dict[str, Any]],
                 grades: list[dict[str, Any]], targets: list[tuple[int, str, str]]) -> None:  # fmt: skip
        self.stamp = stamp
        self.name = name
        self.questions = questions
        self.grades = grades
        self.targets = targets
        self.target_ids = [pk for pk, _, _ in targets]
        self.form: str | None = None


# appraisal id → its design, while it is open. An entry is trusted only for the same
# appraisal (``_design_stamp``: the id with its creation time, which a database that reuses ids
# — SQLite after a rolled-back test — does not repeat) and dropped once the appraisal is seen
# closed (``lookup_token``) or closed in this process (``close_appraisal``).
_DESIGNS: dict[int, OpenDesign] = {}
_DESIGNS_MAX = 256


def _design_stamp(appraisal: Appraisal) -> Any:
    return (appraisal.pk, appraisal.created_at)


def open_design(appraisal: Appraisal) -> OpenDesign:
    """The design of an appraisal that is open (the caller has checked ``window_state``), from
    this process's memory after the first ballot; its name, questions and grades are also put
    on ``appraisal`` (so they are not read again)."""
    stamp = _design_stamp(appraisal)
    found = _DESIGNS.get(appraisal.pk)
    if found is None or found.stamp != stamp:
        name, questions, grades = Appraisal.objects.filter(pk=appraisal.pk).values_list(
            "name", "questions", "grades"
        )[0]
        found = OpenDesign(stamp, name, questions, grades, ballot_targets(appraisal))
        if len(_DESIGNS) >= _DESIGNS_MAX:
            _DESIGNS.clear()
        _DESIGNS[appraisal.pk] = found
    appraisal.name = found.name
    appraisal.questions = found.questions
    appraisal.grades = found.grades
    return found


def forget_design(appraisal_id: int) -> None:
    _DESIGNS.pop(appraisal_id, None)


def window_state(
    appraisal: Appraisal, now: dt.datetime | None = None, *, campaign_fresh: bool = False
) -> str | None:
    """None when votes are taken now; else ``not_open`` or ``expired``. ``campaign_fresh``: the
    campaign was read together with the appraisal just now (``lookup_token``), so its status
    need not be read again."""
    now = now or timezone.now()
    if appraisal.status == AppraisalStatus.DRAFT:
        return "not_open"
    if appraisal.status == AppraisalStatus.CLOSED:
        return "expired"
    campaign = appraisal.campaign
    if campaign_fresh:
        is_open = campaign.status == str(Stage.APPRAISAL)
    else:
        is_open = stage_is_open(campaign, Stage.APPRAISAL)
    if not is_open:
        if not campaign_fresh:
            campaign.refresh_from_db(fields=["status"])
        before = stage_index(campaign.status) < stage_index(Stage.APPRAISAL)
        return "not_open" if before else "expired"
    if appraisal.opens_at and now < appraisal.opens_at:
        return "not_open"
    if appraisal.closes_at and now >= appraisal.closes_at:
        return "expired"
    return None


def token_state(
    token: Token, now: dt.datetime | None = None, *, campaign_fresh: bool = False
) -> str | None:
    """None when ``token`` can vote now; else the ``MESSAGES`` code why not.
    ``campaign_fresh``: ``token`` comes straight from ``lookup_token`` (one query read the
    token, its appraisal and campaign), see ``window_state``."""
    if token.used:
        return "used"
    if token.voided:
        return "voided"
    return window_state(token.appraisal, now, campaign_fresh=campaign_fresh)


# ---- answers -------------------------------------------------------------------------------


# One answer as stored: (target id, question code, grade index or None, comment).
AnswerRow = tuple[int, str, "int | None", str]


def clean_answers(
    appraisal: Appraisal, answers: Mapping[Any, Mapping[str, Any]], target_ids: list[int]
) -> list[AnswerRow]:
    """Every target × every grade question answered with a valid grade index; comments
    optional and at most ``design.COMMENT_MAX`` characters. ``answers``:
    ``{target_id: {question_code: grade_index | comment_text}}``."""
    return _clean_rows(appraisal.questions, len(appraisal.grades), answers, target_ids)


def _clean_rows(
    all_questions: list[dict[str, Any]],
    n_grades: int,
    answers: Mapping[Any, Mapping[str, Any]],
    target_ids: list[int],
) -> list[AnswerRow]:
    questions = design.grade_questions_in(all_questions)
    comment = design.has_comment_in(all_questions)
    by_target = {str(k): v for k, v in answers.items()}
    errors: dict[str, str] = {}
    if not set(by_target) <= {str(t) for t in target_ids}:
        errors["targets"] = "答卷中有不属于本测评的考核对象"
    rows: list[AnswerRow] = []
    for target_id in target_ids:
        given = by_target.get(str(target_id)) or {}
        for q in questions:
            code = q["code"]
            raw = given.get(code)
            try:
                grade = int(raw)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                grade = -1
            if not 0 <= grade < n_grades:
                errors[f"{target_id}:{code}"] = f"请评价“{q['text']}”"
                continue
            rows.append((target_id, code, grade, ""))
        text = str(given.get(design.COMMENT) or "").strip() if comment else ""
        if len(text) > design.COMMENT_MAX:
            errors[f"{target_id}:{design.COMMENT}"] = f"意见建议最多 {design.COMMENT_MAX} 字"
        elif text:
            rows.append((target_id, design.COMMENT, None, text))
    if errors:
        raise AnswerError(errors)
    return rows


def target_ids(appraisal: Appraisal) -> list[int]:
    return list(appraisal.targets.order_by("code", "pk").values_list("pk", flat=True))


def ballot_targets(appraisal: Appraisal) -> list[tuple[int, str, str]]:
    """``(pk, name, group_name)`` of the appraisal's targets in ballot order (one query)."""
    return list(appraisal.targets.order_by("code", "pk").values_list("pk", "name", "group_name"))


# ---- storing -------------------------------------------------------------------------------


def _retryable(exc: Exception) -> bool:
    text = str(exc).lower()
    if "database is locked" in text or "database is busy" in text:
        return True
    sqlstate = getattr(getattr(exc, "__cause__", None), "sqlstate", None)
    return sqlstate in ("40001", "40P01")  # serialization failure, deadlock


def _with_retry(work: Callable[[], T]) -> T:
    """Run ``work`` (one transaction), again after a busy database, with growing pauses."""
    delay = 0.02
    for attempt in range(RETRIES):
        try:
            return work()
        except OperationalError as exc:
            if attempt == RETRIES - 1 or not _retryable(exc):
                raise
        time.sleep(delay * (1 + random.random()))  # noqa: S311 - jitter, not a secret
        delay = min(delay * 2, 1.0)
    raise AssertionError("unreachable")


def _lock_open(appraisal_id: int) -> None:
    """Inside the cast's transaction: the appraisal must still be open. On PostgreSQL the row
    is share-locked, so a concurrent close waits until this ballot has committed (and ballots
    after it see it closed); on SQLite the transaction already holds the write lock."""
    table = Appraisal._meta.db_table
    lock = " FOR SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT status FROM {table} WHERE id = %s{lock}", [appraisal_id])  # noqa: S608
        row = cursor.fetchone()
    if row is None or row[0] != AppraisalStatus.OPEN:
        raise BallotError("expired")


def _consume(token_id: int, appraisal_id: int) -> int:
    """Inside the cast's transaction: mark the token used if it is unused, not voided and its
    appraisal still open — one statement doing ``_lock_open`` and the conditional UPDATE (on
    PostgreSQL the appraisal row is share-locked by the sub-select, so a concurrent close waits
    for this ballot). The number of tokens consumed (0 or 1)."""
    qn = connection.ops.quote_name
    token, appraisal = qn(Token._meta.db_table), qn(Appraisal._meta.db_table)
    lock = " FOR SHARE" if connection.vendor == "postgresql" else ""
    sql = (
        f"UPDATE {token} SET {qn('used')} = %s WHERE {qn('id')} = %s "  # noqa: S608
        f"AND {qn('used')} = %s AND {qn('voided')} = %s AND EXISTS (SELECT 1 FROM {appraisal} "
        f"WHERE {qn('id')} = %s AND {qn('status')} = %s{lock})"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [True, token_id, False, False, appraisal_id, AppraisalStatus.OPEN.value]
        )
        return cursor.rowcount


def _minute(now: dt.datetime) -> dt.datetime:
    return now.replace(second=0, microsecond=0)


# A minute's TokenUse count is spread over this many rows (``models.TokenUse``).
USE_SHARDS = 16
_USE_KEYS = ("appraisal_id", "minute", "shard")


def _use_shard() -> int:
    return random.randrange(USE_SHARDS)  # noqa: S311 - spreads lock waits, not a secret


def _increment_sql(
    model: type[Any], keys: tuple[str, ...], *, row: str | None = None, returning: bool = False
) -> str:
    """Add one to the ``count`` of ``model``'s row with the given key columns, inserting it
    with 1 if there is none: one statement, no lock over the table (``ON CONFLICT … DO
    UPDATE``: PostgreSQL, SQLite ≥ 3.24). Parameters: the key values, in order — or ``row``,
    the SQL giving the keys and the 1 (e.g. a ``SELECT`` inside a larger statement)."""
    qn = connection.ops.quote_name
    table, count = qn(model._meta.db_table), qn("count")
    columns = ", ".join(qn(k) for k in keys)
    row = row or f"VALUES ({', '.join(['%s'] * len(keys))}, 1)"
    sql = (
        f"INSERT INTO {table} ({columns}, {count}) {row} "  # noqa: S608 - names, not values
        f"ON CONFLICT ({columns}) DO UPDATE SET {count} = {table}.{count} + 1"
    )
    return sql + f" RETURNING {count}" if returning else sql


def _count_use_sql(appraisal_id: int, now: dt.datetime) -> tuple[str, list[Any]]:
    """One more use in this minute, on the row of the minute and a random shard."""
    minute = connection.ops.adapt_datetimefield_value(_minute(now))
    sql = _increment_sql(TokenUse, _USE_KEYS)
    return sql, [appraisal_id, minute, _use_shard()]


def _count_use(appraisal_id: int, now: dt.datetime) -> None:
    sql, params = _count_use_sql(appraisal_id, now)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _insert_ballot(appraisal_id: int, answers: list[AnswerRow], now: dt.datetime) -> None:
    ballot = Ballot(
        appraisal_id=appraisal_id, cast_on=timezone.localdate(now), source=BallotSource.ONLINE
    )
    Ballot.objects.bulk_create([ballot])
    _insert_answers(ballot.pk, answers)


_INSERT_ANSWERS_SQL: list[str] = []
# The answers as one JSON array of ``[target, question, grade, comment]`` rows, spread into rows
# by PostgreSQL: one text parameter (psycopg adapts lists element by element, in Python; a JSON
# text is written by the C encoder and parsed by the database).
_ANSWER_ROWS = "(e->>0)::bigint, e->>1, (e->>2)::smallint, e->>3 FROM {source} json_array_elements({param}::json) AS e"


def _answers_param(answers: list[AnswerRow]) -> str:
    return json.dumps(answers, ensure_ascii=False, separators=(",", ":"))


def _insert_answers(ballot_id: uuid.UUID, answers: list[AnswerRow]) -> None:
    """The ballot's answers in one INSERT. On PostgreSQL from one JSON parameter, the keys drawn
    by the database (``gen_random_uuid()``) — a handful of parameters instead of six per
    answer, which is most of what a cast costs in Python."""
    if connection.vendor != "postgresql":
        BallotAnswer.objects.bulk_create(
            # Positional (id, ballot, target, question, grade, comment): Django's fast path.
            BallotAnswer(uuid.uuid4(), ballot_id, *row)
            for row in answers
        )
        return
    if not _INSERT_ANSWERS_SQL:
        qn = connection.ops.quote_name
        table = qn(BallotAnswer._meta.db_table)
        cols = ", ".join(
            qn(c) for c in ("id", "ballot_id", "target_id", "question", "grade", "comment")
        )
        _INSERT_ANSWERS_SQL.append(
            f"INSERT INTO {table} ({cols}) SELECT gen_random_uuid(), %s, "  # noqa: S608
            + _ANSWER_ROWS.format(source="", param="%s")
        )
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_ANSWERS_SQL[0], [ballot_id, _answers_param(answers)])


_CAST_SQL: dict[str, str] = {}


def _cast_sql(key: str) -> str:
    """PostgreSQL: a whole cast as one statement (data-modifying CTEs), the token found by
    ``key`` (``id``, ``token_hash`` or ``short_hash``). The token is consumed only if it is
    unused, not voided, of the given appraisal, and that appraisal takes votes now (open, its
    campaign in 测评, inside its window; its row share-locked, so a concurrent close waits for
    this ballot and ballots after the close see it closed) and the client is under the
    guessing limit (``find_token``). The ballot row is inserted only if the token was consumed;
    the turnout count and the answers (from one JSON array) only with the ballot. One statement
    is one transaction: all of it is stored, or none of it. Its row count is the number of
    answers stored: 0 when the token was not consumed."""
    sql = _CAST_SQL.get(key)
    if sql is None:
        if key not in ("id", "token_hash", "short_hash"):
            raise ValueError(key)
        qn = connection.ops.quote_name
        token, appraisal = qn(Token._meta.db_table), qn(Appraisal._meta.db_table)
        campaign, failed = qn(Campaign._meta.db_table), qn(FailedLookup._meta.db_table)
        ballot, answer = qn(Ballot._meta.db_table), qn(BallotAnswer._meta.db_table)
        count_use = _increment_sql(
            TokenUse, _USE_KEYS, row="SELECT %(appraisal)s, %(minute)s, %(shard)s, 1 FROM stored"
        )
        sql = _CAST_SQL[key] = (
            f"WITH consumed AS (UPDATE {token} SET {qn('used')} = true "  # noqa: S608
            f"WHERE {qn(key)} = %(key)s AND {qn('appraisal_id')} = %(appraisal)s "
            f"AND NOT {qn('used')} AND NOT {qn('voided')} "
            f"AND EXISTS (SELECT 1 FROM {appraisal} a "
            f"INNER JOIN {campaign} c ON c.{qn('id')} = a.{qn('campaign_id')} "
            f"WHERE a.{qn('id')} = %(appraisal)s AND a.{qn('status')} = %(open)s "
            f"AND c.{qn('status')} = %(stage)s "
            f"AND (a.{qn('opens_at')} IS NULL OR a.{qn('opens_at')} <= %(now)s) "
            f"AND (a.{qn('closes_at')} IS NULL OR a.{qn('closes_at')} > %(now)s) "
            f"FOR SHARE OF a) "
            f"AND COALESCE((SELECT f.{qn('count')} FROM {failed} f "
            f"WHERE f.{qn('client')} = %(client)s AND f.{qn('minute')} = %(minute)s), 0) "
            f"< %(limit)s RETURNING 1), "
            f"stored AS (INSERT INTO {ballot} ({qn('id')}, {qn('appraisal_id')}, "
            f"{qn('cast_on')}, {qn('source')}) "
            f"SELECT gen_random_uuid(), %(appraisal)s, %(day)s, %(source)s FROM consumed "
            f"RETURNING {qn('id')}), "
            f"counted AS ({count_use}) "
            f"INSERT INTO {answer} ({qn('id')}, {qn('ballot_id')}, {qn('target_id')}, "
            f"{qn('question')}, {qn('grade')}, {qn('comment')}) "
            f"SELECT gen_random_uuid(), stored.{qn('id')}, "
            + _ANSWER_ROWS.format(source="stored CROSS JOIN", param="%(answers)s")
        )
    return sql


def _store_in_one_statement(
    key: str, value: Any, appraisal_id: int, rows: list[AnswerRow], now: dt.datetime,
    ip: str | None,
) -> bool:  # fmt: skip
    """PostgreSQL: run ``_cast_sql``; True when the ballot was stored (and committed, unless the
    caller holds a transaction open)."""
    client, minute = _guess_params(ip, now)
    params = {
        "client": client, "minute": minute, "limit": guess_limit(), "shard": _use_shard(),
        "key": value, "appraisal": appraisal_id, "open": AppraisalStatus.OPEN.value,
        "stage": str(Stage.APPRAISAL), "now": now, "day": timezone.localdate(now),
        "source": BallotSource.ONLINE.value, "answers": _answers_param(rows),
    }  # fmt: skip

    def run() -> int:
        # In autocommit the statement is its own transaction (no BEGIN/COMMIT round trips);
        # inside a caller's transaction a savepoint keeps a failure from breaking it.
        scope = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
        with scope, statement_cursor() as cursor:
            cursor.execute(_cast_sql(key), params)
            return cursor.rowcount

    return _with_retry(run) > 0


def _refusal(credential: str, now: dt.datetime, ip: str | None) -> BallotError:
    """Why a cast stored nothing, read again after the statement (the token was used, voided
    or the appraisal closed in the meantime)."""
    try:
        token = find_token(credential, ip, now)
    except BallotError as exc:
        return exc
    return BallotError(token_state(token, now, campaign_fresh=True) or "used")


def cast(
    *,
    credential: str,
    answers: Mapping[Any, Mapping[str, Any]],
    now: dt.datetime | None = None,
    appraisal_hint: int | None = None,
    ip: str | None = None,
) -> None:
    """Store one anonymous ballot for the token (or short code) ``credential``, sent from the
    client address ``ip`` (the guessing limit, ``find_token``).

    Raises ``BallotError`` (limited / unknown / used / voided / not_open / expired) or
    ``AnswerError``. Returns only after the ballot has been committed.

    ``appraisal_hint``: the appraisal the ballot form was for (the form says so). On PostgreSQL,
    when this process holds that appraisal's design and the answers are complete for it, the
    whole cast is ONE statement found by the credential's hash (``_cast_sql``): it checks the
    token, its appraisal and the window itself. Anything else — no hint, another appraisal, a
    design not yet read here, incomplete answers, a token refused — takes the checked path,
    which reads the token first and says what is wrong. The hint decides nothing: a wrong one
    only costs the checked path."""
    now = now or timezone.now()
    if appraisal_hint is not None and _cast_by_hint(credential, appraisal_hint, answers, now, ip):
        return
    token = find_token(credential, ip, now)
    state = token_state(token, now, campaign_fresh=True)
    if state:
        raise BallotError(state)
    appraisal = token.appraisal
    rows = clean_answers(appraisal, answers, open_design(appraisal).target_ids)
    if connection.vendor == "postgresql":
        if not _store_in_one_statement("id", token.pk, appraisal.pk, rows, now, ip):
            raise _refusal(credential, now, ip)
        return

    def store() -> None:
        with transaction.atomic():
            if _consume(token.pk, appraisal.pk) != 1:
                _lock_open(appraisal.pk)  # closed in the meantime: "expired"
                voided = Token.objects.filter(pk=token.pk, voided=True, used=False).exists()
                raise BallotError("voided" if voided else "used")
            _insert_ballot(appraisal.pk, rows, now)
            _count_use(appraisal.pk, now)

    _with_retry(store)


def _cast_by_hint(
    credential: str, appraisal_id: int, answers: Mapping[Any, Mapping[str, Any]],
    now: dt.datetime, ip: str | None,
) -> bool:  # fmt: skip
    """``cast``'s one-statement path; False when it does not apply or stored nothing."""
    found = _DESIGNS.get(appraisal_id)
    hashed = credential_hashes(credential)
    if connection.vendor != "postgresql" or found is None or hashed is None:
        return False
    try:
        rows = _clean_rows(found.questions, len(found.grades), answers, found.target_ids)
    except AnswerError:
        return False  # the checked path reports it against the token's own appraisal
    return _store_in_one_statement(hashed[0], hashed[1], appraisal_id, rows, now, ip)


# ---- identified mode -----------------------------------------------------------------------


def may_vote_identified(user: Any, appraisal: Appraisal) -> bool:
    from kaoping.organizations.models import Post

    if appraisal.mode != AppraisalMode.IDENTIFIED:
        return False
    if not getattr(user, "is_active", False) or not getattr(user, "person_id", None):
        return False
    person = user.person
    org = person.organization
    owner = appraisal.campaign.owner
    if not person.is_active or org is None or not org.path.startswith(owner.path):
        return False
    group = appraisal.rater_group
    posts = Post.objects.filter(person=person, ended_on__isnull=True)
    if group == RaterGroupCode.MEMBERS:
        return person.is_party_member
    if group == RaterGroupCode.MASSES:
        return not person.is_party_member
    if group == RaterGroupCode.LEADERSHIP:
        return person.is_leading_cadre or posts.exists()
    if group == RaterGroupCode.PARTY_COMMITTEE:
        return posts.filter(organization=owner).exists()
    return False


def has_voted(user: Any, appraisal: Appraisal) -> bool:
    return IdentifiedVote.objects.filter(appraisal=appraisal, user=user).exists()


def cast_identified(
    *,
    user: Any,
    appraisal: Appraisal,
    answers: Mapping[Any, Mapping[str, Any]],
    now: dt.datetime | None = None,
) -> None:
    """A logged-in member's ballot on every target of ``appraisal``; once per member."""
    now = now or timezone.now()
    appraisal = Appraisal.objects.select_related("campaign__owner").get(pk=appraisal.pk)
    if not may_vote_identified(user, appraisal):
        raise BallotError("not_eligible")
    state = window_state(appraisal, now)
    if state:
        raise BallotError(state)
    if has_voted(user, appraisal):
        raise BallotError("voted")
    ids = target_ids(appraisal)
    rows = clean_answers(appraisal, answers, ids)

    def store() -> None:
        try:
            with transaction.atomic():
                _lock_open(appraisal.pk)
                IdentifiedVote.objects.bulk_create(
                    IdentifiedVote(appraisal_id=appraisal.pk, user=user, target_id=t) for t in ids
                )
                _insert_ballot(appraisal.pk, rows, now)
                _count_use(appraisal.pk, now)
        except IntegrityError as exc:
            raise BallotError("voted") from exc

    _with_retry(store)


def identified_appraisals(user: Any) -> list[dict[str, Any]]:
    """Open identified appraisals the user may vote in, and whether they already have."""
    if not getattr(user, "person_id", None):
        return []
    open_ = (
        Appraisal.objects.filter(
            mode=AppraisalMode.IDENTIFIED,
            status=AppraisalStatus.OPEN,
            campaign__status=Stage.APPRAISAL,
        )
        .select_related("campaign__owner")
        .order_by("campaign_id", "id")
    )
    voted = set(
        IdentifiedVote.objects.filter(user=user, appraisal__in=open_).values_list(
            "appraisal_id", flat=True
        )
    )
    return [{"appraisal": a, "voted": a.pk in voted} for a in open_ if may_vote_identified(user, a)]


# ---- opening and closing -------------------------------------------------------------------


def _lock(appraisal: Appraisal) -> Appraisal:
    return (
        Appraisal.objects.select_for_update(of=("self",))
        .select_related("campaign")
        .get(pk=appraisal.pk)
    )


@transaction.atomic
def open_appraisal(*, actor: Any, appraisal: Appraisal) -> Appraisal:
    """Start voting (the campaign must be in 测评)."""
    locked = _lock(appraisal)
    if locked.status != AppraisalStatus.DRAFT:
        raise ValidationError("只有设计中的测评可以开始投票")
    if not stage_is_open(locked.campaign, Stage.APPRAISAL):
        raise ValidationError("考核活动进入“测评”阶段后才能开始投票")
    if not locked.targets.exists():
        raise ValidationError("测评没有考核对象")
    if not design.grade_questions(locked) or len(locked.grades) < 2:
        raise ValidationError("测评票没有题目或等次")
    locked.status = AppraisalStatus.OPEN
    locked.save(update_fields=["status"])
    log_action(
        ACTION_OPEN,
        actor=actor,
        obj=locked,
        data={"mode": locked.get_mode_display(), "tokens": locked.tokens.count()},
    )
    appraisal.status = locked.status
    return locked


REORDER_CHUNK = 500


def _reorder_storage(appraisal: Appraisal) -> int:
    """Rewrite the appraisal's ballots and answers under fresh random ids, in id order, so
    neither the primary keys nor the physical order of rows reflect the order of arrival."""
    ballots = list(Ballot.objects.filter(appraisal=appraisal).values("id", "cast_on", "source"))
    ids = [b["id"] for b in ballots]
    # Every statement below goes through the ballot_id index in chunks: no joins, whose plans
    # can turn quadratic on tables the planner believes empty (fresh statistics mid-vote).
    chunks = [ids[i : i + REORDER_CHUNK] for i in range(0, len(ids), REORDER_CHUNK)]
    answers = [
        a
        for chunk in chunks
        for a in BallotAnswer.objects.filter(ballot_id__in=chunk).values(
            "ballot_id", "target_id", "question", "grade", "comment"
        )
    ]
    # The answers name their targets without a database constraint (``BallotAnswer.target``):
    # before the ballots are final, every target must be one of the appraisal's.
    stray = {a["target_id"] for a in answers} - set(target_ids(appraisal))
    if stray:
        raise ValidationError(
            f"有选票评价了不属于本测评的考核对象（{len(stray)} 个），测评未结束；请系统管理员核查数据"
        )
    fresh = {b["id"]: uuid.uuid4() for b in ballots}
    for chunk in chunks:
        BallotAnswer.objects.filter(ballot_id__in=chunk).delete()
        Ballot.objects.filter(pk__in=chunk).delete()
    new_ballots = sorted(
        (
            Ballot(id=fresh[b["id"]], appraisal=appraisal, cast_on=b["cast_on"], source=b["source"])
            for b in ballots
        ),
        key=lambda b: b.id,
    )
    Ballot.objects.bulk_create(new_ballots, batch_size=1000)
    new_answers = sorted(
        (
            BallotAnswer(
                id=uuid.uuid4(),
                ballot_id=fresh[a["ballot_id"]],
                target_id=a["target_id"],
                question=a["question"],
                grade=a["grade"],
                comment=a["comment"],
            )
            for a in answers
        ),
        key=lambda a: a.id,
    )
    BallotAnswer.objects.bulk_create(new_answers, batch_size=2000)
    return len(new_ballots)


@transaction.atomic
def close_appraisal(*, actor: Any, appraisal: Appraisal) -> Appraisal:
    """Stop voting and rewrite the stored ballots in random order (see the module docstring).
    Waits for ballots being stored right now (they hold a share lock on the appraisal)."""
    locked = _lock(appraisal)
    if locked.status != AppraisalStatus.OPEN:
        raise ValidationError("只有投票中的测评可以结束")
    locked.status = AppraisalStatus.CLOSED
    locked.save(update_fields=["status"])
    forget_design(locked.pk)  # other processes drop theirs when they see it closed
    n = _reorder_storage(locked)
    figures = turnout(locked)
    log_action(
        ACTION_CLOSE,
        actor=actor,
        obj=locked,
        data={
            "ballots": n,
            "tokens_issued": figures["issued"],
            "tokens_used": figures["used"],
        },
    )
    appraisal.status = locked.status
    return locked


def close_open_appraisals(*, actor: Any, campaign: Any) -> int:
    """Close every open appraisal of ``campaign`` (before the campaign leaves 测评)."""
    n = 0
    for appraisal in Appraisal.objects.filter(campaign=campaign, status=AppraisalStatus.OPEN):
        close_appraisal(actor=actor, appraisal=appraisal)
        n += 1
    return n


# ---- turnout -------------------------------------------------------------------------------


def turnout(appraisal: Appraisal) -> dict[str, Any]:
    """Tokens issued / used / voided, ballots, voters (identified mode) and the per-minute
    series of token use."""
    agg = Token.objects.filter(appraisal=appraisal).aggregate(
        n_issued=Count("id"),
        n_used=Count("id", filter=Q(used=True)),
        n_voided=Count("id", filter=Q(voided=True, used=False)),
    )
    t = {"issued": agg["n_issued"], "used": agg["n_used"], "voided": agg["n_voided"]}
    ballots = Ballot.objects.filter(appraisal=appraisal).count()
    voters = (
        IdentifiedVote.objects.filter(appraisal=appraisal).values("user_id").distinct().count()
        if appraisal.mode == AppraisalMode.IDENTIFIED
        else 0
    )
    valid = t["issued"] - t["voided"]
    used = t["used"] if appraisal.mode == AppraisalMode.TOKEN else voters
    series = [
        {"minute": timezone.localtime(m), "count": c}
        for m, c in selectors.use_per_minute(appraisal)
    ]
    return {
        "appraisal": appraisal,
        "group_label": dict(RaterGroupCode.choices).get(
            appraisal.rater_group, appraisal.rater_group
        ),
        "issued": t["issued"],
        "used": t["used"],
        "voided": t["voided"],
        "unused": valid - t["used"],
        "ballots": ballots,
        "voters": voters,
        "percent": round(100 * used / valid) if appraisal.mode == "token" and valid else None,
        "series": series,
        "last_minutes": series[-10:],
    }


def campaign_turnout(campaign: Any) -> list[dict[str, Any]]:
    return [turnout(a) for a in Appraisal.objects.filter(campaign=campaign).order_by("id")]


# ---- guessing limit ------------------------------------------------------------------------


def _guess_client(ip: str | None) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"vote-guess:{ip or '-'}".encode(), hashlib.sha256
    ).hexdigest()[:32]


def _guess_params(ip: str | None, now: dt.datetime | None) -> list[Any]:
    """The client's key and this minute, as the look-up and the cast statements take them."""
    minute = _minute(now or timezone.now())
    return [_guess_client(ip), connection.ops.adapt_datetimefield_value(minute)]


def guess_limit() -> int:
    return int(getattr(settings, "KAOPING_VOTE_GUESS_LIMIT", 10))


def failed_lookups(ip: str | None, now: dt.datetime | None = None) -> int:
    """The client's failed look-ups this minute."""
    minute = _minute(now or timezone.now())
    found = FailedLookup.objects.filter(client=_guess_client(ip), minute=minute).first()
    return found.count if found else 0


def record_failed_lookup(ip: str | None, now: dt.datetime | None = None) -> int:
    """One more failed look-up for the client this minute; returns the minute's count. Rows of
    earlier minutes are deleted on the way (only the current minute counts)."""
    now = now or timezone.now()
    client, minute = _guess_params(ip, now)
    upsert = _increment_sql(FailedLookup, ("client", "minute"), returning=True)

    def work() -> int:
        with transaction.atomic():
            FailedLookup.objects.filter(minute__lt=_minute(now)).delete()
            with connection.cursor() as cursor:
                cursor.execute(upsert, [client, minute])
                return int(cursor.fetchone()[0])

    return _with_retry(work)
