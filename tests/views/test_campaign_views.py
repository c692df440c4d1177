"""Campaign pages, tried by the owner (考核管理员 of the agency), a sub-organizer (考核管理员 of
第一党总支: sees the agency's campaign for their targets, cannot run it), an outsider (考核管理员
of 第二党总支 facing a campaign of 第一党总支), a unit submitter, a reviewer and a user without
roles."""

import datetime as dt

import pytest
from django.urls import reverse

from kaoping.accounts.models import Role
from kaoping.audit.actions import Action
from kaoping.audit.models import AuditEntry
from kaoping.campaigns import services
from kaoping.campaigns.models import Campaign, Notification, Stage
from kaoping.collection.models import SelfAssessment
from kaoping.organizations.models import OrgType

from ..campaign_helpers import make_campaign, published_version, reviewer_user, running_campaign
from ..factories import UserFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer(tree):
    return reviewer_user("rev", tree["root"], "评审员甲")


@pytest.fixture
def campaign(organizer, tree, reviewer):
    """The agency's campaign over the four 党支部, in 自评."""
    return running_campaign(organizer, tree, reviewer)


@pytest.fixture
def submitter(tree):
    user = UserFactory(username="sub_a1", full_name="办公室填报员")
    grant(user, Role.SUBMITTER, tree["a1"])
    return user


def tab_urls(campaign):
    return [
        reverse(name, args=[campaign.pk])
        for name in ("campaigns:detail", "campaigns:targets", "campaigns:weights",
                     "campaigns:progress")
    ]  # fmt: skip


MANAGE_POSTS = [
    ("campaigns:transition", {"to_stage": "review", "confirm": "1"}),
    ("campaigns:reopen", {"to_stage": "self_assessment", "reason": "x"}),
    ("campaigns:stage_plan", {}),
    ("campaigns:targets_add", {}),
    ("campaigns:weights", {}),
    ("campaigns:reviewers", {}),
    ("campaigns:remind", {}),
]


def test_owner_sees_every_tab_and_runs_the_campaign(client, organizer, campaign):
    client.force_login(organizer)
    for url in [*tab_urls(campaign), reverse("campaigns:reviewers", args=[campaign.pk])]:
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "进入评审" in page and "具备评先评优资格" in page and "保存阶段安排" in page
    response = client.get(reverse("campaigns:list"))
    assert campaign.name in response.content.decode()


def test_sub_organizer_reads_own_targets_only_and_cannot_manage(client, sub_organizer, campaign):
    client.force_login(sub_organizer)
    for url in tab_urls(campaign):
        assert client.get(url).status_code == 200, url
    page = client.get(reverse("campaigns:targets", args=[campaign.pk])).content.decode()
    assert "办公室党支部" in page and "法规处党支部" not in page
    page = client.get(reverse("campaigns:progress", args=[campaign.pk])).content.decode()
    assert "财务处党支部" in page and "信息中心党支部" not in page and "按评审员" not in page
    assert client.get(reverse("campaigns:reviewers", args=[campaign.pk])).status_code == 403
    for name, data in MANAGE_POSTS:
        assert client.post(reverse(name, args=[campaign.pk]), data).status_code == 403, name
    assert AuditEntry.objects.filter(
        actor_id=sub_organizer.pk, action=Action.PERMISSION_DENIED
    ).exists()
    campaign.refresh_from_db()
    assert campaign.status == Stage.SELF_ASSESSMENT


def test_outsider_gets_404_for_a_campaign_outside_their_subtree(client, organizer, outsider,
                                                                tree):  # fmt: skip
    version = published_version(organizer, tree["root"])
    campaign = make_campaign(organizer, tree["a"], version, name="第一党总支专项考核",
                             campaign_type="special")  # fmt: skip
    services.add_targets_by_subtree(actor=organizer, campaign=campaign, root=tree["a"],
                                    org_types=[OrgType.BRANCH])  # fmt: skip
    client.force_login(outsider)
    for url in [*tab_urls(campaign), reverse("campaigns:reviewers", args=[campaign.pk])]:
        assert client.get(url).status_code == 404, url
    for name, data in MANAGE_POSTS:
        assert client.post(reverse(name, args=[campaign.pk]), data).status_code == 404, name
    assert "第一党总支专项考核" not in client.get(reverse("campaigns:list")).content.decode()


def test_submitter_sees_own_unit_only(client, submitter, campaign, tree):
    client.force_login(submitter)
    for url in tab_urls(campaign):
        assert client.get(url).status_code == 200, url
    page = client.get(reverse("campaigns:progress", args=[campaign.pk])).content.decode()
    assert "办公室党支部" in page and "财务处党支部" not in page
    assert client.get(reverse("campaigns:reviewers", args=[campaign.pk])).status_code == 403
    for name, data in MANAGE_POSTS:
        assert client.post(reverse(name, args=[campaign.pk]), data).status_code == 403, name
    other = UserFactory(username="sub_far")
    grant(other, Role.SUBMITTER, tree["a"])  # 第一党总支 itself is not a target
    client.force_login(other)
    assert client.get(reverse("campaigns:detail", args=[campaign.pk])).status_code == 404


def test_reviewer_sees_assigned_campaign(client, reviewer, campaign):
    client.force_login(reviewer)
    assert client.get(reverse("campaigns:detail", args=[campaign.pk])).status_code == 200
    page = client.get(reverse("campaigns:targets", args=[campaign.pk])).content.decode()
    assert "信息中心党支部" in page
    assert client.post(reverse("campaigns:remind", args=[campaign.pk])).status_code == 403


def test_user_without_role_is_refused(client, norole, campaign):
    client.force_login(norole)
    assert client.get(reverse("campaigns:list")).status_code == 403
    for url in tab_urls(campaign):
        assert client.get(url).status_code == 403, url
    assert client.get(reverse("campaigns:notifications")).status_code == 403


# ---- set-up through the pages --------------------------------------------------------------


def test_create_then_targets_weights_reviewers_and_publish(client, organizer, tree):
    version = published_version(organizer, tree["root"])
    reviewer_user("rev_b1", tree["b1"], "评审员乙")
    client.force_login(organizer)
    page = client.get(reverse("campaigns:create")).content.decode()
    assert "结果怎么用" in page and 'value="grade:好:award_eligible" aria-label' in page
    data = {
        "name": "2026年度党支部工作考核", "campaign_type": "annual",
        "period_start": "2026-01-01", "period_end": "2026-12-31", "purpose": "检验成效",
        "owner": tree["root"].pk, "scheme_version": version.pk, "target_kind": "organization",
        "rules": ["grade:好:award_eligible", "veto::rectification"],
    }  # fmt: skip
    response = client.post(reverse("campaigns:create"), {**data, "purpose": ""})
    assert "请写明考核目的" in response.content.decode()
    response = client.post(reverse("campaigns:create"), data)
    campaign = Campaign.objects.get()
    assert response.url == reverse("campaigns:targets", args=[campaign.pk])
    assert campaign.result_rules == [
        {"when": "grade", "value": "好", "then": "award_eligible"},
        {"when": "veto", "then": "rectification"},
    ]
    client.post(reverse("campaigns:targets_add", args=[campaign.pk]),
                {"root": tree["root"].pk, "org_types": ["branch"]})  # fmt: skip
    assert campaign.targets.count() == 4
    target = campaign.targets.get(code="ZB22")
    client.post(reverse("campaigns:target_remove", args=[campaign.pk, target.pk]))
    assert campaign.targets.count() == 3
    # Weights: a row not summing to 1 is refused with its code named.
    weights = {f"w-D{i}.1-party_committee": "1" for i in range(1, 9)}
    response = client.post(reverse("campaigns:weights", args=[campaign.pk]),
                           {**weights, "w-D1.1-party_committee": "0.5", "w-D1.1-members": "0.3"})  # fmt: skip
    assert "“D1.1”的各评价主体权重合计为 0.8" in response.content.decode()
    client.post(reverse("campaigns:weights", args=[campaign.pk]),
                {**weights, "w-D1.1-party_committee": "0.7", "w-D1.1-members": "0.3"})  # fmt: skip
    campaign.refresh_from_db()
    assert campaign.rater_weights == {"D1.1": {"party_committee": 0.7, "members": 0.3}}
    # Reviewers: the conflict of interest is explained.
    rev = campaign.targets.order_by("code")
    response = client.post(reverse("campaigns:reviewers", args=[campaign.pk]),
                           {"reviewer": 0, "targets": []})  # fmt: skip
    assert response.status_code == 200
    from kaoping.accounts.models import User

    rev_b1 = User.objects.get(username="rev_b1")
    response = client.post(reverse("campaigns:reviewers", args=[campaign.pk]),
                           {"reviewer": rev_b1.pk, "targets": [t.pk for t in rev]}, follow=True)  # fmt: skip
    assert "本单位的成员，须回避" in response.content.decode()
    response = client.post(reverse("campaigns:reviewers", args=[campaign.pk]),
                           {"reviewer": rev_b1.pk, "targets": [t.pk for t in rev
                                                               if t.code != "ZB21"]})  # fmt: skip
    assert response.status_code == 302
    # Publishing is refused while 法规处党支部 has no reviewer (a hard guard: no 仍要继续).
    response = client.post(reverse("campaigns:transition", args=[campaign.pk]),
                           {"to_stage": "published"})  # fmt: skip
    page = response.content.decode()
    assert "“法规处党支部”尚未分配评审员" in page and "仍要继续" not in page
    services.set_stage_plan(actor=organizer, campaign=campaign, stage=Stage.REVIEW, enabled=False)
    response = client.post(reverse("campaigns:transition", args=[campaign.pk]),
                           {"to_stage": "published"})  # fmt: skip
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == Stage.PUBLISHED


def test_guard_confirm_and_reopen_through_the_page(client, organizer, campaign):
    client.force_login(organizer)
    url = reverse("campaigns:transition", args=[campaign.pk])
    response = client.post(url, {"to_stage": "review"})
    page = response.content.decode()
    assert "“办公室党支部”自评未提交（未开始）" in page and "仍要继续" in page
    response = client.post(url, {"to_stage": "review", "confirm": "1", "reason": "已电话催办"})
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == Stage.REVIEW
    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "已电话催办" in page and "确认继续（4 项未完成）" in page
    reopen = reverse("campaigns:reopen", args=[campaign.pk])
    client.post(reopen, {"to_stage": "self_assessment", "reason": ""})
    campaign.refresh_from_db()
    assert campaign.status == Stage.REVIEW
    client.post(reopen, {"to_stage": "self_assessment", "reason": "补交自评"})
    campaign.refresh_from_db()
    assert campaign.status == Stage.SELF_ASSESSMENT


def test_stage_plan_form(client, organizer, campaign):
    client.force_login(organizer)
    response = client.post(reverse("campaigns:stage_plan", args=[campaign.pk]), {
        "enabled-self_assessment": "on", "enabled-review": "on", "enabled-publication": "on",
        "deadline-self_assessment": "2026-03-31", "starts-review": "2026-04-01",
        "deadline-review": "2026-03-01",
    })  # fmt: skip
    assert response.status_code == 302
    stages = {s.stage: s for s in campaign.stages.all()}
    assert stages["self_assessment"].deadline == dt.date(2026, 3, 31)
    assert not stages["appraisal"].enabled  # unchecked optional stage
    assert stages["review"].deadline is None  # refused: before its start
    messages = [m.message for m in response.wsgi_request._messages]
    assert any("评审：截止日期不能早于开始日期" in m for m in messages)


# ---- progress, reminders, notifications, to-do ---------------------------------------------


def test_progress_remind_notifications_and_todo(client, organizer, campaign, submitter, tree):
    services.set_stage_plan(actor=organizer, campaign=campaign, stage=Stage.SELF_ASSESSMENT,
                            deadline=dt.date(2020, 1, 31))  # fmt: skip
    SelfAssessment.objects.create(target=campaign.targets.get(code="ZB12"), status="submitted")
    client.force_login(organizer)
    page = client.get(reverse("campaigns:progress", args=[campaign.pk])).content.decode()
    assert "1/4 个单位已提交自评" in page and "已逾期" in page and "按评审员" in page
    assert 'id="kp-progress-data"' in page
    response = client.post(reverse("campaigns:remind", args=[campaign.pk]))
    assert response.status_code == 302
    note = Notification.objects.get(user=submitter)
    assert "办公室党支部" in note.message
    client.force_login(submitter)
    home = client.get(reverse("core:home")).content.decode()
    assert "填写并提交“办公室党支部”的自评" in home and "已逾期" in home
    assert 'data-testid="unread">1<' in home
    menu = client.get(reverse("campaigns:notifications_menu")).content.decode()
    assert "办公室党支部" in menu
    client.post(reverse("campaigns:notification_read", args=[note.pk]))
    note.refresh_from_db()
    assert note.read_at is not None
    other = Notification.objects.create(user=organizer, message="别人的")
    assert client.post(reverse("campaigns:notification_read", args=[other.pk])).status_code == 404
