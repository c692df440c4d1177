"""Integrity signals of an appraisal (测评数据异常提示), from stored data only.

- 雷同票 clusters: ballots whose answers are identical across every target and question (only
  ballots with at least ``MIN_ANSWERS`` graded answers, where identity means something);
  clusters of at least ``min_cluster`` ballots are reported with their size and share.
- 一边倒 straight-lining: ballots giving one and the same grade to every answer across at least
  ``MIN_TARGETS`` targets (counted per grade: all 好 is leniency, all 差 hostility).
- 集中投票 bursts: minutes of token use (``TokenUse``) far above the usual pace — more than
  ``BURST_FACTOR`` × the median minute and at least ``BURST_MIN`` ballots.

These are signals for the organizer to look into, with counts; nothing is deleted, hidden or
re-weighted because of them, and the page says so. Ballots hold no voter, time or token, so a
signal can never point at a person.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .models import Appraisal, Ballot, BallotAnswer
from .selectors import use_per_minute
from .tally import grade_scale

MIN_CLUSTER = 5
MIN_ANSWERS = 3
MIN_TARGETS = 3
BURST_FACTOR = 5
BURST_MIN = 20
NOTICE = (
    "以下为系统根据已存储的选票数据自动计算的提示信息，仅供组织者核查参考；"
    "系统不会因此删除、隐藏或调整任何选票，全部有效选票均计入结果。"
)


@dataclass
class Cluster:
    size: int
    share: float
    description: str
    sources: dict[str, int]


@dataclass
class Burst:
    minute: Any
    count: int


@dataclass
class Signals:
    ballots: int
    comparable: int  # ballots with enough graded answers to compare
    min_cluster: int
    clusters: list[Cluster] = field(default_factory=list)
    straight: dict[str, int] = field(default_factory=dict)  # grade label -> ballots
    straight_total: int = 0
    straight_eligible: int = 0  # ballots answering at least MIN_TARGETS targets
    bursts: list[Burst] = field(default_factory=list)
    median_per_minute: float | None = None
    minutes: int = 0

    @property
    def any(self) -> bool:
        return bool(self.clusters or self.straight_total or self.bursts)

    notice: str = NOTICE


def _describe(vector: tuple[tuple[int, str, int], ...], labels: list[str]) -> str:
    grades = Counter(g for _, _, g in vector)
    if len(grades) == 1:
        (g,) = grades
        return f"全部 {len(vector)} 项均为“{labels[g]}”"
    parts = "、".join(f"{labels[g]} {n} 项" for g, n in sorted(grades.items()))
    return f"{len(vector)} 项完全相同（{parts}）"


def signals(
    appraisal: Appraisal, *, min_cluster: int = MIN_CLUSTER, min_share: float | None = None
) -> Signals:
    """Every signal of one appraisal. A cluster is reported when it has at least
    ``min_cluster`` ballots (and, with ``min_share``, at least that share of all ballots)."""
    labels = grade_scale(appraisal)[0]
    sources = dict(Ballot.objects.filter(appraisal=appraisal).values_list("id", "source"))
    vectors: dict[Any, list[tuple[int, str, int]]] = {}
    for ballot_id, target_id, question, grade in (
        BallotAnswer.objects.filter(ballot__appraisal=appraisal, grade__isnull=False)
        .values_list("ballot_id", "target_id", "question", "grade")
        .order_by("ballot_id", "target_id", "question")
    ):
        vectors.setdefault(ballot_id, []).append((target_id, question, grade))
    n = len(sources)
    out = Signals(ballots=n, comparable=0, min_cluster=min_cluster)
    if min_share is not None:
        out.min_cluster = max(min_cluster, math.ceil(min_share * n))
    # clusters of identical ballots
    groups: dict[tuple[tuple[int, str, int], ...], list[Any]] = {}
    for ballot_id, vec in vectors.items():
        if len(vec) >= MIN_ANSWERS:
            groups.setdefault(tuple(vec), []).append(ballot_id)
    out.comparable = sum(len(v) for v in groups.values())
    for vec, ids in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        if len(ids) < out.min_cluster:
            break
        out.clusters.append(
            Cluster(
                size=len(ids), share=len(ids) / n if n else 0.0,
                description=_describe(vec, labels),
                sources=dict(Counter(sources.get(b, "") for b in ids)),
            )
        )  # fmt: skip
    # straight-lining
    straight: Counter[int] = Counter()
    for vec in vectors.values():
        if len({t for t, _, _ in vec}) < MIN_TARGETS:
            continue
        out.straight_eligible += 1
        grades = {g for _, _, g in vec}
        if len(grades) == 1:
            straight[next(iter(grades))] += 1
    out.straight = {
        labels[g] if g < len(labels) else str(g): c for g, c in sorted(straight.items())
    }
    out.straight_total = sum(straight.values())
    # bursts
    minutes = use_per_minute(appraisal)
    counts = [c for _, c in minutes if c > 0]
    out.minutes = len(counts)
    if counts:
        median = statistics.median(counts)
        out.median_per_minute = float(median)
        out.bursts = [
            Burst(m, c) for m, c in sorted(minutes)
            if c >= BURST_MIN and c > BURST_FACTOR * median
        ]  # fmt: skip
    return out
