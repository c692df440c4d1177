"""Indicator systems (指标体系): versioned trees of indicators with rules and criteria.

A ``Scheme`` is a named indicator system (e.g. 党支部年度考核); each ``SchemeVersion`` is one
edition of it. A version is edited as a draft and then published; a published version never
changes (services refuse, and ``Indicator.save`` refuses), and campaigns point at the exact
version they use. A new draft starts as a copy of any version.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .constants import DataSource, Dimension, MissingPolicy, RuleKind, Weighting


class PublishedVersionError(Exception):
    """Raised on any attempt to change a published version."""


class Scheme(models.Model):
    name = models.CharField("指标体系名称", max_length=100, unique=True)
    description = models.TextField("说明", blank=True)
    # The organization whose 考核管理员 own this system (usually the 机关党委). Organizers of
    # that organization's subtree may edit it; organizers below it may read and use it.
    owner = models.ForeignKey(
        "organizations.Organization",
        verbose_name="所属党组织",
        on_delete=models.PROTECT,
        related_name="schemes",
    )
    target_kind = models.CharField(
        "考核对象",
        max_length=20,
        choices=[("organization", "党组织"), ("cadre", "领导干部/书记"), ("member", "党员")],
        default="organization",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "指标体系"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"


class SchemeVersion(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField("版本号")
    label = models.CharField("版本名称", max_length=100, blank=True)
    status = models.CharField(
        "状态", max_length=12, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="derived"
    )
    weighting = models.CharField(
        "计分方式", max_length=10, choices=Weighting.choices, default=Weighting.POINTS
    )
    total_points = models.DecimalField("总分", max_digits=8, decimal_places=2, default=100)
    # Grade labels, coefficients and thresholds; default rater-group weights; settings that
    # change numbers (recorded with every result): see services.DEFAULT_OPTIONS.
    options = models.JSONField("计分设置", default=dict, blank=True)
    note = models.TextField("备注", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    # SHA-256 of the canonical JSON export at publication: proof the version never drifted.
    fingerprint = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = "指标体系版本"
        ordering = ["scheme_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "number"], name="unique_scheme_version")
        ]

    def __str__(self) -> str:
        return f"{self.scheme.name} 第{self.number}版{f'（{self.label}）' if self.label else ''}"

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED


class Indicator(models.Model):
    version = models.ForeignKey(SchemeVersion, on_delete=models.CASCADE, related_name="indicators")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    code = models.CharField("指标编码", max_length=32)
    name = models.CharField("指标名称", max_length=200)
    level = models.PositiveSmallIntegerField("层级", default=1)
    position = models.PositiveIntegerField("排序", default=0)
    dimension = models.CharField(
        "维度", max_length=20, choices=Dimension.choices, blank=True, default=""
    )
    points = models.DecimalField("分值", max_digits=8, decimal_places=2, null=True, blank=True)
    weight = models.DecimalField(
        "权重", max_digits=7, decimal_places=6, null=True, blank=True, help_text="同级权重（0–1）"
    )
    rule_kind = models.CharField(
        "计分规则", max_length=20, choices=RuleKind.choices, blank=True, default=""
    )
    # Parameters of the rule in the engine's package format (docs/engine.md), e.g.
    # {"max": 5} for rating, {"items": [{"code": "a", "per": 1}], "max": 5} for deduction.
    rule_params = models.JSONField("规则参数", default=dict, blank=True)
    # A rule read from criteria text on import, waiting for the organizer to confirm it.
    proposed_rule = models.JSONField("建议规则", default=dict, blank=True)
    criteria = models.TextField("评分标准", blank=True)
    methods = models.JSONField("考核方式", default=list, blank=True)  # list of Method values
    # [{"what": "党组织会议记录", "count": 1, "optional": false}, ...]
    evidence = models.JSONField("佐证材料", default=list, blank=True)
    rater_weights = models.JSONField("评价主体权重", default=dict, blank=True)
    data_source = models.CharField(
        "数据来源", max_length=20, choices=DataSource.choices, default=DataSource.REVIEWER
    )
    missing_policy = models.CharField(
        "缺失数据处理", max_length=20, choices=MissingPolicy.choices, blank=True, default=""
    )
    # 一票否决: {"effect": "zero"} or {"effect": "ceiling", "grade": "一般"}
    veto = models.JSONField("一票否决", default=dict, blank=True)

    class Meta:
        verbose_name = "指标"
        ordering = ["version_id", "level", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="unique_indicator_code"),
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=4), name="indicator_level_1_to_4"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        status = (
            SchemeVersion.objects.filter(pk=self.version_id)
            .values_list("status", flat=True)
            .first()
        )
        if status == VersionStatus.PUBLISHED:
            raise PublishedVersionError("已发布的指标体系版本不能修改，请基于它新建草稿。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.version.is_published:
            raise PublishedVersionError("已发布的指标体系版本不能修改，请基于它新建草稿。")
        return super().delete(*args, **kwargs)
