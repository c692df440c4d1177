"""Result-use exports: Excel (openpyxl) and printable PDF (reportlab) of the 评先评优 list, the
问责 list and the 选拔任用 files (one PDF per cadre, or all in one).

Each export names the campaign, the result set and the rules applied. The PDFs are A4 with a
title, tables, the generated date and page numbers (第 n 页 / 共 N 页), in a Chinese font that is
embedded: Noto Sans CJK SC from the machine (fonts-noto-cjk). reportlab embeds TrueType outlines
only and Noto CJK's are PostScript (CFF), so the glyphs a document uses are subset with
fontTools and converted to TrueType quadratic outlines first (well under a second). Without the
font file, the PDF falls back to reportlab's built-in CID font STSong-Light (not embedded; the
reader supplies it), and a warning is logged.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone

from .use import CadreFile, CadreFiles, Usable, UseList
from .use_fonts import cjk_font

logger = logging.getLogger(__name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
FORMULA_PREFIXES = ("=", "+", "-", "@")

# ---- the shared description of a document ----------------------------------------------------


@dataclass
class Table:
    header: list[str]
    rows: list[list[Any]]
    widths: list[float]  # relative column widths (PDF) and Excel character widths
    wrap: tuple[int, ...] = ()  # columns whose text wraps in the PDF
    caption: str = ""


@dataclass
class Section:
    heading: str = ""
    lines: list[str] = field(default_factory=list)  # paragraphs
    tables: list[Table] = field(default_factory=list)
    new_page: bool = False


@dataclass
class Document:
    title: str
    meta: list[str]
    sections: list[Section]


def _fmt(x: Any) -> Any:
    if isinstance(x, float):
        return round(x, 2)
    return x


def _num(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f}%"


def meta_lines(u: Usable) -> list[str]:
    c, rs = u.campaign, u.result_set
    lines = [
        f"考核活动：{c.name}（{c.get_campaign_type_display()}，"
        f"{c.period_start:%Y-%m-%d} 至 {c.period_end:%Y-%m-%d}，组织单位：{c.owner.name}）"
    ]
    if rs is not None:
        approved = ""
        if rs.approved_at:
            who = rs.approved_by.display_name if rs.approved_by else ""
            approved = f"，{who} 于 {timezone.localtime(rs.approved_at):%Y-%m-%d} 审批"
        lines.append(f"考核结果：第 {rs.number} 次计算，{rs.get_status_display()}{approved}")
    rules = u.rule_texts()
    lines.append("结果运用规则：" + ("；".join(rules) if rules else "本活动未声明结果运用规则"))
    return lines


# ---- building the documents ------------------------------------------------------------------


def list_document(ul: UseList) -> Document:
    u = ul.usable
    meta = meta_lines(u)
    sections: list[Section] = []
    if ul.kind == "awards":
        header = ["序号", "排名", "考核对象", "所属", "总分", "等次", "组内排名", "依据"]
        widths = [5, 5, 22, 16, 8, 6, 8, 30]
        rows = [
            [i, r.rank, r.target.name, r.target.group_name, _fmt(r.total), r.grade, r.group_rank,
             "；".join(r.rules)]
            for i, r in enumerate(ul.rows, start=1)
        ]  # fmt: skip
        sections.append(
            Section(
                heading=f"具备评先评优资格的考核对象（{len(rows)} 个）",
                lines=[] if rows else ["没有符合条件的考核对象。"],
                tables=[Table(header, rows, widths, wrap=(2, 3, 7))] if rows else [],
            )
        )
        if ul.excluded:
            ex = [
                [i, r.rank, r.target.name, r.target.group_name, _fmt(r.total), r.grade,
                 "；".join(r.reasons)]
                for i, r in enumerate(ul.excluded, start=1)
            ]  # fmt: skip
            sections.append(
                Section(
                    heading=f"符合等次条件但不具备资格的考核对象（{len(ex)} 个）",
                    tables=[
                        Table(
                            ["序号", "排名", "考核对象", "所属", "总分", "等次", "原因"],
                            ex,
                            [5, 5, 22, 16, 8, 6, 38],
                            wrap=(2, 3, 6),
                        )
                    ],
                )  # fmt: skip
            )
    else:
        header = ["序号", "排名", "考核对象", "所属", "总分", "等次", "问责原因", "限期整改"]
        widths = [5, 5, 20, 15, 8, 6, 33, 8]
        rows = [
            [i, r.rank, r.target.name, r.target.group_name, _fmt(r.total), r.grade,
             "；".join(r.reasons), "是" if r.rectify else "否"]
            for i, r in enumerate(ul.rows, start=1)
        ]  # fmt: skip
        sections.append(
            Section(
                heading=f"列入问责名单的考核对象（{len(rows)} 个）",
                lines=[] if rows else ["没有符合条件的考核对象。"],
                tables=[Table(header, rows, widths, wrap=(2, 3, 6))] if rows else [],
            )
        )
    return Document(f"{u.campaign.name} · {ul.title}", meta, sections)


def _rank(rank: int | None, of: int) -> str:
    return "—" if rank is None else f"{rank} / {of}"


def _previous_text(f: CadreFile) -> str:
    return "；".join(
        f"{p.campaign_name} {p.grade or '未定等次'} {p.total:.2f} 分" for p in f.previous
    )


def cadre_sections(f: CadreFile, *, new_page: bool) -> list[Section]:
    r = f.result
    basic = [
        ["姓名", f.person_name, "职务", f.post],
        ["所在单位", f.unit_name, "考核对象", f.target.name],
        ["总分", _num(r.total), "等次", r.grade or "未定等次"],
        ["综合排名", _rank(r.rank, f.of), f"组内排名（{f.target.group_name or '—'}）",
         _rank(r.group_rank, f.group_size)],
    ]  # fmt: skip
    notes = []
    if f.flags:
        notes.append("标记：" + "、".join(f.flags))
    if f.vetoes:
        notes.append("一票否决：" + "；".join(f.vetoes))
    if f.use_labels:
        notes.append("按规则运用：" + "；".join(f.use_labels))
    out = [
        Section(
            heading=f"{f.person_name} · {f.post} · {f.unit_name}",
            lines=notes,
            tables=[
                Table(["项目", "内容", "项目", "内容"], basic, [14, 36, 18, 32], wrap=(0, 1, 2, 3))
            ],
            new_page=new_page,
        ),
        Section(
            heading="各维度得分",
            tables=[
                Table(
                    ["维度", "得分", "满分", "全体平均"],
                    [
                        [
                            d.name,
                            _num(d.score),
                            _num(d.points, 1) if d.points is not None else "—",
                            _num(d.mean),
                        ]
                        for d in f.dimensions
                    ],
                    [40, 20, 20, 20],
                    wrap=(0,),
                )
            ],
        ),  # fmt: skip
    ]
    if f.ballots:
        rows = [
            [b.group, b.ballots, _pct(b.good_pct), _pct(b.satisfaction_pct), _pct(b.bad_pct)]
            if b.shown else [b.group, b.ballots, b.note, "", ""]
            for b in f.ballots
        ]  # fmt: skip
        out.append(
            Section(
                heading="民主测评",
                tables=[
                    Table(
                        ["评价主体", "票数", "好评率", "满意率（好+较好）", "差评率"],
                        rows,
                        [30, 12, 18, 22, 18],
                        wrap=(0, 2),
                    )
                ],
            )  # fmt: skip
        )
    else:
        out.append(Section(heading="民主测评", lines=[f.ballot_note or "无选票"]))
    d = f.debriefing
    if d is None:
        deb = ["无述职评议记录。"]
    else:
        deb = [f"{d.campaign_name}（{d.period}）"]
        deb.append(
            d.note or f"等次：{d.grade or '未定等次'}；得分：{_num(d.total)}；排名：{d.rank or '—'}"
        )
        comment = d.comment or "（无点评意见）"
        who = f"（{d.commented_by}，{timezone.localtime(d.commented_at):%Y-%m-%d}）" if (
            d.commented_by and d.commented_at) else ""  # fmt: skip
        deb.append(f"点评意见：{comment}{who}")
    out.append(Section(heading="述职评议", lines=deb))
    rect = f.rectification
    lines = ["按结果运用规则须限期整改。"] if rect.required else []
    tables = []
    if rect.tasks:
        tables.append(
            Table(
                ["整改问题", "期限", "状态"],
                [[t["problem"], f"{t['deadline']:%Y-%m-%d}" if t["deadline"] else "—",
                  t["status"] + ("（已逾期）" if t["overdue"] else "")] for t in rect.tasks],
                [60, 18, 22], wrap=(0,),
            )
        )  # fmt: skip
    else:
        lines.append(rect.text)
    out.append(Section(heading="整改记录", lines=lines, tables=tables))
    if f.previous:
        out.append(
            Section(
                heading="历次考核结果",
                tables=[
                    Table(
                        ["考核活动", "考核期", "等次", "总分", "排名"],
                        [
                            [
                                p.campaign_name,
                                p.period,
                                p.grade or "—",
                                _num(p.total),
                                _rank(p.rank, p.of),
                            ]
                            for p in f.previous
                        ],
                        [34, 28, 12, 12, 14],
                        wrap=(0, 1),
                    )
                ],
            )  # fmt: skip
        )
    else:
        out.append(Section(heading="历次考核结果", lines=["无此前考核结果。"]))
    return out


def cadre_document(cf: CadreFiles, files: list[CadreFile] | None = None) -> Document:
    files = cf.files if files is None else files
    u = cf.usable
    sections: list[Section] = []
    for i, f in enumerate(files):
        sections.extend(cadre_sections(f, new_page=i > 0))
    if not files:
        sections.append(Section(lines=["没有符合条件的干部考核档案。"]))
    title = f"{u.campaign.name} · {cf.title}"
    if len(files) == 1:
        title = f"{title}（{files[0].person_name}）"
    return Document(title, meta_lines(u), sections)


def cadre_summary_table(cf: CadreFiles) -> Table:
    dims = cf.dimension_names
    header = [
        "序号",
        "姓名",
        "职务",
        "所在单位",
        "考核对象",
        "总分",
        "等次",
        "综合排名",
        "组内排名",
    ]
    header += [name for _, name in dims]
    header += [f"{g}满意率" for g in cf.ballot_groups]
    header += ["述职评议", "点评意见", "整改记录", "按规则运用", "历次考核结果"]
    widths = [6, 10, 10, 18, 18, 8, 6, 10, 10] + [10] * len(dims) + [12] * len(cf.ballot_groups)
    widths += [16, 30, 16, 24, 36]
    rows = []
    for i, f in enumerate(cf.files, start=1):
        r = f.result
        row: list[Any] = [i, f.person_name, f.post, f.unit_name, f.target.name, _fmt(r.total),
                          r.grade, _rank(r.rank, f.of), _rank(r.group_rank, f.group_size)]  # fmt: skip
        row += [_fmt(d.score) for d in f.dimensions]
        row += [(b.satisfaction_pct if b.shown else b.note) for b in f.ballots] or [""] * len(
            cf.ballot_groups
        )
        d = f.debriefing
        row += [
            (d.note or f"{d.grade or '未定等次'}（{d.campaign_name}）") if d else "",
            d.comment if d else "",
            f.rectification.text,
            "；".join(f.use_labels),
            _previous_text(f),
        ]
        rows.append(row)
    return Table(header, rows, widths)


# ---- Excel ------------------------------------------------------------------------------------


def workbook(doc: Document, sheets: list[tuple[str, Table]]) -> bytes:
    """One sheet per table: a title row (merged), the campaign and rules, the generated time,
    then the header (frozen) and the rows; column widths set."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    generated = f"生成时间：{timezone.localtime():%Y-%m-%d %H:%M}"
    for name, table in sheets:
        ws = wb.create_sheet(name[:31])
        n = max(len(table.header), 1)
        ws.append([doc.title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=n)
        ws.cell(1, 1).font = Font(bold=True, size=14)
        ws.cell(1, 1).alignment = Alignment(horizontal="center")
        ws.row_dimensions[1].height = 24
        row = 2
        for line in [*doc.meta, generated]:
            ws.cell(row, 1, value=line)
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=n)
            row += 1
        if table.caption:
            ws.cell(row, 1, value=table.caption).font = Font(bold=True)
            row += 1
        head = row
        for j, h in enumerate(table.header, start=1):
            c = ws.cell(head, j, value=h)
            c.font = Font(bold=True)
            c.fill = PatternFill("solid", fgColor="DDE6F0")
            c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for values in table.rows:
            row += 1
            for j, v in enumerate(values, start=1):
                c = ws.cell(row, j, value=_fmt(v))
                if isinstance(v, str) and v.startswith(FORMULA_PREFIXES):
                    c.data_type = "s"  # text typed by users is never a formula
        ws.freeze_panes = ws.cell(head + 1, 1)
        for j, w in enumerate(table.widths, start=1):
            ws.column_dimensions[get_column_letter(j)].width = max(6, w * 1.6)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def list_workbook(ul: UseList) -> bytes:
    doc = list_document(ul)
    sheets = []
    for s in doc.sections:
        for t in s.tables:
            sheets.append((s.heading.split("（")[0][:31], t))
    if not sheets:
        sheets = [(ul.title, Table(["说明"], [["没有符合条件的考核对象。"]], [40]))]
    return workbook(doc, sheets)


def cadre_workbook(cf: CadreFiles) -> bytes:
    doc = Document(f"{cf.usable.campaign.name} · {cf.title}", meta_lines(cf.usable), [])
    return workbook(doc, [("干部考核档案", cadre_summary_table(cf))])


# ---- PDF: the document -----------------------------------------------------------------------


def _texts(docs: Iterable[Document]) -> str:
    parts: list[str] = []
    for d in docs:
        parts += [d.title, *d.meta]
        for s in d.sections:
            parts += [s.heading, *s.lines]
            for t in s.tables:
                parts += [t.caption, *t.header]
                parts += [str(v) for row in t.rows for v in row if v is not None]
    return "".join(parts)


def _canvas_maker(font: str, footer: str) -> Callable[..., Any]:
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    class NumberedCanvas(canvas.Canvas):
        """Draws 第 n 页 / 共 N 页 once the number of pages is known."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                width, _ = self._pagesize
                self.setFont(font, 8)
                self.setFillGray(0.4)
                self.drawString(18 * mm, 10 * mm, footer)
                self.drawRightString(width - 18 * mm, 10 * mm,
                                     f"第 {self._pageNumber} 页 / 共 {total} 页")  # fmt: skip
                super().showPage()
            super().save()

    return NumberedCanvas


def render_pdf(doc: Document, *, progress: Any = None) -> bytes:
    """A4 portrait: title, meta lines, sections with tables; footer with the generated date
    and page numbers."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        KeepTogether,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        TableStyle,
    )
    from reportlab.platypus import Table as RLTable

    generated = timezone.localtime()
    footer = f"{doc.title} · 生成日期：{generated:%Y-%m-%d %H:%M}"
    font = cjk_font(_texts([doc]) + footer)
    base = {"fontName": font, "wordWrap": "CJK"}
    title_style = ParagraphStyle("kp-title", fontSize=16, leading=22, alignment=1,
                                 spaceAfter=4 * mm, **base)  # fmt: skip
    meta_style = ParagraphStyle("kp-meta", fontSize=8.5, leading=12, textColor=colors.grey, **base)
    h_style = ParagraphStyle("kp-h", fontSize=11.5, leading=16, spaceBefore=4 * mm,
                             spaceAfter=2 * mm, **base)  # fmt: skip
    p_style = ParagraphStyle("kp-p", fontSize=9.5, leading=14, **base)
    cell_style = ParagraphStyle("kp-cell", fontSize=8.5, leading=11, **base)
    left, right = 18 * mm, 18 * mm
    width = A4[0] - left - right
    story: list[Any] = [Paragraph(escape(doc.title), title_style)]
    story += [Paragraph(escape(line), meta_style) for line in doc.meta]
    story.append(Spacer(1, 2 * mm))
    for s in doc.sections:
        if s.new_page:
            story.append(PageBreak())
        head: list[Any] = []
        if s.heading:
            head.append(Paragraph(escape(s.heading), h_style))
        head += [Paragraph(escape(line), p_style) for line in s.lines]
        body: list[Any] = []
        for t in s.tables:
            total_w = sum(t.widths) or 1
            col_w = [width * w / total_w for w in t.widths]
            data = [[Paragraph(escape(h), cell_style) for h in t.header]]
            for row in t.rows:
                data.append(
                    [
                        Paragraph(escape(str(v)), cell_style)
                        if j in t.wrap
                        else ("" if v is None else str(_fmt(v)))
                        for j, v in enumerate(row)
                    ]
                )
            table = RLTable(data, colWidths=col_w, repeatRows=1)
            table.setStyle(
                TableStyle(
                    [
                        ("FONT", (0, 0), (-1, -1), font, 8.5),
                        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDE6F0")),
                        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                        (
                            "ROWBACKGROUNDS",
                            (0, 1),
                            (-1, -1),
                            [colors.white, colors.HexColor("#F6F8FA")],
                        ),
                    ]
                )
            )
            body.append(table)
        small = sum(len(t.rows) for t in s.tables) < 15
        # a heading stays with a short table; a long one may break after its first rows
        story.append(KeepTogether([*head, *body]) if small else KeepTogether(head))
        if not small:
            story += body
    buf = io.BytesIO()
    pdf = SimpleDocTemplate(
        buf, pagesize=A4, leftMargin=left, rightMargin=right, topMargin=16 * mm,
        bottomMargin=18 * mm, title=doc.title, author="考评", subject=doc.title,
        creator="Kaoping",
    )  # fmt: skip
    if progress is not None:  # a job: report reportlab's layout progress
        progress.start("生成 PDF", 1)

        def report(kind: str, value: int) -> None:
            if kind == "SIZE_EST":
                progress.start("生成 PDF", max(int(value), 1))
            elif kind == "PROGRESS":
                progress.advance(int(value) - progress.done)

        pdf.setProgressCallBack(report)
    pdf.build(story, canvasmaker=_canvas_maker(font, footer))
    return buf.getvalue()


# ---- the export (audited) --------------------------------------------------------------------

#: combined cadre PDFs with more files than this are made by a job (2,000 take about a minute)
SYNC_CADRE_FILES = 150
#: what may be exported: (kind, format)
EXPORTS = {
    ("awards", "xlsx"), ("awards", "pdf"), ("accountability", "xlsx"), ("accountability", "pdf"),
    ("cadres", "xlsx"), ("cadres", "pdf"), ("cadre", "pdf"),
}  # fmt: skip


@dataclass
class Export:
    filename: str
    content_type: str
    data: bytes
    rows: int


def build(
    u: Usable, kind: str, fmt: str, *, target_id: int | None = None, progress: Any = None
) -> Export:
    """The file for ``kind`` (awards, accountability, cadres, or one cadre's) in ``fmt``."""
    from django.core.exceptions import ValidationError

    from . import use

    if (kind, fmt) not in EXPORTS:
        raise ValidationError("不支持的导出类型")
    if not u.ok:
        raise ValidationError(u.reason)
    stamp = f"{timezone.localtime():%Y%m%d_%H%M}"
    if kind in ("awards", "accountability"):
        ul = use.award_list(u) if kind == "awards" else use.accountability_list(u)
        data = list_workbook(ul) if fmt == "xlsx" else render_pdf(list_document(ul))
        name, rows = f"{u.campaign.name}_{ul.title}_{stamp}.{fmt}", len(ul.rows)
    else:
        cf = use.cadre_files(u, target_ids=[target_id] if kind == "cadre" else None)
        if kind == "cadre" and not cf.files:
            raise ValidationError("该考核对象没有干部考核档案")
        if fmt == "xlsx":
            data = cadre_workbook(cf)
        else:
            data = render_pdf(cadre_document(cf), progress=progress)
        who = f"_{cf.files[0].person_name}" if kind == "cadre" else ""
        name, rows = f"{u.campaign.name}_{cf.title}{who}_{stamp}.{fmt}", len(cf.files)
    return Export(name, XLSX if fmt == "xlsx" else PDF, data, rows)


def export(
    *,
    actor: Any,
    u: Usable,
    kind: str,
    fmt: str,
    target_id: int | None = None,
    progress: Any = None,
) -> Export:
    """Build an export and audit it (what, format, rows, the rules applied)."""
    from django.db import transaction

    from kaoping.audit.actions import Action
    from kaoping.audit.services import log_action

    out = build(u, kind, fmt, target_id=target_id, progress=progress)
    rs = u.result_set
    assert rs is not None
    with transaction.atomic():
        log_action(
            Action.RESULT_USE_EXPORT, actor=actor, obj=rs, object_repr=str(rs),
            data={"what": KIND_NAMES[kind], "format": fmt, "file": out.filename, "rows": out.rows,
                  "campaign": u.campaign.name, "result_set": rs.number,
                  "rules": u.rule_texts(), **({"target": target_id} if target_id else {})},
        )  # fmt: skip
    return out


KIND_NAMES = {
    "awards": "评先评优资格名单",
    "accountability": "问责名单",
    "cadres": "选拔任用干部考核档案（全部）",
    "cadre": "选拔任用干部考核档案（单人）",
}
