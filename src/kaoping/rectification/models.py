"""整改 (rectification): every problem a campaign finds becomes a task with an owner and a
deadline, its progress, completion evidence and the organizer's verification (销号).

A task comes from a campaign's results (a deducted or weak indicator, a 差 grade, a veto, an
upheld appeal) or is added by hand. Proposals (``proposed``) are reviewed by the organizer, who
confirms them (``open``) or drops them (``cancelled``). The responsible person (or the unit's
单位填报员) reports progress and submits the completion (``submitted``, 完成待验收); the organizer
verifies it (``verified``, 已销号) or returns it with a reason (``returned``).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class SourceKind(models.TextChoices):
    DEDUCTION = "deduction", "扣分指标"
    WEAK = "weak", "薄弱指标"
    GRADE = "grade", "考核等次"
    VETO = "veto", "一票否决"
    APPEAL = "appeal", "申诉成立"
    MANUAL = "manual", "手工添加"


#: kinds proposed from results (``services.propose_from_results``)
RESULT_KINDS = (
    SourceKind.DEDUCTION,
    SourceKind.WEAK,
    SourceKind.GRADE,
    SourceKind.VETO,
    SourceKind.APPEAL,
)


class TaskStatus(models.TextChoices):
    PROPOSED = "proposed", "待确认"
    OPEN = "open", "整改中"
    SUBMITTED = "submitted", "完成待验收"
    RETURNED = "returned", "已退回"
    VERIFIED = "verified", "已销号"
    CANCELLED = "cancelled", "已撤销"


#: tasks someone is working on (overdue once the deadline has passed)
ACTIVE_STATUSES = (TaskStatus.OPEN, TaskStatus.SUBMITTED, TaskStatus.RETURNED)
#: tasks the responsible person may report on (plan, progress, completion)
WORKING_STATUSES = (TaskStatus.OPEN, TaskStatus.RETURNED)
#: tasks the unit sees (proposals and dropped proposals stay with the organizer)
CONFIRMED_STATUSES = (*ACTIVE_STATUSES, TaskStatus.VERIFIED)


class RectificationTask(models.Model):
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        verbose_name="来源考核活动",
        on_delete=models.CASCADE,
        related_name="rectification_tasks",
    )
    target = models.ForeignKey(
        "campaigns.Target",
        verbose_name="考核对象",
        on_delete=models.CASCADE,
        related_name="rectification_tasks",
    )
    #: the unit that answers (target.unit)
    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name="整改单位",
        on_delete=models.PROTECT,
        related_name="rectification_tasks",
    )
    indicator_code = models.CharField("指标编码", max_length=32, blank=True)
    indicator_name = models.CharField("指标名称", max_length=200, blank=True)
    problem = models.TextField("存在问题")
    source_kind = models.CharField("问题来源", max_length=12, choices=SourceKind.choices)
    #: what in the source the task comes from (indicator code, grade, appeal id ...)
    source_ref = models.CharField(max_length=64, blank=True)
    #: required by the campaign's result-use rules (限期整改): cannot be dropped
    mandatory = models.BooleanField("必须整改", default=False)
    responsible = models.ForeignKey(
        "organizations.Person",
        verbose_name="整改责任人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rectification_tasks",
    )
    #: how the responsible person was chosen (shown beside the name)
    responsible_basis = models.CharField("责任人依据", max_length=120, blank=True)
    #: the 班子 member in charge (督办)
    supervisor = models.ForeignKey(
        "organizations.Person",
        verbose_name="督办领导",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervised_rectification_tasks",
    )
    supervisor_basis = models.CharField("督办依据", max_length=120, blank=True)
    deadline = models.DateField("整改期限")
    plan = models.TextField("整改措施", blank=True)
    completion = models.TextField("整改完成情况", blank=True)
    evidence = models.ManyToManyField(
        "collection.Evidence", blank=True, related_name="rectification_tasks"
    )
    status = models.CharField(
        "状态",
        max_length=12,
        choices=TaskStatus.choices,
        default=TaskStatus.PROPOSED,
        db_index=True,
    )
    return_reason = models.TextField("退回原因", blank=True)
    cancel_reason = models.CharField("撤销原因", max_length=200, blank=True)
    verify_comment = models.TextField("销号意见", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "整改任务"
        ordering = ["campaign_id", "organization__path", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "target", "source_kind", "source_ref"],
                condition=~Q(source_kind="manual"),
                name="one_rectification_task_per_source",
            )
        ]
        indexes = [models.Index(fields=["organization", "status"])]

    def __str__(self) -> str:
        return f"{self.organization} 整改：{self.problem[:40]}"

    def is_overdue(self, today: dt.date | None = None) -> bool:
        """Deadline passed and not verified (only tasks someone is working on)."""
        today = today or timezone.localdate()
        return self.status in ACTIVE_STATUSES and self.deadline < today

    @property
    def overdue(self) -> bool:
        return self.is_overdue()

    @property
    def days_overdue(self) -> int:
        return max(0, (timezone.localdate() - self.deadline).days) if self.overdue else 0

    @property
    def completed_late(self) -> bool:
        """Verified, but the completion that was verified came after the deadline."""
        return (
            self.status == TaskStatus.VERIFIED
            and self.submitted_at is not None
            and timezone.localtime(self.submitted_at).date() > self.deadline
        )


class UpdateKind(models.TextChoices):
    CREATE = "create", "新建"
    EDIT = "edit", "修改"
    CONFIRM = "confirm", "确认下达"
    CANCEL = "cancel", "撤销"
    PLAN = "plan", "整改措施"
    PROGRESS = "progress", "整改进展"
    SUBMIT = "submit", "提交完成"
    RETURN = "return", "退回"
    VERIFY = "verify", "销号"


class RectificationUpdate(models.Model):
    """One entry of a task's history: progress reports (date, text, author, evidence) and every
    step of the workflow."""

    task = models.ForeignKey(RectificationTask, on_delete=models.CASCADE, related_name="updates")
    kind = models.CharField("类型", max_length=12, choices=UpdateKind.choices)
    date = models.DateField("日期")
    text = models.TextField("内容", blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    evidence = models.ManyToManyField(
        "collection.Evidence", blank=True, related_name="rectification_updates"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "整改进展"
        ordering = ["task_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.task_id} {self.get_kind_display()} {self.date}"
