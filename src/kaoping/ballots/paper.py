"""Paper ballots (纸质选票): double entry by two tellers, mismatches resolved by a third.

Tellers are the people who run the campaign (``policy.can_manage_campaign``). Each paper sheet
carries a number; a teller enters it (a grade per target × question, blanks allowed, an
optional comment), then a second, different teller enters the same sheet number. When both
entries agree, the sheet is counted: a ``Ballot`` (source 纸质, dated the day of counting) and
its answers are created in the same transaction that marks both entries counted, so a paper
ballot counts exactly like an online one and never twice. When they disagree, the sheet waits
in the mismatch list (both versions side by side) until an organizer who entered neither
version decides: one of the two versions, or the sheet entered again from the paper. Every
entry and decision is audited (sheet numbers and outcomes; never anyone's identity as voter,
since a sheet carries none).

All writes lock the appraisal row first (one place, one order), so two tellers finishing the
same sheet at once cannot count it twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kaoping import policy
from kaoping.audit.actions import Action
from kaoping.audit.services import log_action

from .models import Appraisal, AppraisalStatus, Ballot, BallotAnswer, BallotSource, PaperEntry
from .tally import grade_questions, grade_scale

MAX_COMMENT = 500
WAITING, COUNTED, MISMATCH = "waiting", "counted", "mismatch"
OUTCOME_TEXT = {
    WAITING: "已录入，等待另一名计票人员第二遍录入",
    COUNTED: "两遍录入一致，已计入票数",
    MISMATCH: "两遍录入不一致，已列入差异清单，待组织者裁定",
}


# ---- the sheet ---------------------------------------------------------------------------


@dataclass
class Layout:
    """What a paper sheet asks: targets (rows) × grade questions, comment questions."""

    targets: list[Any]
    questions: list[dict[str, Any]]
    comments: list[dict[str, Any]]
    labels: list[str]


def layout(appraisal: Appraisal) -> Layout:
    return Layout(
        targets=list(appraisal.targets.order_by("code")),
        questions=grade_questions(appraisal),
        comments=[q for q in appraisal.questions or [] if q.get("kind") == "comment"],
        labels=grade_scale(appraisal)[0],
    )


def field_name(kind: str, target_id: int, code: str) -> str:
    """The form field of one cell: ``g-<target>-<question>`` (grade) or ``c-…`` (comment)."""
    return f"{kind}-{target_id}-{code}"


def answers_from_form(sheet: Layout, data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The sheet's answers from form data: grades are 1-based digits as typed (1 = 好), blank for
    an unanswered cell. Raises ``ValidationError`` naming the bad cell."""
    n_k = len(sheet.labels)
    out: dict[str, dict[str, Any]] = {}
    for t in sheet.targets:
        row: dict[str, Any] = {}
        for q in sheet.questions:
            raw = str(data.get(field_name("g", t.pk, q["code"]), "") or "").strip()
            if not raw:
                row[q["code"]] = None
                continue
            if not raw.isdigit() or not 1 <= int(raw) <= n_k:
                raise ValidationError(
                    f"“{t.name}”的“{q.get('text') or q['code']}”应为 1 至 {n_k} 的数字（{raw}）"
                )
            row[q["code"]] = int(raw) - 1
        for q in sheet.comments:
            row[q["code"]] = str(data.get(field_name("c", t.pk, q["code"]), "") or "")
        out[str(t.pk)] = row
    return out


def normalize(sheet: Layout, answers: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Answers as stored and compared: every target and question present, grades as 0-based
    indexes or None, comments stripped. Unknown targets or questions are refused."""
    n_k = len(sheet.labels)
    ids = {str(t.pk): t for t in sheet.targets}
    unknown = set(map(str, answers)) - set(ids)
    if unknown:
        raise ValidationError("选票上有不属于本次测评的考核对象")
    codes = {q["code"] for q in sheet.questions} | {q["code"] for q in sheet.comments}
    out: dict[str, dict[str, Any]] = {}
    for tid, target in ids.items():
        given = dict(answers.get(tid) or answers.get(int(tid)) or {})  # type: ignore[call-overload]
        if set(given) - codes:
            raise ValidationError(f"“{target.name}”有本次测评没有的题目")
        row: dict[str, Any] = {}
        for q in sheet.questions:
            g = given.get(q["code"])
            if g is not None and (
                isinstance(g, bool) or not isinstance(g, int) or not 0 <= g < n_k
            ):
                raise ValidationError(f"“{target.name}”的等次不正确")
            row[q["code"]] = g
        for q in sheet.comments:
            text = str(given.get(q["code"]) or "").strip()
            if len(text) > MAX_COMMENT:
                raise ValidationError(f"“{target.name}”的意见建议最多 {MAX_COMMENT} 字")
            row[q["code"]] = text
        out[tid] = row
    if not any(v is not None for row in out.values() for k, v in row.items()
               if k in {q["code"] for q in sheet.questions}):  # fmt: skip
        raise ValidationError("整张选票没有填写任何等次（空白票不录入，按废票处理）")
    return out


def differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> set[tuple[str, str]]:
    """The (target, question) cells where two entries of a sheet differ."""
    out = set()
    for tid in set(a) | set(b):
        ra, rb = a.get(tid) or {}, b.get(tid) or {}
        for code in set(ra) | set(rb):
            if ra.get(code) != rb.get(code):
                out.add((tid, code))
    return out


# ---- writes ------------------------------------------------------------------------------


def require_teller(actor: Any, appraisal: Appraisal) -> None:
    if not policy.can_manage_campaign(actor, appraisal.campaign):
        raise PermissionDenied("只有本次考核的组织者可以录入纸质选票")


def _lock(appraisal: Appraisal) -> Appraisal:
    locked = (
        Appraisal.objects.select_for_update(of=("self",))
        .select_related("campaign__owner", "campaign__scheme_version")
        .get(pk=appraisal.pk)
    )
    if locked.status != AppraisalStatus.OPEN:
        raise ValidationError(
            f"纸质选票只能在测评“投票中”时录入（当前为“{locked.get_status_display()}”）"
        )
    return locked


def _count(appraisal: Appraisal, sheet: Layout, answers: Mapping[str, Any]) -> Ballot:
    """Store a counted paper ballot like an online one (the day only, a random key)."""
    ballot = Ballot.objects.create(
        appraisal=appraisal, cast_on=timezone.localdate(), source=BallotSource.PAPER
    )
    comment_codes = {q["code"] for q in sheet.comments}
    rows = []
    for tid, row in answers.items():
        for code, value in row.items():
            if code in comment_codes:
                if value:
                    rows.append(BallotAnswer(ballot=ballot, target_id=int(tid), question=code,
                                             comment=value))  # fmt: skip
            elif value is not None:
                rows.append(BallotAnswer(ballot=ballot, target_id=int(tid), question=code,
                                         grade=value))  # fmt: skip
    BallotAnswer.objects.bulk_create(rows)
    return ballot


def _check_sheet_no(sheet_no: Any) -> int:
    try:
        n = int(sheet_no)
    except (TypeError, ValueError):
        n = 0
    if n < 1 or n > 999_999:
        raise ValidationError("请填写票号（1 至 999999 的整数）")
    return n


def _enter(actor: Any, appraisal: Appraisal, sheet: Layout, sheet_no: Any,
           answers: Mapping[str, Any]) -> str:  # fmt: skip
    n = _check_sheet_no(sheet_no)
    clean = normalize(sheet, answers)
    existing = list(PaperEntry.objects.filter(appraisal=appraisal, sheet_no=n).order_by("id"))
    if any(e.counted for e in existing):
        raise ValidationError(f"票号 {n} 已计票，不能重复录入")
    if any(e.teller_id == actor.pk for e in existing):
        raise ValidationError(f"您已录入过票号 {n}，第二遍须由另一名计票人员录入")
    if len(existing) >= 2:
        raise ValidationError(f"票号 {n} 两遍录入不一致，正等待组织者裁定")
    try:
        with transaction.atomic():
            entry = PaperEntry.objects.create(
                appraisal=appraisal, sheet_no=n, teller=actor, answers=clean
            )
    except IntegrityError as exc:
        raise ValidationError(f"您已录入过票号 {n}") from exc
    outcome = WAITING
    if existing:
        first = existing[0]
        if differences(first.answers, clean):
            outcome = MISMATCH
        else:
            _count(appraisal, sheet, clean)
            PaperEntry.objects.filter(pk__in=[first.pk, entry.pk]).update(counted=True)
            outcome = COUNTED
    log_action(
        Action.PAPER_ENTRY, actor=actor, obj=appraisal,
        data={"sheet_no": n, "outcome": OUTCOME_TEXT[outcome]},
    )  # fmt: skip
    return outcome


@transaction.atomic
def enter_sheet(*, actor: Any, appraisal: Appraisal, sheet_no: Any,
                answers: Mapping[str, Any]) -> str:  # fmt: skip
    """Enter one paper sheet; returns ``WAITING``, ``COUNTED`` or ``MISMATCH``."""
    require_teller(actor, appraisal)
    appraisal = _lock(appraisal)
    return _enter(actor, appraisal, layout(appraisal), sheet_no, answers)


@transaction.atomic
def enter_sheets(*, actor: Any, appraisal: Appraisal,
                 sheets: list[tuple[int, Mapping[str, Any]]]) -> dict[str, int]:  # fmt: skip
    """Enter a batch of sheets, all or nothing; returns how many ended in each outcome."""
    require_teller(actor, appraisal)
    appraisal = _lock(appraisal)
    sheet = layout(appraisal)
    out = {WAITING: 0, COUNTED: 0, MISMATCH: 0}
    for sheet_no, answers in sheets:
        try:
            out[_enter(actor, appraisal, sheet, sheet_no, answers)] += 1
        except ValidationError as exc:
            raise ValidationError(f"票号 {sheet_no}：{'；'.join(exc.messages)}") from exc
    return out


@transaction.atomic
def resolve(
    *,
    actor: Any,
    appraisal: Appraisal,
    sheet_no: int,
    entry_id: int | None = None,
    answers: Mapping[str, Any] | None = None,
    note: str = "",
) -> Ballot:
    """Decide a mismatched sheet: count the version of entry ``entry_id``, or ``answers``
    entered again from the paper. Only an organizer who entered neither version decides."""
    require_teller(actor, appraisal)
    appraisal = _lock(appraisal)
    sheet = layout(appraisal)
    entries = list(PaperEntry.objects.filter(appraisal=appraisal, sheet_no=sheet_no).order_by("id"))
    if any(e.counted for e in entries):
        raise ValidationError(f"票号 {sheet_no} 已计票")
    if len(entries) < 2 or not differences(entries[0].answers, entries[1].answers):
        raise ValidationError(f"票号 {sheet_no} 没有待裁定的录入差异")
    if any(e.teller_id == actor.pk for e in entries):
        raise ValidationError("裁定须由两名录入人员以外的组织者进行")
    if (entry_id is None) == (answers is None):
        raise ValidationError("请选择采用其中一遍录入，或按纸质选票重新录入")
    if entry_id is not None:
        chosen = next((e for e in entries if e.pk == int(entry_id)), None)
        if chosen is None:
            raise ValidationError("请选择本票号的一遍录入")
        final = normalize(sheet, chosen.answers)
        decision = f"采用第 {entries.index(chosen) + 1} 遍录入（{chosen.teller}）"
    else:
        final = normalize(sheet, answers or {})
        PaperEntry.objects.create(
            appraisal=appraisal, sheet_no=sheet_no, teller=actor, answers=final, counted=True
        )
        decision = "按纸质选票重新录入"
    ballot = _count(appraisal, sheet, final)
    PaperEntry.objects.filter(appraisal=appraisal, sheet_no=sheet_no).update(counted=True)
    log_action(
        Action.PAPER_RESOLVE, actor=actor, obj=appraisal,
        data={
            "sheet_no": sheet_no,
            "decision": decision,
            "tellers": [str(e.teller) for e in entries],
            "differing_cells": len(differences(entries[0].answers, entries[1].answers)),
            "note": note.strip()[:200],
        },
    )  # fmt: skip
    return ballot


# ---- reads -------------------------------------------------------------------------------


@dataclass
class MismatchCell:
    target: Any
    question: dict[str, Any]
    values: list[str]  # as shown, one per entry
    differs: bool


@dataclass
class Mismatch:
    sheet_no: int
    entries: list[PaperEntry]
    cells: list[MismatchCell]

    @property
    def n_differences(self) -> int:
        return sum(1 for c in self.cells if c.differs)


def _shown(value: Any, labels: list[str], comment: bool) -> str:
    if comment:
        return value or "—"
    return "—" if value is None else labels[value] if 0 <= value < len(labels) else "?"


def mismatches(appraisal: Appraisal) -> list[Mismatch]:
    """Uncounted sheets entered twice with differences, both versions cell by cell."""
    sheet = layout(appraisal)
    pending: dict[int, list[PaperEntry]] = {}
    for e in (
        PaperEntry.objects.filter(appraisal=appraisal, counted=False)
        .select_related("teller")
        .order_by("sheet_no", "id")
    ):
        pending.setdefault(e.sheet_no, []).append(e)
    out = []
    questions = [(q, False) for q in sheet.questions] + [(q, True) for q in sheet.comments]
    for n, entries in pending.items():
        if len(entries) < 2:
            continue
        cells = []
        for t in sheet.targets:
            for q, is_comment in questions:
                values = [(e.answers.get(str(t.pk)) or {}).get(q["code"]) for e in entries[:2]]
                cells.append(
                    MismatchCell(
                        target=t, question=q,
                        values=[_shown(v, sheet.labels, is_comment) for v in values],
                        differs=values[0] != values[1],
                    )
                )  # fmt: skip
        out.append(Mismatch(n, entries[:2], cells))
    return out


@dataclass
class PaperStatus:
    entries: int
    counted_sheets: int
    waiting_sheets: int  # entered once
    mismatched_sheets: int
    next_sheet_no: int  # for the teller: the lowest number they have not entered yet above theirs


def status(appraisal: Appraisal, teller: Any = None) -> PaperStatus:
    rows = list(
        PaperEntry.objects.filter(appraisal=appraisal).values_list("sheet_no", "counted",
                                                                   "teller_id")
    )  # fmt: skip
    by_sheet: dict[int, list[tuple[bool, int]]] = {}
    for n, counted, tid in rows:
        by_sheet.setdefault(n, []).append((counted, tid))
    counted = sum(1 for v in by_sheet.values() if any(c for c, _ in v))
    waiting = sum(1 for v in by_sheet.values() if len(v) == 1 and not v[0][0])
    mismatched = sum(1 for v in by_sheet.values() if len(v) >= 2 and not any(c for c, _ in v))
    mine = [n for n, v in by_sheet.items() if teller is not None
            and any(t == teller.pk for _, t in v)]  # fmt: skip
    return PaperStatus(len(rows), counted, waiting, mismatched, (max(mine) + 1) if mine else 1)


def recent_entries(appraisal: Appraisal, teller: Any, limit: int = 20) -> list[PaperEntry]:
    return list(
        PaperEntry.objects.filter(appraisal=appraisal, teller=teller).order_by("-id")[:limit]
    )
