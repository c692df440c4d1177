"""Reviewer scoring services: bounds per rule kind, reasons for deductions, scope, locking by
submission, reopening by the organizer, and the audit policy (summary on submit, per-cell
changes only after a reopen)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kaoping.audit.models import AuditEntry
from kaoping.campaigns.models import Campaign, Notification, Stage
from kaoping.collection import review_services as services
from kaoping.collection.models import ReviewScore, SheetStatus

from ..review_fixtures import review_setup

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(tree, organizer):
    return review_setup(tree, organizer)


def _save(setup, code, key="a1", **kw):
    return services.save_score(
        actor=setup.reviewer, target=setup.targets[key], indicator=setup.indicators[code], **kw
    )


def _fill_all(setup, key):
    _save(setup, "1.1", key, score="10")
    _save(setup, "1.2", key, grade="好")
    _save(setup, "1.3", key, occurrences={"a": 0, "b": 0})
    _save(setup, "2.3", key, score=40)


def test_rating_in_bounds_is_saved_and_upserted(setup):
    cell = _save(setup, "1.1", score="10")
    assert cell.score == Decimal("10.00") and cell.reason == ""
    again = _save(setup, "1.1", score="8.5", reason="缺一次学习记录")
    assert again.pk == cell.pk and again.score == Decimal("8.50")
    assert ReviewScore.objects.count() == 1


@pytest.mark.parametrize(
    "value,message",
    [("11", "分数应在 0 至 10 之间"), ("-1", "分数应在 0 至 10 之间"),
     ("abc", "“abc”不是数字"), ("9.555", "最多保留两位小数")],
)  # fmt: skip
def test_rating_out_of_bounds_is_refused_in_chinese(setup, value, message):
    with pytest.raises(ValidationError) as exc:
        _save(setup, "1.1", score=value, reason="理由")
    assert message in exc.value.messages[0]
    assert not ReviewScore.objects.exists()


def test_every_deduction_needs_a_reason(setup):
    with pytest.raises(ValidationError) as exc:
        _save(setup, "1.1", score="9")
    assert exc.value.code == "reason" and "扣分理由" in exc.value.messages[0]
    with pytest.raises(ValidationError):
        _save(setup, "1.2", grade="较好")  # below the top grade
    with pytest.raises(ValidationError):
        _save(setup, "1.3", occurrences={"a": 1})  # a deduction item occurred
    assert not ReviewScore.objects.exists()
    assert _save(setup, "1.1", score="9", reason="  少一次  ").reason == "少一次"
    assert _save(setup, "1.2", grade="好").grade == "好"  # the top grade needs none
    assert _save(setup, "1.3", occurrences={"a": 0, "b": 0}).occurrences == {"a": 0, "b": 0}


def test_grade_must_be_one_of_the_labels(setup):
    with pytest.raises(ValidationError) as exc:
        _save(setup, "1.2", grade="优秀")
    assert exc.value.messages == ["等次应为：好、较好、一般、差"]


@pytest.mark.parametrize(
    "occ,message",
    [({"z": 1}, "没有编码为“z”的事项"), ({"a": -1}, "次数应为不小于 0 的整数"),
     ({"a": "1.5"}, "次数应为不小于 0 的整数"), ({"b": "两次"}, "次数应为不小于 0 的整数")],
)  # fmt: skip
def test_occurrences_must_be_counts_of_known_items(setup, occ, message):
    with pytest.raises(ValidationError) as exc:
        _save(setup, "1.3", occurrences=occ, reason="理由")
    assert message in exc.value.messages[0]


def test_empty_value_clears_the_cell(setup):
    _save(setup, "1.1", score="10")
    assert _save(setup, "1.1", score="") is None
    assert not ReviewScore.objects.exists()


def test_only_assigned_reviewers_only_rated_indicators(setup, organizer):
    with pytest.raises(PermissionDenied):
        _save(setup, "1.1", key="b1", score="10")  # b1 is not assigned to the reviewer
    with pytest.raises(PermissionDenied):
        services.save_score(
            actor=organizer, target=setup.targets["a1"], indicator=setup.indicators["1.1"],
            score="10",
        )  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        _save(setup, "2.1", score="90")  # quantitative data, not scored by reviewers
    assert exc.value.messages == ["该指标不由评审员评分"]


def test_nothing_is_saved_outside_the_review_stage(setup):
    Campaign.objects.filter(pk=setup.campaign.pk).update(status=Stage.APPRAISAL)
    setup.targets["a1"].campaign.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        _save(setup, "1.1", score="10")
    assert exc.value.messages == ["评审阶段未开放，不能评分"]


def test_submit_lists_what_is_missing(setup):
    _fill_all(setup, "a1")
    _save(setup, "1.1", "a2", score="10")
    with pytest.raises(ValidationError) as exc:
        services.submit_sheet(actor=setup.reviewer, campaign=setup.campaign)
    lines = exc.value.messages
    assert lines[0] == "还有 3 项未评分，不能提交："
    assert (
        lines[1]
        == "财务处党支部：1.2 落实意识形态工作责任制、1.3 严格党的组织生活、2.3 党建与业务融合"
    )


def test_submit_locks_the_sheet_and_writes_one_summary(setup):
    _fill_all(setup, "a1")
    _fill_all(setup, "a2")
    _save(setup, "1.1", "a2", score="7", reason="学习记录不全")
    assert not AuditEntry.objects.filter(action__startswith="review.").exists()  # drafts
    sheet = services.submit_sheet(actor=setup.reviewer, campaign=setup.campaign)
    assert sheet.status == SheetStatus.SUBMITTED and sheet.submitted_at
    entry = AuditEntry.objects.get(action="review.submit")
    assert entry.data["评分项"] == 8 and entry.data["扣分项"] == 1
    assert entry.data["合计"] == {"ZB11": "80", "ZB12": "77"}  # the 80 points scored here
    assert len(entry.data["sha256"]) == 64 and entry.data["首次提交"] is True
    with pytest.raises(ValidationError) as exc:
        _save(setup, "1.1", score="9", reason="x")
    assert "已提交" in exc.value.messages[0]
    with pytest.raises(ValidationError):
        services.submit_sheet(actor=setup.reviewer, campaign=setup.campaign)


def test_reopen_by_the_organizer_notifies_and_audits_later_changes(setup, organizer, sub_organizer):
    _fill_all(setup, "a1")
    _fill_all(setup, "a2")
    sheet = services.submit_sheet(actor=setup.reviewer, campaign=setup.campaign)
    with pytest.raises(PermissionDenied):  # runs only 第一党总支, not the agency's campaign
        services.reopen_sheet(actor=sub_organizer, sheet=sheet, reason="请复核")
    with pytest.raises(ValidationError) as exc:
        services.reopen_sheet(actor=organizer, sheet=sheet, reason=" ")
    assert exc.value.messages == ["请填写退回理由"]
    sheet = services.reopen_sheet(actor=organizer, sheet=sheet, reason="1.1 请复核")
    assert sheet.status == SheetStatus.OPEN and sheet.submitted_at is not None
    note = Notification.objects.get(user=setup.reviewer)
    assert "已被退回修改：1.1 请复核" in note.message
    assert note.url == f"/collect/review/{setup.campaign.pk}/"
    assert AuditEntry.objects.get(action="review.reopen").data["理由"] == "1.1 请复核"
    with pytest.raises(ValidationError):
        services.reopen_sheet(actor=organizer, sheet=sheet, reason="again")  # not submitted
    _save(setup, "1.1", score="8", reason="复核后扣 2 分")
    _save(setup, "1.1", score="8", reason="复核后扣 2 分")  # unchanged: no entry
    change = AuditEntry.objects.get(action="review.score")
    assert change.changes == {"值": ["10", "8"], "理由": ["", "复核后扣 2 分"]}
    assert change.data["对象"] == "办公室党支部" and change.data["指标"].startswith("1.1 ")
    services.submit_sheet(actor=setup.reviewer, campaign=setup.campaign)
    assert AuditEntry.objects.filter(action="review.submit").latest("id").data["首次提交"] is False
