"""The campaign's task list as Excel (openpyxl); every export is audited (``Action.EXPORT``)."""

from __future__ import annotations

import io
from typing import Any

from django.http import FileResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from kaoping.audit.actions import Action
from kaoping.audit.services import log_action

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = [
    ("序号", 6), ("来源活动", 22), ("整改单位", 18), ("考核对象", 18), ("问题来源", 10),
    ("指标", 22), ("存在问题", 50), ("整改责任人", 12), ("督办领导", 12), ("整改期限", 12),
    ("状态", 10), ("是否逾期", 8), ("逾期天数", 8), ("整改措施", 40), ("完成情况", 40),
    ("销号意见", 30), ("销号时间", 18),
]  # fmt: skip
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
OVERDUE_FILL = PatternFill("solid", fgColor="F8D7DA")


def _safe(value: Any) -> Any:
    """Text typed by users is never a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def task_rows(tasks: Any) -> list[list[Any]]:
    rows = []
    for n, t in enumerate(tasks, start=1):
        indicator = f"{t.indicator_code} {t.indicator_name}".strip()
        rows.append(
            [
                n, t.campaign.name, t.organization.name, t.target.name,
                t.get_source_kind_display(), indicator, t.problem,
                t.responsible.name if t.responsible_id else "",
                t.supervisor.name if t.supervisor_id else "", t.deadline,
                t.get_status_display(), "是" if t.overdue else "否", t.days_overdue or "",
                t.plan, t.completion, t.verify_comment,
                timezone.localtime(t.verified_at).strftime("%Y-%m-%d %H:%M")
                if t.verified_at else "",
            ]
        )  # fmt: skip
    return rows


def task_workbook(campaign: Any, tasks: Any) -> tuple[bytes, int]:
    wb = Workbook()
    ws = wb.active
    ws.title = "整改任务清单"
    ws.append([h for h, _ in HEADERS])
    for i, (_, width) in enumerate(HEADERS, start=1):
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = width
        ws.cell(row=1, column=i).font = Font(bold=True)
    ws.freeze_panes = "A2"
    rows = task_rows(tasks)
    for row in rows:
        ws.append([_safe(v) for v in row])
        r = ws.max_row
        ws.cell(row=r, column=10).number_format = "yyyy-mm-dd"
        for col in (7, 14, 15):
            ws.cell(row=r, column=col).alignment = Alignment(wrap_text=True, vertical="top")
        if row[11] == "是":
            for col in range(1, len(HEADERS) + 1):
                ws.cell(row=r, column=col).fill = OVERDUE_FILL
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), len(rows)


def task_workbook_response(actor: Any, campaign: Any, tasks: Any) -> FileResponse:
    data, count = task_workbook(campaign, tasks)
    log_action(
        Action.EXPORT, actor=actor, obj=campaign,
        data={"what": "整改任务清单", "rows": count},
    )  # fmt: skip
    name = f"{campaign.name}_整改任务清单_{timezone.localtime():%Y%m%d_%H%M}.xlsx"
    return FileResponse(io.BytesIO(data), as_attachment=True, filename=name, content_type=XLSX)
