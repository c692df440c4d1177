"""Exporting the audit log to Excel. The export itself is audited (``Action.EXPORT``)."""

from __future__ import annotations

import tempfile
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from kaoping import policy
from kaoping.policy import Perm

from .actions import Action
from .selectors import EXPORT_HEADERS, AuditFilter, entries, export_rows
from .services import log_action

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
COLUMN_WIDTHS = [20, 16, 10, 16, 14, 12, 10, 30, 50, 40]


def _cell(ws: Any, value: Any) -> Any:
    cell = WriteOnlyCell(ws, value=value)
    # Text typed by users (a username at a failed login, an object name) is never a formula.
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        cell.data_type = "s"
    return cell


def export_filename() -> str:
    return f"审计日志_{timezone.localtime():%Y%m%d_%H%M%S}.xlsx"


def export_log(*, actor: Any, filters: AuditFilter) -> tuple[IO[bytes], int]:
    """Write the entries matching ``filters`` to an .xlsx temporary file (write-only mode:
    rows stream to disk, memory stays flat for big logs). Returns the file, rewound, and the
    number of entries; the caller streams and closes it."""
    if not policy.has_perm(actor, Perm.AUDIT_VIEW):
        raise PermissionDenied
    qs = entries(filters)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("审计日志")
    for i, width in enumerate(COLUMN_WIDTHS):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    ws.freeze_panes = "A2"
    header = []
    for title in EXPORT_HEADERS:
        c = WriteOnlyCell(ws, value=title)
        c.font = Font(bold=True)
        header.append(c)
    ws.append(header)
    count = 0
    for row in export_rows(qs):
        ws.append([_date_cell(ws, row[0]), *(_cell(ws, value) for value in row[1:])])
        count += 1
    out = tempfile.TemporaryFile()  # noqa: SIM115 -- handed to the response, which closes it
    try:
        wb.save(out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    log_action(
        Action.EXPORT,
        actor=actor,
        object_type="audit.auditentry",
        object_repr=f"审计日志（{count} 条）",
        data={"filters": filters.as_params(), "rows": count},
    )
    return out, count


def _date_cell(ws: Any, value: Any) -> Any:
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = "yyyy-mm-dd hh:mm:ss"
    return cell
