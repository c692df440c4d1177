"""Writes to campaigns: set-up (basic information, targets, rater weights, reviewers, stage plan),
the workflow (``transition`` and ``reopen``: the only two functions that change a campaign's
stage), and notifications. Each function checks its own rules, writes in one transaction and
leaves an audit entry. Callers have already checked ``policy.can_manage_campaign``.

For the collection app: ``stage_is_open(campaign, stage)`` and ``require_stage_open``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kaoping.accounts.models import Role, RoleGrant, User
from kaoping.audit.actions import Action
from kaoping.audit.services import diff, log_action, snapshot
from kaoping.indicators.constants import RaterGroupCode
from kaoping.indicators.models import SchemeVersion
from kaoping.organizations.models import Organization, OrgType, Person, Post, PostTitle
from kaoping.organizations.selectors import subtree

from . import rules, workflow
from .models import (
    OPTIONAL_STAGES,
    Campaign,
    CampaignEvent,
    CampaignStage,
    CampaignType,
    Notification,
    ReviewerAssignment,
    Stage,
    Target,
    TargetKind,
)

CAMPAIGN_FIELDS = (
    "name", "campaign_type", "period_start", "period_end", "purpose", "owner",
    "scheme_version", "target_kind",
)  # fmt: skip
DONE_SELF_STATUSES = ("submitted", "accepted")  # collection.AssessmentStatus values
WEIGHT_TOLERANCE = Decimal("0.0001")
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


class WorkflowError(Exception):
    """A move the transition table does not allow, or a stage that is not open."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class GuardError(WorkflowError):
    """A move refused by its guards. ``problems`` lists what is missing; when ``confirmable``,
    the organizer may go on anyway (``confirm=True``, recorded with the move)."""

    def __init__(self, message: str, problems: list[str], *, confirmable: bool) -> None:
        super().__init__(message)
        self.problems = problems
        self.confirmable = confirmable


def _user_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def _grades(version: SchemeVersion) -> list[str]:
    from kaoping.indicators.services import DEFAULT_GRADES

    return list((version.options or {}).get("grades") or DEFAULT_GRADES)


def _lock(campaign: Campaign) -> Campaign:
    return (
        Campaign.objects.select_for_update(of=("self",))
        .select_related("owner", "scheme_version__scheme")
        .get(pk=campaign.pk)
    )


def _require_status(campaign: Campaign, allowed: Iterable[str], what: str) -> None:
    allowed = tuple(allowed)
    if campaign.status not in allowed:
        labels = "、".join(Stage(s).label for s in allowed)
        raise ValidationError(
            f"{what}只能在“{labels}”阶段进行，当前为“{campaign.get_status_display()}”"
        )


def _in_owner_tree(campaign: Campaign, org: Organization) -> bool:
    return org.path.startswith(campaign.owner.path)


# ---- basic information ---------------------------------------------------------------------


def _clean(data: dict[str, Any], *, existing: Campaign | None = None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = "请填写活动名称"
    elif len(name) > 100:
        errors["name"] = "活动名称最多 100 字"
    data["name"] = name
    if data.get("campaign_type") not in CampaignType.values:
        errors["campaign_type"] = "请选择考核类型"
    start, end = data.get("period_start"), data.get("period_end")
    if not isinstance(start, dt.date):
        errors["period_start"] = "请填写考核期起始日期"
    if not isinstance(end, dt.date):
        errors["period_end"] = "请填写考核期截止日期"
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        errors["period_end"] = "考核期截止日期不能早于起始日期"
    data["purpose"] = str(data.get("purpose") or "").strip()
    if not data["purpose"]:
        errors["purpose"] = "请写明考核目的（为什么考）"
    if data.get("target_kind") not in TargetKind.values:
        errors["target_kind"] = "请选择考核对象类型"
    version = data.get("scheme_version")
    if not isinstance(version, SchemeVersion):
        errors["scheme_version"] = "请选择指标体系版本"
    elif not version.is_published:
        errors["scheme_version"] = "指标体系版本须先发布"
    elif (
        data.get("target_kind") in TargetKind.values
        and version.scheme.target_kind != data["target_kind"]
    ):
        errors["scheme_version"] = (
            f"指标体系“{version.scheme.name}”的考核对象为“{version.scheme.get_target_kind_display()}”，"
            f"与本活动的考核对象“{TargetKind(data['target_kind']).label}”不一致"
        )
    kind_changed = existing is not None and data.get("target_kind") != existing.target_kind
    if kind_changed and existing.targets.exists():  # type: ignore[union-attr]
        errors["target_kind"] = "已添加考核对象，不能再改变考核对象类型"
    if isinstance(version, SchemeVersion) and "scheme_version" not in errors:
        try:
            data["result_rules"] = rules.clean_rules(data.get("result_rules"), _grades(version))
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    return data


@transaction.atomic
def create_campaign(
    *,
    actor: Any,
    owner: Organization,
    name: str,
    campaign_type: str,
    period_start: dt.date,
    period_end: dt.date,
    purpose: str,
    result_rules: list[dict[str, str]] | None,
    scheme_version: SchemeVersion,
    target_kind: str = TargetKind.ORGANIZATION,
) -> Campaign:
    """A new campaign in 草稿 with every stage of the timeline planned (all enabled)."""
    data = _clean(
        {
            "name": name,
            "campaign_type": campaign_type,
            "period_start": period_start,
            "period_end": period_end,
            "purpose": purpose,
            "result_rules": result_rules,
            "scheme_version": scheme_version,
            "target_kind": target_kind,
        }
    )
    campaign = Campaign.objects.create(owner=owner, created_by=_user_or_none(actor), **data)
    now = timezone.now()
    CampaignStage.objects.bulk_create(
        CampaignStage(campaign=campaign, stage=s, opened_at=now if s == Stage.DRAFT else None)
        for s in Stage
    )
    log_action(
        Action.CAMPAIGN_CREATE,
        actor=actor,
        obj=campaign,
        changes=diff({}, snapshot(campaign, CAMPAIGN_FIELDS)),
        data={"result_rules": [rules.describe(r) for r in campaign.result_rules]},
    )
    return campaign


@transaction.atomic
def update_campaign(*, actor: Any, campaign: Campaign, **fields: Any) -> Campaign:
    """Change basic information (only in 草稿). A different indicator-system version drops the
    rater-weight overrides made for the old one."""
    campaign = _lock(campaign)
    _require_status(campaign, workflow.SETUP_STAGES, "修改活动基本信息")
    allowed = set(CAMPAIGN_FIELDS) - {"owner"} | {"result_rules"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(f"不能修改：{'、'.join(sorted(unknown))}")
    before = snapshot(campaign, CAMPAIGN_FIELDS)
    before_rules = [rules.describe(r) for r in campaign.result_rules]
    data = {f: getattr(campaign, f) for f in allowed} | fields
    data = _clean(data, existing=campaign)
    version_changed = data["scheme_version"].pk != campaign.scheme_version_id
    for key, value in data.items():
        setattr(campaign, key, value)
    if version_changed:
        campaign.rater_weights = {}
    campaign.save()
    after_rules = [rules.describe(r) for r in campaign.result_rules]
    changes = diff(before, snapshot(campaign, CAMPAIGN_FIELDS))
    if before_rules != after_rules:
        changes["结果运用规则"] = [before_rules, after_rules]
    if changes:
        log_action(Action.CAMPAIGN_UPDATE, actor=actor, obj=campaign, changes=changes)
    return campaign


# ---- targets -------------------------------------------------------------------------------


def _audit_targets_added(actor: Any, campaign: Campaign, root: Organization, what: str,
                         created: list[Target]) -> None:  # fmt: skip
    log_action(
        Action.CAMPAIGN_TARGETS_ADD,
        actor=actor,
        obj=campaign,
        data={
            "root": root.name,
            "what": what,
            "added": len(created),
            "targets": [t.name for t in created[:100]],
        },
    )


@transaction.atomic
def add_targets_by_subtree(
    *, actor: Any, campaign: Campaign, root: Organization, org_types: Iterable[str]
) -> list[Target]:
    """Add every active organization of the given types in ``root``'s subtree (those already
    targets are left as they are). Returns the new targets."""
    campaign = _lock(campaign)
    _require_status(campaign, workflow.TARGET_STAGES, "调整考核对象")
    if campaign.target_kind != TargetKind.ORGANIZATION:
        raise ValidationError("本活动的考核对象是领导干部和书记，请按人员添加")
    if not _in_owner_tree(campaign, root):
        raise ValidationError(f"“{root.name}”不在本活动组织单位“{campaign.owner.name}”的范围内")
    types = list(dict.fromkeys(org_types))
    if not types or any(t not in OrgType.values for t in types):
        raise ValidationError({"org_types": "请选择要纳入考核的组织类型"})
    present = set(campaign.targets.values_list("organization_id", flat=True))
    orgs = (
        subtree(root, include_dissolved=False)
        .filter(org_type__in=types)
        .select_related("parent")
        .order_by("path")
    )
    created = Target.objects.bulk_create(
        Target(
            campaign=campaign,
            organization=org,
            code=org.code,
            name=org.name,
            group_code=org.parent.code if org.parent else "",
            group_name=org.parent.name if org.parent else "",
        )
        for org in orgs
        if org.pk not in present
    )
    labels = "、".join(OrgType(t).label for t in types)
    _audit_targets_added(actor, campaign, root, labels, created)
    return created


@transaction.atomic
def add_cadre_targets(
    *,
    actor: Any,
    campaign: Campaign,
    root: Organization,
    secretaries: bool = True,
    cadres: bool = True,
) -> list[Target]:
    """Add the current 书记 of the organizations in ``root``'s subtree and/or the leading cadres
    (领导干部) registered there. Returns the new targets."""
    campaign = _lock(campaign)
    _require_status(campaign, workflow.TARGET_STAGES, "调整考核对象")
    if campaign.target_kind != TargetKind.CADRE:
        raise ValidationError("本活动的考核对象是党组织，请按组织添加")
    if not _in_owner_tree(campaign, root):
        raise ValidationError(f"“{root.name}”不在本活动组织单位“{campaign.owner.name}”的范围内")
    if not (secretaries or cadres):
        raise ValidationError("请至少选择“书记”或“领导干部”之一")
    # Ids first (plain lists): nested subqueries with joins plan badly on tables just filled in
    # the same transaction (statistics not yet gathered), e.g. when the demo is built.
    org_ids = list(subtree(root, include_dissolved=False).values_list("pk", flat=True))
    q = Q(pk__in=[])
    if secretaries:
        q |= Q(
            pk__in=list(
                Post.objects.filter(
                    organization_id__in=org_ids, title=PostTitle.SECRETARY, ended_on__isnull=True
                ).values_list("person_id", flat=True)
            )
        )
    if cadres:
        q |= Q(organization_id__in=org_ids, is_leading_cadre=True)
    people = list(
        Person.objects.filter(q, is_active=True, organization__isnull=False)
        .select_related("organization")
        .order_by("organization__path", "staff_no")
    )
    parent_ids = {p.organization.parent_id for p in people if p.organization.parent_id}
    parents = Organization.objects.in_bulk(list(parent_ids))
    present = set(campaign.targets.values_list("person_id", flat=True))

    def group(p: Person) -> Organization:
        # ranked within the parent organization of their unit (a secretary among the
        # secretaries of the same 党总支)
        return parents.get(p.organization.parent_id) or p.organization  # type: ignore[arg-type]

    created = Target.objects.bulk_create(
        Target(
            campaign=campaign,
            person=p,
            code=p.staff_no,
            name=p.name,
            group_code=group(p).code,
            group_name=group(p).name,
        )
        for p in people
        if p.pk not in present
    )
    what = "、".join(w for w, on in (("书记", secretaries), ("领导干部", cadres)) if on)
    _audit_targets_added(actor, campaign, root, what, created)
    return created


@transaction.atomic
def remove_target(*, actor: Any, campaign: Campaign, target: Target) -> None:
    campaign = _lock(campaign)
    _require_status(campaign, workflow.TARGET_STAGES, "调整考核对象")
    if target.campaign_id != campaign.pk:
        raise ValidationError("该考核对象不属于本活动")
    name = target.name
    target.delete()
    log_action(Action.CAMPAIGN_TARGET_REMOVE, actor=actor, obj=campaign, data={"target": name})


# ---- rater-group weights -------------------------------------------------------------------


def default_rater_weights(campaign: Campaign) -> dict[str, dict[str, float]]:
    """Per leaf indicator code, the indicator system's rater-group weights (the indicator's own,
    else the version's default)."""
    from kaoping.indicators.engine_bridge import DEFAULT_RATER_WEIGHTS

    version = campaign.scheme_version
    fallback = dict((version.options or {}).get("rater_weights") or DEFAULT_RATER_WEIGHTS)
    from kaoping.indicators.selectors import in_tree_order

    inds = in_tree_order(list(version.indicators.all()))
    parents = {i.parent_id for i in inds}
    return {
        i.code: {k: float(v) for k, v in (i.rater_weights or fallback).items()}
        for i in inds
        if i.pk not in parents
    }


def effective_rater_weights(campaign: Campaign) -> dict[str, dict[str, float]]:
    """The weights that count: the campaign's overrides over the indicator system's defaults."""
    out = default_rater_weights(campaign)
    for code, row in (campaign.rater_weights or {}).items():
        if code in out:
            out[code] = dict(row)
    return out


def _clean_matrix(campaign: Campaign, matrix: Any) -> dict[str, dict[str, float]]:
    if not isinstance(matrix, dict):
        raise ValidationError("评价主体权重格式不正确")
    defaults = default_rater_weights(campaign)
    labels = dict(RaterGroupCode.choices)
    errors: list[str] = []
    out: dict[str, dict[str, float]] = {}
    for code, row in matrix.items():
        if code not in defaults:
            errors.append(f"指标“{code}”不是本活动指标体系中的末级指标")
            continue
        if not isinstance(row, dict):
            errors.append(f"指标“{code}”的权重格式不正确")
            continue
        clean: dict[str, float] = {}
        total = Decimal(0)
        for group, value in row.items():
            if group not in labels:
                errors.append(f"指标“{code}”：未知的评价主体“{group}”")
                continue
            if value in (None, ""):
                continue
            try:
                d = Decimal(str(value))
            except (InvalidOperation, ValueError):
                errors.append(f"指标“{code}”：“{labels[group]}”的权重应为数字")
                continue
            if not d.is_finite() or d < 0 or d > 1:
                errors.append(f"指标“{code}”：“{labels[group]}”的权重应在 0 至 1 之间")
                continue
            if d > 0:
                clean[group] = float(d)
                total += d
        if abs(total - 1) > WEIGHT_TOLERANCE:
            errors.append(f"指标“{code}”的各评价主体权重合计为 {float(total):g}，应为 1")
        out[code] = clean
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def set_rater_weights(
    *, actor: Any, campaign: Campaign, matrix: dict[str, dict[str, Any]]
) -> Campaign:
    """Set rater-group weights per leaf indicator (``{code: {group: weight}}``, each row summing
    to 1). Rows equal to the indicator system's defaults are not stored (they follow it)."""
    campaign = _lock(campaign)
    _require_status(campaign, workflow.TARGET_STAGES, "设置评价主体权重")
    clean = _clean_matrix(campaign, matrix)
    defaults = default_rater_weights(campaign)
    stored = dict(campaign.rater_weights or {})
    before = dict(stored)
    for code, row in clean.items():
        if row == {k: v for k, v in defaults[code].items() if v > 0}:
            stored.pop(code, None)
        else:
            stored[code] = row
    campaign.rater_weights = stored
    campaign.save(update_fields=["rater_weights", "updated_at"])
    changed = sorted(k for k in set(before) | set(stored) if before.get(k) != stored.get(k))
    if changed:
        log_action(
            Action.CAMPAIGN_WEIGHTS,
            actor=actor,
            obj=campaign,
            changes={code: [before.get(code), stored.get(code)] for code in changed},
        )
    return campaign


# ---- reviewers -----------------------------------------------------------------------------


def conflict_of_interest(reviewer: User, target: Target) -> str | None:
    """Why ``reviewer`` may not score ``target`` (利益回避), or None."""
    person = reviewer.person if reviewer.person_id else None
    if person is None:
        return None
    who = reviewer.display_name
    if target.person_id and target.person_id == person.pk:
        return f"评审员“{who}”就是考核对象“{target.name}”本人，不能评审自己"
    unit = target.unit
    own = person.organization
    if unit is None or own is None or not own.path.startswith(unit.path):
        return None
    if target.person_id:
        return f"评审员“{who}”与考核对象“{target.name}”同属“{unit.name}”，须回避（不能评审本单位）"
    if own.pk == unit.pk:
        return f"评审员“{who}”是考核对象“{target.name}”本单位的成员，须回避（不能评审本单位）"
    return f"评审员“{who}”所在的“{own.name}”隶属于考核对象“{target.name}”，须回避（不能评审本单位）"
    return None


@transaction.atomic
def assign_reviewer(
    *, actor: Any, campaign: Campaign, reviewer: User, targets: Iterable[Target]
) -> list[ReviewerAssignment]:
    """Assign ``reviewer`` to ``targets``; refused as a whole when any target conflicts."""
    from kaoping import policy

    campaign = _lock(campaign)
    _require_status(campaign, workflow.ASSIGNMENT_STAGES, "分配评审员")
    if not reviewer.is_active or not policy.has_perm(reviewer, policy.Perm.REVIEW):
        raise ValidationError(f"“{reviewer.display_name}”没有评审员角色，不能分配评审任务")
    targets = list(targets)
    if not targets:
        raise ValidationError("请选择要评审的考核对象")
    problems = []
    for target in targets:
        if target.campaign_id != campaign.pk:
            problems.append(f"“{target.name}”不是本活动的考核对象")
        elif reason := conflict_of_interest(reviewer, target):
            problems.append(reason)
    if problems:
        raise ValidationError(problems)
    present = set(
        ReviewerAssignment.objects.filter(campaign=campaign, reviewer=reviewer).values_list(
            "target_id", flat=True
        )
    )
    created = ReviewerAssignment.objects.bulk_create(
        ReviewerAssignment(campaign=campaign, reviewer=reviewer, target=t)
        for t in targets
        if t.pk not in present
    )
    if created:
        log_action(
            Action.CAMPAIGN_REVIEWER_ASSIGN,
            actor=actor,
            obj=campaign,
            data={"reviewer": reviewer.display_name, "targets": [a.target.name for a in created]},
        )
    return created


@transaction.atomic
def unassign_reviewer(*, actor: Any, campaign: Campaign, assignment: ReviewerAssignment) -> None:
    campaign = _lock(campaign)
    _require_status(campaign, workflow.ASSIGNMENT_STAGES, "调整评审分工")
    if assignment.campaign_id != campaign.pk:
        raise ValidationError("该评审分工不属于本活动")
    data = {"reviewer": assignment.reviewer.display_name, "target": assignment.target.name}
    assignment.delete()
    log_action(Action.CAMPAIGN_REVIEWER_UNASSIGN, actor=actor, obj=campaign, data=data)


# ---- the stage plan ------------------------------------------------------------------------


@transaction.atomic
def set_stage_plan(
    *,
    actor: Any,
    campaign: Campaign,
    stage: str,
    enabled: bool = True,
    starts_on: dt.date | None = None,
    deadline: dt.date | None = None,
) -> CampaignStage:
    """Plan one stage: whether it runs (optional stages only, and not once reached) and its
    dates (the deadline not before the start)."""
    campaign = _lock(campaign)
    if campaign.status == Stage.ARCHIVED:
        raise ValidationError("活动已归档，不能再调整阶段安排")
    try:
        stage = Stage(stage)
    except ValueError as exc:
        raise ValidationError({"stage": "阶段不正确"}) from exc
    row = CampaignStage.objects.select_for_update().get(campaign=campaign, stage=stage)
    if not enabled:
        if stage not in OPTIONAL_STAGES:
            raise ValidationError({"enabled": f"“{stage.label}”阶段不能停用"})
        if workflow.index(stage) <= workflow.index(campaign.status):
            raise ValidationError({"enabled": f"“{stage.label}”阶段已经开始，不能停用"})
    if starts_on and deadline and deadline < starts_on:
        raise ValidationError({"deadline": "截止日期不能早于开始日期"})
    before = snapshot(row, ("enabled", "starts_on", "deadline"))
    row.enabled, row.starts_on, row.deadline = bool(enabled), starts_on, deadline
    row.save(update_fields=["enabled", "starts_on", "deadline"])
    changes = diff(before, snapshot(row, ("enabled", "starts_on", "deadline")))
    if changes:
        log_action(
            Action.CAMPAIGN_STAGE_PLAN,
            actor=actor,
            obj=campaign,
            changes=changes,
            data={"stage": stage.label},
        )
    return row


# ---- the workflow --------------------------------------------------------------------------


def _names(items: list[str], limit: int = 10) -> str:
    shown = "、".join(items[:limit])
    return f"{shown} 等 {len(items)} 个" if len(items) > limit else shown


def _guard_result_rules(campaign: Campaign) -> list[str]:
    if not campaign.result_rules:
        return ["尚未声明结果运用规则（考核结果如何使用须在考核开始前明确）"]
    return []


def _guard_has_targets(campaign: Campaign) -> list[str]:
    return [] if campaign.targets.exists() else ["尚未添加考核对象"]


def _stage_enabled(campaign: Campaign, stage: Stage) -> bool:
    return stage in workflow.enabled_stages(campaign)


def _guard_reviewers(campaign: Campaign) -> list[str]:
    if not _stage_enabled(campaign, Stage.REVIEW):
        return []
    missing = list(campaign.targets.filter(assignments__isnull=True).values_list("name", flat=True))
    return [f"考核对象“{name}”尚未分配评审员" for name in missing]


def annual_overlaps(campaign: Campaign) -> list[str]:
    """Other 年度考核 in the same year covering some of the same targets (每个部门每年至多一次
    综合性考核, 2024 rules against formalism)."""
    if campaign.campaign_type != CampaignType.ANNUAL:
        return []
    year = campaign.period_end.year
    orgs = list(
        campaign.targets.exclude(organization=None).values_list("organization_id", flat=True)
    )
    people = list(campaign.targets.exclude(person=None).values_list("person_id", flat=True))
    others = (
        Campaign.objects.filter(campaign_type=CampaignType.ANNUAL, period_end__year=year)
        .exclude(pk=campaign.pk)
        .filter(Q(targets__organization_id__in=orgs) | Q(targets__person_id__in=people))
        .distinct()
        .order_by("pk")
    )
    out = []
    for other in others:
        shared = other.targets.filter(Q(organization_id__in=orgs) | Q(person_id__in=people)).count()
        out.append(
            f"“{other.name}”已是 {year} 年的年度考核，与本活动有 {shared} 个相同的考核对象"
            "（每个部门每年至多开展一次综合性考核）"
        )
    return out


def _guard_self_assessments(campaign: Campaign) -> list[str]:
    from kaoping.collection.models import SelfAssessment

    statuses = dict(
        SelfAssessment.objects.filter(target__campaign=campaign).values_list("target_id", "status")
    )
    labels = {"draft": "填报中", "returned": "已退回"}
    out = []
    for target in campaign.targets.order_by("code"):
        status = statuses.get(target.pk)
        if status not in DONE_SELF_STATUSES:
            out.append(f"“{target.name}”自评未提交（{labels.get(status or '', '未开始')}）")
    return out


def _guard_review_sheets(campaign: Campaign) -> list[str]:
    from kaoping.collection.models import ReviewSheet, SheetStatus

    submitted = set(
        ReviewSheet.objects.filter(campaign=campaign, status=SheetStatus.SUBMITTED).values_list(
            "reviewer_id", flat=True
        )
    )
    reviewers = (
        User.objects.filter(review_assignments__campaign=campaign).distinct().order_by("username")
    )
    return [f"评审员“{u.display_name}”的评分表未提交" for u in reviewers if u.pk not in submitted]


def _guard_results_approved(campaign: Campaign) -> list[str]:
    from kaoping.results.models import ResultStatus
    from kaoping.results.services import current_set

    rs = current_set(campaign)
    if rs is None:
        return ["尚未计算考核结果"]
    if rs.status != ResultStatus.APPROVED:
        return [f"考核结果尚未审批通过（当前：{rs.get_status_display()}）"]
    return []


def _guard_results_ready_to_lock(campaign: Campaign) -> list[str]:
    from kaoping.results.models import ResultStatus
    from kaoping.results.services import current_set

    rs = current_set(campaign)
    if rs is None:
        return ["尚未计算考核结果"]
    if rs.status not in (ResultStatus.APPROVED, ResultStatus.PUBLISHED, ResultStatus.FINAL):
        return [f"考核结果尚未审批通过（当前：{rs.get_status_display()}）"]
    return []


def _guard_appeals_decided(campaign: Campaign) -> list[str]:
    from kaoping.results.models import AppealStatus

    pending = list(
        campaign.appeals.filter(status=AppealStatus.FILED).values_list("target__name", flat=True)
    )
    return [f"“{name}”的申诉尚未处理" for name in pending]


def _guard_publication_ended(campaign: Campaign) -> list[str]:
    from kaoping.results.services import current_set, publication_open

    rs = current_set(campaign)
    if publication_open(rs):
        ends = timezone.localtime(rs.publication_ends)  # type: ignore[union-attr,arg-type]
        return [f"公示期到 {ends:%Y-%m-%d %H:%M} 才结束，提前结束后将不能再提出申诉"]
    return []


GUARDS = {
    "result_rules_declared": _guard_result_rules,
    "has_targets": _guard_has_targets,
    "reviewers_assigned": _guard_reviewers,
    "one_annual_per_year": annual_overlaps,
    "self_assessments_submitted": _guard_self_assessments,
    "review_sheets_submitted": _guard_review_sheets,
    "results_approved": _guard_results_approved,
    "results_ready_to_lock": _guard_results_ready_to_lock,
    "appeals_decided": _guard_appeals_decided,
    "publication_ended": _guard_publication_ended,
}


@dataclass(frozen=True)
class GuardCheck:
    hard: list[str]
    soft: list[str]


def check_guards(campaign: Campaign, move: workflow.Move) -> GuardCheck:
    hard: list[str] = []
    soft: list[str] = []
    for name in move.guards():
        problems = GUARDS[name](campaign)
        (hard if name in workflow.HARD_GUARDS else soft).extend(problems)
    return GuardCheck(hard, soft)


@transaction.atomic
def transition(
    *, actor: Any, campaign: Campaign, to_stage: str, confirm: bool = False, reason: str = ""
) -> Campaign:
    """Move ``campaign`` forward to ``to_stage`` — the one service for every stage move.

    Checks the transition table (disabled stages are skipped), runs the guards (hard ones
    refuse; soft ones refuse unless ``confirm``), closes the old stage and opens the new one,
    and records a CampaignEvent and an audit entry."""
    locked = _lock(campaign)
    try:
        target = Stage(to_stage)
    except ValueError as exc:
        raise WorkflowError(f"未知的阶段“{to_stage}”") from exc
    move = workflow.next_move(locked)
    if move is None or move.target != target:
        nxt = f"，下一阶段应为“{move.target.label}”" if move else ""
        raise WorkflowError(f"当前阶段“{locked.get_status_display()}”不能进入“{target.label}”{nxt}")
    check = check_guards(locked, move)
    if check.hard:
        raise GuardError(f"不能{move.label}：", check.hard, confirmable=False)
    if check.soft and not confirm:
        raise GuardError(f"{move.label}前请注意：", check.soft, confirmable=True)
    if move.source == Stage.APPRAISAL:
        # Leaving 测评 closes its open appraisals: their ballots are re-stored in random order.
        from kaoping.ballots.services import close_open_appraisals

        close_open_appraisals(actor=actor, campaign=locked)
    now = timezone.now()
    CampaignStage.objects.filter(campaign=locked, stage=move.source).update(closed_at=now)
    CampaignStage.objects.filter(campaign=locked, stage=target).update(
        opened_at=now, closed_at=now if target == Stage.ARCHIVED else None
    )
    source = locked.status
    locked.status = target
    locked.save(update_fields=["status", "updated_at"])
    campaign.status = target
    if target in (Stage.PUBLICATION, Stage.ARCHIVED):
        from kaoping.results import services as results

        if target == Stage.PUBLICATION:
            results.start_publication(actor=actor, campaign=locked)
        else:
            results.lock(actor=actor, campaign=locked)
    reason = (reason or "").strip()
    CampaignEvent.objects.create(
        campaign=locked,
        from_stage=source,
        to_stage=target,
        reason=reason,
        overridden=check.soft,
        actor=_user_or_none(actor),
    )
    log_action(
        Action.CAMPAIGN_TRANSITION,
        actor=actor,
        obj=locked,
        changes={"当前阶段": [Stage(source).label, target.label]},
        data={
            "skipped": [s.label for s in move.skipped],
            "overridden": check.soft,
            "reason": reason,
        },
    )
    return locked


@transaction.atomic
def reopen(*, actor: Any, campaign: Campaign, to_stage: str, reason: str) -> Campaign:
    """Send the campaign back to an earlier enabled stage (自评 or later), with a reason. The
    stages after it are reset in the timeline; what was entered stays."""
    locked = _lock(campaign)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "重新开放阶段须说明理由"})
    try:
        target = Stage(to_stage)
    except ValueError as exc:
        raise WorkflowError(f"未知的阶段“{to_stage}”") from exc
    if target not in workflow.reopen_targets(locked):
        raise WorkflowError(f"当前阶段“{locked.get_status_display()}”不能退回到“{target.label}”")
    from kaoping.results.services import back_to_draft

    back_to_draft(actor=actor, campaign=locked, stage=target)
    now = timezone.now()
    later = [s for s in Stage if workflow.index(s) > workflow.index(target)]
    CampaignStage.objects.filter(campaign=locked, stage__in=later).update(
        opened_at=None, closed_at=None
    )
    CampaignStage.objects.filter(campaign=locked, stage=target).update(
        opened_at=now, closed_at=None
    )
    source = locked.status
    locked.status = target
    locked.save(update_fields=["status", "updated_at"])
    campaign.status = target
    CampaignEvent.objects.create(
        campaign=locked,
        from_stage=source,
        to_stage=target,
        reopened=True,
        reason=reason,
        actor=_user_or_none(actor),
    )
    log_action(
        Action.CAMPAIGN_REOPEN,
        actor=actor,
        obj=locked,
        changes={"当前阶段": [Stage(source).label, target.label]},
        data={"reason": reason},
    )
    return locked


def stage_is_open(campaign: Campaign, stage: str) -> bool:
    """Whether ``stage`` is the campaign's current stage (work of that stage may be entered).
    Reads the campaign's status from the database, not the possibly stale instance."""
    status = Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True).first()
    return status is not None and status == str(stage)


def require_stage_open(campaign: Campaign, stage: str) -> None:
    """Raise ``WorkflowError`` with a Chinese message unless ``stage`` is open."""
    if not stage_is_open(campaign, stage):
        raise WorkflowError(
            f"“{Stage(stage).label}”阶段未开放（活动当前阶段为“{campaign.get_status_display()}”）"
        )


# ---- notifications -------------------------------------------------------------------------


def email_configured() -> bool:
    """E-mail goes out when an SMTP host is set (or a non-SMTP backend is, e.g. in tests)."""
    if settings.EMAIL_BACKEND != SMTP_BACKEND:
        return True
    return bool(settings.EMAIL_HOST) and settings.EMAIL_HOST != "localhost"


def notify(
    *, users: Iterable[User], campaign: Campaign | None, message: str, url: str = ""
) -> list[Notification]:
    """An in-app notification for each user (once per user), e-mailed when e-mail is set up."""
    unique = list({u.pk: u for u in users}.values())
    created = Notification.objects.bulk_create(
        Notification(user=u, campaign=campaign, message=message[:300], url=url[:300])
        for u in unique
    )
    if email_configured():
        emailed = []
        for note, user in zip(created, unique, strict=True):
            if not user.email:
                continue
            link = f"\n\n{url}" if url else ""
            try:
                send_mail(
                    subject=f"【考评】{campaign.name if campaign else '通知'}",
                    message=f"{user.display_name}：\n\n{message}{link}",
                    from_email=None,
                    recipient_list=[user.email],
                )
            except OSError:  # the SMTP server is down: the in-app notice stands
                continue
            emailed.append(note.pk)
        if emailed:
            Notification.objects.filter(pk__in=emailed).update(emailed_at=timezone.now())
    return created


def submitters_of(orgs: Iterable[int]) -> dict[int, list[User]]:
    """单位填报员 by organization id (their grant names exactly that organization)."""
    out: dict[int, list[User]] = {}
    for g in RoleGrant.objects.filter(
        role=Role.SUBMITTER, organization_id__in=list(orgs), user__is_active=True
    ).select_related("user"):
        out.setdefault(g.organization_id, []).append(g.user)
    return out


def _deadline_text(campaign: Campaign, stage: Stage) -> str:
    row = campaign.stages.filter(stage=stage).first()
    return f"，截止日期 {row.deadline:%Y-%m-%d}" if row and row.deadline else ""


@transaction.atomic
def send_reminders(*, actor: Any, campaign: Campaign, url: str = "") -> int:
    """Remind everyone with missing work in the current stage: 单位填报员 of targets whose
    self-assessment is not submitted (自评), reviewers whose sheet is not submitted (评审).
    Returns the number of notifications."""
    from kaoping.collection.models import ReviewSheet, SelfAssessment, SheetStatus

    stage = Stage(campaign.status)
    deadline = _deadline_text(campaign, stage)
    sent = 0
    if stage == Stage.SELF_ASSESSMENT:
        done = set(
            SelfAssessment.objects.filter(
                target__campaign=campaign, status__in=DONE_SELF_STATUSES
            ).values_list("target_id", flat=True)
        )
        pending = [
            t
            for t in campaign.targets.select_related("organization", "person__organization")
            if t.pk not in done
        ]
        by_org = submitters_of(t.unit.pk for t in pending if t.unit is not None)
        for t in pending:
            users = by_org.get(t.unit.pk, []) if t.unit is not None else []
            sent += len(
                notify(
                    users=users,
                    campaign=campaign,
                    message=f"“{campaign.name}”：请完成“{t.name}”的自评并提交{deadline}。",
                    url=url,
                )
            )
    elif stage == Stage.REVIEW:
        submitted = set(
            ReviewSheet.objects.filter(campaign=campaign, status=SheetStatus.SUBMITTED).values_list(
                "reviewer_id", flat=True
            )
        )
        reviewers = User.objects.filter(
            review_assignments__campaign=campaign, is_active=True
        ).distinct()
        pending_users = [u for u in reviewers if u.pk not in submitted]
        sent = len(
            notify(
                users=pending_users,
                campaign=campaign,
                message=f"“{campaign.name}”：请完成评分并提交评分表{deadline}。",
                url=url,
            )
        )
    log_action(
        Action.CAMPAIGN_REMIND,
        actor=actor,
        obj=campaign,
        actor_name="" if actor else "命令行",
        data={"stage": stage.label, "notifications": sent},
    )
    return sent


@transaction.atomic
def mark_read(*, user: User, notifications: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all unread when ``notifications`` is None)."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notifications is not None:
        qs = qs.filter(pk__in=list(notifications))
    return qs.update(read_at=timezone.now())
