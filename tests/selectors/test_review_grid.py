"""The reviewer grid: what it holds, and a number of queries that does not grow with its size."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kaoping.collection import review_selectors as selectors

from ..review_fixtures import build_grid, review_setup

pytestmark = pytest.mark.django_db


def test_grid_lists_assigned_targets_and_reviewer_rated_leaves(tree, organizer):
    setup = review_setup(tree, organizer)
    g = selectors.grid(setup.campaign, setup.reviewer)
    assert [r.target.code for r in g.rows] == ["ZB11", "ZB12"]  # b1 is not assigned
    # rating/grade/deduction leaves rated by reviewers or units; quantitative and daily-record
    # leaves (2.1, 2.2) come from elsewhere.
    assert [c.indicator.code for c in g.columns] == ["1.1", "1.2", "1.3", "2.3"]
    assert [c.rule.input for c in g.columns] == ["number", "grade", "items", "number"]
    assert g.columns[0].parents == "政治建设"
    assert g.size == 8 and g.filled == 0 and g.sheet is None


def test_grid_cells_self_values_and_totals(tree, organizer):
    built = build_grid(tree["root"], tree["a1"], targets=2, indicators=5)
    g = selectors.grid(built.campaign, built.reviewer)
    first = g.rows[0]
    # rating 10/10, grade 较好 (80%), one-item deduction 0 times, two items once each, bonus 0
    assert [c.value for c in first.cells] == ["10", "较好", "0", "2 次", "0"]
    assert first.total == Decimal("25")  # 10 + 8 + 5 + (5 − 1 − 2) + 0
    second = g.rows[1]
    assert [c.value for c in second.cells] == ["9", "好", "1", "0", "1"]
    assert second.total == Decimal("29")  # 9 + 10 + 4 + 5 + 1 bonus
    assert first.cells[0].self_value.text == "10" and first.cells[0].self_value.evidence == 1
    assert first.cells[1].self_value is None  # only every other indicator is self-assessed
    assert g.filled == g.size == 10


def _grid_queries(built):
    with CaptureQueriesContext(connection) as ctx:
        g = selectors.grid(built.campaign, built.reviewer)
    return len(ctx.captured_queries), g


def test_grid_query_count_does_not_grow(tree, organizer, django_assert_num_queries):
    small = build_grid(tree["root"], tree["a1"], targets=5, indicators=6, name="小")
    large = build_grid(tree["root"], tree["a1"], targets=40, indicators=60, name="大")
    n_small, g_small = _grid_queries(small)
    assert g_small.size == 30
    with django_assert_num_queries(n_small):
        g_large = selectors.grid(large.campaign, large.reviewer)
    assert g_large.size == 2400 and g_large.filled == 2400
    assert n_small <= 5


def test_grid_page_query_count_does_not_grow(client, tree, organizer, django_assert_num_queries):
    small = build_grid(tree["root"], tree["a1"], targets=5, indicators=6, name="小")
    large = build_grid(tree["root"], tree["a1"], targets=40, indicators=60, name="大")
    client.force_login(small.reviewer)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("collection:review_grid", args=[small.campaign.pk]))
    assert response.status_code == 200
    client.force_login(large.reviewer)
    with django_assert_num_queries(len(ctx.captured_queries)):
        response = client.get(reverse("collection:review_grid", args=[large.campaign.pk]))
    assert response.status_code == 200
    assert response.content.decode().count('class="kp-cell') == 2400
