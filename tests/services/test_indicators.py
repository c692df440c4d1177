"""Indicator-system services: tree edits, validation of fields and rules, weights (direct and
AHP), publication and immutability, new drafts, and the engine's view of a version."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kaoping.audit.actions import Action
from kaoping.audit.models import AuditEntry
from kaoping.indicators import selectors, services
from kaoping.indicators.constants import REQUIRED_DIMENSIONS
from kaoping.indicators.models import Indicator, PublishedVersionError, VersionStatus

pytestmark = pytest.mark.django_db

SHARES = [15, 15, 15, 10, 10, 10, 10, 15]


def rating(points, **kw):
    return {
        "points": points,
        "rule_kind": "rating",
        "rule_params": {"max": points},
        "criteria": "根据实际成效评分",
        **kw,
    }


def valid_version(actor, owner, name="党支部年度考核"):
    """Eight dimensions with one rated leaf each: 100 points, publishable."""
    version = services.create_scheme(actor=actor, owner=owner, name=name)
    for i, (dim, pts) in enumerate(zip(REQUIRED_DIMENSIONS, SHARES, strict=True)):
        top = services.add_indicator(
            actor=actor, version=version, code=f"D{i + 1}", name=dim.label, dimension=dim,
            points=pts,
        )  # fmt: skip
        services.add_indicator(
            actor=actor, version=version, parent=top, code=f"D{i + 1}.1",
            name=f"{dim.label}成效", **rating(pts),
        )  # fmt: skip
    return version


@pytest.fixture
def version(organizer, tree):
    return services.create_scheme(actor=organizer, owner=tree["root"], name="测试体系")


def add(actor, version, code, parent=None, **fields):
    fields.setdefault("name", f"指标{code}")
    return services.add_indicator(actor=actor, version=version, parent=parent, code=code, **fields)


def codes(version, parent=None):
    return [i.code for i in version.indicators.filter(parent=parent).order_by("position")]


# ---- schemes and the tree ------------------------------------------------------------------


def test_create_scheme_makes_draft_v1_with_defaults_and_audit(organizer, tree):
    version = services.create_scheme(
        actor=organizer, owner=tree["root"], name="  年度考核 ", weighting="weights"
    )
    assert version.number == 1 and version.status == VersionStatus.DRAFT
    assert version.scheme.name == "年度考核" and version.weighting == "weights"
    assert version.options["grades"] == ["好", "较好", "一般", "差"]
    assert AuditEntry.objects.filter(action=Action.SCHEME_CREATE).count() == 1
    with pytest.raises(ValidationError) as exc:
        services.create_scheme(actor=organizer, owner=tree["root"], name="年度考核")
    assert "已存在" in str(exc.value)


def test_add_indicators_levels_positions_and_insert(organizer, version):
    a = add(organizer, version, "A")
    b = add(organizer, version, "B")
    a1 = add(organizer, version, "A1", parent=a)
    add(organizer, version, "A0", parent=a, position=0)
    assert (a.level, a1.level) == (1, 2)
    assert codes(version) == ["A", "B"] and codes(version, a) == ["A0", "A1"]
    assert b.position == 1
    entry = AuditEntry.objects.filter(action=Action.INDICATOR_CREATE).order_by("pk").last()
    assert entry.changes["指标编码"] == [None, "A0"]


def test_depth_limited_to_four_levels(organizer, version):
    parent = None
    for level in range(1, 5):
        parent = add(organizer, version, f"L{level}", parent=parent)
    with pytest.raises(ValidationError) as exc:
        add(organizer, version, "L5", parent=parent)
    assert "最多 4 级" in str(exc.value)


def test_field_validation_messages_in_chinese(organizer, version):
    add(organizer, version, "A")
    cases = [
        ({"code": "A"}, "code", "已存在"),
        ({"code": "B", "points": -1}, "points", "不能为负数"),
        ({"code": "B", "weight": "1.5"}, "weight", "0 至 100%"),
        ({"code": "B", "rule_kind": "magic"}, "rule_kind", "未知的计分规则"),
        ({"code": "B", "rule_kind": "rating", "rule_params": {}}, "rule_params", "满分"),
        (
            {"code": "B", "rule_kind": "linear", "rule_params": {"floor": 90, "target": 60}},
            "rule_params",
            "应高于下限",
        ),
        (
            {"code": "B", "rule_kind": "deduction", "rule_params": {"items": [{"code": "x"}]}},
            "rule_params",
            "事项第 1 行的每次分值",
        ),
        ({"code": "B", "rule_kind": "rating", "rule_params": {"mx": 5}}, "rule_params", "mx"),
        ({"code": "B", "veto": {"effect": "ceiling", "grade": "优秀"}}, "veto", "好、较好"),
        ({"code": "B", "evidence": [{"what": "", "count": 1}]}, "evidence", "第 1 项"),
        ({"code": "B", "rater_weights": {"bosses": 1}}, "rater_weights", "未知的评价主体"),
        ({"code": "B", "methods": ["magic"]}, "methods", "考核方式"),
    ]
    for fields, field, text in cases:
        with pytest.raises(ValidationError) as exc:
            add(organizer, version, **fields)
        assert text in exc.value.message_dict[field][0], (fields, exc.value.message_dict)
    assert version.indicators.count() == 1


def test_every_engine_rule_kind_is_accepted_with_its_example(organizer, version):
    import json

    from kaoping.indicators.rule_params import EXAMPLES

    for n, (kind, example) in enumerate(EXAMPLES.items()):
        ind = add(organizer, version, f"K{n}", rule_kind=kind, rule_params=json.loads(example))
        assert ind.rule_kind == kind


def test_update_indicator_normalizes_and_audits_changes(organizer, version):
    ind = add(organizer, version, "A", points=5)
    ind = services.update_indicator(
        actor=organizer,
        indicator=ind,
        name="组织生活",
        points="8.5",
        methods=["documents", "interview", "documents"],
        evidence=[{"what": " 会议记录 ", "count": "2"}],
        rater_weights={"party_committee": "0.6", "members": 0.4, "masses": 0},
        veto={"effect": "ceiling", "grade": "一般"},
        rule_kind="rating",
        rule_params={"kind": "rating", "max": 10},
    )
    ind.refresh_from_db()
    assert ind.points == Decimal("8.50") and ind.methods == ["documents", "interview"]
    assert ind.evidence == [{"what": "会议记录", "count": 2, "optional": False}]
    assert ind.rater_weights == {"party_committee": 0.6, "members": 0.4}
    assert ind.rule_params == {"max": 10}
    entry = AuditEntry.objects.get(action=Action.INDICATOR_UPDATE)
    assert entry.changes["指标名称"] == ["指标A", "组织生活"]


def test_reorder_and_move_with_levels_and_cycles(organizer, version):
    a, b, c = (add(organizer, version, x) for x in "ABC")
    b1 = add(organizer, version, "B1", parent=b)
    b11 = add(organizer, version, "B11", parent=b1)
    services.reorder(actor=organizer, indicator=c, direction="up")
    assert codes(version) == ["A", "C", "B"]
    services.reorder(actor=organizer, indicator=a, direction="up")  # already first: no-op
    assert codes(version) == ["A", "C", "B"]
    services.move_indicator(actor=organizer, indicator=b, new_parent=a, position=0)
    assert codes(version) == ["A", "C"] and codes(version, a) == ["B"]
    b11.refresh_from_db()
    assert b11.level == 4
    with pytest.raises(ValidationError) as exc:
        services.move_indicator(actor=organizer, indicator=a, new_parent=b1)
    assert "自身或自己的下级" in str(exc.value)
    with pytest.raises(ValidationError):
        add(organizer, version, "D", parent=b11)  # B11 is now on level 4


def test_move_refuses_beyond_four_levels(organizer, version):
    a = add(organizer, version, "A")
    a1 = add(organizer, version, "A1", parent=a)
    a11 = add(organizer, version, "A11", parent=a1)
    b = add(organizer, version, "B")
    add(organizer, version, "B1", parent=b)
    with pytest.raises(ValidationError) as exc:
        services.move_indicator(actor=organizer, indicator=b, new_parent=a11)
    assert "超过 4 级" in str(exc.value)
    services.move_indicator(actor=organizer, indicator=b, new_parent=a1, position=0)
    assert codes(version, a1) == ["B", "A11"]
    assert Indicator.objects.get(code="B1", version=version).level == 4


def test_delete_takes_the_subtree_and_renumbers(organizer, version):
    a, b, c = (add(organizer, version, x) for x in "ABC")
    add(organizer, version, "B1", parent=b)
    assert services.delete_indicator(actor=organizer, indicator=b) == 2
    assert codes(version) == ["A", "C"]
    assert [i.position for i in version.indicators.filter(parent=None).order_by("position")] == [
        0,
        1,
    ]
    entry = AuditEntry.objects.get(action=Action.INDICATOR_DELETE)
    assert entry.data["subtree"] == ["B", "B1"]


def test_tree_selector_totals(organizer, version):
    a = add(organizer, version, "A", points=60)
    add(organizer, version, "A1", parent=a, **rating(30))
    add(organizer, version, "A2", parent=a, **rating(20))
    add(
        organizer, version, "A3", parent=a, rule_kind="bonus",
        rule_params={"cap": 5, "items": [{"code": "x", "per": 1}]},
    )  # fmt: skip
    add(organizer, version, "B", points=40)
    t = selectors.tree(version)
    assert [r.indicator.code for r in t.rows] == ["A", "A1", "A2", "A3", "B"]
    a_row = t.rows[0]
    assert a_row.totals.points == 50 and not a_row.totals.points_ok  # bonus left out
    assert t.totals.points == 100 and t.totals.points_ok


# ---- weights -------------------------------------------------------------------------------


def test_set_weights_direct_in_points_version_sets_points(organizer, version):
    a, b, c = (add(organizer, version, x) for x in "ABC")
    services.set_weights(
        actor=organizer, version=version, parent=None,
        weights={"A": Decimal("0.5"), "B": "0.3", "C": 0.2},
    )  # fmt: skip
    rows = {i.code: i for i in version.indicators.all()}
    assert [rows[x].points for x in "ABC"] == [Decimal(50), Decimal(30), Decimal(20)]
    with pytest.raises(ValidationError) as exc:
        services.set_weights(
            actor=organizer, version=version, parent=None, weights={"A": 0.5, "B": 0.3, "C": 0.1}
        )
    assert "90.00%" in str(exc.value)


def test_set_weights_by_points_in_points_version(organizer, version):
    top = add(organizer, version, "T", points=40)
    for x in "ABC":
        add(organizer, version, x, parent=top, **rating(1))
    add(
        organizer, version, "Z", parent=top, rule_kind="bonus",
        rule_params={"cap": 2, "items": [{"code": "x", "per": 1}]},
    )  # fmt: skip
    services.set_weights(
        actor=organizer, version=version, parent=top,
        points={"A": "20", "B": Decimal("12.5"), "C": 7.5},
    )  # fmt: skip
    kids = {i.code: i for i in version.indicators.filter(parent=top)}
    assert [kids[x].points for x in "ABC"] == [Decimal(20), Decimal("12.5"), Decimal("7.5")]
    assert [kids[x].weight for x in "ABC"] == [Decimal("0.5"), Decimal("0.3125"), Decimal("0.1875")]
    assert kids["Z"].points is None and kids["Z"].weight is None  # extra items take no share
    entry = AuditEntry.objects.filter(action=Action.SCHEME_WEIGHTS).latest("id")
    assert entry.data["method"] == "points" and "A" in entry.changes
    # Thirds of 100 at level 1: the weights still add up to exactly 1.
    for x in "PQR":
        add(organizer, version, x)
    version.indicators.filter(code="T").delete()
    services.set_weights(
        actor=organizer, version=version, parent=None,
        points={"P": "33.33", "Q": "33.33", "R": "33.34"},
    )  # fmt: skip
    ws = list(version.indicators.filter(level=1).values_list("weight", flat=True))
    assert sum(ws) == 1


def test_set_weights_by_points_refusals(organizer, version, tree):
    top = add(organizer, version, "T", points=40)
    add(organizer, version, "A", parent=top, **rating(1))
    add(organizer, version, "B", parent=top, **rating(1))
    cases = [
        ({"A": 20, "B": 10}, "同级指标分值合计 30，应等于“指标T”的分值 40"),
        ({"A": 20}, "请为每一个同级指标填写分值"),
        ({"A": -5, "B": 45}, "“指标A”的分值应为不小于 0 的数字"),
        ({"A": "二十", "B": 20}, "“指标A”的分值应为数字"),
    ]
    for points, message in cases:
        with pytest.raises(ValidationError) as exc:
            services.set_weights(actor=organizer, version=version, parent=top, points=points)
        assert message in exc.value.messages[0]
    with pytest.raises(ValidationError) as exc:
        services.set_weights(actor=organizer, version=version, parent=None, points={"T": 60})
    assert "应等于总分 100" in exc.value.messages[0]
    services.update_indicator(actor=organizer, indicator=top, points=None)
    with pytest.raises(ValidationError) as exc:
        services.set_weights(actor=organizer, version=version, parent=top, points={"A": 1, "B": 1})
    assert "请先为“指标T”设置分值" in exc.value.messages[0]
    assert not version.indicators.filter(weight__isnull=False).exists()
    weighted = services.create_scheme(
        actor=organizer, owner=tree["root"], name="权重制", weighting="weights"
    )
    add(organizer, weighted, "A")
    with pytest.raises(ValidationError) as exc:
        services.set_weights(actor=organizer, version=weighted, parent=None, points={"A": 100})
    assert "权重制" in exc.value.messages[0]
    with pytest.raises(TypeError):
        services.set_weights(actor=organizer, version=weighted, parent=None)


def test_ahp_inconsistent_matrix_names_the_judgment(organizer, version):
    names = ["政治建设", "组织建设", "作风建设"]
    for n, name in enumerate(names):
        add(organizer, version, f"D{n}", name=name)
    matrix = [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]]
    with pytest.raises(ValidationError) as exc:
        services.set_weights_ahp(actor=organizer, version=version, parent=None, matrix=matrix)
    text = str(exc.value)
    assert "CR=" in text and "≥ 0.1" in text and "请重新考虑“" in text
    assert version.indicators.filter(weight__isnull=False).count() == 0


def test_ahp_consistent_matrix_applies_weights_and_records_it(organizer, tree):
    version = services.create_scheme(
        actor=organizer, owner=tree["root"], name="权重制", weighting="weights"
    )
    top = add(organizer, version, "T")
    for x in "ABC":
        add(organizer, version, x, parent=top)
    matrix = [[1, 2, 4], [0.5, 1, 2], [0.25, 0.5, 1]]
    result = services.set_weights_ahp(actor=organizer, version=version, parent=top, matrix=matrix)
    assert result.cr < 1e-9
    ws = [i.weight for i in version.indicators.filter(parent=top).order_by("position")]
    assert sum(ws) == 1 and ws[0] == Decimal("0.571429")
    version.refresh_from_db()
    record = version.options["ahp"]["T"]
    assert record["children"] == ["A", "B", "C"] and record["method"] == "eigenvector"
    assert record["matrix"][0] == [1, 2, 4]
    assert AuditEntry.objects.filter(action=Action.SCHEME_WEIGHTS).exists()


def test_ahp_refuses_an_invalid_matrix_in_chinese(organizer, version):
    add(organizer, version, "A")
    add(organizer, version, "B")
    with pytest.raises(ValidationError) as exc:
        services.set_weights_ahp(
            actor=organizer, version=version, parent=None, matrix=[[1, 3], [3, 1]]
        )
    assert "互反矩阵" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        services.set_weights_ahp(
            actor=organizer,
            version=version,
            parent=None,
            matrix=[[1, 2, 2], [0.5, 1, 1], [0.5, 1, 1]],
        )
    assert "2 阶" in str(exc.value)


def test_confirm_proposed_rule(organizer, version):
    ind = add(organizer, version, "A", proposed_rule={"kind": "deduction", "max": 5,
              "items": [{"code": "a", "per": 1}], "source": "每缺一次扣1分"})  # fmt: skip
    ind = services.confirm_proposed_rule(actor=organizer, indicator=ind)
    assert ind.rule_kind == "deduction" and ind.proposed_rule == {}
    assert ind.rule_params == {"max": 5, "items": [{"code": "a", "per": 1}]}
    with pytest.raises(ValidationError):
        services.confirm_proposed_rule(actor=organizer, indicator=ind)


# ---- publication, immutability, drafts -----------------------------------------------------


def test_publish_refuses_blocking_errors(organizer, version):
    add(organizer, version, "A", points=100)  # a leaf without rule or criteria
    with pytest.raises(ValidationError) as exc:
        services.publish(actor=organizer, version=version)
    assert any("计分规则" in m for m in exc.value.messages)
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT


def test_publish_freezes_the_version(organizer, tree):
    version = valid_version(organizer, tree["root"])
    services.publish(actor=organizer, version=version)
    version.refresh_from_db()
    assert version.is_published and version.published_by == organizer
    assert len(version.fingerprint) == 64 and version.fingerprint == selectors.fingerprint(version)
    leaf = version.indicators.get(code="D1.1")
    for call in (
        lambda: services.update_indicator(actor=organizer, indicator=leaf, name="x"),
        lambda: services.add_indicator(actor=organizer, version=version, code="X", name="x"),
        lambda: services.delete_indicator(actor=organizer, indicator=leaf),
        lambda: services.reorder(actor=organizer, indicator=leaf, direction="up"),
        lambda: services.move_indicator(actor=organizer, indicator=leaf, new_parent=None),
        lambda: services.set_weights(actor=organizer, version=version, parent=None, weights={}),
        lambda: services.publish(actor=organizer, version=version),
    ):
        with pytest.raises(PublishedVersionError) as exc:
            call()
        assert "请基于它新建草稿" in str(exc.value)
    # The model refuses too, whoever calls it.
    leaf.name = "x"
    with pytest.raises(PublishedVersionError):
        leaf.save()
    with pytest.raises(PublishedVersionError):
        leaf.delete()
    assert AuditEntry.objects.filter(action=Action.SCHEME_PUBLISH).count() == 1


def test_new_draft_copies_the_tree_from_a_published_version(organizer, tree):
    version = valid_version(organizer, tree["root"])
    leaf = version.indicators.get(code="D1.1")
    services.update_indicator(
        actor=organizer, indicator=leaf, evidence=[{"what": "会议记录", "count": 1}],
        veto={"effect": "zero"},
    )  # fmt: skip
    services.publish(actor=organizer, version=version)
    draft = services.new_draft(actor=organizer, from_version=version, label="2025 修订")
    assert (draft.number, draft.based_on, draft.status) == (2, version, VersionStatus.DRAFT)
    assert draft.indicators.count() == version.indicators.count() == 16
    assert selectors.canonical(draft)["indicators"] == selectors.canonical(version)["indicators"]
    copy = draft.indicators.get(code="D1.1")
    assert copy.parent.code == "D1" and copy.parent.version == draft
    assert copy.evidence == [{"what": "会议记录", "count": 1, "optional": False}]
    services.update_indicator(actor=organizer, indicator=copy, name="改了")
    assert version.indicators.get(code="D1.1").name != "改了"
    # A draft can also start from a draft.
    third = services.new_draft(actor=organizer, from_version=draft)
    assert third.number == 3 and third.indicators.get(code="D1.1").name == "改了"


def test_engine_nodes_and_tree(organizer, tree):
    version = valid_version(organizer, tree["root"])
    nodes = services.to_engine_nodes(version)
    assert nodes[0] == {"code": "D1", "name": "政治建设", "points": 15.0, "dimension": "political"}
    leaf = next(n for n in nodes if n["code"] == "D1.1")
    assert leaf["parent"] == "D1" and leaf["rule"] == {"kind": "rating", "max": 15}
    engine_tree = services.to_engine_tree(version)
    assert engine_tree.weighting == "points" and len(engine_tree.nodes) == 16


# ---- version settings ----------------------------------------------------------------------


def test_update_version_settings_saves_audits_and_reaches_the_engine(organizer, version):
    services.update_version_settings(
        actor=organizer,
        version=version,
        label=" 2025 修订 ",
        total_points="120",
        grades=["优秀", "称职", "基本称职", "不称职"],
        grade_thresholds=["108", 96, Decimal("72.5")],
        rater_weights={"party_committee": Decimal("0.6"), "members": "0.3", "masses": 0.1},
        ballot_grades=[
            {"label": "满意", "coefficient": "100"},
            {"label": "基本满意", "coefficient": 70},
            {"label": "不满意", "coefficient": 0},
        ],
    )
    version.refresh_from_db()
    assert version.label == "2025 修订" and version.total_points == 120
    o = version.options
    assert o["grades"] == ["优秀", "称职", "基本称职", "不称职"]
    assert o["grade_thresholds"] == [108, 96, 72.5]
    assert o["rater_weights"] == {"party_committee": 0.6, "members": 0.3, "masses": 0.1}
    assert o["ballot_grades"][1] == {"label": "基本满意", "coefficient": 70}
    entry = AuditEntry.objects.get(action=Action.SCHEME_SETTINGS)
    assert entry.changes["总分"] == ["100", "120"]
    assert entry.changes["等次与分数线"] == [
        "好≥90、较好≥80、一般≥60、差",
        "优秀≥108、称职≥96、基本称职≥72.5、不称职",
    ]
    assert entry.changes["评价主体权重"][1] == "机关党委 60%、党员 30%、群众 10%"
    assert entry.changes["民主测评等次"][0] == "好=100、较好=80、一般=60、差=40"
    from kaoping.indicators.engine_bridge import engine_package

    package = engine_package(version)[0]
    assert package["settings"] == {
        "scale": 120.0,
        "grades": ["优秀", "称职", "基本称职", "不称职"],
        "grade_thresholds": [108.0, 96.0, 72.5],
    }
    assert package["rater_weights"] == {"party_committee": 0.6, "members": 0.3, "masses": 0.1}
    assert package["ballot"]["grades"][0] == {"label": "满意", "coefficient": 100}
    # Saving the same values again logs nothing; an empty ballot scale means the default.
    services.update_version_settings(actor=organizer, version=version, total_points=120)
    assert AuditEntry.objects.filter(action=Action.SCHEME_SETTINGS).count() == 1
    services.update_version_settings(actor=organizer, version=version, ballot_grades=[])
    version.refresh_from_db()
    assert "ballot_grades" not in version.options
    assert selectors.version_settings(version).ballot_default
    from kaoping.engine.model import DEFAULT_GRADE_COEFFICIENTS, DEFAULT_GRADE_LABELS

    assert [
        {"label": a, "coefficient": b}
        for a, b in zip(DEFAULT_GRADE_LABELS, DEFAULT_GRADE_COEFFICIENTS, strict=True)
    ] == services.DEFAULT_BALLOT_GRADES  # the default shown is the engine's


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"label": "长" * 101}, "label", "版本名称最多 100 字"),
        ({"total_points": 0}, "total_points", "总分应大于 0"),
        ({"total_points": "一百"}, "total_points", "总分应为数字"),
        ({"total_points": 50}, "grade_thresholds", "“好”的分数线应在 0 至 50 之间"),
        ({"grades": ["合格"], "grade_thresholds": []}, "grades", "至少设置两个等次"),
        ({"grades": ["好", "好"], "grade_thresholds": [60]}, "grades", "等次名称不能重复"),
        ({"grades": ["好", "差"], "grade_thresholds": []}, "grade_thresholds", "每个等次都要有分数线"),
        ({"grade_thresholds": [90, "", 60]}, "grade_thresholds", "请填写“较好”的分数线"),
        ({"grade_thresholds": [80, 90, 60]}, "grade_thresholds", "“好”应高于“较好”"),
        ({"rater_weights": {"members": 0.5, "masses": 0.4}}, "rater_weights", "合计 90.00%"),
        ({"rater_weights": {}}, "rater_weights", "请至少为一个评价主体设置权重"),
        ({"rater_weights": {"boss": 1}}, "rater_weights", "未知的评价主体“boss”"),
        ({"rater_weights": {"members": 1.5}}, "rater_weights", "应在 0 至 1 之间"),
        ({"ballot_grades": [{"label": "好", "coefficient": 1}]}, "ballot_grades", "至少要有两个"),
        (
            {"ballot_grades": [{"label": "好", "coefficient": 60}, {"label": "差", "coefficient": 90}]},
            "ballot_grades",
            "系数从高到低",
        ),
        (
            {"ballot_grades": [{"label": "", "coefficient": 1}, {"label": "差", "coefficient": 0}]},
            "ballot_grades",
            "第 1 个等次未填写名称",
        ),
        (
            {"ballot_grades": [{"label": "好", "coefficient": "x"}, {"label": "差", "coefficient": 0}]},
            "ballot_grades",
            "“好”的系数应为数字",
        ),
    ],
)  # fmt: skip
def test_update_version_settings_refusals_in_chinese(organizer, version, fields, field, message):
    before = dict(version.options)
    with pytest.raises(ValidationError) as exc:
        services.update_version_settings(actor=organizer, version=version, **fields)
    assert message in exc.value.message_dict[field][0]
    version.refresh_from_db()
    assert version.options == before and version.total_points == 100


def test_update_version_settings_reports_every_section_and_keeps_veto_grades(organizer, version):
    with pytest.raises(ValidationError) as exc:
        services.update_version_settings(
            actor=organizer, version=version, total_points=-1, rater_weights={"members": 0.2}
        )
    assert set(exc.value.message_dict) == {"total_points", "rater_weights"}
    add(organizer, version, "V", rule_kind="veto", veto={"effect": "ceiling", "grade": "一般"})
    with pytest.raises(ValidationError) as exc:
        services.update_version_settings(
            actor=organizer, version=version, grades=["优秀", "合格", "不合格"],
            grade_thresholds=[90, 60],
        )  # fmt: skip
    assert "指标“V 指标V”一票否决后限定为“一般”" in exc.value.message_dict["grades"][0]
    with pytest.raises(TypeError):
        services.update_version_settings(actor=organizer, version=version, weighting="weights")


def test_update_version_settings_in_weights_version_measures_thresholds_on_100(organizer, tree):
    version = services.create_scheme(
        actor=organizer, owner=tree["root"], name="权重制", weighting="weights", total_points=10
    )
    services.update_version_settings(
        actor=organizer, version=version, grades=["好", "差"], grade_thresholds=[85]
    )
    assert selectors.version_settings(version).scale == 100
    with pytest.raises(ValidationError):
        services.update_version_settings(
            actor=organizer, version=version, grades=["好", "差"], grade_thresholds=[101]
        )


def test_update_version_settings_refused_on_published(organizer, tree):
    version = valid_version(organizer, tree["root"])
    services.publish(actor=organizer, version=version)
    with pytest.raises(PublishedVersionError) as exc:
        services.update_version_settings(actor=organizer, version=version, label="改名")
    assert "请基于它新建草稿" in str(exc.value)
    version.refresh_from_db()
    assert version.label == ""
    with pytest.raises(PublishedVersionError):
        services.set_weights(
            actor=organizer, version=version, parent=None, points={f"D{i}": 1 for i in range(8)}
        )
