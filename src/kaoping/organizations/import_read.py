"""Reading an uploaded workbook into parsed rows, collecting every cell error on the way."""

from __future__ import annotations

import os
import zipfile
from dataclasses import asdict, dataclass
from typing import IO, Any

from django.conf import settings
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from kaoping.jobs.registry import Progress

from . import workbook as wbk
from .services import CODE_RE, PHONE_RE

TITLE_ROWS = 10  # rows above the header that hold no known column name are skipped


class WorkbookError(Exception):
    """The file as a whole cannot be used (too large, not .xlsx, corrupt, no known sheet)."""


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int  # Excel row number; 0 when the problem is the sheet or file as a whole
    column: str  # the header as written in the file (or the canonical one)
    message: str
    letter: str = ""  # Excel column letter

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Row:
    number: int
    values: dict[str, Any]  # column key -> parsed value
    bad: set[str]  # column keys whose value could not be parsed


@dataclass
class SheetRows:
    sheet: wbk.Sheet
    rows: list[Row]
    headers: dict[str, tuple[str, str]]  # key -> (header as written, column letter)

    def where(self, key: str) -> tuple[str, str]:
        return self.headers.get(key, (self.sheet.column(key).header, ""))


def _size(source: Any) -> int:
    if isinstance(source, str | os.PathLike):
        return os.path.getsize(source)
    pos = source.tell()
    source.seek(0, os.SEEK_END)
    size = source.tell()
    source.seek(pos)
    return int(size)


def read_workbook(
    source: str | os.PathLike[str] | IO[bytes], progress: Progress
) -> tuple[dict[str, SheetRows], list[RowError]]:
    """The 「党组织」 and 「人员」 sheets found in ``source`` (by sheet name), and cell errors."""
    limit = settings.KAOPING_IMPORT_MAX_BYTES
    if _size(source) > limit:
        raise WorkbookError(f"文件超过 {limit // (1024 * 1024)} MB，请拆分后分批导入")
    try:
        book = load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise WorkbookError(
            "无法读取该文件：请上传 Excel 2007 及以上版本保存的 .xlsx 文件（不支持 .xls、.csv 或已损坏的文件）"
        ) from exc
    except Exception as exc:  # openpyxl raises many kinds of errors on malformed files
        raise WorkbookError("文件内容已损坏或不是有效的 .xlsx 文件") from exc
    try:
        found: dict[str, Any] = {}
        for spec in wbk.SHEETS:
            names = {wbk.normalize_header(a) for a in (spec.name, *spec.aliases)}
            for ws in book.worksheets:
                if wbk.normalize_header(ws.title) in names:
                    found[spec.name] = (spec, ws)
                    break
        if not found:
            raise WorkbookError(
                f"文件中没有「{wbk.ORG_SHEET}」或「{wbk.PERSON_SHEET}」工作表，请使用导入模板"
            )
        total = sum((ws.max_row or 0) for _, ws in found.values())
        progress.start("读取文件", total)
        errors: list[RowError] = []
        out = {name: _read_sheet(spec, ws, errors, progress) for name, (spec, ws) in found.items()}
    finally:
        book.close()
    return out, errors


def _read_sheet(spec: wbk.Sheet, ws: Any, errors: list[RowError], progress: Progress) -> SheetRows:
    aliases = wbk.header_map(spec)
    columns: dict[int, str] = {}
    headers: dict[str, tuple[str, str]] = {}
    rows: list[Row] = []
    header_seen = False
    for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
        progress.advance()
        if not any(v not in (None, "") for v in values):
            continue
        if not header_seen:
            known = any(wbk.normalize_header(v) in aliases for v in values)
            if not known and number < TITLE_ROWS:
                continue  # a title row above the header (e.g. "2024 年党员名册")
            header_seen = True
            for i, raw in enumerate(values):
                key = aliases.get(wbk.normalize_header(raw))
                if key is None:
                    continue  # columns we do not know are ignored
                letter = get_column_letter(i + 1)
                if key in headers:
                    errors.append(
                        RowError(
                            spec.name, number, str(raw), "与其他列重复（同一列出现了两次）", letter
                        )
                    )
                    continue
                columns[i] = key
                headers[key] = (str(raw).strip(), letter)
            missing = [c for c in spec.columns if c.required and c.key not in headers]
            for col in missing:
                errors.append(RowError(spec.name, number, col.header, "缺少必填列"))
            if missing:
                return SheetRows(spec, [], headers)
            continue
        raw = {key: values[i] if i < len(values) else None for i, key in columns.items()}
        rows.append(_parse(spec, number, raw, headers, errors))
    return SheetRows(spec, rows, headers)


def _parse(
    spec: wbk.Sheet,
    number: int,
    raw: dict[str, Any],
    headers: dict[str, tuple[str, str]],
    errors: list[RowError],
) -> Row:
    row = Row(number, {}, set())

    def fail(key: str, message: str) -> None:
        header, letter = headers.get(key, (spec.column(key).header, ""))
        errors.append(RowError(spec.name, number, header, message, letter))
        row.bad.add(key)

    for col in spec.columns:
        value = raw.get(col.key)
        try:
            if col.kind == "date":
                parsed: Any = wbk.parse_date(value)
            elif col.kind == "bool":
                parsed = wbk.parse_bool(value)
            elif col.kind == "choice":
                parsed = wbk.parse_choice(col, value)
            else:
                parsed = wbk.text(value)
        except (ValueError, OverflowError):
            shown = wbk.text(value)
            if col.kind == "date":
                fail(col.key, f"日期“{shown}”无法识别，请填写如 2020-01-01 的日期")
            elif col.kind == "bool":
                fail(col.key, f"“{shown}”无效，只能填“是”或“否”")
            else:
                fail(col.key, f"“{shown}”不是有效的{col.header}，可选：{'、'.join(col.labels)}")
            continue
        if col.required and parsed in (None, ""):
            fail(col.key, "必填项为空")
        elif isinstance(parsed, str) and len(parsed) > col.max_length:
            fail(col.key, f"超过 {col.max_length} 个字")
        row.values[col.key] = parsed
    _row_rules(spec, row, fail)
    return row


def _row_rules(spec: wbk.Sheet, row: Row, fail: Any) -> None:
    """Rules that need only the row itself."""
    v = row.values
    if spec is wbk.ORG:
        if v.get("code") and "code" not in row.bad and not CODE_RE.match(v["code"]):
            fail("code", "组织编码只能由字母、数字、-、_、. 组成，最多 32 位")
        v["status"] = v.get("status") or "active"
        if "status" in row.bad or "dissolved_on" in row.bad:
            return
        if v["status"] == "dissolved" and not v.get("dissolved_on"):
            fail("dissolved_on", "状态为“已撤销”时须填写撤销日期")
        elif v["status"] == "active" and v.get("dissolved_on"):
            fail("dissolved_on", "状态为“正常”时不应填写撤销日期")
        founded, dissolved = v.get("founded_on"), v.get("dissolved_on")
        if founded and dissolved and dissolved < founded:
            fail("dissolved_on", "撤销日期早于成立日期")
        return
    phone = (v.get("phone") or "").replace(" ", "")
    v["phone"] = phone
    if phone and "phone" not in row.bad and not PHONE_RE.match(phone):
        fail("phone", f"手机号“{phone}”格式不正确（应为 11 位手机号或带区号的固定电话）")
    if v.get("is_leading_cadre") is None:
        v["is_leading_cadre"] = False
    if v.get("is_active") is None:
        v["is_active"] = True
    if v.get("cadre_level") and not v["is_leading_cadre"] and "is_leading_cadre" not in row.bad:
        fail("cadre_level", "不是领导干部，不应填写干部级别（或将“是否领导干部”改为“是”）")
    party = v.get("political_status") in ("full", "probationary")
    if party and not v.get("organization") and "organization" not in row.bad:
        fail("organization", "党员须填写所在党组织编码")
