"""Import and export of indicator systems: Excel (考核评分细则) and JSON (``kaoping.scheme/1``).

``import_scheme`` reads a file (format by extension), collects every problem with its place
(sheet and row, or JSON path), and only when there is none writes the whole version in one
transaction (``scheme_write``). ``export_version`` writes the same formats back; a round trip
gives the same canonical JSON.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from typing import IO, Any

from kaoping.audit.actions import Action
from kaoping.audit.services import log_action
from kaoping.jobs.registry import Progress
from kaoping.organizations.import_read import RowError, WorkbookError

from .excel_read import read_scheme_workbook
from .excel_write import write_scheme_workbook
from .models import Scheme, SchemeVersion
from .scheme_doc import DocError, dumps, parse_document, version_document
from .scheme_write import CLI_ACTOR_NAME, SchemeWriteError, write_plan

FORMATS = ("xlsx", "json")
MAX_ERRORS = 500
JSON_SHEET = "JSON"
FIELD_COLUMN = {
    "code": "code", "name": "l1", "parent": "l1", "points": "points", "weight": "weight",
    "rule": "rule", "proposed_rule": "proposed", "dimension": "dimension",
    "criteria": "criteria", "methods": "methods", "evidence": "evidence",
    "rater_weights": "rater_weights", "data_source": "source", "missing": "missing",
    "veto": "veto",
}  # fmt: skip
FIELD_LABEL = {
    "code": "指标编码", "name": "指标名称", "parent": "上级指标", "points": "分值", "weight": "权重",
    "rule": "计分规则", "proposed_rule": "建议规则", "dimension": "维度", "criteria": "评分标准",
    "methods": "考核方式", "evidence": "佐证材料", "rater_weights": "评价主体权重",
    "data_source": "数据来源", "missing": "缺失数据处理", "veto": "一票否决",
}  # fmt: skip


@dataclass
class SchemeImportReport:
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    error_total: int = 0
    version: SchemeVersion | None = None
    indicators: int = 0
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.error_total

    def fail(self, message: str, sheet: str = "", row: int = 0, column: str = "") -> None:
        self.errors.append(RowError(sheet, row, column, message))
        self.error_total += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "errors": [e.as_dict() for e in self.errors],
            "warnings": [w.as_dict() for w in self.warnings],
            "error_total": self.error_total,
            "version": self.version.pk if self.version else None,
            "indicators": self.indicators,
        }


def format_of(filename: str) -> str:
    ext = os.path.splitext(filename or "")[1].lower().lstrip(".")
    return ext if ext in FORMATS else ""


def read_document(
    source: str | os.PathLike[str] | IO[bytes],
    fmt: str,
    report: SchemeImportReport,
    progress: Progress,
) -> tuple[dict[str, Any] | None, Any]:
    """The document read from ``source`` and a function placing a DocError (row, column)."""
    if fmt == "json":
        try:
            if isinstance(source, str | os.PathLike):
                with open(source, "rb") as fh:
                    raw = fh.read()
            else:
                raw = source.read()
            data = json.loads(raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw)
        except (UnicodeDecodeError, ValueError) as exc:
            report.fail(f"不是有效的 UTF-8 JSON 文件：{exc}", JSON_SHEET)
            return None, None
        return data, lambda e: RowError(JSON_SHEET, 0, e.path, e.message)
    try:
        result = read_scheme_workbook(source, progress)
    except WorkbookError as exc:
        report.fail(str(exc))
        return None, None
    report.warnings.extend(result.warnings)
    report.rows = result.rows
    for e in result.errors:
        report.errors.append(e)
        report.error_total += 1

    def place(e: DocError) -> RowError:
        row = result.locations.get(e.index, 0) if e.index is not None else 0
        key = FIELD_COLUMN.get(e.field, "")
        header, letter = result.columns.get(key, (FIELD_LABEL.get(e.field, e.field), ""))
        return RowError(result.sheet, row, header, e.message, letter)

    return result.doc, place


def import_scheme(
    *,
    actor: Any,
    source: str | os.PathLike[str] | IO[bytes],
    filename: str,
    owner: Any = None,
    scheme: Scheme | None = None,
    name: str = "",
    dry_run: bool = False,
    progress: Progress | None = None,
) -> SchemeImportReport:
    """Check the file and, when it has no errors and not ``dry_run``, write it as a new scheme
    (``owner``, ``name``) or as a new draft of ``scheme``. The caller checks permissions."""
    progress = progress or Progress()
    report = SchemeImportReport()
    fmt = format_of(filename)
    if not fmt:
        report.fail("只能导入 .xlsx（Excel）或 .json 文件")
        return report
    doc, place = read_document(source, fmt, report, progress)
    if doc is None:
        return report
    plan, doc_errors = parse_document(doc)
    for e in doc_errors:
        report.errors.append(place(e))
        report.error_total += 1
    report.errors.sort(key=lambda e: (e.row, e.letter))
    report.errors = report.errors[:MAX_ERRORS]
    if report.error_total or plan is None:
        return report
    report.indicators = len(plan.indicators)
    if scheme is None and not (name or plan.scheme.get("name")):
        report.fail("请填写指标体系名称")
        return report
    if dry_run:
        return report
    try:
        report.version = write_plan(
            actor=actor,
            plan=plan,
            owner=owner,
            scheme=scheme,
            name=name,
            source=f"导入 {os.path.basename(filename)}",
            progress=progress,
        )
    except SchemeWriteError as exc:
        report.fail(str(exc))
    return report


def export_bytes(version: SchemeVersion, fmt: str) -> bytes:
    doc = version_document(version)
    if fmt == "json":
        return dumps(doc).encode("utf-8")
    buf = io.BytesIO()
    write_scheme_workbook(doc, buf)
    return buf.getvalue()


def export_version(*, actor: Any, version: SchemeVersion, fmt: str) -> bytes:
    """The version as .xlsx or .json bytes; the export is audited."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    data = export_bytes(version, fmt)
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    log_action(
        Action.EXPORT,
        actor=user,
        actor_name="" if user is not None else CLI_ACTOR_NAME,
        obj=version,
        object_type="indicators.schemeversion",
        data={"格式": fmt, "指标数": version.indicators.count()},
    )
    return data


def export_filename(version: SchemeVersion, fmt: str) -> str:
    return f"{version.scheme.name}_第{version.number}版.{fmt}"


__all__ = [
    "FORMATS",
    "SchemeImportReport",
    "export_bytes",
    "export_filename",
    "export_version",
    "format_of",
    "import_scheme",
]
