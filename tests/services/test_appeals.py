"""Appeals (申诉) and input corrections: who may file and when, one open appeal per target,
rejecting with a reason, upholding with corrections that recompute the results (all or
nothing), corrections checked against each rule kind, corrections during 汇总, and the lock
at the end of publication. Every step is audited."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from kaoping.audit.models import AuditEntry
from kaoping.campaigns.models import Stage
from kaoping.collection.models import Evidence, EvidenceFile
from kaoping.results import appeal_services as svc
from kaoping.results import services as results
from kaoping.results.appeal_services import CorrectionInput
from kaoping.results.models import (
    Appeal,
    AppealStatus,
    InputCorrection,
    ResultSet,
    ResultStatus,
)

from ..appeal_fixtures import in_consolidation, published_campaign
from ..evidence_samples import ELF_BYTES, pdf_bytes, upload


@pytest.fixture
def setup(tree, organizer):
    return published_campaign(tree, organizer)


def _total(campaign, target):
    return results.current_set(campaign).results.get(target=target).total


def _file(setup, key="a1", **kw):
    kw.setdefault("reason", "评审时漏看了学习记录")
    return svc.file_appeal(
        actor=setup.submitters[key] if key != "cadre" else setup.extra["cadre_user"],
        target=setup.targets[key],
        **kw,
    )


def _expire(campaign):
    rs = results.current_set(campaign)
    ResultSet.objects.filter(pk=rs.pk).update(
        publication_ends=timezone.now() - timedelta(minutes=1)
    )


# ---- filing --------------------------------------------------------------------------------


def test_unit_files_with_evidence_stored_once_and_audited(setup):
    a1 = setup.targets["a1"]
    appeal = _file(
        setup,
        indicator_code="1.1",
        uploads=[upload("学习记录.pdf", pdf_bytes("x")), upload("again.pdf", pdf_bytes("x"))],
    )
    assert appeal.status == AppealStatus.FILED and appeal.indicator_code == "1.1"
    assert appeal.result.result_set == results.current_set(setup.campaign)
    assert appeal.result.target == a1
    # the same bytes twice: one stored file, one evidence row of the unit
    assert EvidenceFile.objects.count() == 1
    assert list(appeal.evidence.all()) == [Evidence.objects.get(organization=a1.organization)]
    entry = AuditEntry.objects.get(action="appeal.file", object_id=str(appeal.pk))
    assert entry.data["indicator"] == "1.1" and entry.data["target"] == a1.code
    assert AuditEntry.objects.filter(action="evidence.upload").count() == 2


def test_the_person_files_against_a_cadre_result(setup):
    appeal = _file(setup, "cadre", uploads=[upload("述职报告.pdf", pdf_bytes("p"))])
    assert appeal.target == setup.targets["cadre"]
    assert appeal.evidence.get().organization == setup.targets["cadre"].person.organization


def test_only_the_target_side_may_file(setup, organizer, member):
    a1 = setup.targets["a1"]
    for actor in (setup.submitters["a2"], setup.reviewer, organizer, member,
                  setup.extra["cadre_user"]):  # fmt: skip
        with pytest.raises(PermissionDenied):
            svc.file_appeal(actor=actor, target=a1, reason="不服")
    with pytest.raises(PermissionDenied):  # the cadre's unit submitter may; another person not
        svc.file_appeal(actor=member, target=setup.targets["cadre"], reason="不服")
    assert svc.file_appeal(
        actor=setup.submitters["a1"], target=setup.targets["cadre"], reason="代为申诉"
    )


def test_reason_required_and_indicator_must_be_a_leaf(setup):
    with pytest.raises(ValidationError) as exc:
        _file(setup, reason="  ", indicator_code="1")
    assert exc.value.message_dict == {
        "reason": ["请填写申诉理由"],
        "indicator": ["指标“1”不是本次考核指标体系中的末级指标"],
    }
    assert not Appeal.objects.exists()


def test_a_bad_file_is_refused_by_name_and_nothing_is_kept(setup):
    with pytest.raises(ValidationError) as exc:
        _file(setup, uploads=[upload("ok.pdf", pdf_bytes()), upload("记录.pdf", ELF_BYTES)])
    assert "记录.pdf：" in exc.value.message_dict["files"][0]
    assert not Appeal.objects.exists() and not Evidence.objects.exists()


def test_one_open_appeal_per_target(setup, organizer):
    first = _file(setup)
    with pytest.raises(ValidationError, match="尚未处理"):
        _file(setup)
    _file(setup, "a2")  # another target may
    svc.reject(actor=organizer, appeal=first, decision="评审记录完整，维持原评分")
    assert _file(setup).status == AppealStatus.FILED  # decided: may appeal again


def test_refused_before_publication_and_after_the_period(tree, organizer):
    setup = in_consolidation(tree, organizer)
    with pytest.raises(ValidationError, match="尚未公示"):
        _file(setup)
    results.submit(actor=organizer, campaign=setup.campaign)
    results.approve(actor=setup.extra["approver"], campaign=setup.campaign)
    from kaoping.campaigns import services as cs

    cs.transition(actor=organizer, campaign=setup.campaign, to_stage=Stage.PUBLICATION)
    _expire(setup.campaign)
    ends = timezone.localtime(results.current_set(setup.campaign).publication_ends)
    with pytest.raises(ValidationError) as exc:
        _file(setup)
    assert exc.value.messages == [f"公示期已于 {ends:%Y-%m-%d %H:%M} 结束，不能再提出申诉"]
    svc.lock_expired()
    with pytest.raises(ValidationError, match="已锁定"):
        _file(setup)


# ---- deciding ------------------------------------------------------------------------------


def test_reject_needs_a_reason_and_only_the_organizer(setup, organizer, sub_organizer):
    appeal = _file(setup)
    with pytest.raises(ValidationError) as exc:
        svc.reject(actor=organizer, appeal=appeal, decision=" ")
    assert exc.value.message_dict == {"decision": ["请填写驳回理由"]}
    with pytest.raises(PermissionDenied):
        svc.reject(actor=sub_organizer, appeal=appeal, decision="不成立")
    with pytest.raises(PermissionDenied):
        svc.reject(actor=setup.submitters["a1"], appeal=appeal, decision="不成立")
    svc.reject(actor=organizer, appeal=appeal, decision="不成立")
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.REJECTED and appeal.decided_by == organizer
    assert AuditEntry.objects.get(action="appeal.reject").data["decision"] == "不成立"
    with pytest.raises(ValidationError, match="已处理"):
        svc.reject(actor=organizer, appeal=appeal, decision="再次")


def test_uphold_corrects_recomputes_and_shows_the_diff(setup, organizer):
    a1 = setup.targets["a1"]
    before = _total(setup.campaign, a1)
    old_set = results.current_set(setup.campaign)
    appeal = _file(setup, indicator_code="1.1")
    svc.uphold(
        actor=organizer,
        appeal=appeal,
        corrections=[CorrectionInput("1.1", score="10", reason="学习记录齐全，应得满分")],
        decision="经核实，申诉成立",
    )
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.UPHELD and appeal.decision == "经核实，申诉成立"
    new_set = results.current_set(setup.campaign)
    assert appeal.recomputed == new_set and new_set.number == old_set.number + 1
    # still published, for the rest of the same period
    assert new_set.status == ResultStatus.PUBLISHED
    assert new_set.publication_ends == old_set.publication_ends
    assert _total(setup.campaign, a1) == pytest.approx(before + 2)
    assert new_set.reason.startswith("申诉成立：")
    row = next(t for t in new_set.changes["targets"] if t["target"] == a1.code)
    assert row["total"] == [pytest.approx(before), pytest.approx(before + 2)]
    assert new_set.changes["corrections"][0]["appeal"] == appeal.pk
    c = InputCorrection.objects.get()
    assert c.appeal == appeal and c.score == Decimal("10.00") and c.target == a1
    entry = AuditEntry.objects.get(action="result.input_correct")
    assert entry.changes["1.1 学习贯彻党的创新理论"] == ["评分 8", "评分 10"]
    assert entry.data["reason"] == "学习记录齐全，应得满分"
    uphold = AuditEntry.objects.get(action="appeal.uphold")
    assert uphold.changes["总分"] == [pytest.approx(before), pytest.approx(before + 2)]
    assert AuditEntry.objects.filter(action="result.compute", object_id=str(new_set.pk)).exists()


def test_uphold_with_several_corrections_of_each_kind(setup, organizer):
    appeal = _file(setup, "b1")
    svc.uphold(
        actor=organizer,
        appeal=appeal,
        corrections=[
            CorrectionInput("1.2", grade="好", reason="按材料应为好"),
            CorrectionInput("1.3", occurrences={"a": "0", "b": ""}, reason="无缺会"),
            CorrectionInput("2.1", value="95", reason="统计口径有误"),
        ],
    )
    rs = results.current_set(setup.campaign)
    r = rs.results.get(target=setup.targets["b1"])
    assert r.indicators["1.2"] == pytest.approx(20)
    assert r.indicators["1.3"] == pytest.approx(10)
    assert r.indicators["2.1"] == pytest.approx(20)
    assert InputCorrection.objects.get(indicator_code="1.3").occurrences == {"a": 0, "b": 0}
    assert AuditEntry.objects.filter(action="result.input_correct").count() == 3


@pytest.mark.parametrize(
    "entry,message",
    [
        (
            CorrectionInput("1.1", score="12", reason="r"),
            "1.1 学习贯彻党的创新理论：评分应在 0 至 10 分之间，不能填 12",
        ),
        (CorrectionInput("1.1", score="abc", reason="r"), "评分“abc”不是数字"),
        (CorrectionInput("1.1", score="8.123", reason="r"), "最多保留 2 位小数"),
        (CorrectionInput("1.1", score="", reason="r"), "请填写更正后的评分"),
        (
            CorrectionInput("1.2", grade="优秀", reason="r"),
            "1.2 落实意识形态工作责任制：等次应为：好、较好、一般、差",
        ),
        (
            CorrectionInput("1.3", occurrences={"a": "-1"}, reason="r"),
            "“未按时召开支委会”的次数应为不小于 0 的整数",
        ),
        (CorrectionInput("1.3", occurrences={"zz": "1"}, reason="r"), "没有编码为“zz”的事项"),
        (CorrectionInput("2.1", value="", reason="r"), "请填写更正后的数值"),
        (CorrectionInput("2.1", value="1.23456", reason="r"), "最多保留 4 位小数"),
        (CorrectionInput("2.1", value="90", veto="1", reason="r"), "该指标没有一票否决情形"),
        (CorrectionInput("1.1", score="9", reason=" "), "1.1 学习贯彻党的创新理论：请填写更正理由"),
        (
            CorrectionInput("9.9", score="9", reason="r"),
            "指标“9.9”不是本次考核指标体系中的末级指标",
        ),
        (CorrectionInput("1", score="9", reason="r"), "指标“1”不是本次考核指标体系中的末级指标"),
    ],
)
def test_corrections_are_checked_against_the_rule(setup, organizer, entry, message):
    appeal = _file(setup)
    with pytest.raises(ValidationError) as exc:
        svc.uphold(actor=organizer, appeal=appeal, corrections=[entry])
    assert any(message in m for m in exc.value.messages), exc.value.messages
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.FILED
    assert not InputCorrection.objects.exists()
    assert ResultSet.objects.filter(campaign=setup.campaign).count() == 1


def test_every_problem_is_reported_at_once(setup, organizer):
    appeal = _file(setup)
    with pytest.raises(ValidationError) as exc:
        svc.uphold(
            actor=organizer,
            appeal=appeal,
            corrections=[
                CorrectionInput("1.1", score="11", reason="r"),
                CorrectionInput("2.1", value="x", reason="r"),
                CorrectionInput("1.1", score="9", reason="r"),
            ],
        )
    assert len(exc.value.messages) == 3
    with pytest.raises(ValidationError, match="至少更正一项"):
        svc.uphold(actor=organizer, appeal=appeal, corrections=[])


def test_nothing_is_kept_when_the_recompute_changes_nothing(setup, organizer):
    """A correction equal to what was gathered gives the same inputs: the decision is refused
    and the corrections are rolled back with it."""
    appeal = _file(setup, "b1")
    with pytest.raises(ValidationError, match="与原数据相同"):
        svc.uphold(
            actor=organizer, appeal=appeal,
            corrections=[CorrectionInput("2.1", value="60", reason="复核无误")],
        )  # fmt: skip
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.FILED
    assert not InputCorrection.objects.exists()
    assert not AuditEntry.objects.filter(action="result.input_correct").exists()


def test_no_decision_after_the_period_ends(setup, organizer):
    appeal = _file(setup)
    _expire(setup.campaign)
    with pytest.raises(ValidationError, match="公示期已于"):
        svc.reject(actor=organizer, appeal=appeal, decision="不成立")
    svc.lock_expired()
    with pytest.raises(ValidationError, match="已锁定"):
        svc.uphold(
            actor=organizer, appeal=appeal,
            corrections=[CorrectionInput("1.1", score="10", reason="r")],
        )  # fmt: skip
    with pytest.raises(ValidationError, match="已锁定"):
        results.compute(actor=organizer, campaign=setup.campaign)


# ---- corrections during 汇总 ------------------------------------------------------------------


def test_correct_inputs_during_consolidation(tree, organizer):
    setup = in_consolidation(tree, organizer)
    b1 = setup.targets["b1"]
    before = _total(setup.campaign, b1)
    rs = svc.correct_inputs(
        actor=organizer, campaign=setup.campaign, target=b1,
        corrections=[CorrectionInput("2.3", score="30", reason="评分录入错误")],
    )  # fmt: skip
    assert rs.status == ResultStatus.DRAFT and rs.number == 2
    assert _total(setup.campaign, b1) == pytest.approx(before + 10)
    c = InputCorrection.objects.get()
    assert c.appeal is None and c.reason == "评分录入错误"
    entry = AuditEntry.objects.get(action="result.input_correct")
    assert entry.data["appeal"] is None and entry.changes["2.3 党建与业务融合"] == [
        "评分 20",
        "评分 30",
    ]
    # a second correction of the same cell shows the first as "before"
    svc.correct_inputs(
        actor=organizer, campaign=setup.campaign, target=b1,
        corrections=[CorrectionInput("2.3", score="25", reason="再次核对")],
    )  # fmt: skip
    last = AuditEntry.objects.filter(action="result.input_correct").order_by("-id").first()
    assert last.changes["2.3 党建与业务融合"] == ["评分 30（上次更正）", "评分 25"]


def test_correct_inputs_refused_outside_consolidation_and_to_others(setup, organizer, outsider):
    with pytest.raises(ValidationError, match="公示期间只能通过处理申诉"):
        svc.correct_inputs(
            actor=organizer, campaign=setup.campaign, target=setup.targets["a1"],
            corrections=[CorrectionInput("1.1", score="9", reason="r")],
        )  # fmt: skip
    with pytest.raises(PermissionDenied):
        svc.correct_inputs(
            actor=outsider, campaign=setup.campaign, target=setup.targets["b1"],
            corrections=[CorrectionInput("1.1", score="9", reason="r")],
        )  # fmt: skip


# ---- the lock at the end of publication --------------------------------------------------------


def test_lock_expired_locks_only_ended_periods(setup, tree, organizer):
    assert svc.lock_expired() == []
    rs = results.current_set(setup.campaign)
    assert rs.status == ResultStatus.PUBLISHED
    _expire(setup.campaign)
    locked = svc.lock_expired()
    assert [x.pk for x in locked] == [rs.pk]
    rs.refresh_from_db()
    assert rs.status == ResultStatus.FINAL and rs.locked_at is not None
    assert AuditEntry.objects.filter(action="result.lock", object_id=str(rs.pk)).exists()
    assert svc.lock_expired() == []


def test_lock_expired_command(setup, capsys):
    call_command("results", "lock-expired")
    assert "没有" in capsys.readouterr().out
    _expire(setup.campaign)
    call_command("results", "lock-expired", "--json")
    import json

    out = json.loads(capsys.readouterr().out)
    assert out["locked"][0]["campaign"] == setup.campaign.pk
    assert results.current_set(setup.campaign).status == ResultStatus.FINAL
