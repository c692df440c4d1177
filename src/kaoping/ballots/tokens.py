"""One-time ballot tokens (选票凭证).

Each slip carries two secrets for the same ballot: a long random token (``secrets.token_urlsafe
(24)``: 192 bits, in the QR code's URL ``/v/<token>/``) and a short code of 10 characters from an
alphabet without look-alikes (no 0/O/1/I/L; about 49 bits) for typing by hand at ``/v/``. Slips are
not assigned to names.

Only hashes are stored: SHA-256 of the token, and HMAC-SHA256 (keyed with ``SECRET_KEY``) of the
short code, so a copy of the database alone does not let anyone try the small short-code space
offline. Online guessing is rate-limited per client (``services.find_token``).

The plaintexts exist only in the one response that prints them: issuing is an explicit POST that
generates the batch and renders the print sheet once. **Printing again means issuing a new batch
and voiding the old batch's unused tokens** (``void_unused``); a lost sheet cannot be recovered,
by design.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from kaoping.audit.services import log_action

from .models import Appraisal, AppraisalMode, AppraisalStatus, Token

SHORT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
SHORT_LENGTH = 10
MAX_BATCH = 1000  # one print sheet: rendering 1,000 QR codes takes about 10 s
ACTION_ISSUE = "appraisal.tokens_issue"
ACTION_VOID = "appraisal.tokens_void"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_short(code: str) -> str:
    """Upper case, separators and spaces removed (``k7qf m-2xa…`` → ``K7QFM2XA…``)."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def is_short_code(credential: str) -> bool:
    code = normalize_short(credential)
    return len(code) == SHORT_LENGTH and all(ch in SHORT_ALPHABET for ch in code)


def hash_short(code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, b"kaoping-short:" + normalize_short(code).encode(), "sha256").hexdigest()


def format_short(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def credential_hashes(credential: str) -> tuple[str, str] | None:
    """``("token_hash" | "short_hash", hash)`` for what a voter typed or scanned."""
    credential = (credential or "").strip()
    if not credential or len(credential) > 100:
        return None
    if is_short_code(credential):
        return "short_hash", hash_short(credential)
    if len(credential) < 20:
        return None
    return "token_hash", hash_token(credential)


def _new_pair() -> tuple[str, str]:
    token = secrets.token_urlsafe(24)
    short = "".join(secrets.choice(SHORT_ALPHABET) for _ in range(SHORT_LENGTH))
    return token, short


@transaction.atomic
def issue_tokens(
    *, actor: Any, appraisal: Appraisal, count: int, void_previous: bool = False
) -> list[tuple[str, str]]:
    """A new batch of ``count`` tokens; returns ``[(token, short_code), …]`` — the only time the
    plaintexts exist. With ``void_previous`` the earlier batches' unused tokens are voided (a
    reprint)."""
    locked = Appraisal.objects.select_for_update().get(pk=appraisal.pk)
    if locked.mode != AppraisalMode.TOKEN:
        raise ValidationError("实名登录方式的测评不使用选票凭证")
    if locked.status == AppraisalStatus.CLOSED:
        raise ValidationError("测评已结束，不能再生成选票")
    try:
        count = int(count)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"count": "请填写张数"}) from exc
    if not 1 <= count <= MAX_BATCH:
        raise ValidationError({"count": f"每批可生成 1 至 {MAX_BATCH} 张"})
    voided = _void(locked) if void_previous else 0
    batch = (locked.tokens.aggregate(m=Max("batch"))["m"] or 0) + 1
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    while len(pairs) < count:
        token, short = _new_pair()
        if short in seen:
            continue
        seen.add(short)
        pairs.append((token, short))
    rows = [
        Token(appraisal=locked, token_hash=hash_token(t), short_hash=hash_short(s), batch=batch)
        for t, s in pairs
    ]
    # A collision of 49-bit short codes with an earlier batch is possible (if very unlikely) at
    # large volumes: the unique index refuses it and the caller retries the whole issue.
    Token.objects.bulk_create(rows, batch_size=1000)
    log_action(
        ACTION_ISSUE,
        actor=actor,
        obj=locked,
        data={"batch": batch, "count": count, "voided_previous": voided},
    )
    return [(t, format_short(s)) for t, s in pairs]


def _void(appraisal: Appraisal, batch: int | None = None) -> int:
    qs = Token.objects.filter(appraisal=appraisal, used=False, voided=False)
    if batch is not None:
        qs = qs.filter(batch=batch)
    return qs.update(voided=True)


@transaction.atomic
def void_unused(*, actor: Any, appraisal: Appraisal, batch: int | None = None) -> int:
    """Void the unused tokens (of one batch, or all): lost or leftover slips stop working."""
    locked = Appraisal.objects.select_for_update().get(pk=appraisal.pk)
    n = _void(locked, batch)
    log_action(ACTION_VOID, actor=actor, obj=locked, data={"batch": batch, "voided": n})
    return n


def batches(appraisal: Appraisal) -> list[dict[str, int]]:
    """Per batch: issued, used, voided (for the organizer's page)."""
    from django.db.models import Count, Q

    rows = (
        Token.objects.filter(appraisal=appraisal)
        .values("batch")
        .annotate(
            n_issued=Count("id"),
            n_used=Count("id", filter=Q(used=True)),
            n_voided=Count("id", filter=Q(voided=True, used=False)),
        )
        .order_by("batch")
    )
    return [
        {"batch": r["batch"], "issued": r["n_issued"], "used": r["n_used"], "voided": r["n_voided"]}
        for r in rows
    ]
