"""The ranking as an Excel workbook (the rows the user sees, as filtered), audited."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from kaoping.audit.actions import Action
from kaoping.audit.services import log_action

from .models import ResultSet, TargetResult
from .selectors import flag_labels

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cell(ws: Any, value: Any) -> Any:
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        cell.data_type = "s"  # names typed by users are never formulas
    return cell


def ranking_workbook(rs: ResultSet, rows: list[TargetResult]) -> bytes:
    s = rs.summary or {}
    dims = list((s.get("dimensions") or {}).items())
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("考核结果")
    ws.append(
        [_cell(ws, f"{rs.campaign.name} · 第 {rs.number} 次计算（{rs.get_status_display()}）")]
    )
    ws.append([_cell(ws, f"计算时间 {rs.computed_at:%Y-%m-%d %H:%M}；指纹 {rs.fingerprint[:12]}；"
                         f"计分引擎 {rs.engine_version}")])  # fmt: skip
    header = ["排名", "编码", "考核对象", "所属党组织", "总分", "等次", "组内排名"]
    header += [name for _, name in dims] + ["标记"]
    ws.append(header)
    for r in rows:
        t = r.target
        values = [r.rank, t.code, t.name, t.group_name, round(r.total, 2), r.grade, r.group_rank]
        values += [
            None if r.dimensions.get(code) is None else round(float(r.dimensions[code]), 2)
            for code, _ in dims
        ]
        values.append("、".join(flag_labels(r.flags)))
        ws.append([_cell(ws, v) for v in values])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export_ranking(*, actor: Any, rs: ResultSet, rows: list[TargetResult], filters: str) -> bytes:
    """The workbook of ``rows`` (already limited to what ``actor`` sees), with an audit entry."""
    data = ranking_workbook(rs, rows)
    log_action(
        Action.EXPORT,
        actor=actor,
        obj=rs,
        object_repr=str(rs),
        data={"what": "考核结果排名", "rows": len(rows), "filters": filters},
    )
    return data
