"""An indicator-system version as the engine's JSON package (docs/engine.md).

The engine parses and checks exactly what it will later score, so the validation report and the
scoring share one definition of a well-formed tree.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from .constants import RaterGroupCode, Weighting
from .models import Indicator, SchemeVersion

DEFAULT_RATER_WEIGHTS = {RaterGroupCode.PARTY_COMMITTEE.value: 1.0}


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def engine_node(ind: Indicator, codes: dict[int, str], weighting: str) -> dict[str, Any]:
    node: dict[str, Any] = {"code": ind.code, "name": ind.name}
    if ind.parent_id is not None:
        node["parent"] = codes[ind.parent_id]
    if weighting == Weighting.POINTS:
        if ind.points is not None:
            node["points"] = _num(ind.points)
    elif ind.weight is not None:
        node["weight"] = _num(ind.weight)
    if ind.rule_kind:
        node["rule"] = {"kind": ind.rule_kind, **(ind.rule_params or {})}
    if ind.dimension:
        node["dimension"] = ind.dimension
    if ind.missing_policy:
        node["missing"] = ind.missing_policy
    if ind.rater_weights:
        node["rater_weights"] = {k: float(v) for k, v in ind.rater_weights.items()}
    if ind.veto:
        node["veto"] = dict(ind.veto)
    return node


def engine_package(
    version: SchemeVersion, indicators: Sequence[Indicator] | None = None
) -> tuple[dict[str, Any], list[Indicator]]:
    """The version as a package with no targets or inputs, and the indicators in package order
    (``$.indicators[i]`` is ``order[i]``)."""
    from kaoping.engine.package import FORMAT_VERSION

    inds = list(indicators if indicators is not None else version.indicators.all())
    order = sorted(inds, key=lambda i: (i.level, i.position, i.pk or 0))
    codes = {i.pk: i.code for i in order}
    nodes = [engine_node(i, codes, version.weighting) for i in order]
    # Indicators rated by people without their own rater weights are rated by the default
    # groups of the version (the 机关党委's reviewers unless the organizer set others).
    default_weights = dict((version.options or {}).get("rater_weights") or DEFAULT_RATER_WEIGHTS)
    groups = sorted({g for i in order for g in (i.rater_weights or {})} | set(default_weights))
    labels = dict(RaterGroupCode.choices)
    questions = sorted(
        {str(i.rule_params["question"]) for i in order if (i.rule_params or {}).get("question")}
    )
    package: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "weighting": "points" if version.weighting == Weighting.POINTS else "relative",
        "rater_groups": [{"code": g, "name": labels.get(g, g)} for g in groups],
        "rater_weights": {k: float(v) for k, v in default_weights.items()},
        "indicators": nodes,
        "targets": [],
    }
    if questions:
        package["ballot"] = {"questions": [{"code": q} for q in questions]}
    grades = (version.options or {}).get("ballot_grades")
    if grades:
        package.setdefault("ballot", {})["grades"] = grades
    settings: dict[str, Any] = {}
    if version.weighting == Weighting.POINTS:
        settings["scale"] = float(version.total_points)
    options = version.options or {}
    if options.get("grades") and options.get("grade_thresholds") is not None:
        # The version's result grades (好/较好/一般/差 …) and the minimum total of each.
        settings["grades"] = [str(g) for g in options["grades"]]
        settings["grade_thresholds"] = [float(t) for t in options["grade_thresholds"]]
    if settings:
        package["settings"] = settings
    return package, order
