"""The tally: GROUP BY counts, the engine's shares and rates, banded points, small groups
hidden, a constant number of queries, and the engine's BallotInputs."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kaoping.ballots.tally import ballot_inputs, campaign_tally, hidden_note, tally
from kaoping.engine import ballot_stats
from kaoping.engine.ballots import ballot_counts

from ..ballot_fixtures import BANDS, ELSE, add_ballot, ballot_campaign, make_appraisal

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(organizer, tree):
    return ballot_campaign(organizer, tree)


def _targets(campaign):
    return list(campaign.targets.order_by("code"))


def test_counts_shares_and_rates_match_a_hand_count_and_the_engine(campaign):
    appraisal = make_appraisal(campaign)
    t1, t2, t3, t4 = _targets(campaign)
    # t1 on Q1: 好 ×4, 较好 ×3, 一般 ×2, 差 ×1 (10 ballots); overall always 较好.
    for g in [0, 0, 0, 0, 1, 1, 1, 2, 2, 3]:
        add_ballot(appraisal, {t1: {"Q1": g, "overall": 1}, t2: {"Q1": 0, "overall": 0}})
    t = tally(appraisal)
    row = next(r for r in t.rows if r.target_id == t1.pk)
    assert row.ballots == 10 and row.shown
    q1 = row.main
    assert q1.question["code"] == "Q1" and t.main_question == "Q1"
    assert q1.cell.counts == [4, 3, 2, 1]
    assert q1.cell.shares == pytest.approx([0.4, 0.3, 0.2, 0.1])
    assert q1.cell.good_rate == pytest.approx(0.4)
    assert q1.cell.satisfaction_rate == pytest.approx(0.7)  # 好 + 较好
    assert q1.cell.bad_rate == pytest.approx(0.1)
    assert q1.cell.score == pytest.approx(0.4 * 100 + 0.3 * 80 + 0.2 * 60 + 0.1 * 40)  # 80
    engine = ballot_stats(np.array([4.0, 3, 2, 1]), [100, 80, 60, 40])
    assert q1.cell.score == pytest.approx(float(engine.grade_score))
    assert q1.cell.satisfaction_rate == pytest.approx(float(engine.satisfaction_rate))
    overall = next(qc for qc in row.questions if qc.question["code"] == "overall")
    assert overall.cell.counts == [0, 10, 0, 0] and overall.conversion is None
    # Targets nobody answered: no ballots, hidden.
    row3 = next(r for r in t.rows if r.target_id == t3.pk)
    assert row3.ballots == 0 and not row3.shown
    assert t.ballots == 10 and t.by_source == {"online": 10}
    assert [q["code"] for q in t.questions] == ["Q1", "overall"]  # comments are no grade


def test_banded_conversion_follows_the_indicator_bands(campaign):
    appraisal = make_appraisal(campaign)
    t1, t2, t3, t4 = _targets(campaign)
    # 满意率: t1 9/10 = 0.9 → 10; t2 8/10 → 8; t3 7/10 → 6; t4 5/10 → else.
    for i in range(10):
        add_ballot(
            appraisal,
            {
                t1: {"Q1": 0 if i < 9 else 3},
                t2: {"Q1": 1 if i < 8 else 2},
                t3: {"Q1": 0 if i < 7 else 3},
                t4: {"Q1": 0 if i < 5 else 2},
            },
        )
    t = tally(appraisal)
    got = {r.target_id: r.main.cell.converted for r in t.rows}
    assert got == {t1.pk: 10, t2.pk: 8, t3.pk: 6, t4.pk: ELSE}
    conv = t.conversions["Q1"]
    assert conv.banded and conv.full == max(b["score"] for b in BANDS)
    assert conv.measure_label == "满意率"


def test_targets_below_min_breakdown_show_only_their_ballot_count(campaign):
    appraisal = make_appraisal(campaign, min_breakdown=5)
    t1, t2, *_ = _targets(campaign)
    for i in range(5):
        answers = {t1: {"Q1": 0, "overall": 0}}
        if i < 4:
            answers[t2] = {"Q1": 3, "overall": 3}
        add_ballot(appraisal, answers)
    t = tally(appraisal)
    r1 = next(r for r in t.rows if r.target_id == t1.pk)
    r2 = next(r for r in t.rows if r.target_id == t2.pk)
    assert r1.shown and r1.main.cell.counts == [5, 0, 0, 0]
    assert not r2.shown and r2.ballots == 4
    assert all(not qc.cell.counts and qc.cell.satisfaction_rate is None for qc in r2.questions)
    assert r2.main.cell.converted is None
    assert t.note == hidden_note(5) == "票数不足 5 张，不显示分项"
    assert r2.name not in t.chart()["targets"]


def test_query_count_does_not_grow_with_the_number_of_ballots(campaign):
    appraisal = make_appraisal(campaign)
    targets = _targets(campaign)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            tally(appraisal)
        return len(ctx.captured_queries)

    for i in range(6):
        add_ballot(appraisal, {t: {"Q1": i % 4, "overall": 0} for t in targets})
    few = queries()
    for i in range(40):
        add_ballot(appraisal, {t: {"Q1": i % 4, "overall": 1} for t in targets})
    assert queries() == few <= 6


def test_campaign_tally_per_rater_group_hides_small_groups(campaign):
    members = make_appraisal(campaign, group="members")
    masses = make_appraisal(campaign, group="masses", min_breakdown=3)
    t1, *_ = _targets(campaign)
    for g in [0, 0, 1, 2, 0]:
        add_ballot(members, {t1: {"Q1": g, "overall": 0}})
    for g in [0, 3]:
        add_ballot(masses, {t1: {"Q1": g, "overall": 0}})
    ct = campaign_tally(campaign)
    assert [g.code for g in ct.groups] == ["members", "masses"]
    assert [g.ballots for g in ct.groups] == [5, 2]
    row = next(r for r in ct.rows if r.target_id == t1.pk)
    m, s = row.cells
    assert m.shown and m.counts == [3, 1, 1, 0] and m.satisfaction_rate == pytest.approx(0.8)
    assert not s.shown and s.n == 2 and not s.counts
    assert ct.question == "Q1"


def test_ballot_inputs_feed_the_engine(campaign):
    members = make_appraisal(campaign, group="members")
    masses = make_appraisal(campaign, group="masses")
    t1, t2, *_ = _targets(campaign)
    for g in [0, 0, 1]:
        add_ballot(members, {t1: {"Q1": g, "overall": 0}, t2: {"Q1": 2}})
    add_ballot(masses, {t1: {"Q1": 3, "comment": "多下基层"}})
    cb = ballot_inputs(campaign, question_codes=["Q1"], group_codes=["members", "masses"])
    assert cb.labels == ["好", "较好", "一般", "差"]
    counts = ballot_counts(cb.inputs, (len(cb.target_codes), 1, 2, 4))
    i1, i2 = cb.target_codes.index(t1.code), cb.target_codes.index(t2.code)
    assert counts[i1, 0, 0].tolist() == [2, 1, 0, 0]
    assert counts[i1, 0, 1].tolist() == [0, 0, 0, 1]
    assert counts[i2, 0, 0].tolist() == [0, 0, 3, 0]
    assert counts.sum() == 3 + 3 + 1  # the overall answers are outside the given questions
    everything = ballot_inputs(campaign)
    assert set(everything.question_codes) == {"Q1", "overall"}
    assert everything.inputs.count.sum() == 3 * 2 + 3 + 1


def test_campaign_tally_of_a_campaign_without_appraisals(tree, organizer):
    from kaoping.ballots.tally import campaign_tally

    from ..collection_fixtures import campaign_in_self_assessment

    setup = campaign_in_self_assessment(tree, organizer=organizer)
    t = campaign_tally(setup.campaign)
    assert t.groups == [] and t.question is None
    assert [r.code for r in t.rows] == sorted(x.code for x in setup.targets.values())
    assert all(r.cells == [] for r in t.rows)
