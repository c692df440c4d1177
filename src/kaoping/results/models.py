"""Results of a campaign: each compute run (ResultSet) with one row per target (TargetResult),
the corrections organizers make to inputs (InputCorrection, e.g. when an appeal is upheld) and
appeals (Appeal).

A result set is immutable once stored: a recompute stores a new set (with what changed and why)
unless the inputs, engine version and settings are the same as the current set's — then the
current set stands (same inputs, same stored result).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ResultStatus(models.TextChoices):
    DRAFT = "draft", "待提交"
    SUBMITTED = "submitted", "待审批"
    APPROVED = "approved", "已审批"
    PUBLISHED = "published", "公示中"
    FINAL = "final", "已锁定"
    SUPERSEDED = "superseded", "已被替代"


class ResultSet(models.Model):
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="result_sets"
    )
    number = models.PositiveIntegerField("计算序号")
    status = models.CharField(
        "状态", max_length=12, choices=ResultStatus.choices, default=ResultStatus.DRAFT
    )
    is_current = models.BooleanField(default=True)
    #: sha256 of the engine version, the settings, the tree, the targets and every input
    fingerprint = models.CharField(max_length=64)
    #: per input kind: {"hash": …, "rows": n}
    input_summary = models.JSONField(default=dict)
    engine_version = models.CharField(max_length=20)
    engine_settings = models.JSONField(default=dict)
    #: grade distribution, averages of the total and of each dimension, dimension names
    summary = models.JSONField(default=dict)
    #: what changed against the previous set (targets, indicators, inputs) and why
    changes = models.JSONField(default=dict, blank=True)
    reason = models.CharField("计算原因", max_length=200, blank=True)
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    computed_at = models.DateTimeField(auto_now_add=True)
    seconds = models.FloatField(default=0)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField("审批意见", blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    publication_ends = models.DateTimeField("公示截止", null=True, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "考核结果"
        ordering = ["campaign", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="result_set_number"),
            models.UniqueConstraint(
                fields=["campaign"],
                condition=models.Q(is_current=True),
                name="one_current_result_set",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} 第{self.number}次计算"


class TargetResult(models.Model):
    result_set = models.ForeignKey(ResultSet, on_delete=models.CASCADE, related_name="results")
    target = models.ForeignKey("campaigns.Target", on_delete=models.CASCADE, related_name="results")
    total = models.FloatField("总分")
    grade = models.CharField("等次", max_length=20, blank=True)
    rank = models.PositiveIntegerField("排名", null=True, blank=True)
    group_rank = models.PositiveIntegerField("组内排名", null=True, blank=True)
    #: {dimension code: score}
    dimensions = models.JSONField(default=dict)
    #: {leaf indicator code: score}
    indicators = models.JSONField(default=dict)
    #: subset of veto, incomplete, too_few_ballots
    flags = models.JSONField(default=list)
    explanation = models.JSONField(default=dict)

    class Meta:
        verbose_name = "考核对象结果"
        ordering = ["result_set", "rank", "target__code"]
        constraints = [
            models.UniqueConstraint(fields=["result_set", "target"], name="one_result_per_target")
        ]

    def __str__(self) -> str:
        return f"{self.target} {self.total}"


class InputCorrection(models.Model):
    """An organizer's correction of one input cell (target × leaf indicator). It replaces what
    was gathered for that cell in every later compute: ``score`` for rated leaves (one rating by
    the 机关党委 instead of the reviewers'), ``grade`` for grade leaves, ``occurrences`` for
    deduction/bonus items, ``value`` for quantitative leaves, ``veto`` for veto leaves."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="corrections"
    )
    target = models.ForeignKey(
        "campaigns.Target", on_delete=models.CASCADE, related_name="corrections"
    )
    indicator_code = models.CharField("指标编码", max_length=32)
    score = models.DecimalField("更正分值", max_digits=10, decimal_places=2, null=True, blank=True)
    grade = models.CharField("更正等次", max_length=20, blank=True)
    occurrences = models.JSONField("更正次数", default=dict, blank=True)
    value = models.DecimalField("更正数值", max_digits=16, decimal_places=4, null=True, blank=True)
    veto = models.BooleanField("是否否决", null=True, blank=True)
    reason = models.TextField("更正理由")
    appeal = models.ForeignKey(
        "Appeal", null=True, blank=True, on_delete=models.SET_NULL, related_name="corrections"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "数据更正"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.target} {self.indicator_code}"


class AppealStatus(models.TextChoices):
    FILED = "filed", "待处理"
    UPHELD = "upheld", "申诉成立"
    REJECTED = "rejected", "已驳回"


class Appeal(models.Model):
    """申诉: filed by a target during publication against its result."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="appeals"
    )
    target = models.ForeignKey("campaigns.Target", on_delete=models.CASCADE, related_name="appeals")
    result = models.ForeignKey(
        TargetResult, null=True, on_delete=models.SET_NULL, related_name="appeals"
    )
    indicator_code = models.CharField("申诉指标", max_length=32, blank=True)
    reason = models.TextField("申诉理由")
    evidence = models.ManyToManyField("collection.Evidence", blank=True, related_name="appeals")
    status = models.CharField(
        "状态", max_length=12, choices=AppealStatus.choices, default=AppealStatus.FILED
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    filed_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision = models.TextField("处理意见", blank=True)
    #: the result set computed after the appeal was upheld
    recomputed = models.ForeignKey(
        ResultSet, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "申诉"
        ordering = ["-filed_at", "-id"]
        constraints = [
            # one open appeal per target at a time (the service checks first, with a message)
            models.UniqueConstraint(
                fields=["target"],
                condition=models.Q(status="filed"),
                name="one_open_appeal_per_target",
            )
        ]

    def __str__(self) -> str:
        return f"{self.target} 申诉"
