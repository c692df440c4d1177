"""Data model: indicator tree, rules, rater groups, targets and array inputs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .errors import EngineError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

RULE_KINDS = (
    "rating",
    "grade",
    "linear",
    "ratio_to_target",
    "ratio_to_best",
    "banded",
    "deduction",
    "bonus",
    "penalty",
    "base_adjust",
    "ballot",
    "veto",
)
#: rule kinds fed by rater scores (ScoreInputs)
RATER_KINDS = ("rating", "grade")
#: rule kinds fed by quantitative values (ValueInputs)
VALUE_KINDS = ("linear", "ratio_to_target", "ratio_to_best", "banded")
#: rule kinds fed by occurrence counts (OccurrenceInputs)
OCCURRENCE_KINDS = ("deduction", "bonus", "penalty", "base_adjust")
#: rule kinds whose points are outside the weighted base (extra points)
EXTRA_KINDS = ("bonus", "penalty", "veto")
BALLOT_MEASURES = ("grade_score", "good_rate", "satisfaction_rate", "bad_rate")
DEFAULT_GRADE_LABELS = ("好", "较好", "一般", "差")
DEFAULT_GRADE_COEFFICIENTS = (100.0, 80.0, 60.0, 40.0)


@dataclass
class Item:
    """One kind of occurrence of a deduction/bonus/penalty/base_adjust rule.

    ``per`` is the points per occurrence (negative in base_adjust for deductions).
    """

    code: str
    per: float
    name: str = ""


@dataclass
class Band:
    """One row of a banded table: ``bound`` is a minimum (benefit) or maximum (cost)."""

    bound: float
    score: float


@dataclass
class Rule:
    """How a leaf indicator turns its inputs into points. Fields used depend on ``kind``."""

    kind: str
    #: full marks of the rule's own scale (rating, banded, deduction, base_adjust, ballot)
    max: float | None = None
    #: grade labels and their coefficients (grade rules; ballot rules use the tree's ballot scale)
    labels: list[str] = field(default_factory=lambda: list(DEFAULT_GRADE_LABELS))
    coefficients: list[float] = field(default_factory=lambda: list(DEFAULT_GRADE_COEFFICIENTS))
    floor: float | None = None
    target: float | None = None
    cap: float | None = None
    direction: str = "benefit"
    bands: list[Band] = field(default_factory=list)
    else_score: float = 0.0
    items: list[Item] = field(default_factory=list)
    base: float | None = None
    question: str | None = None
    measure: str = "grade_score"


@dataclass
class Veto:
    """一票否决: ``effect`` is "ceiling" (grade no better than ``grade``) or "zero" (total 0)."""

    effect: str = "zero"
    grade: str | None = None


@dataclass
class Node:
    """A node of the indicator tree (dimension, sub-dimension or leaf indicator)."""

    code: str
    name: str = ""
    parent: str | None = None
    #: weight among siblings (relative weighting) or points (points weighting)
    weight: float = 1.0
    rule: Rule | None = None
    #: optional dimension label (e.g. "political") for coverage checks
    dimension: str | None = None
    #: missing-data policy; None means Settings.default_missing
    missing: str | None = None
    #: weights of rater groups by group code; None means the tree's default
    rater_weights: dict[str, float] | None = None
    veto: Veto | None = None


@dataclass
class RaterGroup:
    code: str
    name: str = ""
    #: minimum valid ballots/ratings for a target to get a result from this group
    min_ballots: int | None = None


@dataclass
class IndicatorTree:
    nodes: list[Node]
    rater_groups: list[RaterGroup] = field(default_factory=list)
    #: "relative" (weights among siblings, total = Settings.scale) or "points"
    weighting: str = "relative"
    default_rater_weights: dict[str, float] = field(default_factory=dict)
    questions: list[str] = field(default_factory=list)
    ballot_labels: list[str] = field(default_factory=lambda: list(DEFAULT_GRADE_LABELS))
    ballot_coefficients: list[float] = field(
        default_factory=lambda: list(DEFAULT_GRADE_COEFFICIENTS)
    )

    def node_index(self) -> dict[str, int]:
        return {n.code: i for i, n in enumerate(self.nodes)}

    def group_index(self) -> dict[str, int]:
        return {g.code: i for i, g in enumerate(self.rater_groups)}

    def question_index(self) -> dict[str, int]:
        return {q: i for i, q in enumerate(self.questions)}

    def items(self) -> list[tuple[int, Item]]:
        """All occurrence items as (node index, item); OccurrenceInputs.item indexes this list."""
        out: list[tuple[int, Item]] = []
        for i, n in enumerate(self.nodes):
            if n.rule is not None and n.rule.kind in OCCURRENCE_KINDS:
                out.extend((i, it) for it in n.rule.items)
        return out

    def item_index(self) -> dict[tuple[str, str], int]:
        return {(self.nodes[i].code, it.code): k for k, (i, it) in enumerate(self.items())}


@dataclass
class Targets:
    codes: list[str]
    names: list[str] | None = None
    #: group of each target (e.g. its 党总支) for ranking within groups
    groups: list[str] | None = None

    def __len__(self) -> int:
        return len(self.codes)


def _i(a: object) -> IntArray:
    return np.asarray(a, dtype=np.int64).reshape(-1)


def _f(a: object) -> FloatArray:
    return np.asarray(a, dtype=np.float64).reshape(-1)


@dataclass
class ScoreInputs:
    """Rater scores, one row each: ``indicator`` indexes ``tree.nodes``, ``group`` indexes
    ``tree.rater_groups``, ``rater`` is any integer id (used for standardization and leniency).
    For grade rules ``value`` is the grade's index in the rule's labels."""

    target: IntArray
    indicator: IntArray
    group: IntArray
    rater: IntArray
    value: FloatArray

    @classmethod
    def empty(cls) -> ScoreInputs:
        z = np.zeros(0, np.int64)
        return cls(z, z, z, z, np.zeros(0))

    def __post_init__(self) -> None:
        self.target, self.indicator = _i(self.target), _i(self.indicator)
        self.group, self.rater, self.value = _i(self.group), _i(self.rater), _f(self.value)
        n = len(self.value)
        if not all(len(a) == n for a in (self.target, self.indicator, self.group, self.rater)):
            raise EngineError("ScoreInputs 的各数组长度必须相同")


@dataclass
class ValueInputs:
    """Quantitative values (NaN = missing)."""

    target: IntArray
    indicator: IntArray
    value: FloatArray

    @classmethod
    def empty(cls) -> ValueInputs:
        z = np.zeros(0, np.int64)
        return cls(z, z, np.zeros(0))

    def __post_init__(self) -> None:
        self.target, self.indicator, self.value = (
            _i(self.target),
            _i(self.indicator),
            _f(self.value),
        )
        if not len(self.target) == len(self.indicator) == len(self.value):
            raise EngineError("ValueInputs 的各数组长度必须相同")


@dataclass
class OccurrenceInputs:
    """Occurrence counts; ``item`` indexes ``tree.items()``."""

    target: IntArray
    item: IntArray
    count: FloatArray

    @classmethod
    def empty(cls) -> OccurrenceInputs:
        z = np.zeros(0, np.int64)
        return cls(z, z, np.zeros(0))

    def __post_init__(self) -> None:
        self.target, self.item, self.count = _i(self.target), _i(self.item), _f(self.count)
        if not len(self.target) == len(self.item) == len(self.count):
            raise EngineError("OccurrenceInputs 的各数组长度必须相同")


@dataclass
class BallotInputs:
    """Ballot grade counts: ``question`` indexes ``tree.questions``, ``grade`` the ballot labels."""

    target: IntArray
    question: IntArray
    group: IntArray
    grade: IntArray
    count: FloatArray

    @classmethod
    def empty(cls) -> BallotInputs:
        z = np.zeros(0, np.int64)
        return cls(z, z, z, z, np.zeros(0))

    def __post_init__(self) -> None:
        self.target, self.question, self.group = (
            _i(self.target),
            _i(self.question),
            _i(self.group),
        )
        self.grade, self.count = _i(self.grade), _f(self.count)
        n = len(self.count)
        if not all(len(a) == n for a in (self.target, self.question, self.group, self.grade)):
            raise EngineError("BallotInputs 的各数组长度必须相同")


@dataclass
class VetoInputs:
    """Triggered vetoes: (target, node) pairs; the node must carry a ``veto`` config."""

    target: IntArray
    indicator: IntArray

    @classmethod
    def empty(cls) -> VetoInputs:
        z = np.zeros(0, np.int64)
        return cls(z, z)

    def __post_init__(self) -> None:
        self.target, self.indicator = _i(self.target), _i(self.indicator)
        if len(self.target) != len(self.indicator):
            raise EngineError("VetoInputs 的各数组长度必须相同")


@dataclass
class Inputs:
    scores: ScoreInputs = field(default_factory=ScoreInputs.empty)
    values: ValueInputs = field(default_factory=ValueInputs.empty)
    occurrences: OccurrenceInputs = field(default_factory=OccurrenceInputs.empty)
    ballots: BallotInputs = field(default_factory=BallotInputs.empty)
    vetoes: VetoInputs = field(default_factory=VetoInputs.empty)
