"""Campaign services: set-up checks, the transition table (skipped stages), every guard and the
confirm override, reopening with a reason, conflict of interest, rater-weight validation, the
one-annual-assessment-per-year warning, notifications and e-mail."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from kaoping.accounts.models import Role
from kaoping.audit.actions import Action
from kaoping.audit.models import AuditEntry
from kaoping.campaigns import services, workflow
from kaoping.campaigns.models import CampaignEvent, CampaignStage, Notification, Stage
from kaoping.collection.models import ReviewSheet, SelfAssessment
from kaoping.indicators import services as ind_services
from kaoping.organizations.models import OrgType, PostTitle
from kaoping.organizations.services import appoint
from kaoping.results import services as results

from ..campaign_helpers import make_campaign, published_version, reviewer_user, running_campaign
from ..factories import PersonFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(organizer, tree):
    return published_version(organizer, tree["root"])


@pytest.fixture
def campaign(organizer, tree, version):
    return make_campaign(organizer, tree["root"], version)


@pytest.fixture
def reviewer(tree):
    return reviewer_user("rev", tree["root"], "评审员甲")


def branches(organizer, campaign, tree):
    return services.add_targets_by_subtree(
        actor=organizer, campaign=campaign, root=tree["root"], org_types=[OrgType.BRANCH]
    )


# ---- set-up --------------------------------------------------------------------------------


def test_create_requires_a_published_version_and_plans_every_stage(organizer, tree, version):
    draft = ind_services.create_scheme(actor=organizer, owner=tree["root"], name="草稿体系")
    with pytest.raises(ValidationError) as exc:
        make_campaign(organizer, tree["root"], draft)
    assert exc.value.message_dict["scheme_version"] == ["指标体系版本须先发布"]
    with pytest.raises(ValidationError) as exc:
        make_campaign(organizer, tree["root"], version, purpose=" ", period_end=dt.date(2025, 1, 1))
    assert set(exc.value.message_dict) == {"purpose", "period_end"}
    campaign = make_campaign(organizer, tree["root"], version)
    assert campaign.status == Stage.DRAFT
    assert list(campaign.stages.values_list("stage", flat=True)) == list(Stage.values)
    assert AuditEntry.objects.filter(action=Action.CAMPAIGN_CREATE).count() == 1


def test_create_checks_result_rules_and_target_kind(organizer, tree, version):
    with pytest.raises(ValidationError) as exc:
        make_campaign(organizer, tree["root"], version,
                      result_rules=[{"when": "grade", "value": "优秀", "then": "award_eligible"}])  # fmt: skip
    assert "好、较好、一般、差" in exc.value.message_dict["result_rules"][0]
    with pytest.raises(ValidationError) as exc:
        make_campaign(organizer, tree["root"], version, target_kind="cadre")
    assert "不一致" in exc.value.message_dict["scheme_version"][0]


def test_update_only_in_draft(organizer, tree, campaign, reviewer):
    services.update_campaign(actor=organizer, campaign=campaign, name="改名后的考核")
    campaign.refresh_from_db()
    assert campaign.name == "改名后的考核"
    assert AuditEntry.objects.filter(action=Action.CAMPAIGN_UPDATE).exists()
    branches(organizer, campaign, tree)
    services.assign_reviewer(actor=organizer, campaign=campaign, reviewer=reviewer,
                             targets=campaign.targets.exclude(code="ZB21"))  # fmt: skip
    other = reviewer_user("rev2", tree["a1"])
    services.assign_reviewer(actor=organizer, campaign=campaign, reviewer=other,
                             targets=campaign.targets.filter(code="ZB21"))  # fmt: skip
    services.transition(actor=organizer, campaign=campaign, to_stage=Stage.PUBLISHED)
    with pytest.raises(ValidationError, match="草稿"):
        services.update_campaign(actor=organizer, campaign=campaign, name="再改")


def test_targets_by_subtree_and_type(organizer, tree, campaign):
    created = services.add_targets_by_subtree(
        actor=organizer, campaign=campaign, root=tree["a"], org_types=[OrgType.BRANCH]
    )
    assert [t.code for t in created] == ["ZB11", "ZB12"]
    assert created[0].group_name == "第一党总支"
    again = branches(organizer, campaign, tree)  # those present are kept, the others added
    assert sorted(t.code for t in again) == ["ZB21", "ZB22"]
    services.add_targets_by_subtree(actor=organizer, campaign=campaign, root=tree["root"],
                                    org_types=[OrgType.GENERAL_BRANCH])  # fmt: skip
    assert campaign.targets.count() == 6
    services.remove_target(
        actor=organizer, campaign=campaign, target=campaign.targets.get(code="ZZ1")
    )
    assert campaign.targets.count() == 5
    with pytest.raises(ValidationError):
        services.add_targets_by_subtree(actor=organizer, campaign=campaign, root=tree["a"],
                                        org_types=[])  # fmt: skip


def test_targets_outside_the_owner_subtree_are_refused(organizer, tree, version):
    campaign = make_campaign(organizer, tree["a"], version)
    with pytest.raises(ValidationError, match="不在本活动组织单位"):
        services.add_targets_by_subtree(actor=organizer, campaign=campaign, root=tree["b"],
                                        org_types=[OrgType.BRANCH])  # fmt: skip


def test_cadre_targets(organizer, tree):
    version = published_version(organizer, tree["root"], name="书记述职", target_kind="cadre")
    campaign = make_campaign(organizer, tree["root"], version, target_kind="cadre",
                             campaign_type="debriefing")  # fmt: skip
    sec = PersonFactory(name="书记甲", organization=tree["a1"])
    appoint(actor=organizer, organization=tree["a1"], person=sec, title=PostTitle.SECRETARY)
    cadre = PersonFactory(name="处长乙", organization=tree["b1"], is_leading_cadre=True)
    PersonFactory(name="普通党员", organization=tree["b1"])
    created = services.add_cadre_targets(actor=organizer, campaign=campaign, root=tree["root"],
                                         cadres=False)  # fmt: skip
    assert [t.person for t in created] == [sec]
    created = services.add_cadre_targets(actor=organizer, campaign=campaign, root=tree["root"])
    assert [t.person for t in created] == [cadre]
    assert created[0].unit == tree["b1"]
    with pytest.raises(ValidationError, match="按人员"):
        branches(organizer, campaign, tree)


# ---- reviewers and conflict of interest ----------------------------------------------------


def test_conflict_of_interest_names_reviewer_and_target(organizer, tree, campaign):
    reviewer = reviewer_user("rev_b1", tree["b1"], "评审员乙")
    branches(organizer, campaign, tree)
    own = campaign.targets.get(code="ZB21")  # the reviewer's own branch
    with pytest.raises(ValidationError) as exc:
        services.assign_reviewer(actor=organizer, campaign=campaign, reviewer=reviewer,
                                 targets=[own, campaign.targets.get(code="ZB11")])  # fmt: skip
    message = exc.value.messages[0]
    assert (
        message == "评审员“评审员乙”是考核对象“法规处党支部”本单位的成员，须回避（不能评审本单位）"
    )
    assert not campaign.assignments.exists()  # refused as a whole
    # A 党总支 target: a reviewer anywhere in its subtree is refused too.
    services.add_targets_by_subtree(actor=organizer, campaign=campaign, root=tree["root"],
                                    org_types=[OrgType.GENERAL_BRANCH])  # fmt: skip
    with pytest.raises(ValidationError, match="所在的“法规处党支部”隶属于考核对象“第二党总支”"):
        services.assign_reviewer(actor=organizer, campaign=campaign, reviewer=reviewer,
                                 targets=[campaign.targets.get(code="ZZ2")])  # fmt: skip
    ok = services.assign_reviewer(actor=organizer, campaign=campaign, reviewer=reviewer,
                                  targets=campaign.targets.filter(code__in=["ZB11", "ZZ1"]))  # fmt: skip
    assert len(ok) == 2
    assert AuditEntry.objects.filter(action=Action.CAMPAIGN_REVIEWER_ASSIGN).count() == 1
    services.unassign_reviewer(actor=organizer, campaign=campaign, assignment=ok[0])
    assert campaign.assignments.count() == 1


def test_cadre_target_cannot_be_reviewed_by_themselves(organizer, tree):
    version = published_version(organizer, tree["root"], name="书记述职", target_kind="cadre")
    campaign = make_campaign(organizer, tree["root"], version, target_kind="cadre")
    person = PersonFactory(name="处长乙", organization=tree["b1"], is_leading_cadre=True)
    target = services.add_cadre_targets(actor=organizer, campaign=campaign, root=tree["b1"])[0]
    user = UserFactory(username="chuzhang", full_name="处长乙", person=person)
    grant(user, Role.REVIEWER)
    with pytest.raises(ValidationError, match="就是考核对象“处长乙”本人"):
        services.assign_reviewer(actor=organizer, campaign=campaign, reviewer=user,
                                 targets=[target])  # fmt: skip
    colleague = reviewer_user("colleague", tree["b1"], "同事丙")
    with pytest.raises(ValidationError, match="与考核对象“处长乙”同属“法规处党支部”"):
        services.assign_reviewer(actor=organizer, campaign=campaign, reviewer=colleague,
                                 targets=[target])  # fmt: skip


def test_reviewer_needs_the_role(organizer, tree, campaign):
    branches(organizer, campaign, tree)
    user = UserFactory(username="plain")
    with pytest.raises(ValidationError, match="没有评审员角色"):
        services.assign_reviewer(actor=organizer, campaign=campaign, reviewer=user,
                                 targets=campaign.targets.all())  # fmt: skip


# ---- rater weights -------------------------------------------------------------------------


def test_rater_weights_defaults_and_validation(organizer, tree, campaign):
    defaults = services.default_rater_weights(campaign)
    assert set(defaults) == {f"D{i}.1" for i in range(1, 9)}
    assert defaults["D1.1"] == {"party_committee": 1.0}
    with pytest.raises(ValidationError) as exc:
        services.set_rater_weights(actor=organizer, campaign=campaign, matrix={
            "D1.1": {"party_committee": 0.5, "members": 0.3},
            "D2.1": {"party_committee": 1.5},
            "D1": {"party_committee": 1},
            "D3.1": {"aliens": 1},
        })  # fmt: skip
    text = "\n".join(exc.value.messages)
    assert "D1.1" in text and "合计为 0.8" in text
    assert "0 至 1" in text and "末级指标" in text and "aliens" in text
    services.set_rater_weights(actor=organizer, campaign=campaign, matrix={
        "D1.1": {"party_committee": "0.6", "members": "0.3", "masses": "0.1"},
        "D2.1": {"party_committee": 1},
    })  # fmt: skip
    campaign.refresh_from_db()
    assert campaign.rater_weights == {
        "D1.1": {"party_committee": 0.6, "members": 0.3, "masses": 0.1}
    }  # D2.1 equals the default: not stored
    assert services.effective_rater_weights(campaign)["D1.1"]["members"] == 0.3
    assert AuditEntry.objects.filter(action=Action.CAMPAIGN_WEIGHTS).count() == 1


# ---- the workflow --------------------------------------------------------------------------


def test_transition_table_and_skipped_stages(organizer, tree, campaign, reviewer):
    assert [m.target for m in workflow.allowed_transitions(campaign)] == [Stage.PUBLISHED]
    branches(organizer, campaign, tree)
    services.set_stage_plan(actor=organizer, campaign=campaign, stage=Stage.REVIEW, enabled=False)
    services.set_stage_plan(actor=organizer, campaign=campaign, stage=Stage.APPRAISAL,
                            enabled=False)  # fmt: skip
    with pytest.raises(ValidationError, match="不能停用"):
        services.set_stage_plan(actor=organizer, campaign=campaign, stage=Stage.CONSOLIDATION,
                                enabled=False)  # fmt: skip
    with pytest.raises(services.WorkflowError, match="下一阶段应为“已发布”"):
        services.transition(actor=organizer, campaign=campaign, to_stage=Stage.SELF_ASSESSMENT)
    services.transition(actor=organizer, campaign=campaign, to_stage=Stage.PUBLISHED)
    services.transition(actor=organizer, campaign=campaign, to_stage=Stage.SELF_ASSESSMENT)
    move = workflow.next_move(campaign)
    assert move.target == Stage.CONSOLIDATION
    assert move.skipped == (Stage.REVIEW, Stage.APPRAISAL)
    services.transition(actor=organizer, campaign=campaign, to_stage=Stage.CONSOLIDATION,
                        confirm=True)  # fmt: skip
    assert campaign.status == Stage.CONSOLIDATION
    stages = {s.stage: s for s in CampaignStage.objects.filter(campaign=campaign)}
    assert stages[Stage.SELF_ASSESSMENT].closed_at and stages[Stage.CONSOLIDATION].opened_at
    assert stages[Stage.REVIEW].opened_at is None
    with pytest.raises(services.GuardError) as exc:
        services.transition(actor=organizer, campaign=campaign, to_stage=Stage.PUBLICATION)
    assert exc.value.problems == ["尚未计算考核结果"] and not exc.value.confirmable
    approver = UserFactory(username="approver", full_name="党委书记")
    grant(approver, Role.LEADER, tree["root"])
    results.compute(actor=organizer, campaign=campaign)
    results.submit(actor=organizer, campaign=campaign)
    results.approve(actor=approver, campaign=campaign)
    services.transition(actor=organizer, campaign=campaign, to_stage=Stage.PUBLICATION)
    assert results.current_set(campaign).status == "published"
    with pytest.raises(services.GuardError) as exc:
        services.transition(actor=organizer, campaign=campaign, to_stage=Stage.ARCHIVED)
    assert exc.value.confirmable and "公示期" in exc.value.problems[0]
    services.transition(actor=organizer, campaign=campaign, to_stage=Stage.ARCHIVED, confirm=True)
    assert results.current_set(campaign).status == "final"
    assert workflow.allowed_transitions(campaign) == []
    entry = AuditEntry.objects.filter(action=Action.CAMPAIGN_TRANSITION).order_by("pk")[2]
    assert entry.data["skipped"] == ["评审", "测评"]
    assert entry.changes["当前阶段"] == ["自评", "汇总"]
    assert CampaignEvent.objects.filter(campaign=campaign).count() == 5


def test_publish_guards_are_hard(organizer, tree, campaign, reviewer):
    with pytest.raises(services.GuardError) as exc:
        services.transition(actor=organizer, campaign=campaign, to_stage=Stage.PUBLISHED,
                            confirm=True)  # fmt: skip
    assert not exc.value.confirmable and exc.value.problems == ["尚未添加考核对象"]
    branches(organizer, campaign, tree)
    services.assign_reviewer(actor=organizer, campaign=campaign, reviewer=reviewer,
                             targets=campaign.targets.filter(code="ZB11"))  # fmt: skip
    with pytest.raises(services.GuardError) as exc:
        services.transition(actor=organizer, campaign=campaign, to_stage=Stage.PUBLISHED,
                            confirm=True)  # fmt: skip
    assert len(exc.value.problems) == 3 and "财务处党支部" in exc.value.problems[0]
    services.update_campaign(actor=organizer, campaign=campaign, result_rules=[])
    with pytest.raises(services.GuardError) as exc:
        services.transition(actor=organizer, campaign=campaign, to_stage=Stage.PUBLISHED)
    assert "结果运用规则" in exc.value.problems[0]
    # Without a review stage, reviewers are not needed.
    services.update_campaign(actor=organizer, campaign=campaign,
                             result_rules=[{"when": "any", "then": "cadre_file"}])  # fmt: skip
    services.set_stage_plan(actor=organizer, campaign=campaign, stage=Stage.REVIEW, enabled=False)
    services.transition(actor=organizer, campaign=campaign, to_stage=Stage.PUBLISHED)
    assert campaign.status == Stage.PUBLISHED


def test_review_guard_lists_missing_self_assessments_unless_confirmed(organizer, tree, reviewer):
    campaign = running_campaign(organizer, tree, reviewer)
    targets = list(campaign.targets.order_by("code"))
    SelfAssessment.objects.create(target=targets[0], status="submitted")
    SelfAssessment.objects.create(target=targets[1], status="returned")
    with pytest.raises(services.GuardError) as exc:
        services.transition(actor=organizer, campaign=campaign, to_stage=Stage.REVIEW)
    assert exc.value.confirmable
    assert exc.value.problems == [
        "“财务处党支部”自评未提交（已退回）",
        "“法规处党支部”自评未提交（未开始）",
        "“信息中心党支部”自评未提交（未开始）",
    ]
    assert campaign.status == Stage.SELF_ASSESSMENT
    services.transition(actor=organizer, campaign=campaign, to_stage=Stage.REVIEW, confirm=True,
                        reason="两个支部书记出差")  # fmt: skip
    event = CampaignEvent.objects.filter(campaign=campaign).last()
    assert event.to_stage == Stage.REVIEW and len(event.overridden) == 3
    assert event.reason == "两个支部书记出差"


def test_consolidation_guard_lists_unsubmitted_sheets(organizer, tree, reviewer):
    campaign = running_campaign(organizer, tree, reviewer, stage=Stage.REVIEW)
    services.set_stage_plan(actor=organizer, campaign=campaign, stage=Stage.APPRAISAL,
                            enabled=False)  # fmt: skip
    ReviewSheet.objects.create(campaign=campaign, reviewer=reviewer)
    with pytest.raises(services.GuardError) as exc:
        services.transition(actor=organizer, campaign=campaign, to_stage=Stage.CONSOLIDATION)
    assert exc.value.problems == ["评审员“评审员甲”的评分表未提交"]
    ReviewSheet.objects.filter(reviewer=reviewer).update(status="submitted")
    services.transition(actor=organizer, campaign=campaign, to_stage=Stage.CONSOLIDATION)
    assert campaign.status == Stage.CONSOLIDATION


def test_one_annual_assessment_per_year_warns(organizer, tree, version, reviewer):
    first = running_campaign(organizer, tree, reviewer, version=version)
    second = make_campaign(organizer, tree["root"], version, name="又一次年度考核")
    services.add_targets_by_subtree(actor=organizer, campaign=second, root=tree["a"],
                                    org_types=[OrgType.BRANCH])  # fmt: skip
    services.assign_reviewer(actor=organizer, campaign=second, reviewer=reviewer,
                             targets=second.targets.all())  # fmt: skip
    warnings = services.annual_overlaps(second)
    assert len(warnings) == 1 and first.name in warnings[0] and "2 个相同" in warnings[0]
    with pytest.raises(services.GuardError) as exc:
        services.transition(actor=organizer, campaign=second, to_stage=Stage.PUBLISHED)
    assert exc.value.confirmable and "至多开展一次" in exc.value.problems[0]
    services.transition(actor=organizer, campaign=second, to_stage=Stage.PUBLISHED, confirm=True)
    special = make_campaign(organizer, tree["root"], version, name="专项", campaign_type="special")
    services.add_targets_by_subtree(actor=organizer, campaign=special, root=tree["a"],
                                    org_types=[OrgType.BRANCH])  # fmt: skip
    assert services.annual_overlaps(special) == []


def test_reopen_requires_a_reason_and_an_earlier_stage(organizer, tree, reviewer):
    campaign = running_campaign(organizer, tree, reviewer, stage=Stage.REVIEW)
    with pytest.raises(ValidationError, match="理由"):
        services.reopen(actor=organizer, campaign=campaign, to_stage=Stage.SELF_ASSESSMENT,
                        reason="  ")  # fmt: skip
    with pytest.raises(services.WorkflowError):
        services.reopen(actor=organizer, campaign=campaign, to_stage=Stage.APPRAISAL, reason="x")
    with pytest.raises(services.WorkflowError):
        services.reopen(actor=organizer, campaign=campaign, to_stage=Stage.DRAFT, reason="x")
    services.reopen(actor=organizer, campaign=campaign, to_stage=Stage.SELF_ASSESSMENT,
                    reason="信息中心党支部材料上传失败")  # fmt: skip
    assert campaign.status == Stage.SELF_ASSESSMENT
    assert services.stage_is_open(campaign, Stage.SELF_ASSESSMENT)
    assert not services.stage_is_open(campaign, Stage.REVIEW)
    review = CampaignStage.objects.get(campaign=campaign, stage=Stage.REVIEW)
    assert review.opened_at is None
    event = CampaignEvent.objects.filter(campaign=campaign).last()
    assert event.reopened and event.reason == "信息中心党支部材料上传失败"
    entry = AuditEntry.objects.get(action=Action.CAMPAIGN_REOPEN)
    assert entry.data["reason"] == "信息中心党支部材料上传失败"
    with pytest.raises(services.WorkflowError, match="未开放"):
        services.require_stage_open(campaign, Stage.REVIEW)


# ---- notifications -------------------------------------------------------------------------


def _submitter(tree, key, username, email=""):
    user = UserFactory(username=username, email=email)
    grant(user, Role.SUBMITTER, tree[key])
    return user


def test_reminders_notify_units_and_reviewers_with_missing_work(organizer, tree, reviewer,
                                                                settings):  # fmt: skip
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "localhost"  # not configured: in-app only
    campaign = running_campaign(organizer, tree, reviewer)
    done = _submitter(tree, "a1", "sub_a1")
    late = _submitter(tree, "a2", "sub_a2", email="a2@example.org")
    SelfAssessment.objects.create(target=campaign.targets.get(code="ZB11"), status="submitted")
    n = services.send_reminders(actor=organizer, campaign=campaign)
    assert n == 1
    note = Notification.objects.get()
    assert note.user == late and "财务处党支部" in note.message and note.emailed_at is None
    assert not Notification.objects.filter(user=done).exists()
    assert mail.outbox == []
    services.transition(actor=organizer, campaign=campaign, to_stage=Stage.REVIEW, confirm=True)
    assert services.send_reminders(actor=organizer, campaign=campaign) == 1
    assert Notification.objects.filter(user=reviewer).count() == 1
    assert AuditEntry.objects.filter(action=Action.CAMPAIGN_REMIND).count() == 2


def test_notifications_are_emailed_when_configured(organizer, tree, reviewer, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    campaign = running_campaign(organizer, tree, reviewer)
    services.set_stage_plan(actor=organizer, campaign=campaign, stage=Stage.SELF_ASSESSMENT,
                            deadline=dt.date(2026, 3, 31))  # fmt: skip
    _submitter(tree, "a1", "sub_a1", email="a1@example.org")
    _submitter(tree, "a2", "sub_a2")  # no address: in-app only
    services.send_reminders(actor=organizer, campaign=campaign)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["a1@example.org"]
    assert "2026-03-31" in mail.outbox[0].body and "办公室党支部" in mail.outbox[0].body
    assert Notification.objects.filter(emailed_at__isnull=False).count() == 1
    user = Notification.objects.first().user
    assert services.mark_read(user=user) == 1
    assert Notification.objects.filter(user=user, read_at__lte=timezone.now()).count() == 1
