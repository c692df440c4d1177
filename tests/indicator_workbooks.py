"""Realistic 考核评分细则 workbooks in the messy layout agencies circulate, for import tests,
the benchmark and browser tests.

``messy_workbook(path)`` imports cleanly but the validation report then finds problems (组织建设
is stated as 20 分 while its items add up to 17; one item has no 评分标准); ``fixed_workbook(path)``
is the same system with both fixed.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from openpyxl import Workbook

HEADER = ["序号", "考核项目", "考核要点", "分值", "考核内容及评分标准", "考核方法", "备查材料"]

# (一级 with points, [(二级, points, criteria, methods, evidence)])
SECTIONS: list[tuple[str, list[tuple[str, float, str, str, str]]]] = [
    ("一、政治建设（15分）", [
        ("学习贯彻党的创新理论", 5, "制定年度学习计划，每月集中学习。每缺一次集中学习扣1分，扣完为止。", "查阅台账、个别访谈", "年度学习计划；集中学习记录12份"),
        ("严肃党内政治生活", 5, "批评和自我批评流于形式的扣2分；未开展谈心谈话的每发现一次扣1分。", "个别访谈", "谈心谈话登记"),
        ("执行请示报告制度", 5, "重大事项应请示未请示的，发现一次扣2分。", "查阅资料", "请示报告件（如有）"),
    ]),
    ("二、思想建设（10分）", [
        ("意识形态工作", 5, "每半年分析研判一次意识形态形势，每少一次扣1分。", "查阅资料、实地查看", "分析研判报告2份"),
        ("主题党日", 5, "按好、较好、一般、差四个等次评价主题党日活动质量。", "民主测评", ""),
    ]),
    ("三、组织建设（20分）", [
        ("“三会一课”", 8, "支部委员会每少一次扣0.5分；党员大会每少一次扣1分；扣完为止。", "查阅台账", "会议纪要"),
        ("发展党员", 6, "发展程序不规范的，每发现一人次扣1分。", "查阅资料", "发展党员纪实表"),
        ("党费收缴", 6, "党费按时足额交纳，未按时交纳的每人次扣0.5分。", "数据比对", ""),
    ]),
    ("四、作风建设（10分）", [
        ("中央八项规定精神", 5, "发现违反中央八项规定精神问题的，每起扣2分。", "数据比对", ""),
        ("联系服务群众", 5, "深入基层联系群众，解决实际困难，群众满意。", "个别访谈、问卷调查", ""),
    ]),
    ("五、纪律建设（10分）", [
        ("纪律教育", 5, "每季度开展一次纪律教育，每少一次扣1分。", "查阅资料", "纪律教育安排"),
        ("遵规守纪", 5, "党员受到党纪处分的，每人次扣2分。", "系统数据", ""),
    ]),
    ("六、制度建设（10分）", [
        ("制度健全", 5, "每缺少一项重要制度扣1分。", "查阅资料", "制度汇编"),
        ("制度执行", 5, "制度执行到位、问题整改见效。", "实地查看", ""),
    ]),
    ("七、党风廉政建设（10分）", [
        ("主体责任", 5, "落实全面从严治党主体责任，责任传导到位。", "个别访谈", ""),
        ("廉政风险防控", 5, "未开展风险排查的扣1分；防控措施不落实的每处扣0.5分。", "查阅资料、实地查看", "风险防控清单"),
    ]),
    ("八、党建业务融合（15分）", [
        ("围绕中心发挥作用", 8, "在重点任务中发挥战斗堡垒作用，成效明显。", "个别访谈", ""),
        ("业务任务完成", 7, "年度重点任务完成率100%得满分。", "数据比对", ""),
    ]),
]  # fmt: skip
EXTRA_ROWS = [
    ("加分项", None, "获得市级以上表彰的每项加1分，最多加5分。", "查阅资料", "表彰文件"),
    ("一票否决", None, "发生严重违纪违法问题的，实行一票否决。", "", ""),
]


def build(
    *,
    sections: list[tuple[str, list[tuple[str, float, str, str, str]]]] | None = None,
    title: str = "2024年度机关党支部党建工作考核评分细则",
    total: float | None = 100,
    merge: bool = True,
    header: list[str] | None = None,
) -> Workbook:
    """The workbook: title row, blank row, header, 一级 merged down, a blank row between
    sections, 加分/否决 rows, 合计 and 备注 rows."""
    wb = Workbook()
    ws = wb.active
    ws.title = "评分细则"
    ws.append([title])
    ws.merge_cells("A1:G1")
    ws.append([])
    ws.append(header or HEADER)
    n = 0
    for top, items in sections if sections is not None else SECTIONS:
        first = 0
        for i, (name, pts, criteria, methods, evidence) in enumerate(items):
            n += 1
            ws.append([n, top if i == 0 else None, name, pts, criteria, methods, evidence])
            first = first or ws.max_row
        if merge and len(items) > 1:
            ws.merge_cells(start_row=first, start_column=2, end_row=ws.max_row, end_column=2)
        ws.append([])
    for name, pts, criteria, methods, evidence in EXTRA_ROWS:
        n += 1
        ws.append([n, name, None, pts, criteria, methods, evidence])
    ws.append(["合计", None, None, total])
    ws.append(["备注：1. 本细则由机关党委负责解释。2. 加分项最多加5分。"])
    return wb


def to_bytes(wb: Workbook) -> io.BytesIO:
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


def _messy_sections() -> list[Any]:
    sections = [(top, list(items)) for top, items in SECTIONS]
    top, items = sections[2]
    sections[2] = (top, [items[0], items[1], ("党费收缴", 3, "", "数据比对", "")])
    return sections


def messy_workbook(path: str | Path) -> Path:
    """组织建设 stated 20 分 but its items add up to 17 (8 + 6 + 3); 党费收缴 has no criteria."""
    build(sections=_messy_sections()).save(path)
    return Path(path)


def fixed_workbook(path: str | Path) -> Path:
    build().save(path)
    return Path(path)


def large_workbook(rows: int = 500) -> Workbook:
    """``rows`` leaf rows in the messy layout (8 一级 sections, 3-level tree)."""
    per_section = rows // 8
    sections = []
    for s in range(8):
        top, items = SECTIONS[s]
        name = top.split("（")[0]
        count = per_section + (rows - per_section * 8 if s == 7 else 0)
        leaves = [
            (f"{items[k % len(items)][0]}{k + 1}", 1, items[k % len(items)][2],
             items[k % len(items)][3], items[k % len(items)][4])
            for k in range(count)
        ]  # fmt: skip
        sections.append((f"{name}（{count}分）", leaves))
    return build(sections=sections, total=rows)
