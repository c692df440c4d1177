"""Computing and storing results: every input kind counts, the fingerprint makes a recompute of
the same inputs a no-op, a change is stored as a new set with what changed and why."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from kaoping.audit.models import AuditEntry
from kaoping.campaigns.models import Stage
from kaoping.collection.models import ReviewScore
from kaoping.results import services
from kaoping.results.inputs import gather
from kaoping.results.models import InputCorrection, ResultSet, ResultStatus, TargetResult

from ..results_fixtures import scored_campaign


@pytest.fixture
def setup(tree, organizer):
    return scored_campaign(tree, organizer)


def _by_code(rs):
    return {r.target.code: r for r in rs.results.select_related("target")}


def test_every_input_kind_reaches_the_engine(setup):
    g = gather(setup.campaign)
    assert g.targets.codes == sorted(t.code for t in setup.targets.values())
    assert (
        g.summary["scores"]["rows"] == 3 + 2 + 2
    )  # a1 reviewer (rating, grade, rating) + a2/b1 self
    assert g.summary["values"]["rows"] == 3
    assert g.summary["occurrences"]["rows"] == 2  # a1's missed meeting, b1's award
    assert len(g.fingerprint) == 64


def test_compute_stores_scores_grades_ranks_and_explanations(setup, organizer):
    rs, created = services.compute(actor=organizer, campaign=setup.campaign)
    assert created and rs.number == 1 and rs.status == ResultStatus.DRAFT and rs.is_current
    results = _by_code(rs)
    assert set(results) == {t.code for t in setup.targets.values()}
    a1 = results[setup.targets["a1"].code]
    # the reviewer's 8 (not the self-assessed 10) counts: 8 of 10 points
    assert a1.indicators["1.1"] == pytest.approx(8)
    assert a1.indicators["1.3"] == pytest.approx(9)  # one 支委会 missed: −1 of 10
    assert a1.indicators["2.1"] == pytest.approx(20)  # 95% reaches the target
    b1 = results[setup.targets["b1"].code]
    assert b1.indicators["2.1"] == pytest.approx(0)  # 60% is the floor
    assert b1.indicators["2.2"] == pytest.approx(2)  # the daily-record award
    a2 = results[setup.targets["a2"].code]
    assert a2.indicators["1.1"] == pytest.approx(9)  # self-assessment, no reviewer
    for r in results.values():
        assert r.total == pytest.approx(sum(r.dimensions.values()))
        assert r.explanation["contribution"] == pytest.approx(r.total)
        assert r.rank is not None and r.group_rank is not None
    ranks = sorted(results.values(), key=lambda r: -r.total)
    assert [r.rank for r in ranks] == [1, 2, 3]
    assert (
        rs.summary["targets"] == 3
        and sum(rs.summary["grades"].values()) == 3 - rs.summary["ungraded"]
    )
    assert AuditEntry.objects.filter(action="result.compute", object_id=str(rs.pk)).exists()


def test_same_inputs_same_stored_result(setup, organizer):
    first, created = services.compute(actor=organizer, campaign=setup.campaign)
    again, created_again = services.compute(actor=organizer, campaign=setup.campaign)
    assert created and not created_again and again.pk == first.pk
    assert ResultSet.objects.filter(campaign=setup.campaign).count() == 1


def test_recompute_after_a_change_says_what_changed_and_why(setup, organizer):
    first, _ = services.compute(actor=organizer, campaign=setup.campaign)
    a1 = setup.targets["a1"]
    ReviewScore.objects.filter(target=a1, indicator=setup.indicators["1.1"]).update(
        score=Decimal(10)
    )
    second, created = services.compute(actor=organizer, campaign=setup.campaign, reason="复核")
    assert created and second.number == 2 and second.fingerprint != first.fingerprint
    first.refresh_from_db()
    assert first.status == ResultStatus.SUPERSEDED and not first.is_current
    ch = second.changes
    assert ch["previous"] == 1 and ch["changed"] >= 1
    assert any("评审评分" in w for w in ch["why"])
    row = next(t for t in ch["targets"] if t["target"] == a1.code)
    assert row["total"][1] - row["total"][0] == pytest.approx(2)
    assert [i["code"] for i in row["indicators"]] == ["1.1"]
    assert row["indicators"][0]["before"] == pytest.approx(8)
    assert row["indicators"][0]["after"] == pytest.approx(10)


def test_a_correction_replaces_the_gathered_input(setup, organizer):
    services.compute(actor=organizer, campaign=setup.campaign)
    b1 = setup.targets["b1"]
    InputCorrection.objects.create(
        campaign=setup.campaign, target=b1, indicator_code="2.1", value=Decimal(95),
        reason="统计口径有误", created_by=organizer,
    )  # fmt: skip
    rs, created = services.compute(actor=organizer, campaign=setup.campaign)
    assert created
    assert _by_code(rs)[b1.code].indicators["2.1"] == pytest.approx(20)
    assert rs.changes["corrections"][0]["indicator"] == "2.1"


def test_only_in_consolidation_or_publication_and_only_by_those_who_run_it(
    setup, organizer, sub_organizer, outsider
):
    with pytest.raises(PermissionDenied):
        services.compute(actor=outsider, campaign=setup.campaign)
    with pytest.raises(PermissionDenied):
        services.compute(actor=sub_organizer, campaign=setup.campaign)
    setup.campaign.status = Stage.REVIEW
    setup.campaign.save()
    with pytest.raises(ValidationError, match="汇总"):
        services.compute(actor=organizer, campaign=setup.campaign)
    assert not TargetResult.objects.exists()


def test_submit_approve_by_a_second_account(setup, organizer):
    approver = setup.extra["approver"]
    services.compute(actor=organizer, campaign=setup.campaign)
    with pytest.raises(ValidationError):
        services.approve(actor=approver, campaign=setup.campaign)  # not submitted yet
    services.submit(actor=organizer, campaign=setup.campaign)
    with pytest.raises(PermissionDenied):
        services.approve(actor=organizer, campaign=setup.campaign)  # no approval rights
    with pytest.raises(ValidationError, match="退回理由"):
        services.return_results(actor=approver, campaign=setup.campaign, comment=" ")
    rs = services.approve(actor=approver, campaign=setup.campaign, comment="同意")
    assert rs.status == ResultStatus.APPROVED and rs.approved_by == approver


def test_submitter_cannot_approve_own_submission(setup, organizer):
    approver = setup.extra["approver"]
    from kaoping.accounts.models import Role

    from ..factories import grant

    grant(approver, Role.ASSESSMENT_ADMIN, setup.campaign.owner)
    services.compute(actor=approver, campaign=setup.campaign)
    services.submit(actor=approver, campaign=setup.campaign)
    with pytest.raises(ValidationError, match="另一位"):
        services.approve(actor=approver, campaign=setup.campaign)


def test_compute_command(setup, capsys):
    call_command("compute", str(setup.campaign.pk), "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["created"] is True and out["targets"] == 3
    call_command("compute", setup.campaign.name)
    assert "输入未变化" in capsys.readouterr().out


def test_compute_job_runs_and_reports(setup, organizer, django_capture_on_commit_callbacks):
    from kaoping.jobs.services import enqueue

    with django_capture_on_commit_callbacks(execute=True):
        job = enqueue("results.compute", actor=organizer, params={"campaign": setup.campaign.pk})
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    assert job.result["created"] is True and job.progress_total == 3
