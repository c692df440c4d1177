"""Writes for rectification (整改). Every function checks who may act (``kaoping.policy``), the
task's status (one transition table, ``TRANSITIONS``), writes in one transaction and leaves an
audit entry (``Action.RECT_*``).

- ``propose_from_results``: proposals from a campaign's current results (deducted and weak
  indicators, the lowest grade and the grades the result-use rules send to 整改, vetoes, upheld
  appeals), idempotent;
- the organizer reviews them: ``update_task``, ``confirm`` (→ 整改中), ``drop`` (→ 已撤销);
  ``create_task`` adds one by hand;
- the responsible person or the unit's 单位填报员: ``save_plan``, ``report_progress``,
  ``submit_completion`` (→ 完成待验收);
- the organizer: ``verify`` (→ 已销号) or ``return_task`` (→ 已退回);
- feedback to the next cycle: ``sync_task_record`` / ``sync_daily_records`` keep a 平时考核纪实
  for each task that ran past its deadline (``DailyRecord.source = "rectification:<id>"``);
- ``remind``: notices for overdue tasks and tasks due soon.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from kaoping import policy
from kaoping.audit.actions import Action
from kaoping.audit.services import log_action, snapshot

from .models import (
    ACTIVE_STATUSES,
    RESULT_KINDS,
    WORKING_STATUSES,
    RectificationTask,
    RectificationUpdate,
    SourceKind,
    TaskStatus,
    UpdateKind,
)

#: a leaf scored below this share of its points is a weak indicator (薄弱指标)
WEAK_RATIO = 0.6
#: default time to rectify, from the day the task is proposed
DEFAULT_DEADLINE_MONTHS = 3
#: result-set statuses whose results may be turned into proposals (approved or later)
PROPOSE_RESULT_STATUSES = ("approved", "published", "final")
#: reminders go out this many days before the deadline
REMIND_DAYS = 7
MAX_TEXT = 2000
DEDUCTION_RULES = ("deduction", "penalty")
SKIP_CODES = ("veto", "rounding", "unrounded", "aggregation")
RECORD_SOURCE = "rectification:{}"
#: 平时考核纪实 item names that take a task that ran past its deadline (when no setting names one)
RECORD_ITEM_WORDS = ("未按期整改", "整改")

TRANSITIONS: dict[str, dict[str, tuple[str, ...]]] = {
    # action: {from statuses: ..., }
    "confirm": {"from": (TaskStatus.PROPOSED,)},
    "drop": {"from": (TaskStatus.PROPOSED,)},
    "edit": {"from": (TaskStatus.PROPOSED, TaskStatus.OPEN, TaskStatus.RETURNED)},
    "plan": {"from": WORKING_STATUSES},
    "progress": {"from": WORKING_STATUSES},
    "submit": {"from": WORKING_STATUSES},
    "verify": {"from": (TaskStatus.SUBMITTED,)},
    "return": {"from": (TaskStatus.SUBMITTED,)},
}
ACTION_LABELS = {
    "confirm": "确认下达", "drop": "撤销", "edit": "修改", "plan": "填写整改措施",
    "progress": "报告整改进展", "submit": "提交整改完成", "verify": "销号", "return": "退回",
}  # fmt: skip
TASK_FIELDS = (
    "problem", "indicator_code", "indicator_name", "responsible", "supervisor", "deadline",
    "plan", "completion", "status", "mandatory",
)  # fmt: skip


def weak_ratio() -> float:
    return float(getattr(settings, "KAOPING_RECTIFICATION_WEAK_RATIO", WEAK_RATIO))


def deadline_months() -> int:
    return int(getattr(settings, "KAOPING_RECTIFICATION_DEADLINE_MONTHS", DEFAULT_DEADLINE_MONTHS))


def add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def default_deadline(today: dt.date | None = None) -> dt.date:
    return add_months(today or timezone.localdate(), deadline_months())


def _num(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _actor(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def _require(task: RectificationTask, action: str) -> None:
    allowed = TRANSITIONS[action]["from"]
    if task.status not in allowed:
        labels = "、".join(TaskStatus(s).label for s in allowed)
        raise ValidationError(
            f"整改任务当前为“{task.get_status_display()}”，不能{ACTION_LABELS[action]}"
            f"（只有“{labels}”的任务可以）"
        )


def _lock(task: RectificationTask) -> RectificationTask:
    return (
        RectificationTask.objects.select_for_update(of=("self",))
        .select_related("campaign__owner", "organization", "target", "responsible")
        .get(pk=task.pk)
    )


def _text(value: Any, label: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError(f"请填写{label}")
    if len(text) > limit:
        raise ValidationError(f"{label}最多 {limit} 字")
    return text


def _history(
    task: RectificationTask,
    kind: str,
    actor: Any,
    text: str = "",
    *,
    date: dt.date | None = None,
    evidence: Iterable[Any] = (),
) -> RectificationUpdate:
    update = RectificationUpdate.objects.create(
        task=task, kind=kind, text=text, author=_actor(actor), date=date or timezone.localdate()
    )
    ev = list(evidence)
    if ev:
        update.evidence.add(*ev)
    return update


def task_url(task: RectificationTask) -> str:
    return reverse("rectification:detail", args=[task.pk])


# ---- the responsibility chain ----------------------------------------------------------------


@dataclass
class Chain:
    responsible: Any
    responsible_basis: str
    supervisor: Any
    supervisor_basis: str


def _secretary(org: Any) -> Any:
    from kaoping.organizations.models import Post, PostTitle

    if org is None:
        return None
    post = (
        Post.objects.filter(
            organization=org,
            title=PostTitle.SECRETARY,
            ended_on__isnull=True,
            person__is_active=True,
        )
        .select_related("person")
        .first()
    )
    return post.person if post else None


def responsibility_chain(target: Any) -> Chain:
    """Who answers for a target's problems (责任体系): the target person for a cadre target, else
    the unit's current 书记 (第一责任人); the 班子 member in charge supervises. The register holds
    no 分管/联系 relation between 班子 members and units, so the supervisor is the 书记 of the
    organization that runs the campaign (and the page says so). A unit without a 书记 is
    answered for by that supervisor."""
    campaign = target.campaign
    owner_secretary = _secretary(campaign.owner)
    sup_basis = (
        f"{campaign.owner.name}书记（登记信息中无分管班子成员，默认由组织单位书记督办）"
        if owner_secretary
        else ""
    )
    unit = target.unit
    if target.person_id:
        return Chain(target.person, "考核对象本人", owner_secretary, sup_basis)
    secretary = _secretary(unit)
    if secretary is not None:
        label = unit.get_org_type_display() if unit is not None else ""
        return Chain(secretary, f"{label}书记（第一责任人）", owner_secretary, sup_basis)
    if owner_secretary is not None:
        return Chain(
            owner_secretary,
            "本单位无在任书记，由组织单位书记负责",
            owner_secretary,
            sup_basis,
        )
    return Chain(None, "未找到在任书记，请指定整改责任人", None, "")


# ---- proposals from results ------------------------------------------------------------------


@dataclass
class Candidate:
    target: Any
    kind: str
    ref: str
    problem: str
    indicator_code: str = ""
    indicator_name: str = ""
    mandatory: bool = False


@dataclass
class Proposals:
    created: int = 0
    existing: int = 0
    withdrawn: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    tasks: list[RectificationTask] = field(default_factory=list)

    @property
    def message(self) -> str:
        parts = [f"新生成整改建议 {self.created} 项"]
        if self.by_kind:
            kinds = "、".join(f"{SourceKind(k).label} {n} 项" for k, n in self.by_kind.items())
            parts[0] += f"（{kinds}）"
        if self.existing:
            parts.append(f"已有 {self.existing} 项未重复生成")
        if self.withdrawn:
            parts.append(f"{self.withdrawn} 项因结果更正不再需要，已撤销")
        return "，".join(parts)


def _leaves(node: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for child in node.get("children") or []:
        if not isinstance(child, dict) or "points" not in child or child.get("code") in SKIP_CODES:
            continue
        if "rule" in child:
            yield child
        else:
            yield from _leaves(child)


def _vetoed(node: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for child in node.get("children") or []:
        if not isinstance(child, dict) or "points" not in child:
            continue
        triggered = child.get("rule") == "veto" and (child.get("inputs") or {}).get("triggered")
        if child.get("veto") or triggered:
            yield child
        if "rule" not in child:
            yield from _vetoed(child)


def result_rule_targets(campaign: Any) -> tuple[set[str], bool]:
    """From the campaign's declared result-use rules: the grades that must be rectified, and
    whether a veto must be."""
    grades: set[str] = set()
    veto = False
    for rule in campaign.result_rules or []:
        if rule.get("then") != "rectification":
            continue
        if rule.get("when") == "grade" and rule.get("value"):
            grades.add(str(rule["value"]))
        elif rule.get("when") == "veto":
            veto = True
    return grades, veto


def candidates(result_set: Any) -> list[Candidate]:
    """What the results say must be rectified, with a problem text generated from the data."""
    from kaoping.collection.models import ReviewScore
    from kaoping.results.models import Appeal, AppealStatus

    campaign = result_set.campaign
    indicators = {i.code: i for i in campaign.scheme_version.indicators.all()}
    grades = list((result_set.engine_settings or {}).get("grades") or [])
    lowest = grades[-1] if grades else ""
    rule_grades, veto_mandatory = result_rule_targets(campaign)
    ratio = weak_ratio()
    reasons: dict[tuple[int, str], list[str]] = {}
    for tid, code, reason in (
        ReviewScore.objects.filter(sheet__campaign=campaign, sheet__status="submitted")
        .exclude(reason="")
        .values_list("target_id", "indicator__code", "reason")
    ):
        reasons.setdefault((tid, code), []).append(reason.strip())
    out: list[Candidate] = []
    results = result_set.results.select_related(
        "target__organization", "target__person__organization", "target__campaign__owner"
    ).order_by("target__code")
    for r in results:
        t = r.target
        if t.unit is None:
            continue
        for leaf in _leaves(r.explanation or {}):
            code, name = str(leaf.get("code")), str(leaf.get("name") or leaf.get("code"))
            points, score = float(leaf.get("points") or 0), leaf.get("score")
            if score is None or leaf.get("missing") or points <= 0:
                continue
            score = float(score)
            rule = leaf.get("rule")
            if rule in DEDUCTION_RULES:
                if score >= points - 1e-9:
                    continue
                ind = indicators.get(code)
                items = {
                    str(it.get("code")): str(it.get("name") or it.get("code"))
                    for it in ((ind.rule_params or {}).get("items") or [] if ind else [])
                }
                counts = (leaf.get("inputs") or {}).get("items") or {}
                what = "，".join(
                    f"{items.get(str(k), str(k))} {_num(float(n))} 次"
                    for k, n in counts.items()
                    if n
                )
                text = f"“{name}”扣 {_num(points - score)} 分" + (f"：{what}" if what else "")
                said = reasons.get((t.pk, code))
                if said:
                    text += f"（评审意见：{'；'.join(said)}）"
                out.append(Candidate(t, SourceKind.DEDUCTION, code, text, code, name))
            elif rule not in ("bonus", "base_adjust", "veto") and score < ratio * points - 1e-9:
                text = (
                    f"“{name}”得 {_num(score)} 分（满分 {_num(points)} 分，得分率 "
                    f"{round(100 * score / points)}%），低于 {round(100 * ratio)}%"
                )
                out.append(Candidate(t, SourceKind.WEAK, code, text, code, name))
        if r.grade and (r.grade == lowest or r.grade in rule_grades):
            rank = f"，排名第 {r.rank}" if r.rank else ""
            text = f"考核等次为“{r.grade}”（总分 {_num(r.total)} 分{rank}），需对照各项指标全面整改"
            out.append(
                Candidate(t, SourceKind.GRADE, r.grade, text, mandatory=r.grade in rule_grades)
            )
        if "veto" in (r.flags or []):
            nodes = list(_vetoed(r.explanation or {}))
            names = "、".join(f"“{n.get('name') or n.get('code')}”" for n in nodes)
            first = nodes[0] if nodes else {}
            out.append(
                Candidate(
                    t, SourceKind.VETO, "veto",
                    f"触发一票否决{('：' + names) if names else ''}，须限期整改",
                    str(first.get("code") or ""), str(first.get("name") or ""),
                    mandatory=veto_mandatory,
                )
            )  # fmt: skip
    for appeal in Appeal.objects.filter(
        campaign=campaign, status=AppealStatus.UPHELD
    ).select_related("target__organization", "target__person__organization"):
        if appeal.target.unit is None:
            continue
        ind = indicators.get(appeal.indicator_code)
        what = f"“{ind.name}”" if ind else "考核结果"
        detail = (appeal.decision or appeal.reason).strip()
        out.append(
            Candidate(
                appeal.target, SourceKind.APPEAL, str(appeal.pk),
                f"申诉成立，{what}已更正：{detail}。请查明原始数据差错原因，完善纪实和报送",
                appeal.indicator_code, ind.name if ind else "",
            )
        )  # fmt: skip
    return out


@transaction.atomic
def propose_from_results(*, actor: Any, result_set: Any, today: dt.date | None = None) -> Proposals:
    """Proposals (待确认) for every problem the current results show. Running it again creates
    only what is new; proposals whose problem is gone (results corrected) are withdrawn."""
    from kaoping.campaigns.models import Campaign

    campaign = (
        Campaign.objects.select_for_update().select_related("owner").get(pk=result_set.campaign_id)
    )
    if not policy.can_manage_campaign(actor, campaign):
        raise PermissionDenied("只有组织本次考核的管理员可以生成整改建议")
    result_set.refresh_from_db()
    if not result_set.is_current:
        raise ValidationError("这不是当前的考核结果，请使用最新一次计算的结果")
    if result_set.status not in PROPOSE_RESULT_STATUSES:
        raise ValidationError("考核结果审批通过后才能生成整改建议")
    found = candidates(result_set)
    existing = {
        (t.target_id, t.source_kind, t.source_ref): t
        for t in RectificationTask.objects.filter(campaign=campaign, source_kind__in=RESULT_KINDS)
    }
    summary = Proposals()
    deadline = default_deadline(today)
    chains: dict[int, Chain] = {}
    wanted = set()
    by_kind: Counter[str] = Counter()
    for c in found:
        key = (c.target.pk, str(c.kind), c.ref)
        wanted.add(key)
        if key in existing:
            summary.existing += 1
            continue
        chain = chains.get(c.target.pk)
        if chain is None:
            chain = chains[c.target.pk] = responsibility_chain(c.target)
        task = RectificationTask.objects.create(
            campaign=campaign, target=c.target, organization=c.target.unit,
            indicator_code=c.indicator_code, indicator_name=c.indicator_name[:200],
            problem=c.problem, source_kind=c.kind, source_ref=c.ref, mandatory=c.mandatory,
            responsible=chain.responsible, responsible_basis=chain.responsible_basis[:120],
            supervisor=chain.supervisor, supervisor_basis=chain.supervisor_basis[:120],
            deadline=deadline, status=TaskStatus.PROPOSED, created_by=_actor(actor),
        )  # fmt: skip
        _history(task, UpdateKind.CREATE, actor, f"根据考核结果生成整改建议：{c.problem}")
        summary.tasks.append(task)
        by_kind[str(c.kind)] += 1
    summary.created = len(summary.tasks)
    summary.by_kind = dict(by_kind)
    gone = [
        t
        for key, t in existing.items()
        if key not in wanted and t.status == TaskStatus.PROPOSED and t.source_kind != "appeal"
    ]
    for t in gone:
        t.status = TaskStatus.CANCELLED
        t.cancel_reason = "考核结果已更正，该问题不再存在"
        t.save(update_fields=["status", "cancel_reason", "updated_at"])
        _history(t, UpdateKind.CANCEL, actor, t.cancel_reason)
    summary.withdrawn = len(gone)
    log_action(
        Action.RECT_CREATE,
        actor=actor,
        obj=campaign,
        data={
            "result_set": result_set.number,
            "created": summary.created,
            "by_kind": {SourceKind(k).label: n for k, n in by_kind.items()},
            "existing": summary.existing,
            "withdrawn": [t.pk for t in gone],
            "tasks": [t.pk for t in summary.tasks][:500],
        },
    )
    return summary


# ---- the organizer's review ------------------------------------------------------------------


def _clean_deadline(value: Any, *, before: dt.date | None = None) -> dt.date:
    if value in (None, ""):
        raise ValidationError({"deadline": "请填写整改期限"})
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValidationError({"deadline": "整改期限格式应为 YYYY-MM-DD"}) from exc
    if value != before and value < timezone.localdate():
        raise ValidationError({"deadline": "整改期限不能早于今天"})
    return value


def _check_person(person: Any, organization: Any) -> None:
    if person is not None and not person.is_active:
        raise ValidationError({"responsible": f"“{person.name}”已不在册，不能担任整改责任人"})


@transaction.atomic
def create_task(
    *,
    actor: Any,
    target: Any,
    problem: str,
    deadline: Any = None,
    responsible: Any = None,
    indicator_code: str = "",
    plan: str = "",
) -> RectificationTask:
    """A task added by hand (手工添加) by the organizer: open at once."""
    campaign = target.campaign
    if not policy.can_manage_campaign(actor, campaign):
        raise PermissionDenied("只有组织本次考核的管理员可以添加整改任务")
    errors: dict[str, Any] = {}
    try:
        problem = _text(problem, "存在问题")
    except ValidationError as exc:
        errors["problem"] = exc.messages
    try:
        deadline = _clean_deadline(deadline or default_deadline())
    except ValidationError as exc:
        errors.update(exc.message_dict)
    ind = None
    if indicator_code:
        ind = campaign.scheme_version.indicators.filter(code=indicator_code.strip()).first()
        if ind is None:
            errors["indicator_code"] = f"指标体系中没有编码为“{indicator_code}”的指标"
    chain = responsibility_chain(target)
    if responsible is None:
        responsible = chain.responsible
        basis = chain.responsible_basis
    else:
        basis = "组织者指定"
    if responsible is None:
        errors["responsible"] = "请指定整改责任人"
    try:
        _check_person(responsible, target.unit)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    task = RectificationTask.objects.create(
        campaign=campaign, target=target, organization=target.unit,
        indicator_code=ind.code if ind else "", indicator_name=ind.name if ind else "",
        problem=problem, source_kind=SourceKind.MANUAL, source_ref="", responsible=responsible,
        responsible_basis=basis, supervisor=chain.supervisor,
        supervisor_basis=chain.supervisor_basis, deadline=deadline, plan=(plan or "").strip(),
        status=TaskStatus.OPEN, created_by=_actor(actor), confirmed_at=timezone.now(),
    )  # fmt: skip
    _history(task, UpdateKind.CREATE, actor, problem)
    log_action(
        Action.RECT_CREATE,
        actor=actor,
        obj=task,
        changes={k: [None, v] for k, v in snapshot(task, TASK_FIELDS).items()},
        data={"campaign": campaign.name, "target": target.name, "source": "手工添加"},
    )
    _notify_open([task])
    return task


@transaction.atomic
def update_task(
    *,
    actor: Any,
    task: RectificationTask,
    problem: str,
    deadline: Any,
    responsible: Any,
    plan: str | None = None,
) -> RectificationTask:
    """The organizer edits the problem, the responsible person and the deadline."""
    task = _lock(task)
    if not policy.can_manage_rect(actor, task):
        raise PermissionDenied("只有组织本次考核的管理员可以修改整改任务")
    _require(task, "edit")
    errors: dict[str, Any] = {}
    try:
        problem = _text(problem, "存在问题")
    except ValidationError as exc:
        errors["problem"] = exc.messages
    try:
        deadline = _clean_deadline(deadline, before=task.deadline)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if responsible is None and task.status != TaskStatus.PROPOSED:
        errors["responsible"] = "请指定整改责任人"
    try:
        _check_person(responsible, task.organization)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    before = snapshot(task, TASK_FIELDS)
    if responsible is not None and responsible.pk != task.responsible_id:
        task.responsible_basis = "组织者指定"
    task.problem, task.deadline, task.responsible = problem, deadline, responsible
    if plan is not None:
        task.plan = plan.strip()
    task.save()
    changes = {
        k: v for k, v in diff_fields(before, snapshot(task, TASK_FIELDS)).items() if v[0] != v[1]
    }
    if changes:
        _history(task, UpdateKind.EDIT, actor, "、".join(_FIELD_LABELS.get(k, k) for k in changes))
        log_action(Action.RECT_UPDATE, actor=actor, obj=task, changes=changes)
    sync_task_record(task)
    return task


_FIELD_LABELS = {
    "problem": "存在问题", "deadline": "整改期限", "responsible": "整改责任人", "plan": "整改措施",
}  # fmt: skip


def diff_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def _tasks_locked(ids: Iterable[int]) -> list[RectificationTask]:
    return list(
        RectificationTask.objects.select_for_update(of=("self",))
        .select_related("campaign__owner", "organization", "target", "responsible")
        .filter(pk__in=sorted(set(ids)))
        .order_by("pk")
    )


@transaction.atomic
def confirm(*, actor: Any, tasks: Iterable[RectificationTask]) -> list[RectificationTask]:
    """Proposals → 整改中 (all or nothing): each needs a responsible person."""
    locked = _tasks_locked(t.pk for t in tasks)
    if not locked:
        raise ValidationError("请选择要确认的整改建议")
    problems = []
    for t in locked:
        if not policy.can_manage_rect(actor, t):
            raise PermissionDenied("只有组织本次考核的管理员可以确认整改任务")
        if t.status != TaskStatus.PROPOSED:
            problems.append(
                f"“{t.organization.name}：{t.problem[:20]}”已是“{t.get_status_display()}”"
            )
        elif t.responsible_id is None:
            problems.append(f"“{t.organization.name}：{t.problem[:20]}”尚未指定整改责任人")
    if problems:
        raise ValidationError(["不能确认：", *problems])
    now = timezone.now()
    for t in locked:
        t.status = TaskStatus.OPEN
        t.confirmed_at = now
        t.save(update_fields=["status", "confirmed_at", "updated_at"])
        _history(t, UpdateKind.CONFIRM, actor, f"下达整改任务，期限 {t.deadline:%Y-%m-%d}")
        log_action(
            Action.RECT_UPDATE,
            actor=actor,
            obj=t,
            changes={"status": [TaskStatus.PROPOSED.value, TaskStatus.OPEN.value]},
            data={"action": "确认下达", "responsible": t.responsible.name},
        )
    _notify_open(locked)
    return locked


@transaction.atomic
def drop(*, actor: Any, tasks: Iterable[RectificationTask], reason: str = "") -> int:
    """Proposals the organizer does not want (不予整改). Tasks the result-use rules require
    cannot be dropped."""
    locked = _tasks_locked(t.pk for t in tasks)
    if not locked:
        raise ValidationError("请选择要撤销的整改建议")
    reason = _text(reason, "撤销原因", required=False, limit=200) or "组织者审核后不予整改"
    problems = []
    for t in locked:
        if not policy.can_manage_rect(actor, t):
            raise PermissionDenied("只有组织本次考核的管理员可以撤销整改建议")
        if t.status != TaskStatus.PROPOSED:
            problems.append(
                f"“{t.organization.name}：{t.problem[:20]}”已是“{t.get_status_display()}”"
            )
        elif t.mandatory:
            problems.append(
                f"“{t.organization.name}：{t.problem[:20]}”是结果运用规则规定的限期整改，不能撤销"
            )
    if problems:
        raise ValidationError(["不能撤销：", *problems])
    for t in locked:
        t.status = TaskStatus.CANCELLED
        t.cancel_reason = reason
        t.save(update_fields=["status", "cancel_reason", "updated_at"])
        _history(t, UpdateKind.CANCEL, actor, reason)
        log_action(
            Action.RECT_UPDATE,
            actor=actor,
            obj=t,
            changes={"status": [TaskStatus.PROPOSED.value, TaskStatus.CANCELLED.value]},
            data={"action": "撤销整改建议", "reason": reason},
        )
    return len(locked)


# ---- the unit's reports --------------------------------------------------------------------


def _store_evidence(actor: Any, task: RectificationTask, files: Iterable[Any]) -> list[Any]:
    """Check, hash and store uploads as the unit's evidence (stored once by SHA-256)."""
    from kaoping.collection.self_services import store_evidence

    stored = []
    for f in files:
        if f is None:
            continue
        try:
            ev, _ = store_evidence(
                actor=actor, organization=task.organization, uploaded_file=f,
                rectification_task=task.pk,
            )  # fmt: skip
        except ValidationError as exc:
            name = getattr(f, "name", "")
            raise ValidationError({"files": f"“{name}”：{exc.messages[0]}"}) from exc
        stored.append(ev)
    return stored


def _require_worker(actor: Any, task: RectificationTask) -> None:
    if not policy.can_work_on_rect(actor, task):
        raise PermissionDenied("只有整改责任人或本单位填报员可以填报整改情况")


@transaction.atomic
def save_plan(*, actor: Any, task: RectificationTask, plan: str) -> RectificationTask:
    task = _lock(task)
    _require_worker(actor, task)
    _require(task, "plan")
    plan = _text(plan, "整改措施")
    before = task.plan
    task.plan = plan
    task.save(update_fields=["plan", "updated_at"])
    if before != plan:
        _history(task, UpdateKind.PLAN, actor, plan)
        log_action(Action.RECT_UPDATE, actor=actor, obj=task, changes={"plan": [before, plan]})
    return task


@transaction.atomic
def report_progress(
    *,
    actor: Any,
    task: RectificationTask,
    text: str,
    date: dt.date | None = None,
    files: Iterable[Any] = (),
) -> RectificationUpdate:
    """One progress report (date, text, optional evidence)."""
    task = _lock(task)
    _require_worker(actor, task)
    _require(task, "progress")
    errors: dict[str, Any] = {}
    try:
        text = _text(text, "整改进展")
    except ValidationError as exc:
        errors["text"] = exc.messages
    date = date or timezone.localdate()
    if date > timezone.localdate():
        errors["date"] = "进展日期不能晚于今天"
    if errors:
        raise ValidationError(errors)
    evidence = _store_evidence(actor, task, files)
    update = _history(task, UpdateKind.PROGRESS, actor, text, date=date, evidence=evidence)
    RectificationTask.objects.filter(pk=task.pk).update(updated_at=timezone.now())
    log_action(
        Action.RECT_PROGRESS,
        actor=actor,
        obj=task,
        data={"date": date, "text": text, "evidence": [e.name for e in evidence]},
    )
    return update


@transaction.atomic
def submit_completion(
    *,
    actor: Any,
    task: RectificationTask,
    completion: str,
    files: Iterable[Any] = (),
) -> RectificationTask:
    """整改完成: the completion report with its evidence → 完成待验收."""
    task = _lock(task)
    _require_worker(actor, task)
    _require(task, "submit")
    errors: dict[str, Any] = {}
    if not task.plan.strip():
        errors["plan"] = "请先填写整改措施"
    try:
        completion = _text(completion, "整改完成情况")
    except ValidationError as exc:
        errors["completion"] = exc.messages
    files = [f for f in files if f is not None]
    if not files and not task.evidence.exists():
        errors["files"] = "请上传整改完成的佐证材料"
    if errors:
        raise ValidationError(errors)
    evidence = _store_evidence(actor, task, files)
    if evidence:
        task.evidence.add(*evidence)
    before = task.status
    task.completion = completion
    task.status = TaskStatus.SUBMITTED
    task.submitted_at = timezone.now()
    task.submitted_by = _actor(actor)
    task.save()
    _history(task, UpdateKind.SUBMIT, actor, completion, evidence=evidence)
    log_action(
        Action.RECT_SUBMIT,
        actor=actor,
        obj=task,
        changes={"status": [before, task.status]},
        data={"completion": completion, "evidence": [e.name for e in evidence]},
    )
    return task


# ---- verification ----------------------------------------------------------------------------


@transaction.atomic
def verify(*, actor: Any, task: RectificationTask, comment: str = "") -> RectificationTask:
    """销号: the organizer accepts the completion."""
    task = _lock(task)
    if not policy.can_manage_rect(actor, task):
        raise PermissionDenied("只有组织本次考核的管理员可以销号")
    _require(task, "verify")
    comment = _text(comment, "销号意见", required=False) or "整改到位，予以销号"
    task.status = TaskStatus.VERIFIED
    task.verified_at = timezone.now()
    task.verified_by = _actor(actor)
    task.verify_comment = comment
    task.save()
    _history(task, UpdateKind.VERIFY, actor, comment)
    log_action(
        Action.RECT_VERIFY,
        actor=actor,
        obj=task,
        changes={"status": [TaskStatus.SUBMITTED.value, TaskStatus.VERIFIED.value]},
        data={"comment": comment, "late": task.completed_late},
    )
    _notify_worker(task, f"整改任务已销号：{task.problem[:60]}")
    sync_task_record(task)
    return task


@transaction.atomic
def return_task(*, actor: Any, task: RectificationTask, reason: str) -> RectificationTask:
    """The completion is not enough: back to the unit with the reason."""
    task = _lock(task)
    if not policy.can_manage_rect(actor, task):
        raise PermissionDenied("只有组织本次考核的管理员可以退回整改")
    _require(task, "return")
    try:
        reason = _text(reason, "退回原因")
    except ValidationError as exc:
        raise ValidationError({"reason": exc.messages}) from exc
    task.status = TaskStatus.RETURNED
    task.return_reason = reason
    task.save()
    _history(task, UpdateKind.RETURN, actor, reason)
    log_action(
        Action.RECT_RETURN,
        actor=actor,
        obj=task,
        changes={"status": [TaskStatus.SUBMITTED.value, TaskStatus.RETURNED.value]},
        data={"reason": reason},
    )
    _notify_worker(task, f"整改任务被退回：{reason[:80]}")
    return task


# ---- notifications -----------------------------------------------------------------------


def workers_of(task: RectificationTask) -> list[Any]:
    """The accounts that answer for a task: the responsible person's and the unit's 单位填报员."""
    from kaoping.accounts.models import User
    from kaoping.campaigns.services import submitters_of

    users = list(submitters_of([task.organization_id]).get(task.organization_id, []))
    if task.responsible_id:
        users += list(User.objects.filter(person_id=task.responsible_id, is_active=True))
    return users


def _notify_worker(task: RectificationTask, message: str) -> None:
    from kaoping.campaigns.services import notify

    notify(
        users=workers_of(task),
        campaign=task.campaign,
        message=f"{task.organization.name}：{message}",
        url=task_url(task),
    )


def _notify_open(tasks: list[RectificationTask]) -> None:
    for t in tasks:
        _notify_worker(t, f"新的整改任务，请于 {t.deadline:%Y-%m-%d} 前完成：{t.problem[:60]}")


@dataclass
class Reminders:
    overdue: list[RectificationTask]
    due_soon: list[RectificationTask]
    notifications: int


@transaction.atomic
def remind(*, actor: Any = None, today: dt.date | None = None) -> Reminders:
    """Notices for every task past its deadline and every task due within ``REMIND_DAYS``
    (to the responsible person and the unit's 单位填报员), and the 平时考核纪实 of overdue tasks
    brought up to date. Returns the tasks and the number of notices."""
    from kaoping.campaigns.services import notify

    today = today or timezone.localdate()
    active = list(
        RectificationTask.objects.filter(
            status__in=ACTIVE_STATUSES, deadline__lte=today + dt.timedelta(days=REMIND_DAYS)
        )
        .select_related("campaign", "organization", "responsible")
        .order_by("deadline", "pk")
    )
    overdue = [t for t in active if t.deadline < today]
    due_soon = [t for t in active if t.deadline >= today]
    sent = 0
    for t in active:
        if t.status == TaskStatus.SUBMITTED:
            continue  # waiting for the organizer, not for the unit
        if t.deadline < today:
            text = f"整改任务已逾期 {(today - t.deadline).days} 天（期限 {t.deadline:%Y-%m-%d}）"
        else:
            text = f"整改任务将于 {t.deadline:%Y-%m-%d} 到期"
        sent += len(
            notify(
                users=workers_of(t),
                campaign=t.campaign,
                message=f"{t.organization.name}：{text}：{t.problem[:60]}",
                url=task_url(t),
            )
        )
    for t in overdue:
        sync_task_record(t, today=today)
    by_campaign: dict[int, Any] = {t.campaign_id: t.campaign for t in active}
    for campaign in by_campaign.values():
        log_action(
            Action.CAMPAIGN_REMIND,
            actor=actor,
            obj=campaign,
            actor_name="" if actor else "命令行",
            data={
                "what": "整改任务提醒",
                "overdue": [t.pk for t in overdue if t.campaign_id == campaign.pk],
                "due_soon": [t.pk for t in due_soon if t.campaign_id == campaign.pk],
            },
        )
    return Reminders(overdue=overdue, due_soon=due_soon, notifications=sent)


# ---- feedback to the next cycle: 平时考核纪实 ------------------------------------------------


def record_setting() -> tuple[str, str] | None:
    """``KAOPING_RECTIFICATION_RECORD = {"indicator": "3.2", "item": "a"}`` names the
    deduction item that takes a task run past its deadline; unset, the item is found by name."""
    value = getattr(settings, "KAOPING_RECTIFICATION_RECORD", None)
    if not value:
        return None
    return str(value.get("indicator") or ""), str(value.get("item") or "")


def record_item(version: Any) -> tuple[str, str] | None:
    """The (indicator code, item code) of a version that takes overdue rectification as a
    平时考核纪实: the configured one if the version has it, else the first deduction leaf fed by
    daily records with an item named like “反馈问题未按期整改”."""
    from kaoping.indicators.constants import DataSource

    leaves = [
        i
        for i in version.indicators.filter(rule_kind__in=DEDUCTION_RULES).order_by("code")
        if not i.veto and not i.children.exists()  # a veto leaf would veto the whole unit
    ]
    configured = record_setting()
    if configured is not None:
        for ind in leaves:
            items = {str(it.get("code")) for it in (ind.rule_params or {}).get("items") or []}
            if ind.code == configured[0] and configured[1] in items:
                return configured
        return None
    for word in RECORD_ITEM_WORDS:
        for ind in leaves:
            if ind.data_source != DataSource.DAILY_RECORD:
                continue
            for it in (ind.rule_params or {}).get("items") or []:
                if word in str(it.get("name") or ""):
                    return ind.code, str(it.get("code"))
    return None


def _record_wanted(task: RectificationTask, today: dt.date) -> tuple[dt.date, str] | None:
    """The 平时考核纪实 a task calls for: one deduction from the day after its deadline, for a
    task still open then or completed after it."""
    late = task.is_overdue(today) or task.completed_late
    if not late:
        return None
    day = task.deadline + dt.timedelta(days=1)
    if task.status == TaskStatus.VERIFIED:
        done = timezone.localtime(task.verified_at).date() if task.verified_at else today
        what = f"整改任务逾期完成（期限 {task.deadline:%Y-%m-%d}，{done:%Y-%m-%d} 销号）"
    else:
        what = f"整改任务逾期未完成（期限 {task.deadline:%Y-%m-%d}）"
    return day, f"{what}：{task.problem}"[:2000]


def feedback_campaigns(unit: Any, exclude: Any = None) -> list[Any]:
    """Campaigns other than ``exclude`` in which ``unit`` is assessed (as an organization or
    through its people), latest first."""
    from kaoping.campaigns.models import Campaign

    qs = Campaign.objects.filter(
        Q(targets__organization=unit) | Q(targets__person__organization=unit)
    ).distinct()
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return list(qs.select_related("scheme_version").order_by("-period_end", "-pk"))


@transaction.atomic
def sync_task_record(task: RectificationTask, *, today: dt.date | None = None) -> str:
    """Bring the task's 平时考核纪实 up to date; returns ``created``, ``updated``, ``deleted``,
    ``none`` or ``no_indicator`` (no later campaign of the unit has a matching item: the task
    then shows on that campaign's 上期整改 page only)."""
    from kaoping.collection.models import DailyRecord, RecordKind

    today = today or timezone.localdate()
    source = RECORD_SOURCE.format(task.pk)
    existing = DailyRecord.objects.filter(source=source).first()
    wanted = None if task.status == TaskStatus.CANCELLED else _record_wanted(task, today)
    where = None
    if wanted is not None:
        day = wanted[0]
        for c in feedback_campaigns(task.organization, exclude=task.campaign):
            if c.period_start <= day <= c.period_end:
                where = record_item(c.scheme_version)
                if where is not None:
                    break
    if wanted is None or where is None:
        if existing is not None:
            pk, text = existing.pk, str(existing)
            existing.delete()
            log_action(
                Action.DAILY_RECORD_DELETE, actor=None, actor_name="整改任务同步",
                object_type="collection.dailyrecord", object_id=pk, object_repr=text,
                data={"source": source, "reason": "整改任务已不再逾期或无对应指标"},
            )  # fmt: skip
            return "deleted"
        return "none" if wanted is None else "no_indicator"
    (day, description), (code, item) = wanted, where
    if existing is None:
        record = DailyRecord.objects.create(
            organization=task.organization, indicator_code=code, item_code=item,
            kind=RecordKind.DEDUCTION, occurrences=1, occurred_on=day,
            description=description, source=source,
        )  # fmt: skip
        log_action(
            Action.DAILY_RECORD_CREATE, actor=None, actor_name="整改任务同步", obj=record,
            data={"source": source, "indicator": code, "item": item, "task": task.pk},
        )  # fmt: skip
        return "created"
    fields = {"indicator_code": code, "item_code": item, "occurred_on": day,
              "description": description}  # fmt: skip
    changed = {k: [getattr(existing, k), v] for k, v in fields.items() if getattr(existing, k) != v}
    if not changed:
        return "none"
    for k, (_, v) in changed.items():
        setattr(existing, k, v)
    existing.save(update_fields=list(changed))
    log_action(
        Action.RECT_UPDATE, actor=None, actor_name="整改任务同步", obj=task,
        changes={f"纪实.{k}": v for k, v in changed.items()}, data={"record": existing.pk},
    )  # fmt: skip
    return "updated"


@transaction.atomic
def sync_daily_records(campaign: Any, *, today: dt.date | None = None) -> Counter[str]:
    """Bring up to date the 平时考核纪实 of the tasks that concern ``campaign``: its own tasks
    and the earlier campaigns' tasks of its targets' units. Cheap when nothing changed."""
    from kaoping.collection.models import DailyRecord

    today = today or timezone.localdate()
    units = set()
    for t in campaign.targets.select_related("person"):
        unit_id = t.organization_id or (t.person.organization_id if t.person_id else None)
        if unit_id:
            units.add(unit_id)
    have = {
        int(s.split(":", 1)[1])
        for s in DailyRecord.objects.filter(
            source__startswith="rectification:", organization_id__in=units
        ).values_list("source", flat=True)
        if s.split(":", 1)[1].isdigit()
    }
    tasks = (
        RectificationTask.objects.filter(
            Q(campaign=campaign)
            | Q(organization_id__in=units, campaign__period_end__lt=campaign.period_end)
        )
        .filter(
            Q(pk__in=have)
            | Q(status__in=ACTIVE_STATUSES, deadline__lt=today)
            | Q(status=TaskStatus.VERIFIED, submitted_at__date__gt=F("deadline"))
        )
        .select_related("campaign", "organization")
    )
    done: Counter[str] = Counter()
    for task in tasks:
        done[sync_task_record(task, today=today)] += 1
    return done
