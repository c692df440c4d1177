"""Campaigns (考核活动): one run of an assessment, from launch to archive.

A campaign freezes the exact published indicator-system version it uses, lists its targets,
assigns reviewers, and moves through the stages of ``workflow.TRANSITIONS``; every move goes
through ``services.transition`` and is audited.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class CampaignType(models.TextChoices):
    ANNUAL = "annual", "年度考核"
    SEMIANNUAL = "semiannual", "半年考核"
    QUARTERLY = "quarterly", "季度考核"
    SPECIAL = "special", "专项考核"
    DEBRIEFING = "debriefing", "述职评议"


class Stage(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"
    SELF_ASSESSMENT = "self_assessment", "自评"
    REVIEW = "review", "评审"
    APPRAISAL = "appraisal", "测评"
    CONSOLIDATION = "consolidation", "汇总"
    PUBLICATION = "publication", "公示"
    ARCHIVED = "archived", "归档"


STAGE_ORDER = list(Stage)
# Stages an organizer may switch off for a campaign (the others always run).
OPTIONAL_STAGES = (Stage.SELF_ASSESSMENT, Stage.REVIEW, Stage.APPRAISAL, Stage.PUBLICATION)


class TargetKind(models.TextChoices):
    ORGANIZATION = "organization", "党组织"
    CADRE = "cadre", "领导干部/书记"


class Campaign(models.Model):
    name = models.CharField("活动名称", max_length=100)
    campaign_type = models.CharField("考核类型", max_length=20, choices=CampaignType.choices)
    period_start = models.DateField("考核期起")
    period_end = models.DateField("考核期止")
    # 为什么考: the purpose, and the result-use rules declared before anything is scored, e.g.
    # [{"when": "grade", "value": "好", "then": "award_eligible"},
    #  {"when": "grade", "value": "差", "then": "accountability"},
    #  {"when": "veto", "then": "rectification"}, {"when": "any", "then": "cadre_file"}]
    purpose = models.TextField("考核目的")
    result_rules = models.JSONField("结果运用规则", default=list, blank=True)
    owner = models.ForeignKey(
        "organizations.Organization",
        verbose_name="组织单位",
        on_delete=models.PROTECT,
        related_name="campaigns",
    )
    scheme_version = models.ForeignKey(
        "indicators.SchemeVersion",
        verbose_name="指标体系版本",
        on_delete=models.PROTECT,
        related_name="campaigns",
    )
    target_kind = models.CharField(
        "考核对象类型", max_length=20, choices=TargetKind.choices, default=TargetKind.ORGANIZATION
    )
    status = models.CharField(
        "当前阶段", max_length=20, choices=Stage.choices, default=Stage.DRAFT, db_index=True
    )
    # Rater-group weights per indicator code, overriding the indicator system's defaults:
    # {"1.2": {"party_committee": 0.4, "leadership": 0.2, "members": 0.3, "masses": 0.1}}
    rater_weights = models.JSONField("评价主体权重", default=dict, blank=True)
    # Settings that change numbers (engine settings), recorded with every result.
    engine_settings = models.JSONField("计分设置", default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "考核活动"
        ordering = ["-period_end", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="campaign_period_order"
            )
        ]

    def __str__(self) -> str:
        return self.name


class CampaignStage(models.Model):
    """The timeline: which stages run, and their dates."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="stages")
    stage = models.CharField("阶段", max_length=20, choices=Stage.choices)
    enabled = models.BooleanField("启用", default=True)
    starts_on = models.DateField("开始日期", null=True, blank=True)
    deadline = models.DateField("截止日期", null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "阶段安排"
        ordering = ["campaign_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "stage"], name="unique_campaign_stage")
        ]

    def __str__(self) -> str:
        return f"{self.campaign} {self.get_stage_display()}"


class CampaignEvent(models.Model):
    """The campaign's own history of stage moves (also in the audit log)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="events")
    from_stage = models.CharField(max_length=20, choices=Stage.choices)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    reopened = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    # Soft-guard problems the organizer confirmed past (仍要继续), kept with the move.
    overridden = models.JSONField(default=list, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.campaign} {self.from_stage}→{self.to_stage}"


class Target(models.Model):
    """One 考核对象 of a campaign: an organization, or a person (leading cadre, secretary)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="targets")
    organization = models.ForeignKey(
        "organizations.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campaign_targets",
    )
    person = models.ForeignKey(
        "organizations.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campaign_targets",
    )
    # Snapshots at launch, so results read as they were even after the register changes.
    code = models.CharField("编码", max_length=32)
    name = models.CharField("名称", max_length=100)
    # Ranking group (e.g. the 党总支 above a branch).
    group_code = models.CharField(max_length=32, blank=True)
    group_name = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = "考核对象"
        ordering = ["campaign_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "code"], name="unique_target_code"),
            models.CheckConstraint(
                condition=Q(organization__isnull=False, person__isnull=True)
                | Q(organization__isnull=True, person__isnull=False),
                name="target_is_org_or_person",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def unit(self):  # type: ignore[no-untyped-def]
        """The organization that answers for this target (the person's own for a cadre)."""
        return self.organization if self.organization_id else self.person.organization


class ReviewerAssignment(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="assignments")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_assignments"
    )
    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="assignments")

    class Meta:
        verbose_name = "评审分工"
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "reviewer", "target"], name="unique_reviewer_target"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign} {self.reviewer} → {self.target}"


class Notification(models.Model):
    """An in-app notice (reminders, returns, reopened sheets); e-mailed when SMTP is set."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    message = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.message
