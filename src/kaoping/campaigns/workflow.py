"""The campaign workflow as data: which stage follows which, what a move is called, and which
checks (guards) run when a stage is left or entered. ``services.transition`` is the one function
that applies it.

草稿 → 已发布 → 自评 → 评审 → 测评 → 汇总 → 公示 → 归档. The optional stages (自评, 评审, 测评, 公示)
can be switched off per campaign; a move then skips them. Going back is ``services.reopen``
(a reason is required), never a transition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .models import OPTIONAL_STAGES, STAGE_ORDER, Stage

if TYPE_CHECKING:
    from .models import Campaign

# The transition table: each stage and the stage that follows it.
NEXT: dict[Stage, Stage | None] = {
    Stage.DRAFT: Stage.PUBLISHED,
    Stage.PUBLISHED: Stage.SELF_ASSESSMENT,
    Stage.SELF_ASSESSMENT: Stage.REVIEW,
    Stage.REVIEW: Stage.APPRAISAL,
    Stage.APPRAISAL: Stage.CONSOLIDATION,
    Stage.CONSOLIDATION: Stage.PUBLICATION,
    Stage.PUBLICATION: Stage.ARCHIVED,
    Stage.ARCHIVED: None,
}

# What the button that moves *into* a stage says.
ACTION_LABELS: dict[Stage, str] = {
    Stage.PUBLISHED: "发布活动",
    Stage.SELF_ASSESSMENT: "开始自评",
    Stage.REVIEW: "进入评审",
    Stage.APPRAISAL: "进入测评",
    Stage.CONSOLIDATION: "进入汇总",
    Stage.PUBLICATION: "进入公示",
    Stage.ARCHIVED: "归档",
}

# Guards, by name (implemented in ``services.GUARDS``). ``ENTRY_GUARDS`` run when a stage is
# entered; ``EXIT_GUARDS`` when a stage is left.
# Hard guards refuse; soft guards refuse unless the organizer confirms (仍要继续).
ENTRY_GUARDS: dict[Stage, tuple[str, ...]] = {
    Stage.PUBLISHED: (
        "result_rules_declared",
        "has_targets",
        "reviewers_assigned",
        "one_annual_per_year",
    ),
    Stage.PUBLICATION: ("results_approved",),
    Stage.ARCHIVED: ("results_ready_to_lock",),
}
EXIT_GUARDS: dict[Stage, tuple[str, ...]] = {
    Stage.SELF_ASSESSMENT: ("self_assessments_submitted",),
    Stage.REVIEW: ("review_sheets_submitted",),
    Stage.PUBLICATION: ("appeals_decided", "publication_ended"),
}
HARD_GUARDS = frozenset(
    {
        "result_rules_declared",
        "has_targets",
        "reviewers_assigned",
        "results_approved",
        "results_ready_to_lock",
        "appeals_decided",
    }
)

# Stages during which the set-up may still change.
SETUP_STAGES = (Stage.DRAFT,)
TARGET_STAGES = (Stage.DRAFT, Stage.PUBLISHED)
ASSIGNMENT_STAGES = (Stage.DRAFT, Stage.PUBLISHED, Stage.SELF_ASSESSMENT, Stage.REVIEW)


@dataclass(frozen=True)
class Move:
    """One possible forward move: ``source`` → ``target``, skipping the disabled ``skipped``."""

    source: Stage
    target: Stage
    skipped: tuple[Stage, ...]

    @property
    def label(self) -> str:
        return ACTION_LABELS[self.target]

    def guards(self) -> list[str]:
        """Guards of leaving the source and entering the target (skipped stages never ran)."""
        names = [*EXIT_GUARDS.get(self.source, ()), *ENTRY_GUARDS.get(self.target, ())]
        return list(dict.fromkeys(names))


def index(stage: Stage | str) -> int:
    return STAGE_ORDER.index(Stage(stage))


def enabled_stages(campaign: Campaign) -> list[Stage]:
    """The stages this campaign runs, in order (the fixed ones always)."""
    disabled = {
        s.stage for s in campaign.stages.all() if not s.enabled and s.stage in OPTIONAL_STAGES
    }
    return [s for s in STAGE_ORDER if s not in disabled]


def next_move(campaign: Campaign) -> Move | None:
    """The forward move from the campaign's stage, past disabled stages (None when archived)."""
    enabled = set(enabled_stages(campaign))
    source = Stage(campaign.status)
    skipped: list[Stage] = []
    stage = NEXT[source]
    while stage is not None and stage not in enabled:
        skipped.append(stage)
        stage = NEXT[stage]
    if stage is None:
        return None
    return Move(source, stage, tuple(skipped))


def allowed_transitions(campaign: Campaign) -> list[Move]:
    """The moves the table allows now (one forward move, or none once archived)."""
    move = next_move(campaign)
    return [move] if move else []


def reopen_targets(campaign: Campaign) -> list[Stage]:
    """Earlier enabled stages a campaign can be sent back to (never back to 草稿/已发布)."""
    current = index(campaign.status)
    return [
        s
        for s in enabled_stages(campaign)
        if index(s) < current and s not in (Stage.DRAFT, Stage.PUBLISHED)
    ]
