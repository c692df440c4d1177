"""The archive of a finished campaign: every input and result in the engine's package format,
re-scored by ``kaoping evaluate`` (no database) to the stored numbers; an evidence manifest with
hashes; refused unless the campaign is archived with locked results and its inputs unchanged."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kaoping.accounts.models import Role
from kaoping.audit.models import AuditEntry
from kaoping.ballots.models import AppraisalStatus, DebriefingReport
from kaoping.campaigns import services as campaign_services
from kaoping.campaigns.models import Stage
from kaoping.cli import main as kaoping_main
from kaoping.collection.models import (
    DailyRecord,
    Evidence,
    EvidenceFile,
    QuantValue,
    SelfAssessmentItem,
)
from kaoping.engine.package import load_package
from kaoping.results import services
from kaoping.results.archive import build_archive, write_archive
from kaoping.results.models import Appeal, ResultStatus

from ..ballot_fixtures import add_ballots, ballot_campaign, make_appraisal
from ..factories import UserFactory, grant
from ..results_fixtures import scored_campaign


def finish(campaign, organizer, approver):
    """Compute, submit, approve, publish and archive (results locked)."""
    services.compute(actor=organizer, campaign=campaign)
    services.submit(actor=organizer, campaign=campaign)
    services.approve(actor=approver, campaign=campaign, comment="同意")
    for stage in (Stage.PUBLICATION, Stage.ARCHIVED):
        campaign_services.transition(
            actor=organizer, campaign=campaign, to_stage=stage, confirm=True
        )
    campaign.refresh_from_db()
    assert campaign.status == Stage.ARCHIVED
    assert services.current_set(campaign).status == ResultStatus.FINAL


def evidence(org, digest, name):
    stored = EvidenceFile.objects.create(
        sha256=digest, file=f"evidence/{digest[:8]}.pdf", size=1234, content_type="application/pdf"
    )
    return Evidence.objects.create(organization=org, file=stored, name=name)


def rescore(path, tmp_path):
    """``kaoping evaluate FILE --out RESULT`` (the real command line), the result by target."""
    out = tmp_path / "rescored.json"
    assert kaoping_main(["kaoping", "evaluate", str(path), "--out", str(out)]) == 0
    return {r["target"]: r for r in json.loads(out.read_text(encoding="utf-8"))["results"]}


def assert_same_numbers(campaign, rescored, archived):
    stored = list(services.current_set(campaign).results.select_related("target"))
    assert len(stored) == len(rescored) == len(archived) > 0
    by_code = {r["target"]: r for r in archived}
    for tr in stored:
        again, kept = rescored[tr.target.code], by_code[tr.target.code]
        assert again["total"] == pytest.approx(tr.total, abs=1e-9)
        assert (again["grade"] or "") == tr.grade
        assert again["rank"] == tr.rank and again["group_rank"] == tr.group_rank
        assert kept["total"] == tr.total and kept["grade"] == (tr.grade or None)
        assert kept["rank"] == tr.rank
        for code, value in tr.indicators.items():
            assert again["indicators"][code] == pytest.approx(value, abs=1e-9)


@pytest.fixture
def setup(tree, organizer):
    return scored_campaign(tree, organizer)


def test_archive_rescores_to_the_stored_numbers(setup, organizer, tree, tmp_path):
    campaign = setup.campaign
    # evidence on a self-assessment item, on an appeal, on a daily record and a 述职 report
    item = SelfAssessmentItem.objects.get(
        assessment__target=setup.targets["a2"], indicator=setup.indicators["1.1"]
    )
    item.evidence.add(evidence(tree["a2"], "a" * 64, "学习记录.pdf"))
    DailyRecord.objects.filter(organization=tree["b1"]).update(
        evidence=evidence(tree["b1"], "b" * 64, "表彰文件.pdf")
    )
    DebriefingReport.objects.create(
        target=setup.targets["a1"], report=evidence(tree["a1"], "c" * 64, "述职报告.pdf")
    )
    finish(campaign, organizer, setup.extra["approver"])
    appeal = Appeal.objects.create(
        campaign=campaign, target=setup.targets["a1"], reason="评分偏低", indicator_code="1.1"
    )
    appeal.evidence.add(Evidence.objects.get(file__sha256="c" * 64))
    from kaoping.rectification.models import RectificationTask, RectificationUpdate

    task = RectificationTask.objects.create(
        campaign=campaign, target=setup.targets["b1"], organization=tree["b1"],
        problem="党员发展计划完成率偏低", source_kind="weak", source_ref="2.1",
        deadline=dt.date(2026, 6, 30),
    )  # fmt: skip
    task.evidence.add(evidence(tree["b1"], "d" * 64, "整改报告.pdf"))
    update = RectificationUpdate.objects.create(
        task=task, kind="progress", date=dt.date(2026, 3, 1)
    )
    update.evidence.add(Evidence.objects.get(file__sha256="d" * 64))

    path = tmp_path / "archive.json"
    done = write_archive(actor=organizer, campaign=campaign, path=path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format_version"] == "kaoping.package/1"
    archive = data["archive"]
    rs = services.current_set(campaign)
    assert archive["format"] == "kaoping.archive/1"
    assert archive["fingerprint"] == rs.fingerprint == archive["inputs_fingerprint"]
    assert archive["engine_version"] == rs.engine_version and archive["inputs_changed"] == []
    assert archive["result_set"]["number"] == rs.number
    assert archive["result_set"]["approved_by"] == "党委书记王"
    assert [r["target"] for r in archive["results"]] == sorted(
        t.code for t in setup.targets.values()
    )
    assert all("total" in r and "explanation" in r for r in archive["results"])
    # the inputs are those compute used: 7 ratings, 3 values, 2 occurrence cells
    assert len(data["inputs"]["ratings"]) == 7 and len(data["inputs"]["values"]) == 3
    assert len(data["inputs"]["occurrences"]) == 2

    manifest = {e["sha256"]: e for e in archive["evidence"]}
    assert set(manifest) == {"a" * 64, "b" * 64, "c" * 64, "d" * 64}
    assert manifest["d" * 64]["uses"] == [
        {"kind": "rectification", "target": setup.targets["b1"].code, "task": task.pk}
    ]  # the task's and its progress report's use of the same file, once
    assert manifest["a" * 64]["uses"] == [
        {"kind": "self_assessment", "target": setup.targets["a2"].code, "indicator": "1.1"}
    ]
    assert {u["kind"] for u in manifest["c" * 64]["uses"]} == {"appeal", "debriefing"}
    assert manifest["b" * 64]["uses"][0]["kind"] == "daily_record"
    assert manifest["b" * 64]["size"] == 1234 and manifest["b" * 64]["name"] == "表彰文件.pdf"
    assert archive["appeals"][0]["reason"] == "评分偏低"

    assert_same_numbers(campaign, rescore(path, tmp_path), archive["results"])
    # the loader keeps the archive object and evaluation ignores it
    assert load_package(data).archive["fingerprint"] == rs.fingerprint

    entry = AuditEntry.objects.get(action="campaign.archive", object_id=str(campaign.pk))
    assert entry.data["sha256"] == done.sha256 and entry.data["targets"] == 3
    assert entry.data["evidence"] == 4


def test_a_correction_is_archived_and_rescores(setup, organizer, tmp_path):
    """An upheld appeal's correction changed an input: the archive holds the corrected input."""
    from kaoping.results.models import InputCorrection

    campaign = setup.campaign
    services.compute(actor=organizer, campaign=campaign)
    InputCorrection.objects.create(
        campaign=campaign, target=setup.targets["b1"], indicator_code="2.1", value=Decimal(95),
        reason="统计口径有误", created_by=organizer,
    )  # fmt: skip
    finish(campaign, organizer, setup.extra["approver"])
    path = tmp_path / "archive.json"
    write_archive(actor=organizer, campaign=campaign, path=path)
    archive = json.loads(path.read_text(encoding="utf-8"))["archive"]
    assert archive["corrections"][0]["value"] == 95.0
    rescored = rescore(path, tmp_path)
    assert rescored[setup.targets["b1"].code]["indicators"]["2.1"] == pytest.approx(20)
    assert_same_numbers(campaign, rescored, archive["results"])


def test_ballots_archive_and_rescore(organizer, tree, tmp_path):
    campaign = ballot_campaign(organizer, tree, stage=Stage.CONSOLIDATION)
    targets = list(campaign.targets.order_by("code"))
    members = make_appraisal(campaign, group="members", status=AppraisalStatus.CLOSED)
    masses = make_appraisal(campaign, group="masses", status=AppraisalStatus.CLOSED)
    add_ballots(members, targets, [0, 0, 1, [0, 1, 2, 3], 1, 0])
    add_ballots(masses, targets, [1, 2, [3, 0], 0, 0])
    approver = UserFactory(username="leader_ballots", full_name="党委书记李")
    grant(approver, Role.LEADER, tree["root"])
    finish(campaign, organizer, approver)
    path = tmp_path / "ballots.json"
    write_archive(actor=organizer, campaign=campaign, path=path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert {b["group"] for b in data["inputs"]["ballots"]} == {"members", "masses"}
    first = next(b for b in data["inputs"]["ballots"] if b["group"] == "members")
    assert sum(first["counts"].values()) == 6
    assert_same_numbers(campaign, rescore(path, tmp_path), data["archive"]["results"])


def test_only_archived_campaigns_with_locked_results(setup, organizer, tmp_path):
    campaign = setup.campaign
    with pytest.raises(ValidationError, match="归档"):
        build_archive(campaign=campaign)
    services.compute(actor=organizer, campaign=campaign)
    campaign.status = Stage.ARCHIVED
    campaign.save(update_fields=["status"])
    with pytest.raises(ValidationError, match="锁定后"):
        build_archive(campaign=campaign)
    assert not (tmp_path / "x.json").exists()
    assert not AuditEntry.objects.filter(action="campaign.archive").exists()


def test_inputs_changed_after_the_lock(setup, organizer, tmp_path):
    campaign = setup.campaign
    finish(campaign, organizer, setup.extra["approver"])
    QuantValue.objects.filter(target=setup.targets["b1"]).update(value=Decimal(90))
    path = tmp_path / "archive.json"
    with pytest.raises(ValidationError, match="量化数据"):
        write_archive(actor=organizer, campaign=campaign, path=path)
    assert not path.exists()
    done = write_archive(actor=organizer, campaign=campaign, path=path, allow_changed=True)
    assert done.inputs_changed == ["量化数据"]
    archive = json.loads(path.read_text(encoding="utf-8"))["archive"]
    assert archive["inputs_changed"] == ["量化数据"]
    assert archive["inputs_fingerprint"] != archive["fingerprint"]


def test_unknown_archive_format_is_refused(setup, organizer, tmp_path):
    from kaoping.engine.errors import PackageError

    finish(setup.campaign, organizer, setup.extra["approver"])
    data, _, _ = build_archive(campaign=setup.campaign)
    data["archive"]["format"] = "other/1"
    with pytest.raises(PackageError, match=r"\$\.archive\.format"):
        load_package(data)
