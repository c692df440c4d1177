"""Integrity signals: identical-ballot clusters, straight-lining, bursts; nothing removed."""

from __future__ import annotations

import datetime as dt

import pytest

from kaoping.ballots.integrity import NOTICE, signals
from kaoping.ballots.models import Ballot, TokenUse

from ..ballot_fixtures import add_ballot, ballot_campaign, make_appraisal

pytestmark = pytest.mark.django_db


@pytest.fixture
def appraisal(organizer, tree):
    return make_appraisal(ballot_campaign(organizer, tree))


def _targets(appraisal):
    return list(appraisal.targets.order_by("code"))


def test_clusters_of_identical_ballots(appraisal):
    ts = _targets(appraisal)
    pattern = [0, 1, 0, 2]
    for _ in range(6):
        add_ballot(
            appraisal, {t: {"Q1": g, "overall": g} for t, g in zip(ts, pattern, strict=True)}
        )
    for i in range(4):
        add_ballot(appraisal, {t: {"Q1": (i + j) % 4} for j, t in enumerate(ts)})
    s = signals(appraisal)
    assert s.ballots == 10 and s.comparable == 10
    (cluster,) = s.clusters
    assert cluster.size == 6 and cluster.share == pytest.approx(0.6)
    assert "8 项完全相同" in cluster.description and cluster.sources == {"online": 6}
    assert signals(appraisal, min_cluster=7).clusters == []
    assert signals(appraisal, min_share=0.7).min_cluster == 7
    assert Ballot.objects.count() == 10  # nothing removed
    assert s.notice == NOTICE and "不会因此删除" in NOTICE


def test_straight_lining_counted_per_grade(appraisal):
    ts = _targets(appraisal)
    for _ in range(3):
        add_ballot(appraisal, {t: {"Q1": 0, "overall": 0} for t in ts})
    add_ballot(appraisal, {t: {"Q1": 3} for t in ts})
    add_ballot(appraisal, {t: {"Q1": 0} for t in ts[:2]})  # two targets only: not eligible
    add_ballot(appraisal, {t: {"Q1": j % 2} for j, t in enumerate(ts)})
    s = signals(appraisal)
    assert s.straight == {"好": 3, "差": 1} and s.straight_total == 4
    assert s.straight_eligible == 5
    assert s.clusters == []  # the three all-好 ballots are below the cluster size


def test_bursts_against_the_median_minute(appraisal):
    base = dt.datetime(2026, 12, 10, 9, 0, tzinfo=dt.UTC)
    for i, n in enumerate([3, 2, 4, 3, 25, 3, 19]):
        TokenUse.objects.create(appraisal=appraisal, minute=base + dt.timedelta(minutes=i), count=n)
    s = signals(appraisal)
    assert s.median_per_minute == 3 and s.minutes == 7
    assert [(b.minute, b.count) for b in s.bursts] == [(base + dt.timedelta(minutes=4), 25)]
    assert s.any


def test_no_signals_on_an_empty_appraisal(appraisal):
    s = signals(appraisal)
    assert not s.any and s.ballots == 0 and s.median_per_minute is None
