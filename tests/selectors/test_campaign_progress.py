"""The progress selector: figures per stage, target and reviewer, the overdue list, the to-do
list, and a query count that does not grow with the number of targets."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kaoping.accounts.models import Role
from kaoping.campaigns import selectors, services
from kaoping.campaigns.models import Stage
from kaoping.collection.models import (
    QuantBatch,
    QuantValue,
    ReviewScore,
    ReviewSheet,
    SelfAssessment,
)
from kaoping.organizations.models import OrgType

from ..campaign_helpers import make_campaign, published_version, reviewer_user
from ..factories import OrganizationFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


def build(organizer, tree, n, reviewers):
    """A campaign in 评审 over ``n`` new 党支部, with some work done on every other target."""
    parent = OrganizationFactory(code=f"ZZN{n}", name=f"{n}支部总支", parent=tree["root"],
                                 org_type=OrgType.GENERAL_BRANCH)  # fmt: skip
    for i in range(n):
        OrganizationFactory(code=f"N{n}-{i:03d}", name=f"测试{i}党支部", parent=parent)
    version = published_version(organizer, tree["root"], name=f"体系{n}")
    campaign = make_campaign(organizer, tree["root"], version, name=f"考核{n}",
                             campaign_type="special")  # fmt: skip
    services.add_targets_by_subtree(actor=organizer, campaign=campaign, root=parent,
                                    org_types=[OrgType.BRANCH])  # fmt: skip
    targets = list(campaign.targets.order_by("code"))
    for r in reviewers:
        services.assign_reviewer(actor=organizer, campaign=campaign, reviewer=r, targets=targets)
    services.transition(actor=organizer, campaign=campaign, to_stage=Stage.PUBLISHED)
    services.transition(actor=organizer, campaign=campaign, to_stage=Stage.SELF_ASSESSMENT)
    indicators = {i.code: i for i in version.indicators.all()}
    sheet = ReviewSheet.objects.create(campaign=campaign, reviewer=reviewers[0])
    batch = QuantBatch.objects.create(campaign=campaign, source_name="统计表.xlsx")
    for t in targets[::2]:
        SelfAssessment.objects.create(target=t, status="submitted")
        ReviewScore.objects.create(sheet=sheet, target=t, indicator=indicators["D1.1"], score=10)
        QuantValue.objects.create(batch=batch, target=t, indicator=indicators["D8.1"],
                                  value=Decimal("0.9"))  # fmt: skip
    services.transition(actor=organizer, campaign=campaign, to_stage=Stage.REVIEW, confirm=True)
    return campaign


@pytest.fixture
def reviewers(tree):
    return [reviewer_user("rev1", tree["root"], "评审员甲"), reviewer_user("rev2", None, "乙")]


def test_progress_figures(organizer, tree, reviewers):
    campaign = build(organizer, tree, 5, reviewers)
    services.set_stage_plan(actor=organizer, campaign=campaign, stage=Stage.REVIEW,
                            deadline=dt.date(2026, 4, 30))  # fmt: skip
    data = selectors.progress(campaign, today=dt.date(2026, 5, 3))
    stages = {s["stage"]: s for s in data["stages"]}
    assert (stages["self_assessment"]["done"], stages["self_assessment"]["total"]) == (3, 5)
    assert stages["review"]["state"] == "current" and stages["review"]["overdue"]
    first = data["targets"][0]
    assert first["self_label"] == "已提交" and first["reviewers"] == 2
    assert (first["review_filled"], first["review_total"]) == (1, 14)
    assert (first["quant_filled"], first["quant_total"], first["quant_percent"]) == (1, 1, 100)
    assert data["targets"][1]["quant_filled"] == 0
    rev = {r["username"]: r for r in data["reviewers"]}
    assert (rev["rev1"]["filled"], rev["rev1"]["total"], rev["rev1"]["sheet_label"]) == (3, 35,
                                                                                         "评分中")  # fmt: skip
    assert rev["rev2"]["sheet_label"] == "未开始"
    assert [o["who"] for o in data["overdue"]] == ["评审员甲", "乙"]
    assert data["overdue"][0]["days"] == 3
    assert data["summary"]["quant_percent"] == 60


def test_progress_query_count_does_not_grow_with_targets(organizer, tree, reviewers,
                                                         django_assert_max_num_queries):  # fmt: skip
    small = build(organizer, tree, 5, reviewers)
    large = build(organizer, tree, 40, reviewers)
    with CaptureQueriesContext(connection) as ctx:
        selectors.progress(small)
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        data = selectors.progress(large)
    assert len(data["targets"]) == 40
    assert len(ctx.captured_queries) <= 12


def test_todo_for_submitter_reviewer_and_organizer(organizer, tree, reviewers):
    campaign = build(organizer, tree, 5, reviewers)
    services.reopen(actor=organizer, campaign=campaign, to_stage=Stage.SELF_ASSESSMENT,
                    reason="补交")  # fmt: skip
    services.set_stage_plan(actor=organizer, campaign=campaign, stage=Stage.SELF_ASSESSMENT,
                            deadline=dt.date(2026, 3, 31))  # fmt: skip
    targets = list(campaign.targets.order_by("code"))
    user = UserFactory(username="unit")
    grant(user, Role.SUBMITTER, targets[1].organization)
    items = selectors.todo_for(user, today=dt.date(2026, 4, 2))
    assert len(items) == 1 and items[0]["kind"] == "自评" and items[0]["overdue"]
    done_unit = UserFactory(username="unit0")
    grant(done_unit, Role.SUBMITTER, targets[0].organization)  # already submitted
    assert selectors.todo_for(done_unit) == []
    assert selectors.todo_for(reviewers[0]) == []  # not in 评审 any more
    services.transition(actor=organizer, campaign=campaign, to_stage=Stage.REVIEW, confirm=True)
    items = selectors.todo_for(reviewers[0])
    assert [i["kind"] for i in items] == ["评审"] and "5 个考核对象" in items[0]["text"]
    ReviewSheet.objects.filter(reviewer=reviewers[0]).update(status="submitted")
    assert selectors.todo_for(reviewers[0]) == []
    assert [i["kind"] for i in selectors.todo_for(organizer)] == ["组织"]
