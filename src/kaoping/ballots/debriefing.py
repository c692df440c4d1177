"""述职评议 (debriefing review): the secretary's report, 一述一评 at the meeting, then the ballot.

- The secretary (the target person's own account) or their unit's 单位填报员 uploads the 述职
  report — checked by content, hashed and stored once like any evidence — with a short summary.
- At the meeting the organizer (or a 领导 whose scope covers the target) goes through the
  secretaries in turn, each report beside them, and records the leader's comment on each
  (一述一评): who and when, audited with the previous text.
- Beside each report: the secretary's previous debriefing (last campaign's comment and ballot
  result) and last year's rectification status from ``previous_rectification_status``, a hook
  the rectification feature fills (None until then: the page shows a labelled placeholder).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from kaoping import policy
from kaoping.accounts.models import Role
from kaoping.audit.actions import Action
from kaoping.audit.services import log_action

from .models import Appraisal, BallotAnswer, DebriefingReport

MAX_SUMMARY = 2000
MAX_COMMENT = 2000
NO_RECTIFICATION = "上年度整改情况：暂无整改记录"
REPORT_STAGES = ("published", "self_assessment", "review", "appraisal")
COMMENT_STAGES = ("published", "self_assessment", "review", "appraisal", "consolidation")


def is_debriefing(campaign: Any) -> bool:
    """述职评议 campaigns, and any campaign over cadres (书记 report on their work)."""
    return campaign.campaign_type == "debriefing" or campaign.target_kind == "cadre"


def previous_rectification_status(target: Any) -> str | None:
    """The previous campaign's rectification status of the target's unit (整改), e.g.
    ``上年度整改任务 3 项：已销号 2 项，逾期未完成 1 项``; the returned ``str`` carries the ``url``
    of that task list. None when there were no tasks (the page shows ``NO_RECTIFICATION``)."""
    from kaoping.rectification.selectors import previous_status

    return previous_status(target)


# ---- permissions ---------------------------------------------------------------------------


def may_submit_report(user: Any, target: Any) -> bool:
    """The secretary themself, or a 单位填报员 of their unit."""
    if target.person_id is None:
        return policy.can_self_assess(user, target)
    return (getattr(user, "person_id", None) == target.person_id and user.is_active) or (
        policy.can_self_assess(user, target)
    )


def may_comment(user: Any, target: Any) -> bool:
    """Those who run the campaign, and 领导 whose subtree holds the target's unit."""
    campaign = target.campaign
    if policy.can_manage_campaign(user, campaign):
        return True
    unit = target.unit
    return (
        unit is not None
        and policy.has_role(user, Role.LEADER)
        and policy.visible_organizations(user, policy.Perm.CAMPAIGN_VIEW)
        .filter(pk=unit.pk)
        .exists()
    )


# ---- writes --------------------------------------------------------------------------------


@transaction.atomic
def submit_report(
    *, actor: Any, target: Any, summary: str, uploaded_file: Any = None
) -> DebriefingReport:
    """Upload (or replace) the 述职 report and its summary. The file is checked by content."""
    from kaoping.collection import evidence as evidence_store

    if not may_submit_report(actor, target):
        raise PermissionDenied("只有书记本人或本单位填报员可以提交述职报告")
    campaign = target.campaign
    if campaign.status not in REPORT_STAGES:
        raise ValidationError(f"当前阶段（{campaign.get_status_display()}）不能提交述职报告")
    summary = (summary or "").strip()
    if len(summary) > MAX_SUMMARY:
        raise ValidationError(f"述职要点最多 {MAX_SUMMARY} 字")
    report, _ = DebriefingReport.objects.select_for_update().get_or_create(target=target)
    if uploaded_file is None and report.report_id is None:
        raise ValidationError("请上传述职报告")
    data: dict[str, Any] = {"target": target.name}
    if uploaded_file is not None:
        evidence, created = evidence_store.store(
            organization=target.unit, uploaded_file=uploaded_file, actor=actor
        )
        log_action(
            Action.EVIDENCE_UPLOAD, actor=actor, obj=evidence,
            data={"organization": target.unit.name, "sha256": evidence.file.sha256,
                  "size": evidence.file.size, "content_type": evidence.file.content_type,
                  "reused": not created},
        )  # fmt: skip
        report.report = evidence
        data["file"] = evidence.name
    changed = report.summary != summary
    report.summary = summary
    report.save()
    log_action(
        Action.DEBRIEFING_REPORT, actor=actor, obj=report,
        data={**data, "summary_changed": changed},
    )  # fmt: skip
    return report


@transaction.atomic
def record_comment(*, actor: Any, target: Any, comment: str) -> DebriefingReport:
    """The leader's comment on one secretary (一述一评), with who and when."""
    if not may_comment(actor, target):
        raise PermissionDenied("只有组织者或分管领导可以记录点评意见")
    campaign = target.campaign
    if campaign.status not in COMMENT_STAGES:
        raise ValidationError(f"当前阶段（{campaign.get_status_display()}）不能记录点评意见")
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError("请填写点评意见")
    if len(comment) > MAX_COMMENT:
        raise ValidationError(f"点评意见最多 {MAX_COMMENT} 字")
    report, _ = DebriefingReport.objects.select_for_update().get_or_create(target=target)
    before = report.leader_comment
    report.leader_comment = comment
    report.commented_by = actor
    report.commented_at = timezone.now()
    report.save()
    log_action(
        Action.DEBRIEFING_COMMENT, actor=actor, obj=report,
        changes={"点评意见": [before, comment]} if before != comment else None,
        data={"target": target.name},
    )  # fmt: skip
    return report


# ---- the meeting ---------------------------------------------------------------------------


@dataclass
class Previous:
    campaign_name: str
    comment: str
    ballots: int
    satisfaction_rate: float | None


@dataclass
class MeetingItem:
    number: int
    target: Any
    report: DebriefingReport | None
    previous: Previous | None
    rectification: str | None
    appraisals: list[Appraisal] = field(default_factory=list)

    @property
    def rectification_text(self) -> str:
        return self.rectification or NO_RECTIFICATION


def previous_debriefings(targets: list[Any]) -> dict[int, Previous]:
    """For person targets: the same person's latest earlier debriefing (comment and 满意率 of
    all its ballots' answers, 好 + 较好), by target id. Three queries in all."""
    from kaoping.campaigns.models import Target

    by_person = {t.person_id: t for t in targets if t.person_id}
    if not by_person:
        return {}
    earlier = (
        Target.objects.filter(person_id__in=list(by_person))
        .filter(Q(campaign__campaign_type="debriefing") | Q(campaign__target_kind="cadre"))
        .exclude(campaign_id__in={t.campaign_id for t in targets})
        .select_related("campaign", "debriefing")
        .order_by("person_id", "-campaign__period_end", "-campaign_id")
    )
    chosen: dict[int, Any] = {}
    for prev in earlier:
        current = by_person[prev.person_id]
        if prev.person_id not in chosen and prev.campaign.period_end < current.campaign.period_end:
            chosen[prev.person_id] = prev
    if not chosen:
        return {}
    rates = {
        r["target_id"]: r
        for r in BallotAnswer.objects.filter(
            target_id__in=[p.pk for p in chosen.values()], grade__isnull=False
        )
        .values("target_id")
        .annotate(
            n=Count("id"),
            good=Count("id", filter=Q(grade__in=(0, 1))),
            ballots=Count("ballot_id", distinct=True),
        )  # fmt: skip
        .order_by()
    }
    out = {}
    for person_id, prev in chosen.items():
        r = rates.get(prev.pk)
        report = getattr(prev, "debriefing", None)
        out[by_person[person_id].pk] = Previous(
            campaign_name=prev.campaign.name,
            comment=report.leader_comment if report else "",
            ballots=r["ballots"] if r else 0,
            satisfaction_rate=(r["good"] / r["n"]) if r and r["n"] else None,
        )
    return out


def meeting(campaign: Any) -> list[MeetingItem]:
    """Every target in turn (by code) with its report, previous debriefing, rectification
    status and the appraisals it is on."""
    targets = list(
        campaign.targets.select_related(
            "person__organization", "organization", "campaign"
        ).order_by("code")
    )
    reports = {
        r.target_id: r
        for r in DebriefingReport.objects.filter(target__campaign=campaign).select_related(
            "report__file", "commented_by"
        )
    }
    previous = previous_debriefings(targets)
    appraisals: dict[int, list[Appraisal]] = {}
    for a in Appraisal.objects.filter(campaign=campaign).prefetch_related("targets").order_by("id"):
        for t in a.targets.all():
            appraisals.setdefault(t.pk, []).append(a)
    return [
        MeetingItem(
            number=i + 1, target=t, report=reports.get(t.pk), previous=previous.get(t.pk),
            rectification=previous_rectification_status(t), appraisals=appraisals.get(t.pk, []),
        )
        for i, t in enumerate(targets)
    ]  # fmt: skip


def my_targets(user: Any, campaign: Any) -> list[Any]:
    """Targets of the campaign whose report the user may submit."""
    return [t for t in campaign.targets.select_related("person__organization", "organization")
            .order_by("code") if may_submit_report(user, t)]  # fmt: skip
