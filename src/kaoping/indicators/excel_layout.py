"""The Excel layout of a 考核评分细则, shared by the reader and the writer.

One sheet: title rows, a header row, one row per indicator (or per leaf, with the upper levels'
cells merged down or left blank), an optional 合计 row and 备注 rows. The plain columns are the
ones agencies print; the columns to the right (指标编码 … 系统字段) carry what the system needs
for an exact round trip. An optional sheet 「体系设置」 holds the scheme and version settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kaoping.organizations.workbook import normalize_header

from .constants import DataSource, Dimension, MissingPolicy, RaterGroupCode

SETTINGS_SHEET = "体系设置"
LEVEL_KEYS = ("l1", "l2", "l3", "l4")
LEVEL_HEADERS = ("一级指标", "二级指标", "三级指标", "四级指标")


@dataclass(frozen=True)
class Col:
    key: str
    header: str
    aliases: tuple[str, ...] = ()
    width: int = 14
    extra: bool = False  # a system column to the right of the agency's columns


COLUMNS: tuple[Col, ...] = (
    Col("l1", "一级指标", ("一级", "考核项目", "一级指标名称", "考核类别", "考评项目", "项目"), 20),
    Col("l2", "二级指标", ("二级", "考核要点", "考核重点", "二级指标名称", "考评要点"), 22),
    Col("l3", "三级指标", ("三级", "三级指标名称"), 22),
    Col("l4", "四级指标", ("四级", "四级指标名称"), 22),
    Col("l5", "五级指标", ("五级",)),
    Col("content", "考核内容", ("考评内容", "工作内容", "内容")),
    Col("points", "分值", ("分数", "标准分", "满分", "分值（分）", "基础分值", "赋分")),
    Col(
        "criteria",
        "评分标准",
        (
            "考核内容及评分标准",
            "评分细则",
            "考核标准",
            "计分标准",
            "评分办法",
            "考核要求",
            "考核内容及要求",
            "评分说明",
            "扣分标准",
            "计分办法",
        ),
        60,
    ),  # fmt: skip
    Col("methods", "考核方式", ("考核方法", "评价方式", "考评方式", "检查方式", "考核形式"), 16),
    Col("evidence", "佐证材料", ("佐证资料", "备查材料", "支撑材料", "印证材料", "证明材料"), 30),
    Col("code", "指标编码", ("编码", "指标代码"), 10, True),
    Col("dimension", "维度", ("所属维度",), 12, True),
    Col("weight", "权重", ("同级权重",), 10, True),
    Col("rule", "计分规则", ("计分规则JSON",), 30, True),
    Col("proposed", "建议规则", ("建议规则JSON",), 30, True),
    Col("source", "数据来源", (), 12, True),
    Col("rater_weights", "评价主体权重", ("评价主体",), 24, True),
    Col("missing", "缺失数据处理", ("缺失处理",), 16, True),
    Col("veto", "一票否决", ("否决后果",), 14, True),
    Col("overrides", "系统字段", ("系统字段JSON",), 20, True),
)
BY_KEY = {c.key: c for c in COLUMNS}
# Headers the writer gives JSON columns (the reader drops the parenthesis anyway).
WRITTEN_HEADER = {
    "rule": "计分规则(JSON)",
    "proposed": "建议规则(JSON)",
    "overrides": "系统字段(JSON)",
}


def header_keys() -> dict[str, str]:
    """Normalized header or alias -> column key."""
    out: dict[str, str] = {}
    for col in COLUMNS:
        for alias in col.aliases:
            out.setdefault(normalize_header(alias), col.key)
    for col in COLUMNS:
        out[normalize_header(col.header)] = col.key
    return out


HEADER_KEYS = header_keys()


def _labels(enum: Any) -> dict[str, str]:
    return {str(label): str(value) for value, label in enum.choices if value}


DIMENSION_BY_LABEL = _labels(Dimension)
SOURCE_BY_LABEL = _labels(DataSource)
MISSING_BY_LABEL = _labels(MissingPolicy)
GROUP_BY_LABEL = _labels(RaterGroupCode)
LABEL = {
    "dimension": {v: k for k, v in DIMENSION_BY_LABEL.items()},
    "source": {v: k for k, v in SOURCE_BY_LABEL.items()},
    "missing": {v: k for k, v in MISSING_BY_LABEL.items()},
    "group": {v: k for k, v in GROUP_BY_LABEL.items()},
}
VETO_ZERO = "记零分"
VETO_CEILING = "最高评为"

# 「体系设置」 rows: label -> (document part, key)
SETTINGS_ROWS: tuple[tuple[str, str, str], ...] = (
    ("指标体系名称", "scheme", "name"),
    ("说明", "scheme", "description"),
    ("考核对象", "scheme", "target_kind"),
    ("版本名称", "version", "label"),
    ("计分方式", "version", "weighting"),
    ("总分", "version", "total_points"),
    ("计分设置(JSON)", "version", "options"),
    ("版本备注", "version", "note"),
)
TARGET_KIND_LABELS = {"organization": "党组织", "cadre": "领导干部/书记", "member": "党员"}
WEIGHTING_LABELS = {"points": "分值制", "weights": "权重制"}
