"""Organizer pages of appraisal results: the tally per target (shares as stacked bars, 满意率,
score, banded points), the chart, integrity signals, the Excel export; the campaign-wide tally
per rater group. Thin: fetched through ``appraisal_for_organizer`` (404 outside the user's
campaigns, 403 without the right to run the campaign)."""

from __future__ import annotations

import io
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from kaoping import policy
from kaoping.audit.actions import Action
from kaoping.audit.services import log_action
from kaoping.policy import Perm

from . import integrity
from .models import Appraisal
from .tally import MEASURE_LABELS, Tally, campaign_tally, tally

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_PREFIXES = ("=", "+", "-", "@")


def appraisal_for_organizer(request: HttpRequest, pk: Any) -> Appraisal:
    """The appraisal if its campaign is visible (else 404) and the user runs it (else 403)."""
    if not policy.has_perm(request.user, Perm.CAMPAIGN_VIEW):
        raise PermissionDenied
    appraisal, can_manage = policy.get_appraisal_for_user(request.user, pk)
    if not can_manage:
        raise PermissionDenied
    return appraisal


def _campaign_for_organizer(request: HttpRequest, pk: Any) -> Any:
    if not policy.has_perm(request.user, Perm.CAMPAIGN_VIEW):
        raise PermissionDenied
    campaign, can_manage = policy.get_campaign_for_user(request.user, pk)
    if not can_manage:
        raise PermissionDenied
    return campaign


@login_required
def results(request: HttpRequest, pk: int) -> HttpResponse:
    appraisal = appraisal_for_organizer(request, pk)
    t = tally(appraisal)
    return render(
        request,
        "ballots/results.html",
        {
            "appraisal": appraisal,
            "campaign": appraisal.campaign,
            "tally": t,
            "signals": integrity.signals(appraisal),
            "chart": t.chart(),
            "measure_labels": MEASURE_LABELS,
        },
    )


@login_required
def campaign_results(request: HttpRequest, pk: int) -> HttpResponse:
    from kaoping.indicators.constants import RaterGroupCode

    from .debriefing import is_debriefing

    campaign = _campaign_for_organizer(request, pk)
    labels = dict(RaterGroupCode.choices)
    appraisals = [
        (a, labels.get(a.rater_group, a.rater_group))
        for a in Appraisal.objects.filter(campaign=campaign).order_by("id")
    ]
    return render(
        request,
        "ballots/campaign_results.html",
        {
            "campaign": campaign,
            "appraisals": appraisals,
            "ct": campaign_tally(campaign),
            "debriefing": is_debriefing(campaign),
        },
    )


def _cell(ws: Any, value: Any) -> Any:
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        cell.data_type = "s"  # names typed by users are never formulas
    return cell


def _pct(x: float | None) -> float | None:
    return None if x is None else round(x * 100, 2)


def tally_workbook(t: Tally) -> bytes:
    """The tally as .xlsx: one row per target × question; hidden rows say why."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("计票结果")
    a = t.appraisal
    ws.append([_cell(ws, f"{a.campaign.name} · {a.name}")])
    ws.append([_cell(ws, f"有效票 {t.ballots} 张；少于 {t.min_breakdown} 张的对象不显示分项")])
    banded = any(c.banded for c in t.conversions.values())
    header = ["编码", "考核对象", "所属", "题目", "票数"]
    header += [f"{g}（票）" for g in t.labels] + [f"{g}（%）" for g in t.labels]
    header += ["好评率（%）", "满意率（%）", "差评率（%）", "测评得分"]
    header += ["折算得分"] if banded else []
    ws.append(header)
    for r in t.rows:
        for qc in r.questions:
            base = [r.code, r.name, r.group_name, qc.question.get("text") or qc.question["code"]]
            if not r.shown:
                ws.append([_cell(ws, v) for v in [*base, r.ballots, t.note]])
                continue
            c = qc.cell
            row = [*base, c.n, *(c.counts or [0] * len(t.labels)), *c.percents]
            row += [_pct(c.good_rate), _pct(c.satisfaction_rate), _pct(c.bad_rate),
                    None if c.score is None else round(c.score, 2)]  # fmt: skip
            if banded:
                row.append(c.converted)
            ws.append([_cell(ws, v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@login_required
def results_export(request: HttpRequest, pk: int) -> HttpResponse:
    appraisal = appraisal_for_organizer(request, pk)
    t = tally(appraisal)
    data = tally_workbook(t)
    log_action(
        Action.EXPORT, actor=request.user, obj=appraisal,
        data={"what": "民主测评计票结果", "ballots": t.ballots, "targets": len(t.rows)},
    )  # fmt: skip
    name = f"{appraisal.name}_计票结果_{timezone.localtime():%Y%m%d_%H%M}.xlsx"
    return FileResponse(io.BytesIO(data), as_attachment=True, filename=name, content_type=XLSX)
