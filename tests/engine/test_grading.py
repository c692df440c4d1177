"""Grading (thresholds, quotas, ties, veto ceilings) and competition ranking."""

from __future__ import annotations

import numpy as np

from kaoping.engine import assign_grades, competition_rank, group_rank

LABELS = ["好", "较好", "一般", "差"]
TH = [90, 80, 60]


def test_thresholds() -> None:
    g = assign_grades(np.array([95, 90, 89.99, 80, 60, 59.9]), LABELS, TH)
    assert g.tolist() == [0, 0, 1, 1, 2, 3]


def test_quota_demotes_lowest_and_ties() -> None:
    s = np.array([99, 98, 97, 97, 96, 85, 70, 70, 50, 40.0])
    # at most 20% 好 of 10 = 2
    g = assign_grades(s, LABELS, TH, quotas={"好": 0.2})
    assert g.tolist() == [0, 0, 1, 1, 1, 1, 2, 2, 3, 3]
    # 30% = 3 but 97 is tied at the boundary: demote both (default) or admit both
    g = assign_grades(s, LABELS, TH, quotas={"好": 0.3})
    assert g.tolist()[:5] == [0, 0, 1, 1, 1]
    g = assign_grades(s, LABELS, TH, quotas={"好": 0.3}, quota_ties="admit")
    assert g.tolist()[:5] == [0, 0, 0, 0, 1]


def test_demoted_targets_count_towards_next_quota() -> None:
    s = np.array([99, 98, 97, 96, 95.0])
    g = assign_grades(s, LABELS, TH, quotas={"好": 0.2, "较好": 0.4})
    assert g.tolist() == [0, 1, 1, 2, 2]


def test_veto_ceiling_after_quota() -> None:
    s = np.array([99, 98, 97, 96, 95.0])
    ceil = np.array([2, -1, -1, -1, -1])
    g = assign_grades(s, LABELS, TH, quotas={"好": 0.2}, ceilings=ceil)
    # the quota slot went to the top scorer, whose veto then caps it at 一般: the slot stays used
    assert g.tolist() == [2, 1, 1, 1, 1]


def test_masked_targets_get_no_grade_and_do_not_count() -> None:
    s = np.array([99, 98, 97, 96, 95.0])
    m = np.array([True, True, True, True, False])
    g = assign_grades(s, LABELS, TH, quotas={"好": 0.25}, mask=m)
    assert g.tolist() == [0, 1, 1, 1, -1]


def test_competition_rank() -> None:
    r = competition_rank(np.array([80, 90, 90, 70, 90 - 1e-12]))
    assert r.tolist() == [4, 1, 1, 5, 1]  # ties within 1e-6 share the rank; 1, 1, 1, 4, 5
    r = competition_rank(np.array([3.0, 2.0, 2.0, 1.0]))
    assert r.tolist() == [1, 2, 2, 4]
    r = competition_rank(np.array([3.0, 2.0, 1.0]), mask=np.array([True, False, True]))
    assert r.tolist() == [1, 0, 2]


def test_group_rank() -> None:
    s = np.array([70, 90, 80, 90, 60, 80.0])
    g = np.array([0, 0, 1, 1, 0, 1])
    assert group_rank(s, g).tolist() == [2, 1, 2, 1, 3, 2]
