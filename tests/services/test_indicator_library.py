import json

import pytest

from kaoping.audit.actions import Action
from kaoping.audit.models import AuditEntry
from kaoping.engine.package import load_package
from kaoping.indicators.constants import REQUIRED_DIMENSIONS
from kaoping.indicators.engine_bridge import engine_package
from kaoping.indicators.library import (
    KEYS,
    LibraryError,
    entries,
    install_library_scheme,
    load_entry,
)
from kaoping.indicators.models import Indicator, VersionStatus
from kaoping.indicators.scheme_doc import parse_document
from kaoping.indicators.validation import validate

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("key", KEYS)
def test_every_entry_parses_and_the_engine_loads_it(tree, key):
    plan, errors = parse_document(load_entry(key))
    assert errors == [] and plan is not None
    version = install_library_scheme(actor=None, owner=tree["root"], key=key)
    package, order = engine_package(version)
    pkg = load_package(json.loads(json.dumps(package)))
    assert len(pkg.tree.nodes) == version.indicators.count() == len(order)


@pytest.mark.parametrize("key", KEYS)
def test_every_entry_passes_validation_without_blocking_errors(tree, key):
    version = install_library_scheme(actor=None, owner=tree["root"], key=key)
    report = validate(version)
    assert report.errors == [], [(i.where, i.message) for i in report.errors]
    codes = {w.code for w in report.warnings}
    assert not codes & {"held_evidence", "duplicate_evidence", "process_trace", "no_dimension"}


def test_branch_annual_is_a_complete_hundred_point_system(tree):
    version = install_library_scheme(actor=None, owner=tree["root"], key="branch_annual")
    inds = list(version.indicators.all())
    parents = {i.parent_id for i in inds}
    leaves = [i for i in inds if i.pk not in parents]
    assert 30 <= len(leaves) <= 40
    assert {i.dimension for i in inds if i.level == 1} >= set(REQUIRED_DIMENSIONS)
    kinds = {i.rule_kind for i in leaves}
    assert {"deduction", "bonus", "veto", "ballot", "grade", "rating", "linear"} <= kinds
    top = [i for i in inds if i.level == 1 and i.rule_kind not in ("bonus", "veto")]
    assert sum(i.points for i in top) == 100 == version.total_points
    bonus = next(i for i in leaves if i.rule_kind == "bonus")
    assert bonus.rule_params["cap"] == 5
    veto = next(i for i in leaves if i.rule_kind == "veto")
    assert veto.veto["effect"] in ("zero", "ceiling") and "违纪违法" in veto.criteria
    ballot = next(i for i in leaves if i.rule_kind == "ballot")
    assert ballot.data_source == "ballot" and "appraisal" in ballot.methods
    assert sum(ballot.rater_weights.values()) == pytest.approx(1)
    assert all(leaf.criteria for leaf in leaves)
    assert version.status == VersionStatus.DRAFT and version.number == 1


def test_secretary_debriefing_has_rater_groups_and_a_graded_ballot(tree):
    version = install_library_scheme(actor=None, owner=tree["root"], key="secretary_debriefing")
    assert version.scheme.target_kind == "cadre"
    ballot = version.indicators.get(rule_kind="ballot")
    assert set(ballot.rater_weights) == {"party_committee", "leadership", "members", "masses"}
    assert ballot.rule_params["measure"] == "satisfaction_rate"
    assert "好、较好、一般、差" in ballot.criteria
    names = set(version.indicators.filter(level=1).values_list("name", flat=True))
    assert {"履行第一责任人职责", "推动重点任务", "问题整改", "基础工作", "群众满意度"} <= names


def test_install_is_audited_and_refuses_a_taken_name_and_unknown_keys(tree, organizer):
    install_library_scheme(actor=organizer, owner=tree["root"], key="branch_annual")
    entry = AuditEntry.objects.get(action=Action.IMPORT)
    assert entry.actor_id == organizer.pk and "指标库" in entry.data["来源"]
    before = Indicator.objects.count()
    with pytest.raises(LibraryError, match="已有名为"):
        install_library_scheme(actor=organizer, owner=tree["root"], key="branch_annual")
    assert Indicator.objects.count() == before
    with pytest.raises(LibraryError):
        install_library_scheme(actor=organizer, owner=tree["root"], key="nope")
    other = install_library_scheme(
        actor=organizer, owner=tree["a"], key="branch_annual", name="第一总支支部考核"
    )
    assert other.scheme.owner == tree["a"] and other.scheme.name == "第一总支支部考核"


def test_entries_describe_the_library():
    listed = {e.key: e for e in entries()}
    assert set(listed) == set(KEYS)
    assert listed["branch_annual"].leaves >= 30
    assert listed["secretary_debriefing"].target_label == "党组织书记"
