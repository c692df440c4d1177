"""AHP, checked against Saaty's published "wealth of nations" example."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaoping.engine import EngineError, ahp, group_ahp
from kaoping.engine.ahp import RI_TABLES, group_matrix

# Saaty & Khouja (1976), reproduced in Saaty, "The Analytic Hierarchy Process" (1980):
# relative wealth of seven nations. Published eigenvector .427 .230 .021 .052 .052 .123 .094
# and lambda_max = 7.61.
WEALTH = np.array(
    [
        [1, 4, 9, 6, 6, 5, 5],
        [1 / 4, 1, 7, 5, 5, 3, 4],
        [1 / 9, 1 / 7, 1, 1 / 5, 1 / 5, 1 / 7, 1 / 5],
        [1 / 6, 1 / 5, 5, 1, 1, 1 / 3, 1 / 3],
        [1 / 6, 1 / 5, 5, 1, 1, 1 / 3, 1 / 3],
        [1 / 5, 1 / 3, 7, 3, 3, 1, 2],
        [1 / 5, 1 / 4, 5, 3, 3, 1 / 2, 1],
    ]
)


def test_saaty_wealth_of_nations() -> None:
    r = ahp(WEALTH)
    np.testing.assert_allclose(
        r.weights, [0.427, 0.230, 0.021, 0.052, 0.052, 0.123, 0.094], atol=0.0005
    )
    assert round(r.lambda_max, 2) == 7.61
    assert r.ci == pytest.approx((r.lambda_max - 7) / 6)
    assert r.cr == pytest.approx(r.ci / 1.32)
    assert r.consistent and r.worst_judgment is None
    assert r.method == "eigenvector" and r.ri_table == "saaty"


@pytest.mark.parametrize("method", ["geometric_mean", "arithmetic_mean"])
def test_approximate_methods_close_to_eigenvector(method: str) -> None:
    r = ahp(WEALTH, method=method)
    assert r.weights.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(r.weights, ahp(WEALTH).weights, atol=0.02)
    assert r.method == method


def test_arithmetic_mean_is_average_of_normalized_columns() -> None:
    a = np.array([[1, 3, 5], [1 / 3, 1, 2], [1 / 5, 1 / 2, 1]])
    expected = (a / a.sum(axis=0)).mean(axis=1)
    np.testing.assert_allclose(ahp(a, "arithmetic_mean").weights, expected)


def test_ri_table_choice_is_recorded() -> None:
    a = np.array([[1, 2, 6], [1 / 2, 1, 4], [1 / 6, 1 / 4, 1]])
    s, g = ahp(a, ri="saaty"), ahp(a, ri="gong_xu")
    assert s.ri == 0.58 and g.ri == 0.52
    assert g.cr == pytest.approx(s.ci / 0.52)
    assert g.to_dict()["ri_table"] == "gong_xu"
    assert len(RI_TABLES["saaty"]) == 15


def test_refuses_bad_matrices() -> None:
    with pytest.raises(EngineError, match="每个元素都必须是正数"):
        ahp([[1, -2], [-0.5, 1]])
    with pytest.raises(EngineError) as exc:
        ahp([[1, 3], [3, 1]])
    assert str(exc.value) == (
        "判断矩阵不是互反矩阵：第 1 行第 2 列为 3，第 2 行第 1 列应为其倒数 1/3，实际为 3"
    )
    with pytest.raises(EngineError, match="方阵"):
        ahp([[1, 2, 3]])
    with pytest.raises(EngineError, match="计算方法"):
        ahp([[1, 2], [0.5, 1]], method="power")
    with pytest.raises(EngineError, match="只到 15 阶"):
        ahp(np.ones((16, 16)))


def test_inconsistent_matrix_names_worst_judgment() -> None:
    # consistent weights 8:4:2:1 except one reversed judgment a[0][3]
    w = np.array([8.0, 4.0, 2.0, 1.0])
    a = w[:, None] / w[None, :]
    a[0, 3], a[3, 0] = 1 / 8, 8
    r = ahp(a)
    assert r.cr >= 0.1 and not r.consistent
    assert r.worst_judgment == (0, 3)
    assert r.worst_value == pytest.approx(1 / 8)
    # the structured fields name the judgment for the app; the message says it in Chinese
    assert r.to_dict()["worst_judgment"] == [0, 3]
    assert r.message.startswith(f"判断矩阵的一致性比率 CR = {r.cr:.3f} ≥ 0.1，未通过一致性检验")
    assert "第 1 行第 4 列的判断（当前为 1/8，按其余判断约为" in r.message
    named = r.describe(["政治建设", "思想建设", "组织建设", "作风建设"])
    assert "与其余判断最不一致的是“政治建设”与“作风建设”的比较（当前为 1/8" in named
    assert ahp(w[:, None] / w[None, :]).message == "一致性检验通过（CR = 0.000 < 0.1）"


def test_format_judgment() -> None:
    from kaoping.engine.ahp import format_judgment

    assert [format_judgment(v) for v in (3.0, 1 / 5, 2.5, 0.43, 1.0)] == [
        "3",
        "1/5",
        "2.5",
        "0.43",
        "1",
    ]


def test_group_ahp_geometric_mean() -> None:
    e1 = np.array([[1, 4], [1 / 4, 1]])
    e2 = np.array([[1, 1], [1, 1]])
    g = group_matrix([e1, e2])
    np.testing.assert_allclose(g, [[1, 2], [1 / 2, 1]])
    np.testing.assert_allclose(group_ahp([e1, e2]).weights, [2 / 3, 1 / 3])
    gw = group_matrix([e1, e2], expert_weights=[1, 0])
    np.testing.assert_allclose(gw, e1)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.1, 10), min_size=2, max_size=12),
    st.sampled_from(["eigenvector", "geometric_mean", "arithmetic_mean"]),
)
def test_consistent_matrix_has_zero_cr(ws: list[float], method: str) -> None:
    w = np.array(ws)
    a = w[:, None] / w[None, :]
    r = ahp(a, method=method)
    assert r.cr == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose(r.weights, w / w.sum(), rtol=1e-8)
    assert r.weights.sum() == pytest.approx(1.0)
