"""The Excel layout of the organization register, shared by import, export and the template.

Three sheets: 「党组织」, 「人员」 and 「说明」 (what each column means and which values it takes).
Headers are matched loosely (``编码`` = ``组织编码``, ``联系电话`` = ``手机号`` ...) and choice columns
take their Chinese labels (正式党员, 男, 是 ...) as well as a few common synonyms.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet.datavalidation import DataValidation

from .models import CadreLevel, Gender, OrgStatus, OrgType, PoliticalStatus

ORG_SHEET = "党组织"
PERSON_SHEET = "人员"
HELP_SHEET = "说明"
DATE_FORMAT = "yyyy-mm-dd"

YES, NO = "是", "否"
BOOL_WORDS = {
    "是": True, "y": True, "yes": True, "true": True, "1": True, "√": True, "在册": True,
    "否": False, "n": False, "no": False, "false": False, "0": False, "×": False, "不在册": False,
}  # fmt: skip


def _choices(enum: Any, synonyms: dict[str, str] | None = None) -> dict[str, str]:
    """Accepted spellings -> stored value: the label, the stored value and the synonyms."""
    out = {str(label): str(value) for value, label in enum.choices if value}
    out.update({str(value): str(value) for value, _ in enum.choices if value})
    out.update(synonyms or {})
    return out


ORG_TYPES = _choices(
    OrgType, {"总支": OrgType.GENERAL_BRANCH, "支部": OrgType.BRANCH, "党组": OrgType.COMMITTEE}
)
ORG_STATUSES = _choices(
    OrgStatus, {"撤销": OrgStatus.DISSOLVED, "在用": OrgStatus.ACTIVE, "有效": OrgStatus.ACTIVE}
)
GENDERS = _choices(Gender, {"男性": Gender.MALE, "女性": Gender.FEMALE})
POLITICAL_STATUSES = _choices(
    PoliticalStatus,
    {"中共党员": PoliticalStatus.FULL_MEMBER, "党员": PoliticalStatus.FULL_MEMBER,
     "中共预备党员": PoliticalStatus.PROBATIONARY},
)  # fmt: skip
CADRE_LEVELS = _choices(
    CadreLevel,
    {"厅级": CadreLevel.BUREAU, "局级": CadreLevel.BUREAU, "县处级": CadreLevel.DIVISION,
     "乡科级": CadreLevel.SECTION},
)  # fmt: skip


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    help: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    kind: str = "text"  # text | date | bool | choice
    choices: dict[str, str] = field(default_factory=dict)
    labels: tuple[str, ...] = ()  # the values offered in the dropdown
    max_length: int = 100
    width: int = 14


@dataclass(frozen=True)
class Sheet:
    name: str
    aliases: tuple[str, ...]
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


def _labels(enum: Any) -> tuple[str, ...]:
    return tuple(str(label) for value, label in enum.choices if value)


ORG = Sheet(
    ORG_SHEET,
    ("党组织", "组织", "党组织名册", "组织名册"),
    (
        Column("code", "组织编码", "必填。唯一标识，字母、数字、-、_、.，最多 32 位；再次导入时按编码更新", ("编码", "组织代码", "党组织编码"), True, max_length=32),
        Column("name", "组织名称", "必填。最多 100 字", ("名称", "党组织名称", "组织全称"), True, width=24),
        Column("org_type", "组织类型", "必填", ("类型", "组织类别"), True, "choice", ORG_TYPES, _labels(OrgType)),
        Column("parent", "上级组织编码", "机关党委不填；其他组织必填，上级可在本表中（顺序不限）或已在系统中", ("上级编码", "上级组织", "上级党组织编码"), width=16),
        Column("business_department", "服务的业务部门", "选填。最多 100 字", ("业务部门", "对应业务部门", "服务部门"), width=18),
        Column("founded_on", "成立日期", "选填。日期，如 2020-01-01、2020/1/1、2020年1月1日", ("成立时间",), kind="date"),
        Column("status", "状态", "选填，默认“正常”", ("组织状态",), kind="choice", choices=ORG_STATUSES, labels=_labels(OrgStatus)),
        Column("dissolved_on", "撤销日期", "状态为“已撤销”时必填，否则不填", ("撤销时间",), kind="date"),
        Column("secretary", "书记工号", "选填。现任书记的工号（须为党员）；与系统中不同时，原书记离任、新书记任职。其他党内职务请在系统中维护", ("书记", "书记工号（选填）"), max_length=32),
        Column("note", "备注", "选填。最多 200 字", ("说明",), max_length=200, width=24),
    ),
)  # fmt: skip

PERSON = Sheet(
    PERSON_SHEET,
    ("人员", "党员", "人员名单", "党员名册", "人员名册"),
    (
        Column("staff_no", "工号", "必填。唯一标识，最多 32 位；再次导入时按工号更新", ("职工号", "人员编号", "编号"), True, max_length=32),
        Column("name", "姓名", "必填。最多 50 字", ("名字",), True, max_length=50),
        Column("gender", "性别", "选填", ("性別",), kind="choice", choices=GENDERS, labels=_labels(Gender), width=8),
        Column("organization", "所在党组织编码", "党员必填；须为本表“党组织”中或系统中已有的组织编码", ("所在组织编码", "党组织编码", "组织编码", "所在党组织"), width=16),
        Column("political_status", "政治面貌", "必填", ("面貌",), True, "choice", POLITICAL_STATUSES, _labels(PoliticalStatus)),
        Column("position", "职务", "选填。行政职务，最多 100 字", ("行政职务", "职务名称"), width=18),
        Column("is_leading_cadre", "是否领导干部", "选填，默认“否”", ("领导干部",), kind="bool", labels=(YES, NO)),
        Column("cadre_level", "干部级别", "仅领导干部填写", ("级别", "职级"), kind="choice", choices=CADRE_LEVELS, labels=_labels(CadreLevel)),
        Column("business_department", "业务部门", "选填。最多 100 字", ("所在部门", "部门"), width=18),
        Column("phone", "手机号", "选填。11 位手机号或带区号的固定电话", ("手机", "联系电话", "电话", "手机号码"), max_length=20, width=16),
        Column("is_active", "在册", "选填，默认“是”；调离、退休等填“否”", ("是否在册",), kind="bool", labels=(YES, NO), width=8),
    ),
)  # fmt: skip

SHEETS = (ORG, PERSON)


def normalize_header(text: Any) -> str:
    """``' 组织编码（必填）* '`` -> ``'组织编码'``."""
    s = re.sub(r"[（(][^）)]*[）)]", "", str(text or ""))
    return re.sub(r"[\s*＊:：]", "", s)


def header_map(sheet: Sheet) -> dict[str, str]:
    """Normalized header or alias -> column key (the canonical header wins over an alias)."""
    out: dict[str, str] = {}
    for col in sheet.columns:
        for alias in col.aliases:
            out.setdefault(normalize_header(alias), col.key)
    for col in sheet.columns:
        out[normalize_header(col.header)] = col.key
    return out


# ---- cell values -------------------------------------------------------------------------

_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def text(value: Any) -> str:
    """A cell as text; integral numbers lose their ``.0`` (工号 and 手机号 typed as numbers)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def parse_date(value: Any) -> dt.date | None:
    """Excel dates, Excel serial numbers, and text like 2020-01-01, 2020/1/1, 2020年1月1日."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 2958466:
            return from_excel(value).date()
        raise ValueError
    s = str(value).strip().split(" ")[0].split("T")[0]
    if not s:
        return None
    if re.fullmatch(r"\d{8}", s):
        s = f"{s[:4]}-{s[4:6]}-{s[6:]}"
    m = _DATE_RE.match(s)
    if not m:
        raise ValueError
    return dt.date(int(m[1]), int(m[2]), int(m[3]))


def parse_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    s = text(value).lower()
    if not s:
        return None
    if s not in BOOL_WORDS:
        raise ValueError
    return BOOL_WORDS[s]


def parse_choice(col: Column, value: Any) -> str:
    s = text(value)
    if not s:
        return ""
    if s in col.choices:
        return col.choices[s]
    raise ValueError


# ---- writing -------------------------------------------------------------------------------

HEADER_FILL = PatternFill("solid", fgColor="C00000")
REQUIRED_FILL = PatternFill("solid", fgColor="8B0000")


def new_workbook(*, write_only: bool = False) -> Workbook:
    wb = Workbook(write_only=write_only)
    if not write_only:
        wb.remove(wb.active)
    return wb


def add_data_sheet(wb: Workbook, sheet: Sheet, rows: Iterable[list[Any]], *, max_row: int = 2000):
    """A sheet with the styled header row, dropdowns for choice columns, and ``rows``."""
    ws = wb.create_sheet(sheet.name)
    for i, col in enumerate(sheet.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = col.width
    ws.freeze_panes = "A2"
    for i, col in enumerate(sheet.columns, start=1):
        if col.labels:
            letter = get_column_letter(i)
            dv = DataValidation(
                type="list",
                formula1='"' + ",".join(col.labels) + '"',
                allow_blank=not col.required,
                showErrorMessage=True,
                errorTitle="取值不在范围内",
                error=f"{col.header}只能是：{'、'.join(col.labels)}",
            )
            dv.add(f"{letter}2:{letter}{max_row + 1}")
            ws.data_validations.append(dv)
    header = []
    for col in sheet.columns:
        cell = WriteOnlyCell(ws, value=col.header)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = REQUIRED_FILL if col.required else HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        header.append(cell)
    ws.append(header)
    for row in rows:
        ws.append([_as_text(ws, v) if isinstance(v, str) and v[:1] == "=" else v for v in row])
    return ws


def _as_text(ws: Any, value: str) -> Any:
    """A cell that stays text: a stored name like ``=HYPERLINK(…)`` must never become a formula."""
    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"
    return cell


def add_help_sheet(wb: Workbook) -> None:
    ws = wb.create_sheet(HELP_SHEET)
    for letter, width in zip("ABCD", (14, 18, 10, 90), strict=True):
        ws.column_dimensions[letter].width = width
    intro = [
        ["填写说明"],
        [
            "1. 「党组织」「人员」两张表可以只填一张；表头顺序不限，第一行为表头，从第二行起每行一条。"
        ],
        ["2. 导入按“组织编码”“工号”更新已有数据、新增其余数据；表中没有的组织和人员保持不变。"],
        ["3. 系统先检查全部行，有任何问题则一条也不写入，并列出每个问题所在的工作表、行、列。"],
        ["4. 行的顺序不限：下级组织可以写在上级组织之前。"],
        ["5. 表头为深红色的列必填；带下拉框的列请从下拉框中选择。"],
        [],
        ["工作表", "列", "是否必填", "说明与可选值"],
    ]
    for i, row in enumerate(intro):
        if i in (0, len(intro) - 1):
            size = 14 if i == 0 else 11
            row = [WriteOnlyCell(ws, value=v) for v in row]
            for cell in row:
                cell.font = Font(bold=True, size=size)
        ws.append(row)
    for sheet in SHEETS:
        for col in sheet.columns:
            allowed = f"可选：{'、'.join(col.labels)}。" if col.labels else ""
            ws.append(
                [sheet.name, col.header, "必填" if col.required else "选填", allowed + col.help]
            )


def template_workbook() -> Workbook:
    wb = new_workbook()
    add_data_sheet(wb, ORG, [])
    add_data_sheet(wb, PERSON, [])
    add_help_sheet(wb)
    return wb
