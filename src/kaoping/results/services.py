"""Writes for results: compute and store, submit, approve or return, publish, lock.

``compute`` is the one way results come into being. It gathers every input (``inputs.gather``),
calls the engine, and stores a new ``ResultSet`` with one ``TargetResult`` per target — unless
the fingerprint (inputs, engine version, settings) equals the current set's, in which case the
current set stands. A new set records what changed against the previous one and why.
"""

from __future__ import annotations

import datetime as dt
import time
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from kaoping import policy
from kaoping.audit.actions import Action
from kaoping.audit.services import log_action
from kaoping.campaigns.models import Campaign, Stage
from kaoping.jobs.registry import Progress

from .inputs import Gathered, gather
from .models import ResultSet, ResultStatus, TargetResult

#: stages in which results may be computed
COMPUTE_STAGES = (Stage.CONSOLIDATION, Stage.PUBLICATION)
DEFAULT_PUBLICATION_DAYS = 5
#: changed targets listed in a result set's ``changes`` (the counts are always complete)
MAX_LISTED_CHANGES = 500
EPS = 1e-9


def _require_manager(actor: Any, campaign: Campaign) -> None:
    if not policy.can_manage_campaign(actor, campaign):
        raise PermissionDenied("无权管理该考核活动的结果")


def current_set(campaign: Campaign) -> ResultSet | None:
    return ResultSet.objects.filter(campaign=campaign, is_current=True).first()


def check_computable(campaign: Campaign) -> None:
    if campaign.status not in COMPUTE_STAGES:
        raise ValidationError("只有在“汇总”或“公示”阶段才能计算考核结果")
    cur = current_set(campaign)
    if cur is not None and cur.status == ResultStatus.FINAL:
        raise ValidationError("考核结果已锁定，不能重新计算")
    if not campaign.targets.exists():
        raise ValidationError("该考核活动没有考核对象")


def compute(
    *,
    actor: Any,
    campaign: Campaign,
    reason: str = "",
    progress: Progress | None = None,
    check_permission: bool = True,
) -> tuple[ResultSet, bool]:
    """Compute and store the campaign's results. Returns (result set, created?)."""
    from kaoping.engine.errors import EngineError
    from kaoping.engine.evaluate import ENGINE_VERSION, evaluate

    if check_permission:
        _require_manager(actor, campaign)
    check_computable(campaign)
    progress = progress or Progress()
    started = time.perf_counter()
    progress.start("汇集考核数据", 3)
    gathered = gather(campaign)
    progress.advance()
    cur = current_set(campaign)
    if cur is not None and cur.fingerprint == gathered.fingerprint:
        progress.advance(2)
        return cur, False
    progress.stage = "计算"
    progress.advance(0)
    try:
        ev = evaluate(gathered.tree, gathered.targets, gathered.inputs, gathered.settings)
    except EngineError as exc:
        raise ValidationError(f"计算失败：{exc}") from exc
    # explanations are built target by target while storing (see _store_results)
    result = ev.result_dict(explanations=False)
    progress.advance()
    progress.stage = "保存结果"
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        check_computable(campaign)
        cur = current_set(campaign)
        if cur is not None and cur.fingerprint == gathered.fingerprint:
            return cur, False
        number = (
            ResultSet.objects.filter(campaign=campaign).aggregate(n=Max("number"))["n"] or 0
        ) + 1
        status = ResultStatus.DRAFT
        published: dict[str, Any] = {}
        if cur is not None:
            if cur.status == ResultStatus.PUBLISHED:
                # a correction during publication (an upheld appeal): the new numbers are
                # published at once, for the rest of the same period
                status = ResultStatus.PUBLISHED
                published = {
                    "published_at": cur.published_at,
                    "publication_ends": cur.publication_ends,
                    "approved_by": cur.approved_by,
                    "approved_at": cur.approved_at,
                    "submitted_by": cur.submitted_by,
                    "submitted_at": cur.submitted_at,
                }
            ResultSet.objects.filter(pk=cur.pk).update(
                is_current=False, status=ResultStatus.SUPERSEDED
            )
        rs = ResultSet.objects.create(
            campaign=campaign,
            number=number,
            status=status,
            is_current=True,
            fingerprint=gathered.fingerprint,
            input_summary=gathered.summary,
            engine_version=ENGINE_VERSION,
            engine_settings=gathered.settings.to_dict(),
            summary=_summary(gathered, result),
            reason=reason[:200],
            computed_by=actor,
            **published,
        )
        stored = _store_results(rs, gathered.target_ids, result["results"], ev)
        rs.changes = _changes(cur, rs, gathered) if cur is not None else {}
        rs.seconds = round(time.perf_counter() - started, 3)
        rs.save(update_fields=["changes", "seconds"])
        log_action(
            Action.RESULT_COMPUTE,
            actor=actor,
            obj=rs,
            object_repr=str(rs),
            data={
                "fingerprint": rs.fingerprint,
                "engine_version": ENGINE_VERSION,
                "reason": reason,
                "targets": stored,
                "changed_targets": rs.changes.get("changed", 0),
            },
        )
    progress.advance()
    return rs, True


#: TargetResult rows per INSERT where COPY is not available (SQLite)
STORE_BATCH = 200
TARGET_RESULT_COLUMNS = (
    "result_set_id", "target_id", "total", "grade", "rank", "group_rank", "dimensions",
    "indicators", "flags", "explanation",
)  # fmt: skip


def _store_results(
    rs: ResultSet, target_ids: list[int], results: list[dict[str, Any]], ev: Any
) -> int:
    """Store one TargetResult per target, with the explanation the engine's ``result_dict``
    gives (built here target by target, so that only one is held in memory at a time).

    On PostgreSQL the rows stream through ``COPY`` (Django's bulk INSERT passes JSON columns as
    text arrays, which psycopg quotes character by character: minutes for 2,000 explanations);
    elsewhere ``bulk_create`` in batches."""
    import json
    from itertools import islice

    from django.db import connection

    from kaoping.engine.explain import Explainer

    explainer = Explainer(ev, ratings=True)

    def values() -> Any:
        for t, (tid, r) in enumerate(zip(target_ids, results, strict=True)):
            yield (
                rs.pk, tid, r["total"], r["grade"] or "", r["rank"], r["group_rank"],
                r["dimensions"], r["indicators"], r["flags"], explainer.build(t),
            )  # fmt: skip

    if connection.vendor == "postgresql":
        from psycopg.copy import QueuedLibpqWriter

        table = TargetResult._meta.db_table
        columns = ", ".join(TARGET_RESULT_COLUMNS)
        n = 0
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            # the queued writer sends from a thread: the server parses while we build the next
            statement = f"COPY {table} ({columns}) FROM STDIN"
            with raw.copy(statement, writer=QueuedLibpqWriter(raw)) as copy:
                for row in values():
                    copy.write_row((*row[:6], *(json.dumps(v) for v in row[6:])))
                    n += 1
        return n
    n = 0
    rows = values()
    while batch := list(islice(rows, STORE_BATCH)):
        TargetResult.objects.bulk_create(
            [TargetResult(**dict(zip(TARGET_RESULT_COLUMNS, row, strict=True))) for row in batch]
        )
        n += len(batch)
    return n


def _summary(g: Gathered, result: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    rows = result["results"]
    totals = np.array([r["total"] for r in rows], dtype=np.float64)
    tree = g.tree
    dims = [n for n in tree.nodes if n.parent is None]
    dim_means = {}
    for d in dims:
        vals = np.array([r["dimensions"].get(d.code, np.nan) for r in rows], dtype=np.float64)
        dim_means[d.code] = float(np.nanmean(vals)) if np.isfinite(vals).any() else None
    grades = {label: 0 for label in g.settings.grades}
    for r in rows:
        if r["grade"]:
            grades[r["grade"]] = grades.get(r["grade"], 0) + 1
    return {
        "targets": len(rows),
        "mean_total": float(totals.mean()) if len(totals) else None,
        "grades": grades,
        "ungraded": sum(1 for r in rows if not r["grade"]),
        "dimension_means": dim_means,
        "dimensions": {d.code: d.name for d in dims},
        "indicators": {n.code: n.name for n in tree.nodes},
        "flags": {
            f: sum(1 for r in rows if f in r["flags"])
            for f in ("veto", "incomplete", "too_few_ballots")
        },
        "scale": g.settings.scale,
        "notes": g.notes,
    }


INPUT_LABELS = {
    "scores": "评审评分与自评",
    "values": "量化数据",
    "occurrences": "扣分、加分事项（评审与平时考核纪实）",
    "ballots": "民主测评选票",
    "vetoes": "一票否决情形",
}


def _changes(prev: ResultSet, new: ResultSet, g: Gathered) -> dict[str, Any]:
    """What changed against ``prev`` and why: the inputs whose data differ, the settings, the
    engine version, the organizer's corrections since, and per target the total, grade, rank
    and the indicators whose scores moved."""
    from .models import InputCorrection

    why: list[str] = []
    for kind, label in INPUT_LABELS.items():
        a, b = prev.input_summary.get(kind, {}), new.input_summary.get(kind, {})
        if a.get("hash") != b.get("hash"):
            why.append(f"{label}有变化（{a.get('rows', 0)} 条 → {b.get('rows', 0)} 条）")
    if prev.engine_settings != new.engine_settings:
        keys = sorted(
            k for k in {*prev.engine_settings, *new.engine_settings}
            if prev.engine_settings.get(k) != new.engine_settings.get(k)
        )  # fmt: skip
        why.append("计分设置有变化：" + "、".join(keys))
    if prev.engine_version != new.engine_version:
        why.append(f"计分引擎版本 {prev.engine_version} → {new.engine_version}")
    corrections = [
        {
            "id": c.pk,
            "target": c.target.code,
            "indicator": c.indicator_code,
            "reason": c.reason,
            "appeal": c.appeal_id,
        }
        for c in InputCorrection.objects.filter(
            campaign=new.campaign, created_at__gt=prev.computed_at
        ).select_related("target")
    ]
    if corrections:
        why.append(f"管理员更正了 {len(corrections)} 项数据")
    if not why:
        why.append("指标体系或考核对象有变化")
    old = {
        r.target_id: r
        for r in prev.results.only(
            "target_id", "total", "grade", "rank", "indicators", "result_set_id"
        )
    }
    listed: list[dict[str, Any]] = []
    changed = 0
    names = new.summary.get("indicators", {})
    for r in new.results.select_related("target").only(
        "target__code", "target__name", "target_id", "total", "grade", "rank", "indicators",
        "result_set_id",
    ):  # fmt: skip
        o = old.get(r.target_id)
        if o is None:
            changed += 1
            if len(listed) < MAX_LISTED_CHANGES:
                listed.append({"target": r.target.code, "name": r.target.name, "new": True,
                               "total": [None, r.total], "grade": [None, r.grade],
                               "rank": [None, r.rank], "indicators": []})  # fmt: skip
            continue
        inds = [
            {"code": code, "name": names.get(code, code), "before": o.indicators.get(code),
             "after": v}
            for code, v in r.indicators.items()
            if o.indicators.get(code) is None or abs(float(v) - float(o.indicators[code])) > EPS
        ]  # fmt: skip
        if abs(r.total - o.total) > EPS or r.grade != o.grade or r.rank != o.rank or inds:
            changed += 1
            if len(listed) < MAX_LISTED_CHANGES:
                listed.append(
                    {
                        "target": r.target.code,
                        "name": r.target.name,
                        "total": [o.total, r.total],
                        "grade": [o.grade, r.grade],
                        "rank": [o.rank, r.rank],
                        "indicators": inds,
                    }
                )
    return {
        "previous": prev.number,
        "why": why,
        "corrections": corrections,
        "changed": changed,
        "targets": listed,
    }


# ---- approval and publication ----------------------------------------------------------------


def _current_or_error(campaign: Campaign) -> ResultSet:
    rs = current_set(campaign)
    if rs is None:
        raise ValidationError("尚未计算考核结果")
    return rs


def submit(*, actor: Any, campaign: Campaign) -> ResultSet:
    """The organizer submits the current results for approval."""
    _require_manager(actor, campaign)
    with transaction.atomic():
        rs = _current_or_error(campaign)
        rs = ResultSet.objects.select_for_update().get(pk=rs.pk)
        if rs.status != ResultStatus.DRAFT:
            raise ValidationError(f"当前结果状态为“{rs.get_status_display()}”，不能提交审批")
        rs.status = ResultStatus.SUBMITTED
        rs.submitted_by, rs.submitted_at = actor, timezone.now()
        rs.save(update_fields=["status", "submitted_by", "submitted_at"])
        log_action(Action.RESULT_SUBMIT, actor=actor, obj=rs, object_repr=str(rs))
    return rs


def can_approve(actor: Any, campaign: Campaign) -> bool:
    return policy.can_approve_results(actor, campaign)


def approve(*, actor: Any, campaign: Campaign, comment: str = "") -> ResultSet:
    """A second account with approval rights approves the submitted results."""
    if not can_approve(actor, campaign):
        raise PermissionDenied("无权审批该考核活动的结果")
    with transaction.atomic():
        rs = ResultSet.objects.select_for_update().get(pk=_current_or_error(campaign).pk)
        if rs.status != ResultStatus.SUBMITTED:
            raise ValidationError("只有待审批的结果才能审批")
        if rs.submitted_by_id == actor.pk:
            raise ValidationError("提交人不能审批自己提交的结果，请由另一位有审批权限的同志审批")
        rs.status = ResultStatus.APPROVED
        rs.approved_by, rs.approved_at = actor, timezone.now()
        rs.review_comment = comment.strip()
        rs.save(update_fields=["status", "approved_by", "approved_at", "review_comment"])
        log_action(
            Action.RESULT_APPROVE, actor=actor, obj=rs, object_repr=str(rs),
            data={"comment": rs.review_comment},
        )  # fmt: skip
    return rs


def return_results(*, actor: Any, campaign: Campaign, comment: str) -> ResultSet:
    """The approver sends the results back (a reason is required)."""
    if not can_approve(actor, campaign):
        raise PermissionDenied("无权审批该考核活动的结果")
    if not comment.strip():
        raise ValidationError({"comment": "请填写退回理由"})
    with transaction.atomic():
        rs = ResultSet.objects.select_for_update().get(pk=_current_or_error(campaign).pk)
        if rs.status != ResultStatus.SUBMITTED:
            raise ValidationError("只有待审批的结果才能退回")
        rs.status = ResultStatus.DRAFT
        rs.review_comment = comment.strip()
        rs.save(update_fields=["status", "review_comment"])
        log_action(
            Action.RESULT_RETURN, actor=actor, obj=rs, object_repr=str(rs),
            data={"comment": rs.review_comment},
        )  # fmt: skip
    return rs


def publication_days(campaign: Campaign) -> int:
    return int((campaign.engine_settings or {}).get("publication_days") or 0) or (
        DEFAULT_PUBLICATION_DAYS
    )


def start_publication(*, actor: Any, campaign: Campaign) -> ResultSet:
    """Called when the campaign enters 公示: the approved results are published until the 公示
    stage's deadline (end of that day), else for the configured number of days."""
    from kaoping.campaigns.models import CampaignStage

    rs = ResultSet.objects.select_for_update().get(pk=_current_or_error(campaign).pk)
    if rs.status != ResultStatus.APPROVED:
        raise ValidationError("考核结果尚未审批通过，不能公示")
    now = timezone.now()
    stage = CampaignStage.objects.filter(campaign=campaign, stage=Stage.PUBLICATION).first()
    ends = None
    if stage is not None and stage.deadline is not None:
        ends = timezone.make_aware(
            dt.datetime.combine(stage.deadline + timedelta(days=1), dt.time.min)
        )
    if ends is None or ends <= now:
        ends = now + timedelta(days=publication_days(campaign))
    rs.status = ResultStatus.PUBLISHED
    rs.published_at, rs.publication_ends = now, ends
    rs.save(update_fields=["status", "published_at", "publication_ends"])
    log_action(
        Action.RESULT_PUBLISH, actor=actor, obj=rs, object_repr=str(rs),
        data={"ends": ends.isoformat()},
    )  # fmt: skip
    return rs


def lock(*, actor: Any, campaign: Campaign) -> ResultSet | None:
    """Results become final (called when the campaign leaves 公示, or when the period ended)."""
    rs = current_set(campaign)
    if rs is None or rs.status == ResultStatus.FINAL:
        return rs
    rs = ResultSet.objects.select_for_update().get(pk=rs.pk)
    rs.status = ResultStatus.FINAL
    rs.locked_at = timezone.now()
    rs.save(update_fields=["status", "locked_at"])
    log_action(Action.RESULT_LOCK, actor=actor, obj=rs, object_repr=str(rs))
    return rs


def publication_open(rs: ResultSet | None) -> bool:
    """Whether appeals may still be filed: published and the period not over."""
    return (
        rs is not None
        and rs.status == ResultStatus.PUBLISHED
        and rs.publication_ends is not None
        and timezone.now() < rs.publication_ends
    )


def back_to_draft(*, actor: Any, campaign: Campaign, stage: Stage) -> None:
    """Reopening an earlier stage: locked results refuse it; results not yet final go back to
    待提交 (they must be recomputed, submitted and approved again)."""
    rs = current_set(campaign)
    if rs is None:
        return
    if rs.status == ResultStatus.FINAL:
        raise ValidationError("考核结果已锁定，不能重新开放之前的阶段")
    if rs.status != ResultStatus.DRAFT and workflow_index(stage) < workflow_index(
        Stage.PUBLICATION
    ):
        ResultSet.objects.filter(pk=rs.pk).update(
            status=ResultStatus.DRAFT, published_at=None, publication_ends=None
        )


def workflow_index(stage: Stage | str) -> int:
    from kaoping.campaigns.workflow import index

    return index(stage)
