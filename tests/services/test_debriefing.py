"""述职评议: the secretary's report, the leader's comment (一述一评), the previous debriefing and
the rectification hook beside each report."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kaoping.accounts.models import Role
from kaoping.audit.models import AuditEntry
from kaoping.ballots import debriefing
from kaoping.ballots.models import DebriefingReport
from kaoping.campaigns import services
from kaoping.organizations import services as org_services

from ..ballot_fixtures import add_ballot, make_appraisal
from ..campaign_helpers import make_campaign, published_version
from ..evidence_samples import ELF_BYTES, pdf_bytes, upload
from ..factories import PersonFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


def debriefing_campaign(organizer, tree, version, year=2026):
    campaign = make_campaign(
        organizer, tree["root"], version, name=f"{year}年度书记述职评议",
        campaign_type="debriefing", target_kind="cadre",
        period_start=dt.date(year, 1, 1), period_end=dt.date(year, 12, 31),
    )  # fmt: skip
    services.add_cadre_targets(actor=organizer, campaign=campaign, root=tree["root"], cadres=False)
    campaign.status = "self_assessment"
    campaign.save(update_fields=["status"])
    return campaign


@pytest.fixture
def secretaries(tree, organizer):
    out = {}
    for key in ("a1", "b1"):
        person = PersonFactory(name=f"{key}书记", organization=tree[key])
        org_services.appoint(
            actor=organizer, organization=tree[key], person=person, title="secretary"
        )
        out[key] = UserFactory(username=f"sec_{key}", person=person)
        grant(out[key], Role.MEMBER)
    return out


@pytest.fixture
def version(organizer, tree):
    return published_version(organizer, tree["root"], name="书记述职", target_kind="cadre")


@pytest.fixture
def campaign(organizer, tree, version, secretaries):
    return debriefing_campaign(organizer, tree, version)


def _target(campaign, user):
    return campaign.targets.get(person=user.person)


def test_the_secretary_uploads_the_report_with_a_summary(campaign, secretaries):
    user = secretaries["a1"]
    target = _target(campaign, user)
    assert debriefing.is_debriefing(campaign)
    assert debriefing.may_submit_report(user, target)
    report = debriefing.submit_report(
        actor=user, target=target, summary="一、履职情况……",
        uploaded_file=upload("述职报告.pdf", pdf_bytes("述职")),
    )  # fmt: skip
    assert report.report.organization == target.unit and report.summary == "一、履职情况……"
    assert AuditEntry.objects.filter(action="debriefing.report").exists()
    assert AuditEntry.objects.filter(action="evidence.upload").exists()
    # The summary alone may be updated later; the report stays.
    debriefing.submit_report(actor=user, target=target, summary="修改后")
    report.refresh_from_db()
    assert report.report_id and report.summary == "修改后"
    assert [t.pk for t in debriefing.my_targets(user, campaign)] == [target.pk]


def test_reports_are_checked(campaign, secretaries):
    a1, b1 = secretaries["a1"], secretaries["b1"]
    target = _target(campaign, a1)
    with pytest.raises(PermissionDenied):
        debriefing.submit_report(
            actor=b1, target=target, summary="", uploaded_file=upload("x.pdf", pdf_bytes())
        )
    with pytest.raises(ValidationError):
        debriefing.submit_report(
            actor=a1, target=target, summary="", uploaded_file=upload("x.pdf", ELF_BYTES)
        )
    with pytest.raises(ValidationError, match="请上传"):
        debriefing.submit_report(actor=a1, target=target, summary="只有要点")
    campaign.status = "consolidation"
    campaign.save()
    target.refresh_from_db()
    with pytest.raises(ValidationError, match="不能提交"):
        debriefing.submit_report(
            actor=a1, target=target, summary="", uploaded_file=upload("x.pdf", pdf_bytes())
        )


def test_a_submitter_of_the_unit_may_upload_for_the_secretary(campaign, secretaries, tree):
    submitter = UserFactory(username="sub_a1")
    grant(submitter, Role.SUBMITTER, tree["a1"])
    target = _target(campaign, secretaries["a1"])
    assert debriefing.may_submit_report(submitter, target)
    assert not debriefing.may_submit_report(submitter, _target(campaign, secretaries["b1"]))


def test_the_leader_comment_is_recorded_with_who_and_when(campaign, secretaries, organizer, tree):
    target = _target(campaign, secretaries["a1"])
    report = debriefing.record_comment(actor=organizer, target=target, comment="抓党建有思路")
    assert report.commented_by == organizer and report.commented_at is not None
    debriefing.record_comment(actor=organizer, target=target, comment="抓党建有思路，需补短板")
    entry = AuditEntry.objects.filter(action="debriefing.comment").latest("id")
    assert entry.changes["点评意见"] == ["抓党建有思路", "抓党建有思路，需补短板"]
    with pytest.raises(ValidationError, match="请填写"):
        debriefing.record_comment(actor=organizer, target=target, comment="  ")
    # A 领导 of 第一党总支 comments on its secretary, not on 第二党总支's.
    leader = UserFactory(username="leader_a")
    grant(leader, Role.LEADER, tree["a"])
    debriefing.record_comment(actor=leader, target=target, comment="同意")
    with pytest.raises(PermissionDenied):
        debriefing.record_comment(
            actor=leader, target=_target(campaign, secretaries["b1"]), comment="同意"
        )
    with pytest.raises(PermissionDenied):
        debriefing.record_comment(actor=secretaries["a1"], target=target, comment="自评很好")


def test_meeting_shows_the_previous_debriefing_and_the_rectification_placeholder(
    organizer, tree, version, secretaries
):
    last = debriefing_campaign(organizer, tree, version, year=2025)
    prev_target = _target(last, secretaries["a1"])
    DebriefingReport.objects.create(target=prev_target, leader_comment="上年：组织生活不够规范")
    appraisal = make_appraisal(last, questions=[{"code": "S1", "text": "测评", "kind": "grade"}])
    for g in [0, 0, 1, 2, 3]:
        add_ballot(appraisal, {prev_target: {"S1": g}})
    current = debriefing_campaign(organizer, tree, version, year=2026)
    items = debriefing.meeting(current)
    assert [i.number for i in items] == [1, 2]
    item = next(i for i in items if i.target.person_id == secretaries["a1"].person_id)
    assert item.previous.campaign_name == last.name
    assert item.previous.comment == "上年：组织生活不够规范"
    assert item.previous.ballots == 5 and item.previous.satisfaction_rate == pytest.approx(0.6)
    assert item.rectification is None and item.rectification_text == "上年度整改情况：暂无整改记录"
    assert debriefing.previous_rectification_status(item.target) is None
    other = next(i for i in items if i.target.person_id == secretaries["b1"].person_id)
    assert other.previous.ballots == 0 and other.previous.satisfaction_rate is None
    # The earlier campaign sees no "previous" from the later one.
    assert all(i.previous is None for i in debriefing.meeting(last))
