"""Reads behind the result pages: a target's previous result, the ranking's filters and sorts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from kaoping import policy
from kaoping.campaigns.models import CampaignType, Stage
from kaoping.results import selectors as sel
from kaoping.results import services
from kaoping.results.models import ResultSet, ResultStatus

from ..collection_fixtures import campaign_in_self_assessment
from ..results_fixtures import scored_campaign

pytestmark = pytest.mark.django_db


def _campaign(tree, organizer, version, *, name, year, kind=CampaignType.ANNUAL, final=True):
    setup = campaign_in_self_assessment(
        tree, organizer=organizer, name=name, version=version, status=Stage.CONSOLIDATION,
        period=(dt.date(year, 1, 1), dt.date(year, 12, 31)),
    )  # fmt: skip
    if kind != CampaignType.ANNUAL:
        setup.campaign.campaign_type = kind
        setup.campaign.save()
    services.compute(actor=organizer, campaign=setup.campaign)
    if final:
        with transaction.atomic():
            services.lock(actor=organizer, campaign=setup.campaign)
    return setup


def test_previous_result_is_the_latest_final_result_of_the_same_kind(tree, organizer):
    now = scored_campaign(tree, organizer)  # 2025 annual
    services.compute(actor=organizer, campaign=now.campaign)
    a1 = now.targets["a1"]
    assert sel.previous_result(a1) is None

    v = now.version
    older = _campaign(tree, organizer, v, name="2023 年度考核", year=2023)
    last = _campaign(tree, organizer, v, name="2024 年度考核", year=2024)
    _campaign(tree, organizer, v, name="2024 专项考核", year=2024, kind=CampaignType.SPECIAL)
    _campaign(tree, organizer, v, name="2024 年度补充考核", year=2024, final=False)  # not final
    later = _campaign(tree, organizer, v, name="2026 年度考核", year=2026)

    prev = sel.previous_result(a1)
    assert prev is not None
    assert prev.result_set.campaign == last.campaign
    assert prev.target == last.targets["a1"] and prev.result_set.status == ResultStatus.FINAL
    # the same organization, not another target of that campaign
    assert sel.previous_result(now.targets["b1"]).target.organization == tree["b1"]
    # from the 2024 campaign, the one before is 2023's; 2026's previous is this year's once final
    assert sel.previous_result(last.targets["a1"]).result_set.campaign == older.campaign
    assert sel.previous_result(later.targets["a1"]).result_set.campaign == last.campaign
    with transaction.atomic():
        services.lock(actor=organizer, campaign=now.campaign)
    assert sel.previous_result(later.targets["a1"]).result_set.campaign == now.campaign
    # who may follow the link: those who see that result
    assert policy.may_view_result(organizer, prev)
    assert policy.may_view_result(last.submitters["a1"], prev)
    assert not policy.may_view_result(last.submitters["a2"], prev)


def test_ranking_filters_and_sorts_in_the_database(tree, organizer):
    setup = scored_campaign(tree, organizer)
    rs, _ = services.compute(actor=organizer, campaign=setup.campaign)
    qs = policy.visible_results(organizer, rs)
    f = sel.RankingFilters.from_query({"sort": "-total"})
    totals = [r.total for r in sel.ranking(qs, f)]
    assert totals == sorted(totals, reverse=True)
    f = sel.RankingFilters.from_query({"sort": "-rank"})
    ranks = [r.rank for r in sel.ranking(qs, f)]
    assert ranks == sorted(ranks, reverse=True)
    f = sel.RankingFilters.from_query({"group": "ZZ2"})
    assert [r.target.code for r in sel.ranking(qs, f)] == ["ZB21"]
    assert sel.group_choices(qs) == [("ZZ1", "第一党总支"), ("ZZ2", "第二党总支")]
    cols = sel.sort_columns(sel.RankingFilters.from_query({"sort": "total"}))
    assert cols["total"]["param"] == "-total" and cols["total"]["active"]
    assert cols["rank"]["param"] == "rank"
    chart = sel.grade_chart(rs)
    assert sum(chart["counts"]) == 3


def test_changes_are_limited_to_visible_targets(tree, organizer):
    setup = scored_campaign(tree, organizer)
    rs, _ = services.compute(actor=organizer, campaign=setup.campaign)
    ResultSet.objects.filter(pk=rs.pk).update(
        changes={"previous": 1, "why": ["x"], "changed": 2, "corrections": [
            {"target": "ZB11", "indicator": "2.1", "reason": "r"}],
            "targets": [{"target": "ZB11", "name": "a", "total": [1, 2], "grade": ["", ""],
                         "rank": [1, 1], "indicators": []},
                        {"target": "ZB21", "name": "b", "total": [3, 2], "grade": ["", ""],
                         "rank": [2, 2], "indicators": []}]}
    )  # fmt: skip
    rs.refresh_from_db()
    everything = sel.changes_view(rs, None)
    assert everything["changed"] == 2 and everything["targets"][1]["delta"] == -1
    own = sel.changes_view(rs, {"ZB21"})
    assert [t["target"] for t in own["targets"]] == ["ZB21"] and own["corrections"] == []


def test_small_ballot_groups_are_withheld_in_the_explanation():
    from kaoping.results.models import TargetResult

    leaf = {
        "code": "3.1", "name": "群众满意度", "points": 10, "score": 8, "contribution": 8,
        "rule": "ballot",
        "children": [
            {"group": "members", "weight": 0.5, "n": 3, "rate": 0.8, "contribution": 4,
             "counts": {"好": 2, "较好": 1}},
            {"group": "masses", "weight": 0.5, "n": 12, "rate": 0.8, "contribution": 4,
             "counts": {"好": 8, "较好": 4}},
            {"code": "rounding", "contribution": 0.0},
        ],
    }  # fmt: skip
    tr = TargetResult(explanation={"code": "T", "name": "总分", "points": 10, "score": 8,
                                   "contribution": 8, "children": [leaf]})  # fmt: skip
    empty = sel.Sources({}, {}, {}, "", {}, {}, {})
    node = sel.explanation_tree(tr, empty, min_breakdown=5)["children"][0]
    small, large = node["groups"]
    assert small["label"] == "党员" and small["withheld"] and small["counts"] is None
    assert small["rate"] is None and small["contribution"] == 4  # the points still add up
    assert large["counts"] == {"好": 8, "较好": 4} and not large.get("withheld")
    assert node["children"][0]["special"] and node["children"][0]["name"] == "取整"
