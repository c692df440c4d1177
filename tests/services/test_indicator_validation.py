"""The validation report: structure, coverage and burden."""

from decimal import Decimal

import pytest

from kaoping.indicators.constants import REQUIRED_DIMENSIONS
from kaoping.indicators.diff import diff_versions
from kaoping.indicators.models import Indicator, Scheme, SchemeVersion
from kaoping.indicators.validation import validate

pytestmark = pytest.mark.django_db

DIMS = list(REQUIRED_DIMENSIONS)


def make_version(tree, *, target_kind="organization", weighting="points", number=1, scheme=None):
    scheme = scheme or Scheme.objects.create(
        name=f"测试体系{number}", owner=tree["root"], target_kind=target_kind
    )
    return SchemeVersion.objects.create(scheme=scheme, number=number, weighting=weighting)


def add(version, code, *, parent=None, points=None, weight=None, **fields):
    return Indicator.objects.create(
        version=version,
        parent=parent,
        code=code,
        name=fields.pop("name", f"指标{code}"),
        level=(parent.level + 1) if parent else 1,
        position=Indicator.objects.filter(version=version, parent=parent).count(),
        points=None if points is None else Decimal(str(points)),
        weight=None if weight is None else Decimal(str(weight)),
        **fields,
    )


def full_version(tree, **kw):
    """Eight dimensions × one leaf each, 100 points: a valid system."""
    version = make_version(tree, **kw)
    shares = [15, 15, 15, 10, 10, 10, 10, 15]
    for i, (dim, pts) in enumerate(zip(DIMS, shares, strict=True)):
        top = add(version, f"D{i}", points=pts, dimension=dim, name=dim.label)
        add(
            version,
            f"D{i}.1",
            parent=top,
            points=pts,
            rule_kind="rating",
            rule_params={"max": pts},
            criteria="根据实际成效评分",
        )
    return version


def test_valid_system_has_no_errors_and_full_coverage(tree):
    report = validate(full_version(tree))
    assert report.ok, [i.message for i in report.errors]
    assert all(row["present"] for row in report.coverage)
    assert abs(sum(row["share"] for row in report.coverage) - 1) < 1e-9
    political = next(r for r in report.coverage if r["dimension"] == "political")
    assert political["points"] == Decimal(15) and political["share"] == pytest.approx(0.15)


def test_points_that_do_not_add_up_are_blocking(tree):
    version = full_version(tree)
    leaf = Indicator.objects.get(version=version, code="D0.1")
    leaf.points = Decimal(12)
    leaf.save()
    report = validate(version)
    messages = [(i.code, i.message) for i in report.errors]
    assert ("points_sum", "“政治建设”的下级指标分值合计 12，与其分值 15 不一致") in messages


def test_level_one_total_must_match_the_version_total(tree):
    version = full_version(tree)
    Indicator.objects.filter(version=version, code__in=["D0", "D0.1"]).update(points=Decimal(5))
    report = validate(version)
    assert any("一级指标分值合计 90，与总分 100 不一致" in i.message for i in report.errors)


def test_bonus_outside_the_base_does_not_break_the_sum(tree):
    version = full_version(tree)
    add(
        version,
        "B",
        points=5,
        rule_kind="bonus",
        rule_params={"items": [{"code": "award", "per": 1}], "cap": 5},
        criteria="获市级以上表彰每次加1分，最多加5分",
    )
    assert validate(version).ok


def test_leaf_without_rule_or_criteria_and_unconfirmed_proposal(tree):
    version = full_version(tree)
    Indicator.objects.filter(version=version, code="D1.1").update(rule_kind="", criteria="")
    Indicator.objects.filter(version=version, code="D2.1").update(
        rule_kind="", proposed_rule={"kind": "deduction"}
    )
    codes = {(i.indicator.code if i.indicator else None, i.code) for i in validate(version).errors}
    assert {("D1.1", "no_rule"), ("D1.1", "no_criteria"), ("D2.1", "proposed_rule")} <= codes


def test_veto_needs_its_effect(tree):
    version = full_version(tree)
    add(version, "V", rule_kind="veto", criteria="发生严重违纪违法问题的，实行一票否决")
    report = validate(version)
    assert any(i.code == "veto" for i in report.errors)
    Indicator.objects.filter(code="V").update(veto={"effect": "ceiling"})
    assert any("未指定等次" in i.message for i in validate(version).errors)
    Indicator.objects.filter(code="V").update(veto={"effect": "ceiling", "grade": "一般"})
    assert validate(version).ok


def test_missing_dimension_blocks_an_organization_system_but_warns_for_cadres(tree):
    version = full_version(tree)
    Indicator.objects.filter(version=version, code__in=["D6", "D6.1"]).delete()
    Indicator.objects.filter(version=version, code="D0").update(points=Decimal(25))
    Indicator.objects.filter(version=version, code="D0.1").update(points=Decimal(25))
    report = validate(version)
    assert [i.message for i in report.errors] == [
        "未覆盖以下维度（结构体系要求全覆盖）：反腐败斗争"
    ]
    version.scheme.target_kind = "cadre"
    version.scheme.save()
    report = validate(version)
    assert report.ok and any(i.code == "coverage" for i in report.warnings)


def test_weights_mode_requires_sibling_weights_to_sum_to_one(tree):
    version = make_version(tree, weighting="weights")
    a = add(version, "A", weight=0.6, dimension="political")
    add(version, "B", weight=0.3, dimension="ideological")
    add(version, "A.1", parent=a, weight=1, rule_kind="rating", rule_params={"max": 100},
        criteria="x")  # fmt: skip
    report = validate(version)
    assert any("一级指标权重合计 90%，应为 100%" in i.message for i in report.errors)


def test_engine_rejects_bad_rule_parameters_and_names_the_indicator(tree):
    version = full_version(tree)
    Indicator.objects.filter(version=version, code="D3.1").update(
        rule_kind="linear", rule_params={"floor": "abc"}
    )
    errors = validate(version).errors
    assert len(errors) == 1 and errors[0].indicator.code == "D3.1"
    assert errors[0].code == "engine" and "floor" in errors[0].message


def test_burden_flags_held_data_duplicates_and_process_traces(tree):
    version = full_version(tree)
    Indicator.objects.filter(version=version, code="D0.1").update(
        evidence=[{"what": "党委会会议记录", "count": 2, "optional": False}],
        methods=["documents"],
        criteria="查看会议记录，每少一次扣1分",
    )
    Indicator.objects.filter(version=version, code="D1.1").update(
        evidence=[{"what": "党委会 会议记录", "count": 1}, {"what": "照片", "optional": True}],
        data_source="quantitative",
    )
    report = validate(version)
    codes = {(i.indicator.code, i.code) for i in report.warnings if i.indicator}
    assert ("D0.1", "process_trace") in codes
    assert ("D1.1", "held_evidence") in codes
    assert ("D0.1", "duplicate_evidence") in codes
    assert report.burden["required_items"] == 3 and report.burden["optional_items"] == 1
    assert report.burden["estimated_minutes"] == 3 * 30 + 10
    assert report.ok  # burden findings are warnings


def test_outcome_based_criteria_are_not_flagged_as_traces(tree):
    version = full_version(tree)
    Indicator.objects.filter(version=version, code="D0.1").update(
        evidence=[{"what": "整改台账"}], methods=["documents"], criteria="问题整改完成率达到 100%"
    )
    assert not any(i.code == "process_trace" for i in validate(version).warnings)


def test_diff_lists_added_removed_and_reweighted(tree):
    old = full_version(tree)
    new = make_version(tree, scheme=old.scheme, number=2)
    for ind in old.indicators.order_by("level"):
        parent = Indicator.objects.get(version=new, code=ind.parent.code) if ind.parent else None
        add(new, ind.code, parent=parent, points=ind.points, dimension=ind.dimension,
            name=ind.name, rule_kind=ind.rule_kind, rule_params=ind.rule_params,
            criteria=ind.criteria)  # fmt: skip
    Indicator.objects.filter(version=new, code="D7.1").delete()
    Indicator.objects.filter(version=new, code="D0.1").update(points=Decimal(10))
    add(new, "N1", parent=Indicator.objects.get(version=new, code="D0"), points=5,
        rule_kind="rating", rule_params={"max": 5}, criteria="新增")  # fmt: skip
    result = diff_versions(old, new)
    assert [i.code for i in result.added] == ["N1"]
    assert [i.code for i in result.removed] == ["D7.1"]
    assert [c.code for c in result.reweighted] == ["D0.1"]
    assert result.reweighted[0].fields["分值"] == (Decimal(15), Decimal(10))
    assert not diff_versions(old, old).changed


def test_engine_package_carries_the_version_grades_and_thresholds(tree):
    from kaoping.engine.package import load_package
    from kaoping.indicators.engine_bridge import engine_package

    version = full_version(tree)
    version.options = {
        "grades": ["优秀", "称职", "基本称职", "不称职"],
        "grade_thresholds": [85, 70, 60],
    }
    version.save()
    package, _ = engine_package(version)
    loaded = load_package(package)
    assert loaded.settings.grades == ["优秀", "称职", "基本称职", "不称职"]
    assert loaded.settings.grade_thresholds == [85.0, 70.0, 60.0]
    assert loaded.settings.scale == 100.0
