"""The archive of a finished campaign (``kaoping campaign archive CAMPAIGN FILE.json``).

A campaign in 归档 whose results are locked (已锁定) is written to one JSON file in the engine's
package format (``kaoping.package/1``, docs/engine.md): the indicator tree, settings, targets and
every input exactly as ``compute`` used them (``inputs.gather`` and the engine's
``dump_package``), so ``kaoping evaluate FILE.json`` re-scores it without a database to the same
numbers, and the package's ``archive`` object (``kaoping.archive/1``, which evaluation ignores)
with the stored results (each with its ``target`` code and ``total``), the fingerprint and
engine version they were computed with, the corrections and appeals, and a manifest of every
piece of evidence (SHA-256, size, type, where it was attached).

Before writing, the inputs are gathered again and their fingerprint compared with the locked
results': when an input changed since (e.g. a daily record entered later in the period), the
file would not re-score to the stored numbers, so archiving is refused unless the organizer
allows it (``allow_changed``); the archive then says which inputs changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import FieldDoesNotExist, FieldError, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kaoping.audit.actions import Action
from kaoping.audit.services import log_action
from kaoping.campaigns.models import Campaign, Stage
from kaoping.jobs.registry import Progress

from .inputs import Gathered, gather
from .models import Appeal, InputCorrection, ResultSet, ResultStatus
from .services import INPUT_LABELS, current_set

#: results read from the database per round trip
CHUNK = 200


@dataclass
class Archived:
    path: Path
    sha256: str
    size: int
    result_set: ResultSet
    targets: int
    evidence: int
    inputs_changed: list[str]


def check_archivable(campaign: Campaign) -> ResultSet:
    """The locked result set of an archived campaign (ValidationError otherwise)."""
    if campaign.status != Stage.ARCHIVED:
        raise ValidationError(
            f"考核活动“{campaign.name}”当前阶段为“{campaign.get_status_display()}”，"
            "只有进入“归档”阶段的考核活动才能导出归档包"
        )
    rs = current_set(campaign)
    if rs is None:
        raise ValidationError(f"考核活动“{campaign.name}”没有考核结果，不能导出归档包")
    if rs.status != ResultStatus.FINAL:
        raise ValidationError(
            f"考核活动“{campaign.name}”的考核结果状态为“{rs.get_status_display()}”，"
            "结果锁定后才能导出归档包"
        )
    return rs


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def _user(user: Any) -> str | None:
    if user is None:
        return None
    return str(getattr(user, "full_name", "") or user.get_username())


def _changed_inputs(rs: ResultSet, g: Gathered) -> list[str]:
    """Labels of what differs between the locked results' inputs and the gathered ones."""
    from kaoping.engine.evaluate import ENGINE_VERSION

    if g.fingerprint == rs.fingerprint:
        return []
    out = [
        label
        for kind, label in INPUT_LABELS.items()
        if (rs.input_summary.get(kind) or {}).get("hash") != (g.summary.get(kind) or {}).get("hash")
    ]
    if rs.engine_version != ENGINE_VERSION:
        out.append(f"计分引擎版本（{rs.engine_version} → {ENGINE_VERSION}）")
    if rs.engine_settings != g.settings.to_dict():
        out.append("计分设置")
    return out or ["指标体系或考核对象"]


def _results(rs: ResultSet, progress: Progress) -> list[dict[str, Any]]:
    """The stored results, target by target in code order (the engine's result shape)."""
    rows = (
        rs.results.select_related("target")
        .order_by("target__code")
        .only(
            "target__code", "target__name", "target__group_code", "target__group_name",
            "total", "grade", "rank", "group_rank", "dimensions", "indicators", "flags",
            "explanation", "result_set_id",
        )
    )  # fmt: skip
    out = []
    for r in rows.iterator(chunk_size=CHUNK):
        t = r.target
        out.append(
            {
                "target": t.code,
                "name": t.name,
                "group": t.group_name or t.group_code or "",
                "total": r.total,
                "grade": r.grade or None,
                "rank": r.rank,
                "group_rank": r.group_rank,
                "dimensions": r.dimensions,
                "indicators": r.indicators,
                "flags": r.flags,
                "explanation": r.explanation,
            }
        )
        progress.advance()
    return out


def _m2m_uses(model: Any, path: str, campaign: Campaign, fields: dict[str, str]) -> list[Any]:
    """(evidence id, {name: value}) rows of ``model.evidence`` for the campaign's rows."""
    through = model._meta.get_field("evidence").remote_field.through
    prefix = model._meta.model_name
    # aliased (a through model has fields named like the model, e.g. ``appeal``)
    aliases = {f"use_{k}": F(f"{prefix}__{v}") for k, v in fields.items()}
    rows = through.objects.filter(**{f"{prefix}__{path}": campaign}).values(
        "evidence_id", **aliases
    )
    return [(r["evidence_id"], {k: r[f"use_{k}"] for k in fields}) for r in rows]


def _evidence(campaign: Campaign, g: Gathered) -> list[dict[str, Any]]:
    """Every piece of evidence attached to the campaign: to self-assessment items, appeals, the
    daily records that fed its results, 述职 reports and rectification tasks."""
    from django.apps import apps

    from kaoping.ballots.models import DebriefingReport
    from kaoping.campaigns.models import Target
    from kaoping.collection.models import DailyRecord, Evidence, SelfAssessmentItem
    from kaoping.indicators.constants import DataSource

    uses: list[tuple[int, dict[str, Any]]] = []
    for ev_id, row in _m2m_uses(
        SelfAssessmentItem, "assessment__target__campaign", campaign,
        {"target": "assessment__target__code", "indicator": "indicator__code"},
    ):  # fmt: skip
        uses.append((ev_id, {"kind": "self_assessment", **row}))
    for ev_id, row in _m2m_uses(
        Appeal, "campaign", campaign, {"target": "target__code", "appeal": "id"}
    ):
        uses.append((ev_id, {"kind": "appeal", **row}))
    # the daily records the results counted: the targets' units, the period, the indicators fed
    # by 平时考核纪实 and the veto indicators (a record against one vetoes)
    daily_codes = sorted(
        set(
            campaign.scheme_version.indicators.filter(data_source=DataSource.DAILY_RECORD)
            .exclude(rule_kind="")
            .values_list("code", flat=True)
        )
        | {n.code for n in g.tree.nodes if n.veto is not None}
    )
    if daily_codes:
        units = {
            u
            for pair in Target.objects.filter(campaign=campaign).values_list(
                "organization_id", "person__organization_id"
            )
            for u in pair
            if u is not None
        }
        for ev_id, org, code, day, rec in DailyRecord.objects.filter(
            organization_id__in=units,
            occurred_on__gte=campaign.period_start,
            occurred_on__lte=campaign.period_end,
            indicator_code__in=daily_codes,
            evidence__isnull=False,
        ).values_list("evidence_id", "organization__code", "indicator_code", "occurred_on", "id"):
            uses.append((ev_id, {"kind": "daily_record", "organization": org, "indicator": code,
                                 "date": day.isoformat(), "record": rec}))  # fmt: skip
    for ev_id, code in DebriefingReport.objects.filter(
        target__campaign=campaign, report__isnull=False
    ).values_list("report_id", "target__code"):
        uses.append((ev_id, {"kind": "debriefing", "target": code}))
    # rectification (整改), when that app's models are installed
    for model_name, path, fields in (
        ("RectificationTask", "campaign", {"target": "target__code", "task": "id"}),
        ("RectificationUpdate", "task__campaign", {"target": "task__target__code",
                                                   "task": "task_id"}),
    ):  # fmt: skip
        try:
            model = apps.get_model("rectification", model_name)
            found = _m2m_uses(model, path, campaign, fields)
        except (LookupError, FieldDoesNotExist, FieldError):
            continue
        uses += [(ev_id, {"kind": "rectification", **row}) for ev_id, row in found]

    def key(use: dict[str, Any]) -> str:
        return json.dumps(use, sort_keys=True, ensure_ascii=False)

    by_evidence: dict[int, list[dict[str, Any]]] = {}
    for ev_id, use in uses:
        by_evidence.setdefault(ev_id, []).append(use)
    out = []
    for e in (
        Evidence.objects.filter(pk__in=by_evidence)
        .select_related("file", "organization")
        .order_by("file__sha256", "id")
    ):
        rows = by_evidence[e.pk]
        out.append(
            {
                "id": e.pk,
                "sha256": e.file.sha256,
                "size": e.file.size,
                "content_type": e.file.content_type,
                "name": e.name,
                "organization": e.organization.code,
                "uses": sorted({key(u): u for u in rows}.values(), key=key),
            }
        )
    return out


def _campaign_info(campaign: Campaign) -> dict[str, Any]:
    version = campaign.scheme_version
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "campaign_type": campaign.campaign_type,
        "period_start": campaign.period_start.isoformat(),
        "period_end": campaign.period_end.isoformat(),
        "purpose": campaign.purpose,
        "status": campaign.status,
        "owner": {"code": campaign.owner.code, "name": campaign.owner.name},
        "target_kind": campaign.target_kind,
        "result_rules": campaign.result_rules,
        "scheme": {
            "name": version.scheme.name,
            "version": version.number,
            "fingerprint": version.fingerprint,
        },
    }


def _result_set_info(rs: ResultSet) -> dict[str, Any]:
    return {
        "number": rs.number,
        "status": rs.status,
        "fingerprint": rs.fingerprint,
        "engine_version": rs.engine_version,
        "engine_settings": rs.engine_settings,
        "input_summary": rs.input_summary,
        "summary": {k: v for k, v in rs.summary.items() if k not in ("indicators",)},
        "reason": rs.reason,
        "computed_at": _iso(rs.computed_at),
        "computed_by": _user(rs.computed_by),
        "submitted_at": _iso(rs.submitted_at),
        "submitted_by": _user(rs.submitted_by),
        "approved_at": _iso(rs.approved_at),
        "approved_by": _user(rs.approved_by),
        "review_comment": rs.review_comment,
        "published_at": _iso(rs.published_at),
        "publication_ends": _iso(rs.publication_ends),
        "locked_at": _iso(rs.locked_at),
    }


def _corrections(campaign: Campaign) -> list[dict[str, Any]]:
    return [
        {
            "id": c.pk,
            "target": c.target.code,
            "indicator": c.indicator_code,
            "score": None if c.score is None else float(c.score),
            "grade": c.grade or None,
            "occurrences": c.occurrences or None,
            "value": None if c.value is None else float(c.value),
            "veto": c.veto,
            "reason": c.reason,
            "appeal": c.appeal_id,
            "created_at": _iso(c.created_at),
            "created_by": _user(c.created_by),
        }
        for c in InputCorrection.objects.filter(campaign=campaign)
        .select_related("target", "created_by")
        .order_by("id")
    ]


def _appeals(campaign: Campaign) -> list[dict[str, Any]]:
    return [
        {
            "id": a.pk,
            "target": a.target.code,
            "indicator": a.indicator_code or None,
            "reason": a.reason,
            "status": a.status,
            "filed_at": _iso(a.filed_at),
            "decision": a.decision,
            "decided_at": _iso(a.decided_at),
            "decided_by": _user(a.decided_by),
        }
        for a in Appeal.objects.filter(campaign=campaign)
        .select_related("target", "decided_by")
        .order_by("id")
    ]


def build_archive(
    *, campaign: Campaign, allow_changed: bool = False, progress: Progress | None = None
) -> tuple[dict[str, Any], ResultSet, list[str]]:
    """The archive package of an archived campaign, its result set and what input changed
    since the results were computed (empty when the inputs are exactly those)."""
    from kaoping.engine.package import ARCHIVE_FORMAT, dump_package

    campaign = Campaign.objects.select_related("owner", "scheme_version__scheme").get(
        pk=campaign.pk
    )
    rs = check_archivable(campaign)
    progress = progress or Progress()
    n = rs.results.count()
    progress.start("汇集考核数据", n + 3)
    gathered = gather(campaign)
    changed = _changed_inputs(rs, gathered)
    if changed and not allow_changed:
        raise ValidationError(
            "结果锁定后以下数据有变化，按现有数据不能重现锁定的结果："
            + "、".join(changed)
            + "。请核实；如确需按现有数据归档，请加 --allow-changed（归档包会记录这些变化）"
        )
    progress.advance()
    progress.stage = "导出考核结果"
    results = _results(rs, progress)
    progress.stage = "佐证材料清单"
    evidence = _evidence(campaign, gathered)
    progress.advance()
    from kaoping.engine.evaluate import ENGINE_VERSION

    archive = {
        "format": ARCHIVE_FORMAT,
        "archived_at": timezone.now().isoformat(),
        "campaign": _campaign_info(campaign),
        "fingerprint": rs.fingerprint,
        "engine_version": rs.engine_version,
        "inputs_fingerprint": gathered.fingerprint,
        "inputs_changed": changed,
        "archiving_engine_version": ENGINE_VERSION,
        "result_set": _result_set_info(rs),
        "results": results,
        "corrections": _corrections(campaign),
        "appeals": _appeals(campaign),
        "evidence": evidence,
        "notes": gathered.notes,
    }
    package = dump_package(
        gathered.tree,
        gathered.targets,
        gathered.inputs,
        gathered.settings,
        campaign=gathered.package.get("campaign"),
        archive=archive,
    )
    return package, rs, changed


def write_archive(
    *,
    actor: Any,
    campaign: Campaign,
    path: str | os.PathLike[str],
    allow_changed: bool = False,
    progress: Progress | None = None,
) -> Archived:
    """Write the archive of ``campaign`` to ``path`` (whole or not at all: a temporary file in
    the same folder is renamed into place) and audit it."""
    progress = progress or Progress()
    package, rs, changed = build_archive(
        campaign=campaign, allow_changed=allow_changed, progress=progress
    )
    progress.stage = "写入文件"
    data = json.dumps(package, ensure_ascii=False, allow_nan=False).encode() + b"\n"
    target = Path(path)
    folder = target.resolve().parent
    if not folder.is_dir():
        raise ValidationError(f"无法写入 {target}：文件夹不存在")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ValidationError(f"无法写入 {target}：{exc.strerror or exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    archive = package["archive"]
    with transaction.atomic():
        log_action(
            Action.CAMPAIGN_ARCHIVE,
            actor=actor,
            obj=campaign,
            data={
                "file": target.name,
                "sha256": digest,
                "bytes": len(data),
                "result_set": rs.number,
                "fingerprint": rs.fingerprint,
                "engine_version": rs.engine_version,
                "targets": len(archive["results"]),
                "evidence": len(archive["evidence"]),
                "inputs_changed": changed,
            },
        )
    progress.advance()
    return Archived(
        path=target,
        sha256=digest,
        size=len(data),
        result_set=rs,
        targets=len(archive["results"]),
        evidence=len(archive["evidence"]),
        inputs_changed=changed,
    )
