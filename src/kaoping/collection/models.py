"""Inputs of a campaign: self-assessments with evidence, reviewer scores, daily records
(平时考核纪实) and quantitative data.

Values depend on the indicator's rule kind: ``score`` holds points (rating) or a quantity;
``grade`` a grade label (grade rules); ``occurrences`` counts per rule item
(deduction/bonus/penalty/base_adjust rules): ``{"item_code": count}``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class EvidenceFile(models.Model):
    """The bytes of an uploaded file, stored once however often it is uploaded (by SHA-256)."""

    sha256 = models.CharField(max_length=64, unique=True)
    file = models.FileField(upload_to="evidence/")
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)  # detected from the content, not the name
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.sha256


class Evidence(models.Model):
    """A unit's piece of evidence (佐证材料): reusable in any campaign (最多报一次)."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="evidence"
    )
    file = models.ForeignKey(EvidenceFile, on_delete=models.PROTECT, related_name="uses")
    name = models.CharField("文件名", max_length=200)
    description = models.CharField("说明", max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "佐证材料"
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "file"], name="unique_org_evidence")
        ]

    def __str__(self) -> str:
        return self.name


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", "填报中"
    SUBMITTED = "submitted", "已提交"
    RETURNED = "returned", "已退回"
    ACCEPTED = "accepted", "已确认"


class SelfAssessment(models.Model):
    target = models.OneToOneField(
        "campaigns.Target", on_delete=models.CASCADE, related_name="self_assessment"
    )
    status = models.CharField(
        max_length=12, choices=AssessmentStatus.choices, default=AssessmentStatus.DRAFT
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    return_comment = models.TextField("退回意见", blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "自评"

    def __str__(self) -> str:
        return f"自评：{self.target}"


class SelfAssessmentItem(models.Model):
    assessment = models.ForeignKey(SelfAssessment, on_delete=models.CASCADE, related_name="items")
    indicator = models.ForeignKey(
        "indicators.Indicator", on_delete=models.PROTECT, related_name="self_items"
    )
    score = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    grade = models.CharField(max_length=20, blank=True)
    occurrences = models.JSONField(default=dict, blank=True)
    narrative = models.TextField("情况说明", blank=True)
    evidence = models.ManyToManyField(Evidence, blank=True, related_name="self_items")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "indicator"], name="unique_self_item_indicator"
            )
        ]

    def __str__(self) -> str:
        return f"{self.assessment} {self.indicator.code}"


class SheetStatus(models.TextChoices):
    OPEN = "open", "评分中"
    SUBMITTED = "submitted", "已提交"


class ReviewSheet(models.Model):
    """One reviewer's scores in one campaign; submitting locks it until the organizer reopens."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="review_sheets"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_sheets"
    )
    status = models.CharField(max_length=12, choices=SheetStatus.choices, default=SheetStatus.OPEN)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "reviewer"], name="unique_review_sheet")
        ]

    def __str__(self) -> str:
        return f"{self.campaign} {self.reviewer}"


class ReviewScore(models.Model):
    sheet = models.ForeignKey(ReviewSheet, on_delete=models.CASCADE, related_name="scores")
    target = models.ForeignKey(
        "campaigns.Target", on_delete=models.CASCADE, related_name="review_scores"
    )
    indicator = models.ForeignKey(
        "indicators.Indicator", on_delete=models.PROTECT, related_name="review_scores"
    )
    score = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    grade = models.CharField(max_length=20, blank=True)
    occurrences = models.JSONField(default=dict, blank=True)
    reason = models.TextField("扣分理由", blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sheet", "target", "indicator"], name="unique_review_score"
            )
        ]

    def __str__(self) -> str:
        return f"{self.target} {self.indicator.code} {self.score}"


class RecordKind(models.TextChoices):
    BONUS = "bonus", "加分"
    DEDUCTION = "deduction", "扣分"


class DailyRecord(models.Model):
    """平时考核纪实: an event during the year, recorded against an organization and an indicator
    code; it feeds every campaign whose period covers its date and whose system has the code."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="daily_records"
    )
    indicator_code = models.CharField("指标编码", max_length=32)
    item_code = models.CharField("事项编码", max_length=32, blank=True)
    kind = models.CharField("类型", max_length=12, choices=RecordKind.choices)
    occurrences = models.PositiveIntegerField("次数", default=1)
    points = models.DecimalField("分值", max_digits=8, decimal_places=2, null=True, blank=True)
    occurred_on = models.DateField("发生日期")
    description = models.TextField("情况描述")
    evidence = models.ForeignKey(
        Evidence, null=True, blank=True, on_delete=models.PROTECT, related_name="daily_records"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when a rectification task produced the record (a later feature).
    source = models.CharField(max_length=50, blank=True)

    class Meta:
        verbose_name = "平时考核纪实"
        ordering = ["-occurred_on", "-id"]

    def __str__(self) -> str:
        return f"{self.organization} {self.occurred_on} {self.get_kind_display()}"


class QuantBatch(models.Model):
    """One import (or one manual entry) of quantitative data; undoing it withdraws its values."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="quant_batches"
    )
    source_name = models.CharField("来源", max_length=200)
    manual = models.BooleanField(default=False)
    rows = models.PositiveIntegerField(default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.source_name


class QuantValue(models.Model):
    """A value per target and indicator; the newest value of a batch not undone counts."""

    batch = models.ForeignKey(QuantBatch, on_delete=models.CASCADE, related_name="values")
    target = models.ForeignKey(
        "campaigns.Target", on_delete=models.CASCADE, related_name="quant_values"
    )
    indicator = models.ForeignKey(
        "indicators.Indicator", on_delete=models.PROTECT, related_name="quant_values"
    )
    value = models.DecimalField(max_digits=16, decimal_places=4)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "target", "indicator"], name="unique_quant_value"
            )
        ]
        indexes = [models.Index(fields=["target", "indicator"])]

    def __str__(self) -> str:
        return f"{self.target} {self.indicator.code}={self.value}"
