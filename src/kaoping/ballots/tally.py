"""The tally of democratic appraisal ballots (民主测评计票).

Grade counts are aggregated in the database — one ``GROUP BY`` over the answers with one
``Count(filter=Q(grade=i))`` per grade — never ballot by ballot in Python, so a tally costs the
same few queries for 50 or 50,000 ballots. Shares, 好评率, 满意率 (好 + 较好), 差评率 and the
weighted grade score come from the engine's ``ballot_stats``; where the campaign's indicator for
a question converts a measure by bands (e.g. 满意率 ≥ 95% → 15 分), the conversion is the
engine's own ``band_lookup`` on the same measure the engine would use.

Small groups are protected: a target's counts, shares and rates are shown only when at least
``appraisal.min_breakdown`` ballots answered it. Below that, only the number of ballots is shown
(“票数不足 N 张，不显示分项”) — with three 班子成员 voting, shares would reveal each vote, and
so would the target's overall figures, so those are withheld too, not only the per-question
breakdown. The campaign-wide tally applies the same rule per rater group. The scoring feature
reads every count through ``ballot_inputs`` (the engine has its own ``min_ballots``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db.models import Count, Q

from kaoping.engine import BallotInputs, ballot_stats
from kaoping.engine.rules import band_lookup

from .models import Appraisal, Ballot, BallotAnswer

MEASURE_LABELS = {
    "grade_score": "测评得分",
    "good_rate": "好评率",
    "satisfaction_rate": "满意率",
    "bad_rate": "差评率",
}


def hidden_note(minimum: int) -> str:
    return f"票数不足 {minimum} 张，不显示分项"


def grade_scale(appraisal: Appraisal) -> tuple[list[str], list[float]]:
    """The appraisal's grade labels and coefficients, best first (the default 4-grade scale when
    the design sets none)."""
    from kaoping.indicators.services import DEFAULT_BALLOT_GRADES

    grades = appraisal.grades or DEFAULT_BALLOT_GRADES
    return [str(g["label"]) for g in grades], [float(g["coefficient"]) for g in grades]


def grade_questions(appraisal: Appraisal) -> list[dict[str, Any]]:
    """The questions answered with a grade (comment questions left out), in design order."""
    return [q for q in appraisal.questions or [] if q.get("kind", "grade") == "grade"]


def _grade_counts(qs: Any, keys: tuple[str, ...], n_grades: int) -> list[dict[str, Any]]:
    """Rows of ``keys`` with ``g0..g{K-1}`` grade counts: one GROUP BY query."""
    per_grade = {f"g{i}": Count("id", filter=Q(grade=i)) for i in range(n_grades)}
    return list(qs.filter(grade__isnull=False).values(*keys).annotate(**per_grade).order_by())


# ---- banded conversion ---------------------------------------------------------------------


@dataclass(frozen=True)
class Conversion:
    """A ballot indicator's rule: which measure it reads and, when banded, how it converts."""

    indicator_code: str
    indicator_name: str
    measure: str
    bounds: np.ndarray  # sorted best first, as the engine sorts them
    scores: np.ndarray
    else_score: float
    cost: bool
    full: float

    @property
    def banded(self) -> bool:
        return len(self.bounds) > 0

    @property
    def measure_label(self) -> str:
        return MEASURE_LABELS.get(self.measure, self.measure)

    def raw(self, stats: Any, coefficients: list[float]) -> np.ndarray:
        """The measure the rule reads (the engine's ``ballot_leaf_values``)."""
        return {
            "grade_score": stats.grade_score / max(coefficients),
            "good_rate": stats.good_rate,
            "satisfaction_rate": stats.satisfaction_rate,
            "bad_rate": stats.bad_rate,
        }[self.measure]

    def convert(self, raw: np.ndarray) -> np.ndarray:
        """Points on the rule's own scale (NaN where there were no ballots)."""
        x = np.asarray(raw, dtype=np.float64).reshape(-1, 1)
        got = band_lookup(
            x, self.bounds[None, :], self.scores[None, :], np.array([self.else_score]),
            np.array([self.cost]),
        ).reshape(np.shape(raw))  # fmt: skip
        return np.where(np.isnan(raw), np.nan, got)


def conversions(version: Any) -> dict[str, Conversion]:
    """Ballot-rule indicators of a scheme version by question code (one query)."""
    from kaoping.indicators.constants import RuleKind

    out: dict[str, Conversion] = {}
    for ind in version.indicators.filter(rule_kind=RuleKind.BALLOT).order_by("level", "position"):
        params = ind.rule_params or {}
        question = str(params.get("question") or "")
        if not question or question in out:
            continue
        cost = params.get("direction") == "cost"
        key = "max" if cost else "min"
        bands = sorted(
            ((float(b[key]), float(b["score"])) for b in params.get("bands") or [] if key in b),
            reverse=not cost,
        )
        else_score = float(params.get("else") or 0)
        if params.get("max") is not None:
            full = float(params["max"])
        elif bands:
            full = max(max(s for _, s in bands), else_score)
        else:
            full = float(ind.points or 1)
        out[question] = Conversion(
            indicator_code=ind.code,
            indicator_name=ind.name,
            measure=str(params.get("measure") or "grade_score"),
            bounds=np.array([b for b, _ in bands], dtype=np.float64),
            scores=np.array([s for _, s in bands], dtype=np.float64),
            else_score=else_score,
            cost=cost,
            full=full,
        )
    return out


# ---- one appraisal -------------------------------------------------------------------------


def _num(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


@dataclass
class Cell:
    """Figures of one target for one question (or one rater group)."""

    n: int  # answers with a grade
    shown: bool
    counts: list[int] = field(default_factory=list)
    shares: list[float] = field(default_factory=list)
    good_rate: float | None = None
    satisfaction_rate: float | None = None
    bad_rate: float | None = None
    score: float | None = None  # weighted grade score (coefficient units, e.g. 0..100)
    converted: float | None = None  # banded points on the indicator's scale

    @property
    def percents(self) -> list[float]:
        return [round(s * 100, 1) for s in self.shares]

    @staticmethod
    def _pct(x: float | None) -> float | None:
        return None if x is None else round(x * 100, 1)

    @property
    def good_pct(self) -> float | None:
        return self._pct(self.good_rate)

    @property
    def satisfaction_pct(self) -> float | None:
        return self._pct(self.satisfaction_rate)

    @property
    def bad_pct(self) -> float | None:
        return self._pct(self.bad_rate)


@dataclass
class QuestionCell:
    question: dict[str, Any]
    cell: Cell
    conversion: Conversion | None


@dataclass
class TargetRow:
    target_id: int
    code: str
    name: str
    group_name: str
    ballots: int  # ballots that answered this target
    shown: bool
    main: QuestionCell | None
    questions: list[QuestionCell]


@dataclass
class Tally:
    appraisal: Appraisal
    labels: list[str]
    coefficients: list[float]
    questions: list[dict[str, Any]]
    main_question: str | None
    min_breakdown: int
    ballots: int
    by_source: dict[str, int]
    rows: list[TargetRow]
    conversions: dict[str, Conversion]

    @property
    def note(self) -> str:
        return hidden_note(self.min_breakdown)

    @property
    def hidden(self) -> int:
        return sum(1 for r in self.rows if not r.shown)

    def chart(self) -> dict[str, Any]:
        """Stacked-bar data (shares of each grade of the main question) for the shown rows."""
        shown = [r for r in self.rows if r.shown and r.main is not None]
        return {
            "labels": self.labels,
            "targets": [r.name for r in shown],
            "series": [
                [r.main.cell.percents[k] if r.main else 0 for r in shown]
                for k in range(len(self.labels))
            ],
        }


def main_question(questions: list[dict[str, Any]], linked: set[str]) -> str | None:
    """The question a target's headline figures come from: the first one tied to an indicator
    (by the design or by an indicator's rule), else “overall”, else the first."""
    codes = [str(q["code"]) for q in questions]
    for q in questions:
        if q.get("indicator") or q["code"] in linked:
            return str(q["code"])
    if "overall" in codes:
        return "overall"
    return codes[0] if codes else None


def _cells(
    counts: np.ndarray, coefficients: list[float], shown: np.ndarray,
    convs: list[Conversion | None],
) -> list[list[Cell]]:  # fmt: skip
    """Cells of a (rows, questions, grades) count array through the engine's ``ballot_stats``."""
    st = ballot_stats(counts, coefficients)
    converted = np.full(counts.shape[:2], np.nan)
    for j, conv in enumerate(convs):
        if conv is not None and conv.banded:
            converted[:, j] = conv.convert(conv.raw(st, coefficients)[:, j])
    out: list[list[Cell]] = []
    for i in range(counts.shape[0]):
        row = []
        for j in range(counts.shape[1]):
            n = int(st.n[i, j])
            if not shown[i] or n == 0:
                row.append(Cell(n=n, shown=bool(shown[i])))
                continue
            row.append(
                Cell(
                    n=n,
                    shown=True,
                    counts=[int(c) for c in counts[i, j]],
                    shares=[float(s) for s in st.shares[i, j]],
                    good_rate=_num(st.good_rate[i, j]),
                    satisfaction_rate=_num(st.satisfaction_rate[i, j]),
                    bad_rate=_num(st.bad_rate[i, j]),
                    score=_num(st.grade_score[i, j]),
                    converted=_num(converted[i, j]),
                )
            )
        out.append(row)
    return out


def tally(appraisal: Appraisal) -> Tally:
    """Counts, shares and rates per target × question of one appraisal (a fixed number of
    queries whatever the number of ballots)."""
    labels, coefficients = grade_scale(appraisal)
    n_k = len(labels)
    questions = grade_questions(appraisal)
    targets = list(appraisal.targets.order_by("code").values_list("id", "code", "name",
                                                                  "group_name"))  # fmt: skip
    answers = BallotAnswer.objects.filter(ballot__appraisal=appraisal)
    rows = _grade_counts(answers, ("target_id", "question"), n_k)
    # Answers to questions the design no longer lists still count, after the listed ones.
    known = {str(q["code"]) for q in questions}
    for extra in sorted({r["question"] for r in rows} - known):
        questions.append({"code": extra, "text": extra, "kind": "grade"})
        known.add(extra)
    t_index = {t[0]: i for i, t in enumerate(targets)}
    q_index = {str(q["code"]): j for j, q in enumerate(questions)}
    counts = np.zeros((len(targets), len(questions), n_k), dtype=np.float64)
    for r in rows:
        i = t_index.get(r["target_id"])
        if i is None:
            continue
        counts[i, q_index[r["question"]]] = [r[f"g{k}"] for k in range(n_k)]
    per_target = dict(
        answers.values("target_id").annotate(n=Count("ballot_id", distinct=True)).order_by()
        .values_list("target_id", "n")
    )  # fmt: skip
    by_source = dict(
        Ballot.objects.filter(appraisal=appraisal).values("source").annotate(n=Count("id"))
        .order_by().values_list("source", "n")
    )  # fmt: skip
    convs = conversions(appraisal.campaign.scheme_version)
    q_convs = [convs.get(str(q["code"])) for q in questions]
    main = main_question(questions, set(convs))
    minimum = int(appraisal.min_breakdown)
    n_ballots = [int(per_target.get(t[0], 0)) for t in targets]
    shown = np.array([n >= minimum and n > 0 for n in n_ballots], dtype=bool)
    cells = _cells(counts, coefficients, shown, q_convs)
    out_rows = []
    for i, (tid, code, name, group_name) in enumerate(targets):
        qcells = [QuestionCell(q, cells[i][j], q_convs[j]) for j, q in enumerate(questions)]
        out_rows.append(
            TargetRow(
                target_id=tid, code=code, name=name, group_name=group_name,
                ballots=n_ballots[i], shown=bool(shown[i]),
                main=qcells[q_index[main]] if main is not None else None, questions=qcells,
            )
        )  # fmt: skip
    return Tally(
        appraisal=appraisal, labels=labels, coefficients=coefficients, questions=questions,
        main_question=main, min_breakdown=minimum, ballots=sum(by_source.values()),
        by_source=by_source, rows=out_rows, conversions=convs,
    )  # fmt: skip


# ---- the campaign: per rater group across appraisals ---------------------------------------


@dataclass
class GroupColumn:
    code: str
    label: str
    min_breakdown: int
    ballots: int


@dataclass
class CampaignRow:
    target_id: int
    code: str
    name: str
    cells: list[Cell]  # per group (the group's main question)


@dataclass
class CampaignTally:
    labels: list[str]
    groups: list[GroupColumn]
    rows: list[CampaignRow]
    question: str | None


def campaign_tally(campaign: Any) -> CampaignTally:
    """Per target × rater group (across the campaign's appraisals), the figures of the main
    ballot question; a group's figures for a target are shown only with at least that group's
    ``min_breakdown`` ballots (the largest among its appraisals)."""
    from kaoping.indicators.constants import RaterGroupCode

    appraisals = list(Appraisal.objects.filter(campaign=campaign).order_by("id"))
    if not appraisals:  # no 民主测评 in this campaign: no columns
        rows = campaign.targets.order_by("code").values_list("id", "code", "name")
        return CampaignTally(
            labels=[], groups=[], rows=[CampaignRow(t, c, n, []) for t, c, n in rows], question=None
        )
    group_labels = dict(RaterGroupCode.choices)
    codes = list(dict.fromkeys(a.rater_group for a in appraisals))
    minimum = {g: max(a.min_breakdown for a in appraisals if a.rater_group == g) for g in codes}
    first = appraisals[0] if appraisals else None
    labels, coefficients = grade_scale(first) if first else ([], [])
    convs = conversions(campaign.scheme_version)
    questions = grade_questions(first) if first else []
    question = main_question(questions, set(convs)) if questions else (next(iter(convs), None))
    targets = list(campaign.targets.order_by("code").values_list("id", "code", "name"))
    answers = BallotAnswer.objects.filter(ballot__appraisal__campaign=campaign, question=question)
    rows = _grade_counts(answers, ("ballot__appraisal__rater_group", "target_id"), len(labels))
    per = dict(
        (
            (r["ballot__appraisal__rater_group"], r["target_id"]), r["n"])
        for r in answers.values("ballot__appraisal__rater_group", "target_id")
        .annotate(n=Count("ballot_id", distinct=True)).order_by()
    )  # fmt: skip
    totals = dict(
        Ballot.objects.filter(appraisal__campaign=campaign).values("appraisal__rater_group")
        .annotate(n=Count("id")).order_by().values_list("appraisal__rater_group", "n")
    )  # fmt: skip
    t_index = {t[0]: i for i, t in enumerate(targets)}
    g_index = {g: j for j, g in enumerate(codes)}
    counts = np.zeros((len(targets), len(codes), len(labels)), dtype=np.float64)
    for r in rows:
        i = t_index.get(r["target_id"])
        if i is not None:
            counts[i, g_index[r["ballot__appraisal__rater_group"]]] = [
                r[f"g{k}"] for k in range(len(labels))
            ]
    conv = convs.get(question or "")
    n_g = len(codes)
    shown = np.array(
        [n >= minimum[g] and n > 0 for t in targets for g in codes
         for n in (int(per.get((g, t[0]), 0)),)],
        dtype=bool,
    )  # fmt: skip
    flat = _cells(counts.reshape(len(targets) * n_g, 1, len(labels)), coefficients, shown, [conv])
    out_rows = [
        CampaignRow(tid, code, name, [flat[i * n_g + j][0] for j in range(n_g)])
        for i, (tid, code, name) in enumerate(targets)
    ]
    groups = [
        GroupColumn(g, group_labels.get(g, g), minimum[g], int(totals.get(g, 0))) for g in codes
    ]
    return CampaignTally(labels=labels, groups=groups, rows=out_rows, question=question)


# ---- for the scoring feature ---------------------------------------------------------------


@dataclass
class CampaignBallots:
    """Grade counts of a campaign as the engine's ``BallotInputs``: ``target``, ``question``,
    ``group`` index ``target_codes``, ``question_codes`` and ``group_codes``; ``grade`` indexes
    the ballot scale (``labels``)."""

    target_codes: list[str]
    question_codes: list[str]
    group_codes: list[str]
    labels: list[str]
    inputs: BallotInputs


def ballot_inputs(
    campaign: Any,
    *,
    target_codes: list[str] | None = None,
    question_codes: list[str] | None = None,
    group_codes: list[str] | None = None,
) -> CampaignBallots:
    """Every counted answer of the campaign, summed per (target, question, rater group, grade)
    in one GROUP BY query. Orders default to targets by code, questions by code and rater
    groups in the order of the appraisals; answers outside given orders are left out (the tree
    does not ask for them).

    The query groups by ids only — ``target_id`` and the ballot's ``appraisal_id``, joining
    nothing but the ballots — and leaves the sorting out; target codes and rater groups are
    mapped afterwards with numpy (appraisals of the same rater group are summed), so the
    database does little more than the bare GROUP BY of the answers."""
    appraisals = list(
        Appraisal.objects.filter(campaign=campaign).order_by("id").values_list("id", "rater_group")
    )
    first = Appraisal.objects.filter(campaign=campaign).order_by("id").first()
    labels = grade_scale(first)[0] if first else []
    targets = list(campaign.targets.order_by("code").values_list("id", "code"))
    if target_codes is None:
        target_codes = [code for _, code in targets]
    rows: list[tuple[int, int, str, int, int]] = []
    if appraisals:
        rows = list(
            BallotAnswer.objects.filter(
                ballot__appraisal_id__in=[a for a, _ in appraisals], grade__isnull=False
            )
            .values_list("target_id", "ballot__appraisal_id", "question", "grade")
            .annotate(n=Count("*"))
            .order_by()
        )
    if question_codes is None:
        question_codes = sorted({r[2] for r in rows})
    if group_codes is None:
        group_codes = list(dict.fromkeys(g for _, g in appraisals))
    ti = {c: i for i, c in enumerate(target_codes)}
    qi = {c: i for i, c in enumerate(question_codes)}
    gi = {c: i for i, c in enumerate(group_codes)}
    # ids → indexes into the given orders (-1: not asked for)
    t_of = {tid: ti.get(code, -1) for tid, code in targets}
    g_of = {aid: gi.get(group, -1) for aid, group in appraisals}
    n = len(rows)
    empty = CampaignBallots(target_codes, question_codes, group_codes, labels, BallotInputs.empty())
    if not n:
        return empty
    cols = list(zip(*rows, strict=True))
    t = np.fromiter((t_of.get(x, -1) for x in cols[0]), dtype=np.int64, count=n)
    g = np.fromiter((g_of.get(x, -1) for x in cols[1]), dtype=np.int64, count=n)
    q = np.fromiter((qi.get(x, -1) for x in cols[2]), dtype=np.int64, count=n)
    k = np.fromiter(cols[3], dtype=np.int64, count=n)
    c = np.fromiter(cols[4], dtype=np.float64, count=n)
    keep = (t >= 0) & (q >= 0) & (g >= 0)
    if not keep.any():
        return empty
    t, q, g, k, c = t[keep], q[keep], g[keep], k[keep], c[keep]
    # one row per (target, question, group, grade): appraisals of one group summed
    n_k = int(k.max()) + 1
    key = ((t * len(question_codes) + q) * len(group_codes) + g) * n_k + k
    uniq, inverse = np.unique(key, return_inverse=True)
    counts = np.bincount(inverse, weights=c, minlength=len(uniq))
    rest, kk = np.divmod(uniq, n_k)
    rest, gg = np.divmod(rest, len(group_codes))
    tt, qq = np.divmod(rest, len(question_codes))
    inputs = BallotInputs(target=tt, question=qq, group=gg, grade=kk, count=counts)
    return CampaignBallots(target_codes, question_codes, group_codes, labels, inputs)
