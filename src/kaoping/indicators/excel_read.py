"""Reading a 考核评分细则 workbook into a ``kaoping.scheme/1`` document.

Robust to the layouts agencies use: title rows above the header, header variants, 一级/二级
cells merged down (or left blank) over their child rows, blank rows, a 合计 row (its total is
checked against the sum), 备注/说明 rows, names carrying numbering and points
(``一、政治建设（15分）``). Deduction, bonus, veto and grade sentences in the criteria become a
``proposed_rule`` for the organizer to confirm. Problems come back as ``RowError`` naming the
sheet, the Excel row and the column; warnings (e.g. points that do not add up) likewise.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from kaoping.jobs.registry import Progress
from kaoping.organizations.import_read import RowError, WorkbookError
from kaoping.organizations.workbook import normalize_header, text

from . import excel_layout as lay
from . import text_rules as tr
from .scheme_doc import FORMAT, INDICATOR_FIELDS, number

HEADER_SCAN_ROWS = 15
MIN_HEADERS = 3
TOTAL_WORDS = ("合计", "总计", "总分", "小计")
NOTE_WORDS = ("备注", "说明", "注：", "注:", "附注", "填表说明")
CONTENT_KEYS = ("points", "criteria", "methods", "evidence", "weight", "rule", "proposed")
EXTRA_KINDS = ("bonus", "penalty", "veto")


@dataclass
class Node:
    row: int
    level: int
    name: str
    parent: Node | None
    own_row: bool = False  # the row that describes this node (its deepest level)
    name_points: Decimal | None = None
    cells: dict[str, Any] = field(default_factory=dict)  # column key -> raw cell of own row
    points: Decimal | None = None
    children: list[Node] = field(default_factory=list)
    code: str = ""


@dataclass
class ReadResult:
    doc: dict[str, Any] | None
    errors: list[RowError]
    warnings: list[RowError]
    rows: int = 0
    sheet: str = ""
    locations: dict[int, int] = field(default_factory=dict)  # indicator index -> Excel row
    columns: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (header, letter)


def _size(source: Any) -> int:
    if isinstance(source, str | os.PathLike):
        return os.path.getsize(source)
    pos = source.tell()
    source.seek(0, os.SEEK_END)
    size = source.tell()
    source.seek(pos)
    return int(size)


def open_workbook(source: str | os.PathLike[str] | IO[bytes]) -> Any:
    limit = settings.KAOPING_IMPORT_MAX_BYTES
    if _size(source) > limit:
        raise WorkbookError(f"文件超过 {limit // (1024 * 1024)} MB")
    try:
        return load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise WorkbookError(
            "无法读取该文件：请上传 Excel 2007 及以上版本保存的 .xlsx 文件（不支持 .xls、.csv 或已损坏的文件）"
        ) from exc
    except Exception as exc:  # openpyxl raises many kinds of errors on malformed files
        raise WorkbookError("文件内容已损坏或不是有效的 .xlsx 文件") from exc


def read_scheme_workbook(
    source: str | os.PathLike[str] | IO[bytes], progress: Progress | None = None
) -> ReadResult:
    progress = progress or Progress()
    book = open_workbook(source)
    try:
        settings_rows: list[tuple[Any, ...]] = []
        candidates = []
        for ws in book.worksheets:
            if normalize_header(ws.title) == lay.SETTINGS_SHEET:
                settings_rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
            else:
                candidates.append(ws)
        for ws in candidates:
            rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
            reader = SheetReader(ws.title, rows, progress)
            if reader.find_header():
                result = reader.read()
                _apply_settings(result, settings_rows)
                return result
        sheet = candidates[0].title if candidates else ""
        message = "未找到表头：前 15 行中没有一行包含至少 3 个可识别的列名（如 一级指标、二级指标、分值、评分标准）"
        return ReadResult(None, [RowError(sheet, 0, "", message)], [])
    finally:
        book.close()


def _apply_settings(result: ReadResult, rows: list[tuple[Any, ...]]) -> None:
    if result.doc is None or not rows:
        return
    by_label = {normalize_header(label): (part, key) for label, part, key in lay.SETTINGS_ROWS}
    kinds = {v: k for k, v in lay.TARGET_KIND_LABELS.items()}
    weightings = {v: k for k, v in lay.WEIGHTING_LABELS.items()}
    for number_, row in enumerate(rows, start=1):
        if not row or row[0] is None:
            continue
        spec = by_label.get(normalize_header(row[0]))
        if spec is None:
            continue
        part, key = spec
        value: Any = row[1] if len(row) > 1 else None
        value = "" if value is None else value
        if key == "options":
            try:
                value = json.loads(value) if value else {}
            except ValueError:
                result.errors.append(
                    RowError(lay.SETTINGS_SHEET, number_, str(row[0]), "不是有效的 JSON")
                )
                continue
        elif key == "total_points":
            try:
                value = number(tr.parse_number(value)) if value != "" else 100
            except ValueError:
                result.errors.append(RowError(lay.SETTINGS_SHEET, number_, "总分", "不是数字"))
                continue
        else:
            value = text(value) if not isinstance(value, str) else value
            value = kinds.get(value, value) if key == "target_kind" else value
            value = weightings.get(value, value) if key == "weighting" else value
        result.doc[part][key] = value


class SheetReader:
    def __init__(self, title: str, rows: list[tuple[Any, ...]], progress: Progress) -> None:
        self.title, self.rows, self.progress = title, rows, progress
        self.errors: list[RowError] = []
        self.warnings: list[RowError] = []
        self.cols: dict[int, str] = {}
        self.where: dict[str, tuple[str, str]] = {}
        self.header_row = 0
        self.depth = 0

    # ---- header ---------------------------------------------------------------------------

    def find_header(self) -> bool:
        for number_, values in enumerate(self.rows[:HEADER_SCAN_ROWS], start=1):
            keys = [lay.HEADER_KEYS.get(normalize_header(v)) for v in values if v is not None]
            if len([k for k in keys if k]) >= MIN_HEADERS:
                self.header_row = number_
                self._map_header(values)
                return True
        return False

    def _map_header(self, values: tuple[Any, ...]) -> None:
        for i, raw in enumerate(values):
            key = lay.HEADER_KEYS.get(normalize_header(raw)) if raw is not None else None
            if key is None:
                continue
            letter = get_column_letter(i + 1)
            if key in self.where:
                self.error(self.header_row, str(raw), "与其他列重复（同一列出现了两次）", letter)
                continue
            self.cols[i] = key
            self.where[key] = (str(raw).strip(), letter)
        keys = set(self.where)
        if "content" in keys:
            if "criteria" not in keys:
                target = "criteria"
            elif "l1" not in keys:
                target = "l1"
            elif "l2" not in keys:
                target = "l2"
            else:
                target = "content"
            if target != "content":
                self._rename("content", target)
        if "weight" in keys and "points" not in keys and "code" not in keys:
            self.weights_mode = True
        if "l5" in self.where:
            header, letter = self.where["l5"]
            self.error(self.header_row, header, "指标最多四级，不支持五级指标", letter)
        levels = [k for k in lay.LEVEL_KEYS if k in self.where]
        if "l1" not in self.where:
            self.error(self.header_row, "一级指标", "缺少一级指标列（如“一级指标”“考核项目”）")
        elif levels != list(lay.LEVEL_KEYS[: len(levels)]):
            self.error(self.header_row, "", "指标层级列不连续（如有三级指标列，须有二级指标列）")
        self.depth = len(levels)

    weights_mode = False

    def _rename(self, old: str, new: str) -> None:
        for i, key in self.cols.items():
            if key == old:
                self.cols[i] = new
        self.where[new] = self.where.pop(old)

    def error(self, row: int, column: str, message: str, letter: str = "") -> None:
        self.errors.append(RowError(self.title, row, column, message, letter))

    def warn(self, row: int, column: str, message: str, letter: str = "") -> None:
        self.warnings.append(RowError(self.title, row, column, message, letter))

    def err_at(self, row: int, key: str, message: str, *, warning: bool = False) -> None:
        header, letter = self.where.get(
            key, (lay.BY_KEY[key].header if key in lay.BY_KEY else key, "")
        )
        (self.warn if warning else self.error)(row, header, message, letter)

    # ---- rows -----------------------------------------------------------------------------

    def read(self) -> ReadResult:
        title = next((text(v) for r in self.rows[: self.header_row - 1] for v in r if v), "")
        roots: list[Node] = []
        path: list[Node | None] = [None] * 5
        last: Node | None = None
        stated_total: tuple[int, Decimal] | None = None
        count = 0
        self.progress.start("读取指标", max(0, len(self.rows) - self.header_row))
        for number_, values in enumerate(self.rows[self.header_row :], start=self.header_row + 1):
            self.progress.advance()
            cells = {k: values[i] for i, k in self.cols.items() if i < len(values)}
            cells = {k: v for k, v in cells.items() if v is not None and text(v) != ""}
            if not cells:
                continue
            first = text(next(v for v in values if v is not None and text(v) != ""))
            first_n = first.replace(" ", "").replace("\u3000", "")
            if any(first_n.startswith(w) for w in TOTAL_WORDS):
                stated_total = self._total(number_, cells, stated_total)
                continue
            if any(first_n.startswith(w) for w in NOTE_WORDS):
                continue
            count += 1
            last = self._row(number_, cells, path, roots, last)
        nodes = [n for n in _walk(roots)]
        if not nodes and not self.errors:
            self.error(self.header_row, "", "表头下没有任何指标行")
        self._finish(roots, nodes, stated_total)
        doc = self._document(title, roots, nodes, stated_total)
        locations = {i: n.row for i, n in enumerate(nodes)}
        return ReadResult(
            doc, self.errors, self.warnings, count, self.title, locations, dict(self.where)
        )

    def _total(
        self, row: int, cells: dict[str, Any], prev: tuple[int, Decimal] | None
    ) -> tuple[int, Decimal] | None:
        key = "points" if "points" in cells else None
        if key is None or prev is not None:
            return prev
        try:
            value = tr.parse_number(cells[key])
        except ValueError:
            self.err_at(row, key, f"合计行的分值“{text(cells[key])}”不是数字", warning=True)
            return prev
        return (row, value) if value is not None else prev

    def _row(
        self,
        row: int,
        cells: dict[str, Any],
        path: list[Node | None],
        roots: list[Node],
        last: Node | None,
    ) -> Node | None:
        names = {k: text(cells[k]) for k in lay.LEVEL_KEYS[: self.depth] if k in cells}
        deepest = max((lay.LEVEL_KEYS.index(k) + 1 for k in names), default=0)
        if deepest == 0:
            if last is None or last.children:
                self.error(row, "", "该行没有指标名称，上方也没有可归入的指标")
                return last
            self.warn(row, "", f"该行没有指标名称，已并入上一行的指标“{last.name}”")
            self._merge(last, cells, row)
            return last
        node: Node | None = None
        for level in range(1, deepest + 1):
            key = lay.LEVEL_KEYS[level - 1]
            parent = path[level - 1] if level > 1 else None
            if key not in names:
                if path[level] is None:
                    upper = lay.LEVEL_HEADERS[level - 1]
                    lower = lay.LEVEL_HEADERS[deepest - 1]
                    self.err_at(
                        row, key, f"{lower}“{names[lay.LEVEL_KEYS[deepest - 1]]}”上方没有{upper}"
                    )
                    return last
                continue
            name, name_points = tr.split_name(names[key])
            if not name:
                self.err_at(row, key, "指标名称为空")
                return last
            cur = path[level]
            if cur is not None and cur.name == name and cur.parent is parent:
                if level == deepest:
                    self.warn(row, lay.LEVEL_HEADERS[level - 1],
                              f"指标“{name}”与上一行重复，已将本行内容并入该指标")  # fmt: skip
                    self._merge(cur, cells, row)
                    return cur
                continue
            node = Node(row, level, name, parent, name_points=name_points, points=name_points)
            (parent.children if parent is not None else roots).append(node)
            path[level] = node
            for deeper in range(level + 1, 5):
                path[deeper] = None
        assert node is not None
        node.own_row = True
        node.cells = cells
        node.points = self._points(row, cells, node)
        return node

    def _points(self, row: int, cells: dict[str, Any], node: Node) -> Decimal | None:
        if "points" not in cells:
            return node.name_points
        try:
            value = tr.parse_number(cells["points"])
        except ValueError:
            self.err_at(row, "points", f"分值“{text(cells['points'])}”不是数字")
            return None
        if value is not None and value < 0:
            self.err_at(row, "points", "分值不能为负数")
        if value is not None and node.name_points is not None and value != node.name_points:
            self.err_at(
                row, "points",
                f"名称中标明 {_fmt(node.name_points)} 分，分值列为 {_fmt(value)} 分，以分值列为准",
                warning=True,
            )  # fmt: skip
        return value

    def _merge(self, node: Node, cells: dict[str, Any], row: int) -> None:
        for key in ("criteria", "methods", "evidence"):
            if key in cells:
                before = text(node.cells.get(key))
                node.cells[key] = f"{before}\n{text(cells[key])}" if before else cells[key]
        if "points" in cells:
            try:
                extra = tr.parse_number(cells["points"])
            except ValueError:
                self.err_at(row, "points", f"分值“{text(cells['points'])}”不是数字")
                return
            if extra is not None:
                node.points = (node.points or Decimal(0)) + extra

    # ---- after all rows -------------------------------------------------------------------

    def _finish(
        self, roots: list[Node], nodes: list[Node], stated_total: tuple[int, Decimal] | None
    ) -> None:
        for node in reversed(nodes):  # children before parents
            kids = [c for c in node.children if not _extra(c)]
            if not kids:
                continue
            if any(c.points is None for c in kids):
                continue
            total = sum((c.points for c in kids if c.points is not None), Decimal(0))
            if node.points is None:
                if "code" not in self.where:  # an agency file: the parent's points are the sum
                    node.points = total
            elif total != node.points:
                label = lay.LEVEL_HEADERS[node.level - 1]
                self.err_at(
                    node.row, lay.LEVEL_KEYS[node.level - 1],
                    f"{label}“{node.name}”标明 {_fmt(node.points)} 分，"
                    f"其下级指标分值合计 {_fmt(total)} 分",
                    warning=True,
                )  # fmt: skip
        if stated_total is not None:
            top = [n for n in roots if not _extra(n)]
            total = sum((n.points or Decimal(0) for n in top), Decimal(0))
            if total != stated_total[1]:
                self.err_at(
                    stated_total[0], "points",
                    f"合计行为 {_fmt(stated_total[1])} 分，各一级指标分值之和为 {_fmt(total)} 分",
                    warning=True,
                )  # fmt: skip

    def _document(
        self,
        title: str,
        roots: list[Node],
        nodes: list[Node],
        stated_total: tuple[int, Decimal] | None,
    ) -> dict[str, Any]:
        _assign_codes(roots, {n.row: text(n.cells.get("code")) for n in nodes if n.own_row})
        weights_mode = self.weights_mode
        top = [n for n in roots if not _extra(n)]
        if stated_total is not None:
            total: Any = number(stated_total[1])
        else:
            total = number(sum((n.points or Decimal(0) for n in top), Decimal(0))) or 100
        indicators = [self._indicator(n) for n in nodes]
        return {
            "format": FORMAT,
            "scheme": {"name": title, "description": "", "target_kind": "organization"},
            "version": {
                "label": "",
                "weighting": "weights" if weights_mode else "points",
                "total_points": 100 if weights_mode else total,
                "note": "",
            },
            "indicators": indicators,
        }

    def _indicator(self, n: Node) -> dict[str, Any]:
        c = n.cells if n.own_row else {}
        has = self.where.__contains__
        leaf = not n.children
        d: dict[str, Any] = {
            "code": n.code,
            "name": n.name,
            "parent": n.parent.code if n.parent else None,
            "points": None if self.weights_mode else number(n.points),
            "weight": None,
            "rule": None,
            "proposed_rule": {},
            "dimension": tr.dimension_of(n.name) if n.level == 1 else "",
            "criteria": text(c.get("criteria")),
            "methods": tr.parse_methods(text(c.get("methods"))),
            "evidence": tr.parse_evidence(text(c.get("evidence"))),
            "rater_weights": {},
            "data_source": "reviewer",
            "missing": "",
            "veto": {},
        }
        row = n.row
        if has("methods") and text(c.get("methods")) and not d["methods"]:
            self.err_at(row, "methods", f"考核方式“{text(c['methods'])}”无法识别", warning=True)
        if has("weight") and "weight" in c:
            try:
                w = tr.parse_weight(c["weight"])
                d["weight"] = number(w)
            except ValueError:
                self.err_at(row, "weight", f"权重“{text(c['weight'])}”不是数字")
        if has("dimension") and n.own_row:
            d["dimension"] = self._choice(row, "dimension", c, lay.DIMENSION_BY_LABEL)
        if has("source") and n.own_row:
            d["data_source"] = self._choice(row, "source", c, lay.SOURCE_BY_LABEL) or "reviewer"
        if has("missing") and n.own_row:
            d["missing"] = self._choice(row, "missing", c, lay.MISSING_BY_LABEL)
        if has("rater_weights") and "rater_weights" in c:
            d["rater_weights"] = self._rater_weights(row, text(c["rater_weights"]))
        if has("veto") and "veto" in c:
            d["veto"] = self._veto(row, text(c["veto"]))
        if has("rule") and "rule" in c:
            d["rule"] = self._json(row, "rule", c["rule"])
        if has("proposed") and n.own_row:
            d["proposed_rule"] = self._json(row, "proposed", c.get("proposed")) or {}
        elif leaf and d["rule"] is None:
            d["proposed_rule"] = tr.propose_rule(d["criteria"], n.points, n.name)
        if "overrides" in c:
            extra = self._json(row, "overrides", c["overrides"]) or {}
            d.update({k: v for k, v in extra.items() if k in INDICATOR_FIELDS})
        return d

    def _choice(self, row: int, key: str, c: dict[str, Any], table: dict[str, str]) -> str:
        value = text(c.get(key))
        if not value:
            return ""
        if value in table:
            return table[value]
        if value in table.values():
            return value
        self.err_at(row, key, f"“{value}”无效，可选：{'、'.join(table)}")
        return ""

    def _rater_weights(self, row: int, value: str) -> dict[str, Any]:
        out, bad = tr.parse_rater_weights(value, lay.GROUP_BY_LABEL)
        groups = "、".join(lay.GROUP_BY_LABEL)
        for part in bad:
            self.err_at(
                row, "rater_weights", f"“{part}”无法识别，应如“机关党委 40%”（评价主体：{groups}）"
            )
        return out

    def _veto(self, row: int, value: str) -> dict[str, Any]:
        if value == lay.VETO_ZERO:
            return {"effect": "zero"}
        if value.startswith(lay.VETO_CEILING) and value[len(lay.VETO_CEILING) :]:
            return {"effect": "ceiling", "grade": value[len(lay.VETO_CEILING) :]}
        self.err_at(
            row, "veto", f"“{value}”无效，应为“{lay.VETO_ZERO}”或“{lay.VETO_CEILING}一般”等"
        )
        return {}

    def _json(self, row: int, key: str, value: Any) -> Any:
        s = text(value)
        if not s:
            return None
        try:
            parsed = json.loads(s)
        except ValueError:
            self.err_at(row, key, "不是有效的 JSON")
            return None
        if not isinstance(parsed, dict):
            self.err_at(row, key, "应为 JSON 对象（{…}）")
            return None
        return parsed


def _fmt(d: Decimal) -> str:
    return str(number(d))


def _walk(roots: list[Node]) -> list[Node]:
    out: list[Node] = []
    stack = list(reversed(roots))
    while stack:
        n = stack.pop()
        out.append(n)
        stack.extend(reversed(n.children))
    return out


def _extra(node: Node) -> bool:
    """Bonus, penalty and veto items: outside the weighted base, not summed into totals."""
    if node.children:
        return False
    rule = text(node.cells.get("rule"))
    for kind in EXTRA_KINDS:
        if f'"kind": "{kind}"' in rule or f'"kind":"{kind}"' in rule:
            return True
    if rule:
        return False
    kind = tr.propose_rule(text(node.cells.get("criteria")), node.points, node.name)["kind"]
    return kind in EXTRA_KINDS


def _assign_codes(roots: list[Node], given: dict[int, str]) -> None:
    """Codes from the 指标编码 column, else 1, 1.1, 1.1.1 from the positions."""

    def visit(nodes: list[Node], prefix: str) -> None:
        for i, n in enumerate(nodes, start=1):
            auto = f"{prefix}{i}"
            n.code = (given.get(n.row) if n.own_row else "") or auto
            visit(n.children, f"{auto}.")

    visit(roots, "")
