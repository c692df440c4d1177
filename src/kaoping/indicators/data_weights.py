"""Objective weights from a finished campaign's data (熵权法): how much the targets' scores on
sibling indicators actually differed, combined with the designers' (subjective) weights.

An indicator on which every unit scored the same tells the committee nothing; the entropy
method gives it less weight. The combination ``α·subjective + (1 − α)·objective`` keeps the
designers' judgement in charge (α = 0.5 by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from kaoping.audit.actions import Action
from kaoping.audit.services import log_action

from . import selectors
from .models import Indicator, SchemeVersion

MIN_TARGETS = 3


@dataclass
class DataWeights:
    kids: list[Indicator]
    subjective: list[float]
    objective: list[float]
    combined: list[float]
    alpha: float
    targets: int
    campaign: Any


def source_campaigns(version: SchemeVersion, visible: QuerySet[Any]) -> QuerySet[Any]:
    """Campaigns of the same indicator system (any version) whose results are locked, among
    ``visible`` (the campaigns the user may see), newest first."""
    from kaoping.results.models import ResultStatus

    return (
        visible.filter(
            scheme_version__scheme_id=version.scheme_id,
            result_sets__is_current=True,
            result_sets__status=ResultStatus.FINAL,
        )
        .distinct()
        .order_by("-period_end", "-pk")
    )


def _scores(node: dict[str, Any], codes: set[str], out: dict[str, float]) -> None:
    """Each wanted node's score as a share of its points, from an explanation tree."""
    code = node.get("code")
    if code in codes and node.get("points"):
        out[code] = float(node.get("score") or 0) / float(node["points"])
    for child in node.get("children") or ():
        _scores(child, codes, out)


def _alpha(value: Any) -> float:
    try:
        alpha = float(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"alpha": "主观权重占比应为 0 至 100 之间的数字"}) from exc
    if not 0 <= alpha <= 1 or not np.isfinite(alpha):
        raise ValidationError({"alpha": "主观权重占比应在 0 至 100% 之间"})
    return alpha


def data_weights(
    version: SchemeVersion, parent: Indicator | None, campaign: Any, alpha: Any = 0.5
) -> DataWeights:
    """Entropy weights of ``parent``'s weighted children from ``campaign``'s locked results,
    and their combination with the current weights."""
    from kaoping.engine.weights import combine_weights, entropy_weights
    from kaoping.results.models import ResultStatus
    from kaoping.results.services import current_set

    a = _alpha(alpha)
    kids = selectors.weighted_children(version, parent)
    if len(kids) < 2:
        raise ValidationError("至少要有两个同级指标才能计算客观权重")
    rs = current_set(campaign)
    if rs is None or rs.status != ResultStatus.FINAL:
        raise ValidationError(f"“{campaign.name}”的考核结果尚未锁定，不能用于计算权重")
    codes = [k.code for k in kids]
    wanted = set(codes)
    rows = []
    for explanation in rs.results.values_list("explanation", flat=True).iterator(chunk_size=200):
        got: dict[str, float] = {}
        _scores(explanation or {}, wanted, got)
        rows.append([got.get(c, np.nan) for c in codes])
    matrix = np.array(rows, dtype=np.float64).reshape(len(rows), len(codes))
    absent = [k for j, k in enumerate(kids) if np.isnan(matrix[:, j]).all()]
    if absent:
        names = "、".join(f"{k.code} {k.name}" for k in absent)
        raise ValidationError(
            f"“{campaign.name}”的结果中没有这些指标的得分：{names}（指标编码已变化）"
        )
    matrix = matrix[~np.isnan(matrix).any(axis=1)]
    if len(matrix) < MIN_TARGETS:
        raise ValidationError(
            f"有完整得分的考核对象只有 {len(matrix)} 个，至少需要 {MIN_TARGETS} 个"
        )
    objective = entropy_weights(np.clip(matrix, 0, None))
    # the designers' weights (in a points system, the points when no weight was stored)
    subjective = np.array(
        [float(k.weight if k.weight is not None else (k.points or 0)) for k in kids],
        dtype=np.float64,
    )
    if subjective.sum() <= 0:
        subjective = np.full(len(kids), 1 / len(kids))
    subjective = subjective / subjective.sum()
    combined = combine_weights(subjective, objective, "linear", a)
    return DataWeights(
        kids=kids,
        subjective=subjective.tolist(),
        objective=objective.tolist(),
        combined=combined.tolist(),
        alpha=a,
        targets=len(matrix),
        campaign=campaign,
    )


@transaction.atomic
def apply_data_weights(
    *,
    actor: Any,
    version: SchemeVersion,
    parent: Indicator | None,
    campaign: Any,
    alpha: Any = 0.5,
) -> DataWeights:
    """Store the combined weights on the draft (in a points version the points follow)."""
    from .services import _lock_draft, _parent_in, _store_weights

    version = _lock_draft(version)
    parent = _parent_in(version, parent)
    dw = data_weights(version, parent, campaign, alpha)
    weights = [Decimal(str(w)).quantize(Decimal("0.000001"), ROUND_HALF_UP) for w in dw.combined]
    changes = _store_weights(version, parent, dw.kids, weights)
    log_action(
        Action.SCHEME_WEIGHTS,
        actor=actor,
        obj=parent or version,
        changes=changes,
        data={
            "version": str(version),
            "method": "entropy",
            "campaign": campaign.name,
            "alpha": dw.alpha,
            "objective": {k.code: round(w, 6) for k, w in zip(dw.kids, dw.objective, strict=True)},
            "targets": dw.targets,
        },
    )
    return dw
