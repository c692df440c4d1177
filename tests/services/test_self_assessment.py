"""Self-assessment services: bounds per rule kind, evidence, submit, return/resubmit, stages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kaoping.audit.models import AuditEntry
from kaoping.campaigns.models import Notification, Stage
from kaoping.collection import self_selectors as sel
from kaoping.collection import self_services as svc
from kaoping.collection.models import AssessmentStatus, SelfAssessment

from ..collection_fixtures import campaign_in_self_assessment
from ..evidence_samples import docx_bytes, pdf_bytes, upload


@pytest.fixture
def setup(tree, organizer):
    return campaign_in_self_assessment(tree, organizer=organizer)


@pytest.fixture
def unit(setup):
    """(submitter, target) of 办公室党支部."""
    return setup.submitters["a1"], setup.targets["a1"]


def fill_all(setup, user, target):
    ind = setup.indicators
    svc.save_item(
        actor=user, target=target, indicator=ind["1.1"], score="9.5", narrative="按计划学习"
    )
    svc.save_item(actor=user, target=target, indicator=ind["1.2"], grade="较好")
    svc.save_item(actor=user, target=target, indicator=ind["1.3"], occurrences={"a": "1", "b": ""})
    svc.save_item(actor=user, target=target, indicator=ind["2.3"], score=35)
    svc.upload_and_attach(
        actor=user,
        target=target,
        indicator=ind["1.1"],
        uploaded_file=upload("记录.pdf", pdf_bytes()),
    )


def test_answered_indicators_leave_out_data_the_system_holds(setup):
    codes = [i.code for i in sel.answered_indicators(setup.version)]
    assert codes == ["1.1", "1.2", "1.3", "2.3"]  # 2.1 quantitative, 2.2 daily record: held
    assert [i.code for i in sel.held_indicators(setup.version)] == ["2.1", "2.2"]


def test_rating_bounds(setup, unit):
    user, target = unit
    item = svc.save_item(actor=user, target=target, indicator=setup.indicators["1.1"], score="10")
    assert item.score == Decimal("10.00")
    for bad, message in [
        ("10.5", "1.1 学习贯彻党的创新理论：自评分应在 0 至 10 分之间，不能填 10.5"),
        ("-1", "自评分应在 0 至 10 分之间"),
        ("abc", "自评分应为数字"),
        ("1.234", "最多保留两位小数"),
        ("NaN", "自评分应为数字"),
    ]:
        with pytest.raises(ValidationError) as exc:
            svc.save_item(actor=user, target=target, indicator=setup.indicators["1.1"], score=bad)
        assert message in exc.value.messages[0]
    item.refresh_from_db()
    assert item.score == Decimal("10.00")  # the refused values changed nothing


def test_grade_must_be_one_of_the_version_grades(setup, unit):
    user, target = unit
    item = svc.save_item(actor=user, target=target, indicator=setup.indicators["1.2"], grade="好")
    assert item.grade == "好"
    with pytest.raises(ValidationError) as exc:
        svc.save_item(actor=user, target=target, indicator=setup.indicators["1.2"], grade="优秀")
    assert (
        exc.value.messages[0] == "1.2 落实意识形态工作责任制：等次应为以下之一：好、较好、一般、差"
    )


def test_occurrences_per_known_item(setup, unit):
    user, target = unit
    ind = setup.indicators["1.3"]
    item = svc.save_item(actor=user, target=target, indicator=ind, occurrences={"a": "2"})
    assert item.occurrences == {"a": 2, "b": 0}
    with pytest.raises(ValidationError, match="“未按时召开支委会”的次数应为不小于 0 的整数"):
        svc.save_item(actor=user, target=target, indicator=ind, occurrences={"a": "1.5"})
    with pytest.raises(ValidationError, match="0 至 1000 之间的整数"):
        svc.save_item(actor=user, target=target, indicator=ind, occurrences={"a": -1})
    with pytest.raises(ValidationError, match="没有编码为“z”的事项"):
        svc.save_item(actor=user, target=target, indicator=ind, occurrences={"z": 1})


def test_held_indicators_are_not_self_filled(setup, unit):
    user, target = unit
    for code in ("2.1", "2.2"):
        with pytest.raises(ValidationError, match="不需要单位自评"):
            svc.save_item(actor=user, target=target, indicator=setup.indicators[code], score=1)


def test_indicator_of_another_version_is_refused(tree, organizer, setup, unit):
    other = campaign_in_self_assessment(tree, organizer=organizer, name="另一次考核")
    user, target = unit
    with pytest.raises(ValidationError, match="不属于本次考核"):
        svc.save_item(actor=user, target=target, indicator=other.indicators["1.1"], score=1)


def test_only_the_units_own_submitter_fills_in(setup):
    target = setup.targets["a1"]
    for user in (setup.submitters["a2"], setup.reviewer):
        with pytest.raises(PermissionDenied):
            svc.save_item(actor=user, target=target, indicator=setup.indicators["1.1"], score=1)


def test_submit_lists_what_is_missing(setup, unit):
    user, target = unit
    svc.save_item(actor=user, target=target, indicator=setup.indicators["1.1"], score=8)
    with pytest.raises(ValidationError) as exc:
        svc.submit(actor=user, target=target)
    assert exc.value.messages == [
        "1.1 学习贯彻党的创新理论：还需上传佐证材料 1 份（党组织会议记录）",
        "1.2 落实意识形态工作责任制：未填写等次",
        "1.3 严格党的组织生活：未填写各事项次数",
        "2.3 党建与业务融合：未填写自评分",  # its evidence is optional: not listed
    ]
    assert SelfAssessment.objects.get(target=target).status == AssessmentStatus.DRAFT


def test_submit_return_resubmit_accept(setup, unit, organizer):
    user, target = unit
    fill_all(setup, user, target)
    assessment = svc.submit(actor=user, target=target)
    assert assessment.status == AssessmentStatus.SUBMITTED
    assert assessment.submitted_by == user
    # Submitted: read-only for the unit.
    with pytest.raises(ValidationError, match="自评已提交，退回前不能修改"):
        svc.save_item(actor=user, target=target, indicator=setup.indicators["1.1"], score=1)
    with pytest.raises(ValidationError, match="请填写退回意见"):
        svc.return_assessment(actor=organizer, target=target, comment="  ")
    with pytest.raises(PermissionDenied):
        svc.return_assessment(actor=user, target=target, comment="自己退回")
    svc.return_assessment(actor=organizer, target=target, comment="1.1 请补充学习记录")
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.RETURNED
    assert assessment.return_comment == "1.1 请补充学习记录"
    note = Notification.objects.get(user=user)
    assert "1.1 请补充学习记录" in note.message
    assert note.url == f"/collect/self/{setup.campaign.pk}/{target.pk}/"
    # Returned: editable again, and resubmitted.
    svc.save_item(actor=user, target=target, indicator=setup.indicators["1.1"], score=10)
    svc.submit(actor=user, target=target)
    with pytest.raises(PermissionDenied):
        svc.accept(actor=setup.reviewer, target=target)
    svc.accept(actor=organizer, target=target)
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.ACCEPTED
    actions = list(
        AuditEntry.objects.filter(object_type="collection.selfassessment")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions.count("self.submit") == 2
    assert "self.return" in actions and "self.accept" in actions
    assert "self.evidence_attach" in actions
    first_save = AuditEntry.objects.filter(action="self.item_save").order_by("id").first()
    assert first_save.changes["自评分"] == [None, "9.50"]
    assert first_save.data["indicator"] == "1.1"


def test_accept_needs_a_submitted_assessment(setup, organizer):
    with pytest.raises(ValidationError, match="只有已提交的自评才能确认"):
        svc.accept(actor=organizer, target=setup.targets["a1"])
    with pytest.raises(ValidationError, match="只有已提交的自评才能退回"):
        svc.return_assessment(actor=organizer, target=setup.targets["a1"], comment="x")


def test_closed_stage_refuses_filling_in_but_not_returning(setup, unit, organizer):
    user, target = unit
    fill_all(setup, user, target)
    svc.submit(actor=user, target=target)
    setup.campaign.status = Stage.REVIEW
    setup.campaign.save()
    target.campaign.refresh_from_db()
    svc.return_assessment(actor=organizer, target=target, comment="补充材料")
    with pytest.raises(ValidationError, match="自评阶段未开放或已结束"):
        svc.save_item(actor=user, target=target, indicator=setup.indicators["1.1"], score=1)
    with pytest.raises(ValidationError, match="自评阶段未开放或已结束"):
        svc.submit(actor=user, target=target)


def test_evidence_reuse_across_campaigns(tree, organizer, setup, unit):
    user, target = unit
    ind = setup.indicators
    _, evidence = svc.upload_and_attach(
        actor=user,
        target=target,
        indicator=ind["1.1"],
        uploaded_file=upload("案例.docx", docx_bytes()),
    )
    # The same file on another indicator, without uploading it again.
    svc.attach_evidence(actor=user, target=target, indicator=ind["2.3"], evidence=evidence)
    # And in a later campaign.
    later = campaign_in_self_assessment(tree, organizer=organizer, name="2026 年度考核")
    later_user = later.submitters["a1"]
    later_target = later.targets["a1"]
    assert evidence in sel.unit_evidence(tree["a1"])
    item = svc.attach_evidence(
        actor=later_user, target=later_target, indicator=later.indicators["1.1"], evidence=evidence
    )
    assert list(item.evidence.all()) == [evidence]
    assert evidence.self_items.count() == 3
    assert sorted(sel.evidence_campaigns([evidence.pk])[evidence.pk]) == sorted(
        [setup.campaign.name, later.campaign.name]
    )
    # Another unit's evidence cannot be attached.
    other = svc.upload_evidence(
        actor=setup.submitters["a2"],
        organization=tree["a2"],
        uploaded_file=upload("x.pdf", pdf_bytes("b")),
    )
    with pytest.raises(ValidationError, match="只能选用本单位的佐证材料"):
        svc.attach_evidence(actor=user, target=target, indicator=ind["1.1"], evidence=other)
    # Removing a file from an indicator keeps it in the library.
    svc.detach_evidence(actor=user, target=target, indicator=ind["2.3"], evidence=evidence)
    assert evidence in sel.unit_evidence(tree["a1"], q="案例")
    assert evidence not in sel.unit_evidence(tree["a1"], q="不存在")


def test_search_library(tree, setup, unit):
    user, _ = unit
    svc.upload_evidence(
        actor=user, organization=tree["a1"], uploaded_file=upload("支委会记录.pdf", pdf_bytes("1"))
    )
    svc.upload_evidence(
        actor=user, organization=tree["a1"], uploaded_file=upload("照片.pdf", pdf_bytes("2"))
    )
    assert [e.name for e in sel.unit_evidence(tree["a1"], q="支委会")] == ["支委会记录.pdf"]
    assert sel.unit_evidence(tree["a1"]).count() == 2


def test_bounds_text(setup):
    ind = setup.indicators
    assert sel.bounds_text(ind["1.1"]) == "0 至 10 分"
    assert sel.bounds_text(ind["1.2"]) == "等次：好、较好、一般、差"
    assert sel.bounds_text(ind["1.3"]) == "每项填写发生次数，满分 10 分"
    assert (
        sel.item_text(ind["1.3"], sel.rule_items(ind["1.3"])[1])
        == "未按时开展主题党日（每次扣 2 分）"
    )
