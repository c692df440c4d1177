"""Paper ballots: double entry by two tellers, counted once when both agree, mismatches
decided by a third organizer, audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kaoping.accounts.models import Role
from kaoping.audit.models import AuditEntry
from kaoping.ballots import paper
from kaoping.ballots.models import AppraisalStatus, Ballot, BallotAnswer, PaperEntry
from kaoping.ballots.tally import tally

from ..ballot_fixtures import ballot_campaign, make_appraisal
from ..factories import UserFactory, grant

pytestmark = pytest.mark.django_db


def _organizer(tree, name):
    user = UserFactory(username=name, full_name=name)
    grant(user, Role.ASSESSMENT_ADMIN, tree["root"])
    return user


@pytest.fixture
def tellers(tree, organizer):
    return organizer, _organizer(tree, "teller2"), _organizer(tree, "teller3")


@pytest.fixture
def appraisal(organizer, tree):
    return make_appraisal(ballot_campaign(organizer, tree))


def _sheet(appraisal, grades, comment=""):
    """All targets: Q1 and overall as ``grades[i]`` for the i-th target (None = blank)."""
    out = {}
    for t, g in zip(appraisal.targets.order_by("code"), grades, strict=True):
        out[str(t.pk)] = {"Q1": g, "overall": g, "comment": comment}
    return out


def test_two_agreeing_entries_count_one_paper_ballot(appraisal, tellers):
    a, b, _ = tellers
    sheet = _sheet(appraisal, [0, 1, None, 3], comment="加强学习")
    assert paper.enter_sheet(actor=a, appraisal=appraisal, sheet_no=7, answers=sheet) == "waiting"
    assert not Ballot.objects.exists()
    assert paper.enter_sheet(actor=b, appraisal=appraisal, sheet_no=7, answers=sheet) == "counted"
    ballot = Ballot.objects.get()
    assert ballot.source == "paper" and ballot.appraisal == appraisal
    grades = sorted(
        BallotAnswer.objects.filter(ballot=ballot, grade__isnull=False).values_list(
            "question", "grade"
        )
    )
    assert grades == sorted([("Q1", 0), ("overall", 0), ("Q1", 1), ("overall", 1),
                             ("Q1", 3), ("overall", 3)])  # fmt: skip
    assert BallotAnswer.objects.filter(ballot=ballot, question="comment").count() == 4
    assert set(PaperEntry.objects.values_list("counted", flat=True)) == {True}
    # Counted like an online ballot.
    t = tally(appraisal)
    assert t.by_source == {"paper": 1}
    assert AuditEntry.objects.filter(action="ballot.paper_entry").count() == 2


def test_the_same_teller_cannot_enter_a_sheet_twice(appraisal, tellers):
    a, b, c = tellers
    sheet = _sheet(appraisal, [0, 0, 0, 0])
    paper.enter_sheet(actor=a, appraisal=appraisal, sheet_no=1, answers=sheet)
    with pytest.raises(ValidationError, match="另一名计票人员"):
        paper.enter_sheet(actor=a, appraisal=appraisal, sheet_no=1, answers=sheet)
    paper.enter_sheet(actor=b, appraisal=appraisal, sheet_no=1, answers=sheet)
    with pytest.raises(ValidationError, match="已计票"):
        paper.enter_sheet(actor=c, appraisal=appraisal, sheet_no=1, answers=sheet)
    assert Ballot.objects.count() == 1


def test_mismatch_is_listed_and_decided_by_a_third_organizer(appraisal, tellers):
    a, b, c = tellers
    first = _sheet(appraisal, [0, 1, 1, 2])
    second = _sheet(appraisal, [0, 1, 2, 2])
    paper.enter_sheet(actor=a, appraisal=appraisal, sheet_no=3, answers=first)
    assert paper.enter_sheet(actor=b, appraisal=appraisal, sheet_no=3, answers=second) == "mismatch"
    assert not Ballot.objects.exists()
    (m,) = paper.mismatches(appraisal)
    assert m.sheet_no == 3 and m.n_differences == 2  # Q1 and overall of the third target
    differing = [c for c in m.cells if c.differs]
    assert {tuple(c.values) for c in differing} == {("较好", "一般")}
    with pytest.raises(ValidationError, match="等待组织者裁定"):
        paper.enter_sheet(actor=c, appraisal=appraisal, sheet_no=3, answers=first)
    with pytest.raises(ValidationError, match="以外的组织者"):
        paper.resolve(actor=a, appraisal=appraisal, sheet_no=3, entry_id=m.entries[0].pk)
    paper.resolve(
        actor=c, appraisal=appraisal, sheet_no=3, entry_id=m.entries[1].pk, note="核对原票"
    )
    ballot = Ballot.objects.get()
    assert ballot.source == "paper"
    third = appraisal.targets.order_by("code")[2]
    assert BallotAnswer.objects.get(ballot=ballot, target=third, question="Q1").grade == 2
    assert paper.mismatches(appraisal) == []
    entry = AuditEntry.objects.get(action="ballot.paper_resolve")
    assert entry.data["sheet_no"] == 3 and "第 2 遍" in entry.data["decision"]
    with pytest.raises(ValidationError):
        paper.resolve(actor=c, appraisal=appraisal, sheet_no=3, entry_id=m.entries[0].pk)
    assert Ballot.objects.count() == 1


def test_mismatch_resolved_by_entering_the_sheet_again(appraisal, tellers):
    a, b, c = tellers
    paper.enter_sheet(actor=a, appraisal=appraisal, sheet_no=4, answers=_sheet(appraisal, [0] * 4))
    paper.enter_sheet(actor=b, appraisal=appraisal, sheet_no=4, answers=_sheet(appraisal, [1] * 4))
    paper.resolve(actor=c, appraisal=appraisal, sheet_no=4, answers=_sheet(appraisal, [2] * 4))
    assert set(
        BallotAnswer.objects.filter(grade__isnull=False).values_list("grade", flat=True)
    ) == {2}
    assert PaperEntry.objects.filter(sheet_no=4, counted=True).count() == 3
    st = paper.status(appraisal)
    assert (st.counted_sheets, st.waiting_sheets, st.mismatched_sheets) == (1, 0, 0)


def test_entries_are_checked(appraisal, tellers, outsider, tree):
    a, *_ = tellers
    with pytest.raises(ValidationError, match="没有填写任何等次"):
        paper.enter_sheet(
            actor=a, appraisal=appraisal, sheet_no=1, answers=_sheet(appraisal, [None] * 4)
        )
    with pytest.raises(ValidationError, match="等次不正确"):
        paper.enter_sheet(
            actor=a, appraisal=appraisal, sheet_no=1, answers=_sheet(appraisal, [4] * 4)
        )
    with pytest.raises(ValidationError, match="票号"):
        paper.enter_sheet(
            actor=a, appraisal=appraisal, sheet_no=0, answers=_sheet(appraisal, [0] * 4)
        )
    with pytest.raises(ValidationError, match="不属于"):
        paper.enter_sheet(actor=a, appraisal=appraisal, sheet_no=1, answers={"999999": {"Q1": 0}})
    with pytest.raises(PermissionDenied):
        paper.enter_sheet(
            actor=outsider, appraisal=appraisal, sheet_no=1, answers=_sheet(appraisal, [0] * 4)
        )
    appraisal.status = AppraisalStatus.CLOSED
    appraisal.save()
    with pytest.raises(ValidationError, match="投票中"):
        paper.enter_sheet(
            actor=a, appraisal=appraisal, sheet_no=1, answers=_sheet(appraisal, [0] * 4)
        )
    assert not PaperEntry.objects.exists()


def test_form_digits_are_one_based(appraisal):
    sheet = paper.layout(appraisal)
    t = sheet.targets[0]
    data = {paper.field_name("g", t.pk, "Q1"): "2", paper.field_name("c", t.pk, "comment"): " 好 "}
    answers = paper.answers_from_form(sheet, data)
    assert answers[str(t.pk)] == {"Q1": 1, "overall": None, "comment": " 好 "}
    with pytest.raises(ValidationError, match="1 至 4"):
        paper.answers_from_form(sheet, {paper.field_name("g", t.pk, "Q1"): "5"})


def test_a_batch_is_all_or_nothing(appraisal, tellers):
    a, b, _ = tellers
    good = _sheet(appraisal, [0, 1, 0, 1])
    out = paper.enter_sheets(actor=a, appraisal=appraisal, sheets=[(1, good), (2, good)])
    assert out == {"waiting": 2, "counted": 0, "mismatch": 0}
    with pytest.raises(ValidationError, match="票号 2"):
        paper.enter_sheets(actor=b, appraisal=appraisal, sheets=[(1, good), (2, {"x": {}})])
    assert PaperEntry.objects.count() == 2 and not Ballot.objects.exists()
    out = paper.enter_sheets(actor=b, appraisal=appraisal, sheets=[(1, good), (2, good)])
    assert out["counted"] == 2 and Ballot.objects.count() == 2
