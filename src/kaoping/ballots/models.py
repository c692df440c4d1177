"""Democratic appraisal (民主测评) and debriefing review (述职评议).

Anonymity by construction:
- ``Ballot`` rows hold no token, user, IP, user agent or time finer than the day; their primary
  key is random (UUID4) and they are read back ordered by it, and when voting closes the table's
  rows for the appraisal are rewritten in that random order (``services.close_appraisal``).
- Token use is recorded on ``Token`` (and ``TokenUse`` for turnout over time), which has no key
  to any ballot; the token is consumed and the ballot stored in one transaction with a
  conditional UPDATE, so one token counts exactly once.
- In identified mode ``IdentifiedVote`` records *that* a member voted for a target, never how.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class AppraisalMode(models.TextChoices):
    TOKEN = "token", "凭票（不记名二维码/短码）"
    IDENTIFIED = "identified", "实名登录（每人每对象一票，结果仍不显示身份）"


class AppraisalStatus(models.TextChoices):
    DRAFT = "draft", "设计中"
    OPEN = "open", "投票中"
    CLOSED = "closed", "已结束"


class Appraisal(models.Model):
    """One ballot design of a campaign for one rater group (班子成员, 党员, 群众 …)."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="appraisals"
    )
    name = models.CharField("测评名称", max_length=100)
    rater_group = models.CharField("评价主体", max_length=30)  # indicators.RaterGroupCode
    mode = models.CharField(
        "投票方式", max_length=12, choices=AppraisalMode.choices, default=AppraisalMode.TOKEN
    )
    status = models.CharField(
        "状态", max_length=10, choices=AppraisalStatus.choices, default=AppraisalStatus.DRAFT
    )
    targets = models.ManyToManyField("campaigns.Target", related_name="appraisals")
    # [{"code": "Q1", "text": "…", "kind": "grade", "indicator": "7.3"},
    #  {"code": "overall", "text": "总体评价", "kind": "grade"},
    #  {"code": "comment", "text": "意见建议", "kind": "comment", "optional": true}]
    questions = models.JSONField("测评题目", default=list)
    # [{"label": "好", "coefficient": 100}, …] from the indicator system's ballot grades
    grades = models.JSONField("等次", default=list)
    opens_at = models.DateTimeField("开始时间", null=True, blank=True)
    closes_at = models.DateTimeField("结束时间", null=True, blank=True)
    # Breakdowns (per group, per question) are shown only with at least this many ballots.
    min_breakdown = models.PositiveSmallIntegerField("最少显示票数", default=5)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "民主测评"
        ordering = ["campaign_id", "id"]

    def __str__(self) -> str:
        return self.name


class Token(models.Model):
    """A one-time ballot token. Only its SHA-256 is stored; the slip carries the secret.

    Casting a ballot sets ``used``, which no index covers: on PostgreSQL the table keeps free
    room in each page (``fillfactor``, migration 0004) so that this update stays on its page
    and touches no index (a heap-only tuple update). The hashes are unique by constraint (no
    pattern-matching index: tokens are only ever looked up by equality)."""

    appraisal = models.ForeignKey(Appraisal, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64)
    # The short code typed by hand (e.g. "K7QF-M2XA"), also stored only as a hash.
    short_hash = models.CharField(max_length=64)
    batch = models.PositiveIntegerField("批次", default=1)
    used = models.BooleanField(default=False)
    voided = models.BooleanField("作废", default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token_hash"], name="unique_token_hash"),
            models.UniqueConstraint(fields=["short_hash"], name="unique_token_short_hash"),
        ]

    def __str__(self) -> str:
        return f"{self.appraisal} token"


class TokenUse(models.Model):
    """When tokens were used (turnout over time, bursts). No key to a ballot or a token.

    A minute's count is spread over a few rows (``shard``, picked at random by each ballot), so
    that ballots stored at the same moment rarely wait for one another's row lock; readers sum
    them (``selectors.use_per_minute``)."""

    appraisal = models.ForeignKey(Appraisal, on_delete=models.CASCADE, related_name="token_uses")
    minute = models.DateTimeField()  # truncated to the minute
    shard = models.PositiveSmallIntegerField(default=0)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["appraisal", "minute", "shard"], name="unique_token_use_minute_shard"
            )
        ]

    def __str__(self) -> str:
        return f"{self.minute:%Y-%m-%d %H:%M} {self.count}"


class FailedLookup(models.Model):
    """Failed token look-ups per client and minute: the guessing limit, shared by every server
    process. ``client`` is an HMAC of the client's address, never the address; look-ups that
    find a token are never recorded, and rows are deleted a few minutes later
    (``services.record_failed_lookup``)."""

    client = models.CharField(max_length=32)
    minute = models.DateTimeField()  # truncated to the minute
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "minute"], name="unique_failed_lookup")
        ]
        indexes = [models.Index(fields=["minute"])]

    def __str__(self) -> str:
        return f"{self.minute:%Y-%m-%d %H:%M} {self.count}"


class BallotSource(models.TextChoices):
    ONLINE = "online", "网上"
    PAPER = "paper", "纸质"


class Ballot(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    appraisal = models.ForeignKey(Appraisal, on_delete=models.CASCADE, related_name="ballots")
    cast_on = models.DateField()  # the day only
    source = models.CharField(max_length=10, choices=BallotSource.choices)

    class Meta:
        ordering = ["id"]  # random: never the order of voting

    def __str__(self) -> str:
        return f"{self.appraisal} ballot"


class BallotAnswer(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No single-column indexes: the unique (ballot, target, question) constraint serves
    # look-ups by ballot and the (target, question) index those by target; every index costs
    # each ballot one entry per answer.
    ballot = models.ForeignKey(
        Ballot, on_delete=models.CASCADE, related_name="answers", db_index=False
    )
    # No database constraint on the target: PostgreSQL checks one row by share-locking the
    # target it names, so every ballot in flight would lock the same few target rows (dozens
    # of answers each) and queue behind one another (about a fifth of a ballot's database time
    # under load). The cast writes only the open appraisal's own targets (``services``),
    # targets cannot be removed once the campaign is in 测评, deleting one still deletes its
    # answers (Django's on_delete), and closing the appraisal verifies every answer's target.
    target = models.ForeignKey(
        "campaigns.Target", on_delete=models.CASCADE, related_name="+", db_index=False,
        db_constraint=False,
    )  # fmt: skip
    question = models.CharField(max_length=32)
    grade = models.PositiveSmallIntegerField(null=True, blank=True)  # index into grades
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["target", "question"])]
        constraints = [
            models.UniqueConstraint(
                fields=["ballot", "target", "question"], name="unique_ballot_answer"
            )
        ]

    def __str__(self) -> str:
        return f"{self.question}={self.grade}"


class IdentifiedVote(models.Model):
    """Identified mode: that ``user`` has voted on ``target`` (never how)."""

    appraisal = models.ForeignKey(
        Appraisal, on_delete=models.CASCADE, related_name="identified_votes"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey("campaigns.Target", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["appraisal", "user", "target"], name="unique_identified_vote"
            )
        ]

    def __str__(self) -> str:
        return f"{self.appraisal} {self.user_id}"


class PaperEntry(models.Model):
    """One teller's entry of one paper ballot (double entry: two tellers per sheet number)."""

    appraisal = models.ForeignKey(Appraisal, on_delete=models.CASCADE, related_name="paper_entries")
    sheet_no = models.PositiveIntegerField("票号")
    teller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # {"<target_id>": {"<question>": grade_index | null, "comment": "…"}}
    answers = models.JSONField(default=dict)
    entered_at = models.DateTimeField(auto_now_add=True)
    # Set once both entries agree (or a mismatch is resolved) and the ballot is counted.
    counted = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["appraisal", "sheet_no", "teller"], name="unique_paper_entry"
            )
        ]

    def __str__(self) -> str:
        return f"{self.appraisal} #{self.sheet_no}"


class DebriefingReport(models.Model):
    """述职评议: the secretary's 述职 report, and the leader's comment (一述一评)."""

    target = models.OneToOneField(
        "campaigns.Target", on_delete=models.CASCADE, related_name="debriefing"
    )
    report = models.ForeignKey(
        "collection.Evidence", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    summary = models.TextField("述职要点", blank=True)
    leader_comment = models.TextField("点评意见", blank=True)
    commented_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    commented_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"述职：{self.target}"
