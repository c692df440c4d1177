"""Every choice that changes numbers, as one named, recorded setting object."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .errors import PackageError

WITHIN_GROUP = ("mean", "median", "trimmed_mean")
STANDARDIZE = ("none", "zscore")
MISSING = ("renormalize", "zero", "incomplete")
ROUNDING_STAGES = ("none", "indicator", "total")
QUOTA_ROUNDING = ("floor", "round", "ceil")
QUOTA_TIES = ("demote", "admit")
AHP_METHODS = ("eigenvector", "geometric_mean", "arithmetic_mean")
FUZZY_OPERATORS = ("weighted_average", "min_max", "product_max", "min_bounded_sum")
NORMALIZATIONS = ("none", "minmax", "vector", "sum", "max")
AGGREGATIONS = ("weighted_sum", "topsis", "fuzzy")


def one_of(allowed: tuple[str, ...] | list[str]) -> str:
    """The Chinese message for a value outside a closed list."""
    return f"必须是以下之一：{'、'.join(allowed)}"


@dataclass
class Settings:
    """Numeric choices of an evaluation; every field has a documented default.

    See ``docs/engine.md`` ("Settings") for the meaning of each field.
    """

    #: full marks of the total when the indicator tree uses relative weights
    scale: float = 100.0
    #: how the scores of one rater group are combined: mean, median or trimmed_mean
    #: (drop the single highest and lowest score)
    within_group: str = "mean"
    #: trimmed_mean trims only when a group has at least this many ratings (>= 3)
    trim_min_count: int = 5
    #: per-rater standardization against leniency and severity: none or zscore
    standardize: str = "none"
    #: default minimum number of valid ballots/ratings per rater group (a group may override)
    min_ballots: int = 1
    #: default missing-data policy of an indicator: renormalize, zero or incomplete
    default_missing: str = "renormalize"
    #: where results are rounded: none, indicator (leaf scores) or total
    rounding_stage: str = "none"
    rounding_decimals: int = 2
    #: totals equal to this many decimals tie in ranking and quotas
    tie_decimals: int = 6
    #: grade labels, best first
    grades: list[str] = field(default_factory=lambda: ["好", "较好", "一般", "差"])
    #: minimum total for each grade but the last (descending)
    grade_thresholds: list[float] = field(default_factory=lambda: [90.0, 80.0, 60.0])
    #: maximum share of targets per grade, e.g. {"好": 0.2}
    quotas: dict[str, float] = field(default_factory=dict)
    quota_rounding: str = "floor"
    #: targets tied at a quota boundary: demote all of them (quota is never exceeded) or admit all
    quota_ties: str = "demote"
    #: give incomplete targets a grade and a rank (default: they get neither)
    rank_incomplete: bool = False
    ahp_method: str = "eigenvector"
    ahp_ri: str = "saaty"
    #: how leaf scores become the total: weighted_sum (the indicator tree), topsis or fuzzy
    aggregation: str = "weighted_sum"
    #: fuzzy composition operator (used when aggregation is fuzzy)
    fuzzy_operator: str = "weighted_average"
    #: score of each grade in fuzzy aggregation, best first; empty = the midpoints of the
    #: grade bands (e.g. 95, 85, 70, 30 for thresholds 90, 80, 60 on 100)
    fuzzy_grade_scores: list[float] = field(default_factory=list)
    #: TOPSIS normalization (used when aggregation is topsis)
    topsis_normalization: str = "vector"
    entropy_normalization: str = "none"
    #: rater leniency flag threshold, in standard deviations of the rater-mean deviation
    leniency_threshold: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def validate(self, path: str = "$.settings") -> Settings:
        choices: dict[str, tuple[str, ...]] = {
            "within_group": WITHIN_GROUP,
            "standardize": STANDARDIZE,
            "default_missing": MISSING,
            "rounding_stage": ROUNDING_STAGES,
            "quota_rounding": QUOTA_ROUNDING,
            "quota_ties": QUOTA_TIES,
            "ahp_method": AHP_METHODS,
            "aggregation": AGGREGATIONS,
            "fuzzy_operator": FUZZY_OPERATORS,
            "topsis_normalization": ("vector", "minmax"),
            "entropy_normalization": ("none", "minmax"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise PackageError(f"{path}.{name}", one_of(allowed))
        from .ahp import RI_TABLES

        if self.ahp_ri not in RI_TABLES:
            raise PackageError(f"{path}.ahp_ri", one_of(list(RI_TABLES)))
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise PackageError(f"{path}.scale", "必须是大于 0 的数字")
        if self.trim_min_count < 3:
            raise PackageError(f"{path}.trim_min_count", "必须是不小于 3 的整数")
        if self.min_ballots < 1:
            raise PackageError(f"{path}.min_ballots", "必须是不小于 1 的整数")
        if not 0 <= self.rounding_decimals <= 12:
            raise PackageError(f"{path}.rounding_decimals", "必须是 0 到 12 之间的整数")
        if not 0 <= self.tie_decimals <= 12:
            raise PackageError(f"{path}.tie_decimals", "必须是 0 到 12 之间的整数")
        if len(self.grades) < 1 or len(set(self.grades)) != len(self.grades):
            raise PackageError(f"{path}.grades", "必须是非空列表，且等次名称不能重复")
        if len(self.grade_thresholds) != len(self.grades) - 1:
            raise PackageError(
                f"{path}.grade_thresholds", "除最后一个等次外，每个等次都要有一个分数线"
            )
        th = self.grade_thresholds
        if any(th[i] < th[i + 1] for i in range(len(th) - 1)):
            raise PackageError(f"{path}.grade_thresholds", "必须从高到低排列")
        if self.fuzzy_grade_scores and len(self.fuzzy_grade_scores) != len(self.grades):
            raise PackageError(
                f"{path}.fuzzy_grade_scores", "必须为空（取各等次分数段的中点），或每个等次一个分值"
            )
        for name in ("grade_thresholds", "fuzzy_grade_scores"):
            if not all(math.isfinite(v) for v in getattr(self, name)):
                raise PackageError(f"{path}.{name}", "必须都是有限的数字")
        for label, share in self.quotas.items():
            if label not in self.grades:
                raise PackageError(f"{path}.quotas.{label}", "不是已设定的等次")
            if not 0 <= share <= 1:
                raise PackageError(f"{path}.quotas.{label}", "必须是 0 到 1 之间的比例")
        return self

    @classmethod
    def from_dict(cls, data: Any, path: str = "$.settings") -> Settings:
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise PackageError(path, "必须是对象（{…}）")
        known = {f.name: f for f in fields(cls)}
        default = cls()
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                raise PackageError(f"{path}.{key}", "不是已知的设置项")
            ref = getattr(default, key)
            where = f"{path}.{key}"
            if isinstance(ref, bool):
                if not isinstance(value, bool):
                    raise PackageError(where, "必须是 true 或 false")
            elif isinstance(ref, int):
                if isinstance(value, bool) or not isinstance(value, int):
                    raise PackageError(where, "必须是整数")
            elif isinstance(ref, float):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise PackageError(where, "必须是数字")
                value = float(value)
            elif isinstance(ref, str):
                if not isinstance(value, str):
                    raise PackageError(where, "必须是字符串")
            elif key == "grades":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise PackageError(where, "必须是字符串列表")
            elif key in ("grade_thresholds", "fuzzy_grade_scores"):
                if not isinstance(value, list) or not all(
                    isinstance(v, int | float) and not isinstance(v, bool) for v in value
                ):
                    raise PackageError(where, "必须是数字列表")
                value = [float(v) for v in value]
            elif key == "quotas":
                if not isinstance(value, dict) or not all(
                    isinstance(v, int | float) and not isinstance(v, bool) for v in value.values()
                ):
                    raise PackageError(where, "必须是“等次名称: 比例”形式的对象")
                value = {k: float(v) for k, v in value.items()}
            values[key] = value
        return cls(**values).validate(path)
