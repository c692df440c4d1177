"""Writing a scheme document as a 考核评分细则 workbook (the layout ``excel_read`` reads back).

The agency's columns come first and read well on paper: a title row, the header, one row per
indicator with the 一级 (and 二级 …) cells merged down over their children, a 合计 row and a 备注
row. System columns follow in grey (指标编码, 维度, 计分规则(JSON) …); a 「体系设置」 sheet holds
the scheme and version settings. Whatever the plain text cannot carry exactly (an evidence name
with a 、 in it, say) goes into the 系统字段(JSON) column, so export → import is exact.
"""

from __future__ import annotations

import json
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from . import excel_layout as lay
from . import text_rules as tr

THIN = Side(style="thin", color="999999")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="C00000")
EXTRA_FILL = PatternFill("solid", fgColor="7F7F7F")
EXTRA_CELL_FILL = PatternFill("solid", fgColor="F2F2F2")
WRAP = Alignment(wrap_text=True, vertical="center")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
PLAIN = ("points", "criteria", "methods", "evidence")
EXTRA = ("code", "dimension", "weight", "rule", "proposed", "source", "rater_weights", "missing",
         "veto", "overrides")  # fmt: skip
NOTE = "备注：灰色表头的列供系统再导入使用（编码、计分规则等），打印时可隐藏；请勿改动其中的 JSON。"


def _depth(indicators: list[dict[str, Any]]) -> int:
    level: dict[str, int] = {}
    for d in indicators:
        level[d["code"]] = level.get(d["parent"], 0) + 1 if d["parent"] else 1
    return max([2, *level.values()])


def plain_fields(d: dict[str, Any]) -> dict[str, Any]:
    """The values the plain columns show for indicator ``d``."""
    return {
        "methods": tr.format_methods(d["methods"]),
        "evidence": tr.format_evidence(d["evidence"]),
        "rater_weights": tr.format_rater_weights(d["rater_weights"], lay.LABEL["group"]),
        "veto": _veto_text(d["veto"]),
    }


def _veto_text(veto: dict[str, Any]) -> str:
    if not veto:
        return ""
    if veto.get("effect") == "ceiling":
        return f"{lay.VETO_CEILING}{veto.get('grade') or ''}"
    return lay.VETO_ZERO


def _overrides(d: dict[str, Any], shown: dict[str, Any]) -> dict[str, Any]:
    """Fields whose plain text would not read back exactly."""
    out: dict[str, Any] = {}
    if tr.parse_methods(shown["methods"]) != d["methods"]:
        out["methods"] = d["methods"]
    if tr.parse_evidence(shown["evidence"]) != d["evidence"]:
        out["evidence"] = d["evidence"]
    back, bad = tr.parse_rater_weights(shown["rater_weights"], lay.GROUP_BY_LABEL)
    if bad or json.dumps(back) != json.dumps(d["rater_weights"]):
        out["rater_weights"] = d["rater_weights"]
    veto = d["veto"]
    if veto and (set(veto) - {"effect", "grade"} or (veto.get("effect") == "zero" and len(veto) > 1)
                 or (veto.get("effect") == "ceiling" and not veto.get("grade"))):  # fmt: skip
        out["veto"] = veto
    name, pts = tr.split_name(d["name"])
    if name != d["name"] or pts is not None or d["name"] != d["name"].strip():
        out["name"] = d["name"]
    if d["criteria"] != d["criteria"].strip():
        out["criteria"] = d["criteria"]
    return out


def write_scheme_workbook(doc: dict[str, Any], target: str | IO[bytes]) -> None:
    wb = scheme_workbook(doc)
    wb.save(target)


def scheme_workbook(doc: dict[str, Any]) -> Workbook:
    inds = doc["indicators"]
    depth = _depth(inds)
    wb = Workbook()
    ws = wb.active
    ws.title = "评分细则"
    keys = [*lay.LEVEL_KEYS[:depth], *PLAIN, *EXTRA]
    headers = [lay.WRITTEN_HEADER.get(k, lay.BY_KEY[k].header) for k in keys]
    col = {k: i + 1 for i, k in enumerate(keys)}
    n_plain = depth + len(PLAIN)
    version = doc["version"]
    title = f"{doc['scheme']['name']}考核评分细则"
    ws.cell(1, 1, title).font = Font(bold=True, size=16)
    ws.cell(1, 1).alignment = CENTER
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=n_plain)
    ws.row_dimensions[1].height = 30
    mode = lay.WEIGHTING_LABELS.get(version["weighting"], "")
    sub = (
        f"（{mode}，总分 {version['total_points']} 分）"
        if version["weighting"] == "points"
        else f"（{mode}）"
    )
    ws.cell(2, 1, sub).alignment = CENTER
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=n_plain)
    for k, h in zip(keys, headers, strict=True):
        c = ws.cell(3, col[k], h)
        c.font = Font(bold=True, color="FFFFFF")
        c.fill = EXTRA_FILL if k in EXTRA else HEAD_FILL
        c.alignment = CENTER
        c.border = BORDER
        ws.column_dimensions[get_column_letter(col[k])].width = lay.BY_KEY[k].width
    ws.freeze_panes = "A4"

    parent_of = {d["code"]: d["parent"] for d in inds}
    level: dict[str, int] = {}
    counters: dict[str | None, int] = {}
    last_row_of: dict[str, int] = {}
    first_row_of: dict[str, int] = {}
    r = 3
    for d in inds:
        r += 1
        lv = level[d["code"]] = level[d["parent"]] + 1 if d["parent"] else 1
        counters[d["parent"]] = counters.get(d["parent"], 0) + 1
        name = f"{tr.numbering(lv, counters[d['parent']])}{d['name']}"
        if lv == 1 and d["points"] is not None:
            name += f"（{d['points']}分）"
        first_row_of[d["code"]] = r
        parent = d["parent"]
        while parent is not None:
            last_row_of[parent] = r
            parent = parent_of[parent]
        last_row_of[d["code"]] = r
        shown = plain_fields(d)
        values: dict[str, Any] = {
            lay.LEVEL_KEYS[lv - 1]: name,
            "points": d["points"],
            "criteria": d["criteria"],
            "methods": shown["methods"],
            "evidence": shown["evidence"],
            "code": d["code"],
            "dimension": lay.LABEL["dimension"].get(d["dimension"], d["dimension"]),
            "weight": d["weight"],
            "rule": json.dumps(d["rule"], ensure_ascii=False) if d["rule"] else "",
            "proposed": json.dumps(d["proposed_rule"], ensure_ascii=False)
            if d["proposed_rule"]
            else "",
            "source": lay.LABEL["source"].get(d["data_source"], d["data_source"]),
            "rater_weights": shown["rater_weights"],
            "missing": lay.LABEL["missing"].get(d["missing"], d["missing"]),
            "veto": shown["veto"],
        }
        over = _overrides(d, shown)
        values["overrides"] = json.dumps(over, ensure_ascii=False) if over else ""
        for k in keys:
            v = values.get(k)
            c = ws.cell(r, col[k])
            if v not in (None, ""):
                c.value = v
                if isinstance(v, str):
                    c.data_type = "s"  # never a formula, whatever the text starts with
            c.border = BORDER
            c.alignment = CENTER if k in lay.LEVEL_KEYS or k == "points" else WRAP
            if k in EXTRA:
                c.fill = EXTRA_CELL_FILL
    for code, first in first_row_of.items():
        last = last_row_of[code]
        lv = level[code]
        if last > first and lv < depth:
            ws.merge_cells(start_row=first, start_column=lv, end_row=last, end_column=lv)
    r += 1
    ws.cell(r, 1, "合计").font = Font(bold=True)
    ws.cell(r, 1).alignment = CENTER
    if depth > 1:
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=depth)
    if version["weighting"] == "points":
        ws.cell(r, col["points"], version["total_points"]).font = Font(bold=True)
    for k in keys:
        ws.cell(r, col[k]).border = BORDER
    r += 1
    ws.cell(r, 1, NOTE).alignment = WRAP
    ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=n_plain)
    _settings_sheet(wb, doc)
    return wb


def _settings_sheet(wb: Workbook, doc: dict[str, Any]) -> None:
    ws = wb.create_sheet(lay.SETTINGS_SHEET)
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 60
    ws.append(["设置", "值"])
    for label, part, key in lay.SETTINGS_ROWS:
        value = doc[part].get(key)
        if key == "options":
            value = json.dumps(value or {}, ensure_ascii=False, sort_keys=True)
        elif key == "target_kind":
            value = lay.TARGET_KIND_LABELS.get(value, value)
        elif key == "weighting":
            value = lay.WEIGHTING_LABELS.get(value, value)
        ws.append([label, value])
        if isinstance(value, str):
            ws.cell(ws.max_row, 2).data_type = "s"
