"""Quantitative data files: the downloadable template and reading an upload (.xlsx or .csv).

The template is *wide*, as agencies keep such data: one row per target (对象编码, 对象名称), one
column per quantitative indicator headed "编码 名称" (e.g. ``2.1 党员发展计划完成率``). A *long*
file (对象编码 | 对象名称 | 指标编码 | 指标名称 | 数值) is accepted too. CSV may be UTF-8 (with or
without BOM) or GBK/GB18030, as Excel on Chinese Windows saves it.

Reading never stops at the first problem: every cell error is collected with its row and column.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from kaoping.indicators.constants import RuleKind

SHEET = "量化数据"
HELP_SHEET = "说明"
TARGET_CODE = "对象编码"
TARGET_NAME = "对象名称"
INDICATOR_CODE = "指标编码"
INDICATOR_NAME = "指标名称"
VALUE = "数值"
HEADER_ALIASES = {
    TARGET_CODE: ("对象编码", "考核对象编码", "单位编码", "组织编码", "编码", "代码"),
    TARGET_NAME: ("对象名称", "考核对象", "考核对象名称", "单位名称", "组织名称", "名称", "单位"),
    INDICATOR_CODE: ("指标编码", "指标代码"),
    INDICATOR_NAME: ("指标名称", "指标"),
    VALUE: ("数值", "值", "数据", "指标值"),
}
TITLE_ROWS = 10
MAX_ABS = Decimal("1e12")
# Rates and counts: a negative value is a mistake (a linear or banded indicator may measure a
# change, which can be negative).
NON_NEGATIVE_KINDS = frozenset({RuleKind.RATIO_TO_TARGET, RuleKind.RATIO_TO_BEST})
KIND_HELP = {
    RuleKind.LINEAR: "线性插值：下限 {floor} 得 0 分，目标值 {target} 及以上得满分",
    RuleKind.RATIO_TO_TARGET: "完成率：数值 ÷ 目标值 {target}",
    RuleKind.RATIO_TO_BEST: "对标最优：数值 ÷ 所有对象中的最好值",
    RuleKind.BANDED: "分档计分",
}


class FileError(Exception):
    """The file as a whole cannot be read."""


@dataclass(frozen=True)
class RowError:
    row: int  # 0: the file as a whole
    column: str  # the header as written, or the canonical one
    letter: str  # the column letter (A, B, …), empty when not about one column
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RawValue:
    row: int
    letter: str
    column: str
    target_code: str
    indicator: Any  # the Indicator
    value: Decimal


def _norm(text: Any) -> str:
    s = re.sub(r"[（(][^）)]*[）)]", "", str(text or ""))
    return re.sub(r"[\s*＊:：]", "", s)


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_number(value: Any) -> Decimal | None:
    """A cell as a number; None when empty; ValueError when it is not a number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float | Decimal):
        d = Decimal(str(value))
    else:
        s = str(value).strip().replace(",", "").replace("，", "").replace(" ", "")
        s = s.removesuffix("%").removesuffix("％")
        try:
            d = Decimal(s)
        except InvalidOperation as exc:
            raise ValueError from exc
    if not d.is_finite():
        raise ValueError
    return d


# ---- the template ------------------------------------------------------------------------

HEADER_FILL = PatternFill("solid", fgColor="C00000")


def indicator_header(ind: Any) -> str:
    return f"{ind.code} {ind.name}"


def describe(ind: Any) -> str:
    params = ind.rule_params or {}
    base = KIND_HELP.get(ind.rule_kind, "量化数据")
    base = base.format(**{k: params.get(k, "") for k in ("floor", "target")})
    if ind.rule_kind == RuleKind.BANDED and params.get("bands"):
        bands = [f"≥ {b.get('min')} 得 {b.get('score')} 分" for b in params["bands"]]
        base += "：" + "；".join(bands) + f"；其余得 {params.get('else', 0)} 分"
    if params.get("direction") == "cost":
        base += "（越小越好）"
    if ind.rule_kind in NON_NEGATIVE_KINDS:
        base += "；不能为负数"
    return base


def template_workbook(
    targets: Iterable[Any], indicators: list[Any], current: dict[tuple[int, int], Decimal]
) -> Workbook:
    """The wide template: a row per target (with its current values), a column per indicator."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    headers = [TARGET_CODE, TARGET_NAME, *(indicator_header(i) for i in indicators)]
    ws.append(headers)
    for i, _ in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(i)].width = 14 if i == 1 else (24 if i == 2 else 18)
    ws.row_dimensions[1].height = 36
    ws.freeze_panes = "C2"
    for t in targets:
        row: list[Any] = [t.code, t.name]
        for ind in indicators:
            v = current.get((t.pk, ind.pk))
            row.append(float(v) if v is not None else None)
        ws.append(row)
        ws.cell(row=ws.max_row, column=1).number_format = "@"
    help_ws = wb.create_sheet(HELP_SHEET)
    help_ws.column_dimensions["A"].width = 14
    help_ws.column_dimensions["B"].width = 36
    help_ws.column_dimensions["C"].width = 60
    for line in (
        ["填写说明"],
        ["1. 在「量化数据」表中每行一个考核对象，每列一个量化指标；对象编码不要修改。"],
        [
            "2. 只填数字（可带小数），按下表“计分方式”中的刻度填写：目标值为 1 的比率填 0.95"
            "（写成 95% 也按 0.95 计），目标值为 100 的填 95；空白单元格表示本次不导入该项。"
        ],
        ["3. 系统先检查全部行，有任何问题则一条也不写入，并列出每个问题所在的行和列。"],
        ["4. 每次导入形成一个批次，可在“导入记录”中撤销；同一对象同一指标以最新的批次为准。"],
        ["5. 也可上传 CSV 文件（UTF-8 或 Excel 另存的 GBK 编码均可），表头与本模板相同。"],
        [],
        ["指标编码", "指标名称", "计分方式"],
    ):
        help_ws.append(line)
    help_ws["A1"].font = Font(bold=True, size=14)
    for ind in indicators:
        help_ws.append([ind.code, ind.name, describe(ind)])
    return wb


# ---- reading ---------------------------------------------------------------------------------


def read_rows(name: str, data: bytes) -> list[tuple[int, list[Any]]]:
    """(row number, cell values) of the data sheet of an .xlsx, or of a .csv."""
    lower = (name or "").lower()
    if lower.endswith(".csv"):
        return _csv_rows(data)
    if lower.endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        return _xlsx_rows(data)
    raise FileError("请上传 .xlsx 或 .csv 文件（旧版 .xls 请先在 Excel 中另存为 .xlsx）")


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")  # GBK and its superset, as Excel on Chinese Windows saves
    except UnicodeDecodeError as exc:
        raise FileError("无法识别 CSV 文件的编码，请另存为“CSV UTF-8”后重新上传") from exc


def _csv_rows(data: bytes) -> list[tuple[int, list[Any]]]:
    content = _decode(data)
    first = content.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first.count)
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    try:
        return [(n, list(row)) for n, row in enumerate(reader, start=1)]
    except csv.Error as exc:
        raise FileError(f"CSV 文件格式有误：{exc}") from exc


def _xlsx_rows(data: bytes) -> list[tuple[int, list[Any]]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise FileError("无法读取该文件：请上传 Excel 2007 及以上版本保存的 .xlsx 文件") from exc
    except Exception as exc:  # openpyxl raises many kinds of errors on malformed files
        raise FileError("文件内容已损坏或不是有效的 .xlsx 文件") from exc
    try:
        ws = next((w for w in book.worksheets if _norm(w.title) == SHEET), book.worksheets[0])
        return [(n, list(r)) for n, r in enumerate(ws.iter_rows(values_only=True), start=1)]
    finally:
        book.close()


def _header_key(raw: Any) -> str | None:
    n = _norm(raw)
    for key, aliases in HEADER_ALIASES.items():
        if n in {_norm(a) for a in aliases}:
            return key
    return None


def parse(
    rows: list[tuple[int, list[Any]]],
    *,
    targets: dict[str, Any],
    indicators: list[Any],
    quantitative: set[int],
) -> tuple[list[RawValue], list[RowError]]:
    """Values and every error. ``targets``: code → Target; ``indicators``: all indicators of the
    version; ``quantitative``: ids of the ones that take data."""
    errors: list[RowError] = []
    by_code = {i.code: i for i in indicators}
    by_name: dict[str, Any] = {}
    for i in indicators:
        by_name.setdefault(_norm(i.name), i)
    header_at = None
    for n, values in rows[:TITLE_ROWS]:
        if any(_header_key(v) == TARGET_CODE for v in values):
            header_at = n
            header = values
            break
    if header_at is None:
        raise FileError(f"找不到表头：第一行应包含“{TARGET_CODE}”列，请使用下载的模板")
    keys: dict[int, str] = {}
    for i, raw in enumerate(header):
        key = _header_key(raw)
        if key and key not in keys.values():
            keys[i] = key
    long = INDICATOR_CODE in keys.values() and VALUE in keys.values()
    columns: dict[int, Any] = {}
    if not long:
        seen: dict[int, str] = {}
        for i, raw in enumerate(header):
            if i in keys or not text(raw):
                continue
            letter = get_column_letter(i + 1)
            label = text(raw)
            ind = _indicator_of(label, by_code, by_name)
            if ind is None:
                errors.append(RowError(header_at, label, letter, f"未知指标“{label}”"))
            elif ind.pk not in quantitative:
                errors.append(
                    RowError(header_at, label, letter, f"“{ind.code} {ind.name}”不是量化数据指标")
                )
            elif ind.pk in seen:
                errors.append(RowError(header_at, label, letter, f"与 {seen[ind.pk]} 列是同一指标"))
            else:
                seen[ind.pk] = letter
                columns[i] = ind
    code_col = next(i for i, k in keys.items() if k == TARGET_CODE)
    code_letter = get_column_letter(code_col + 1)
    out: list[RawValue] = []
    first_row: dict[tuple[str, int] | str, int] = {}
    for n, values in rows:
        if n <= header_at or not any(text(v) for v in values):
            continue
        code = text(values[code_col]) if code_col < len(values) else ""
        if not code:
            errors.append(RowError(n, TARGET_CODE, code_letter, "对象编码为空"))
            continue
        target = targets.get(code)
        if target is None:
            errors.append(
                RowError(n, TARGET_CODE, code_letter, f"本次考核没有编码为“{code}”的对象")
            )
        if not long:
            if code in first_row:
                errors.append(
                    RowError(
                        n, TARGET_CODE, code_letter, f"对象“{code}”与第 {first_row[code]} 行重复"
                    )
                )
                continue
            first_row[code] = n
            for i, ind in columns.items():
                raw = values[i] if i < len(values) else None
                value = _check(n, header[i], get_column_letter(i + 1), raw, ind, errors)
                if value is not None and target is not None:
                    out.append(
                        RawValue(n, get_column_letter(i + 1), text(header[i]), code, ind, value)
                    )
            continue
        out.extend(
            _long_row(n, values, keys, code, target, by_code, quantitative, first_row, errors)
        )
    if not out and not errors:
        errors.append(RowError(0, "", "", "文件中没有任何数值"))
    return out, errors


def _long_row(
    n: int,
    values: list[Any],
    keys: dict[int, str],
    code: str,
    target: Any,
    by_code: dict[str, Any],
    quantitative: set[int],
    first_row: dict[Any, int],
    errors: list[RowError],
) -> list[RawValue]:
    col = {k: i for i, k in keys.items()}

    def cell(key: str) -> Any:
        i = col[key]
        return values[i] if i < len(values) else None

    ind_letter = get_column_letter(col[INDICATOR_CODE] + 1)
    ind_code = text(cell(INDICATOR_CODE))
    ind = by_code.get(ind_code)
    if not ind_code:
        errors.append(RowError(n, INDICATOR_CODE, ind_letter, "指标编码为空"))
        return []
    if ind is None:
        errors.append(RowError(n, INDICATOR_CODE, ind_letter, f"未知指标编码“{ind_code}”"))
        return []
    if ind.pk not in quantitative:
        errors.append(
            RowError(n, INDICATOR_CODE, ind_letter, f"“{ind.code} {ind.name}”不是量化数据指标")
        )
        return []
    value_letter = get_column_letter(col[VALUE] + 1)
    value = _check(n, VALUE, value_letter, cell(VALUE), ind, errors)
    key = (code, ind.pk)
    if key in first_row:
        errors.append(
            RowError(
                n,
                INDICATOR_CODE,
                ind_letter,
                f"对象“{code}”的指标“{ind.code}”与第 {first_row[key]} 行重复",
            )
        )
        return []
    first_row[key] = n
    if value is None:
        if not text(cell(VALUE)) and not any(e.row == n for e in errors):
            errors.append(RowError(n, VALUE, value_letter, "数值为空"))
        return []
    if target is None:
        return []
    return [RawValue(n, value_letter, VALUE, code, ind, value)]


def _check(
    n: int, header: Any, letter: str, raw: Any, ind: Any, errors: list[RowError]
) -> Decimal | None:
    column = text(header)
    try:
        value = parse_number(raw)
    except ValueError:
        errors.append(RowError(n, column, letter, f"“{text(raw)}”不是数字"))
        return None
    if value is None:
        return None
    if isinstance(raw, str) and raw.strip().endswith(("%", "％")) and ratio_scale(ind):
        value = value / 100  # "95%" on a rule whose target is 1 means 0.95, not 95
    return check_value(value, ind, lambda msg: errors.append(RowError(n, column, letter, msg)))


def ratio_scale(ind: Any) -> bool:
    """Whether the indicator's rule reads a rate as a fraction (its floor, target and band
    thresholds are all within 1), so that a percentage typed as text is divided by 100."""
    params = ind.rule_params or {}
    marks = [params.get(k) for k in ("floor", "target") if params.get(k) is not None]
    marks += [b.get("min") for b in params.get("bands") or [] if b.get("min") is not None]
    try:
        return bool(marks) and all(abs(Decimal(str(m))) <= 1 for m in marks)
    except ArithmeticError:
        return False


def check_value(value: Decimal, ind: Any, fail: Any) -> Decimal | None:
    """The value as stored, or None after calling ``fail`` with the Chinese reason."""
    if abs(value) >= MAX_ABS:
        fail("数值过大")
        return None
    if value < 0 and ind.rule_kind in NON_NEGATIVE_KINDS:
        fail(f"“{ind.code} {ind.name}”不能为负数")
        return None
    q = value.quantize(Decimal("0.0001"))
    if q != value:
        fail("最多保留四位小数")
        return None
    return q


def _indicator_of(label: str, by_code: dict[str, Any], by_name: dict[str, Any]) -> Any:
    first = label.split()[0] if label.split() else ""
    if first in by_code:
        return by_code[first]
    if label in by_code:
        return by_code[label]
    return by_name.get(_norm(label))
