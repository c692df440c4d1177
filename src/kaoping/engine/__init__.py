"""Kaoping scoring engine: a pure numpy/scipy library (no Django).

Weights (AHP, entropy, CRITIC), aggregation (weighted hierarchical roll-up, TOPSIS, fuzzy
comprehensive evaluation), indicator rules, rater groups, ballots, grading and ranking,
explanations, quality statistics and sensitivity analysis. See docs/engine.md.
"""

from .ahp import AHPResult, ahp, group_ahp
from .ballots import BallotStats, ballot_stats
from .errors import EngineError, PackageError
from .evaluate import ENGINE_VERSION, Evaluation, evaluate
from .grading import assign_grades, competition_rank, group_rank
from .mcdm import fuzzy_evaluate, fuzzy_score, max_membership_grade, topsis
from .model import (
    BallotInputs,
    Band,
    IndicatorTree,
    Inputs,
    Item,
    Node,
    OccurrenceInputs,
    RaterGroup,
    Rule,
    ScoreInputs,
    Targets,
    ValueInputs,
    Veto,
    VetoInputs,
)
from .quality import cronbach_alpha, icc, indicator_quality, item_total_correlation, kendall_w
from .sensitivity import weight_sensitivity
from .settings import Settings
from .weights import combine_weights, critic_weights, entropy_weights

__all__ = [
    "ENGINE_VERSION",
    "AHPResult",
    "Band",
    "BallotInputs",
    "BallotStats",
    "EngineError",
    "Evaluation",
    "IndicatorTree",
    "Inputs",
    "Item",
    "Node",
    "OccurrenceInputs",
    "PackageError",
    "RaterGroup",
    "Rule",
    "ScoreInputs",
    "Settings",
    "Targets",
    "ValueInputs",
    "Veto",
    "VetoInputs",
    "ahp",
    "assign_grades",
    "ballot_stats",
    "combine_weights",
    "competition_rank",
    "critic_weights",
    "cronbach_alpha",
    "entropy_weights",
    "evaluate",
    "fuzzy_evaluate",
    "fuzzy_score",
    "group_ahp",
    "group_rank",
    "icc",
    "indicator_quality",
    "item_total_correlation",
    "kendall_w",
    "max_membership_grade",
    "topsis",
    "weight_sensitivity",
]
