"""``kaoping campaign archive CAMPAIGN FILE.json``, then ``kaoping evaluate FILE.json --out …``
re-scores the archive to the stored numbers."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from kaoping.campaigns import services as campaign_services
from kaoping.campaigns.models import Stage
from kaoping.cli import main as kaoping_main
from kaoping.results import services

from .results_fixtures import scored_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(tree, organizer):
    return scored_campaign(tree, organizer)


def test_archive_then_evaluate(setup, organizer, tmp_path, capsys):
    campaign = setup.campaign
    services.compute(actor=organizer, campaign=campaign)
    services.submit(actor=organizer, campaign=campaign)
    services.approve(actor=setup.extra["approver"], campaign=campaign)
    for stage in (Stage.PUBLICATION, Stage.ARCHIVED):
        campaign_services.transition(
            actor=organizer, campaign=campaign, to_stage=stage, confirm=True
        )
    path = tmp_path / "归档.json"
    call_command("campaign", "archive", campaign.name, str(path))
    out = capsys.readouterr().out
    assert "已导出归档包" in out and "3 个考核对象" in out and "kaoping evaluate" in out

    result = tmp_path / "result.json"
    assert kaoping_main(["kaoping", "evaluate", str(path), "--out", str(result)]) == 0
    rescored = json.loads(result.read_text(encoding="utf-8"))["results"]
    archived = json.loads(path.read_text(encoding="utf-8"))["archive"]["results"]
    stored = {
        r.target.code: r for r in services.current_set(campaign).results.select_related("target")
    }
    assert {r["target"] for r in rescored} == {r["target"] for r in archived} == set(stored)
    for again, kept in zip(rescored, archived, strict=True):
        tr = stored[again["target"]]
        assert again["total"] == pytest.approx(tr.total, abs=1e-9) and kept["total"] == tr.total
        assert (again["grade"] or "") == tr.grade and again["rank"] == tr.rank


def test_refused_before_the_campaign_is_archived(setup, tmp_path):
    path = tmp_path / "a.json"
    with pytest.raises(CommandError, match="只有进入“归档”阶段的考核活动才能导出归档包"):
        call_command("campaign", "archive", str(setup.campaign.pk), str(path))
    assert not path.exists()


def test_unwritable_file(setup, organizer, tmp_path):
    campaign = setup.campaign
    services.compute(actor=organizer, campaign=campaign)
    services.submit(actor=organizer, campaign=campaign)
    services.approve(actor=setup.extra["approver"], campaign=campaign)
    for stage in (Stage.PUBLICATION, Stage.ARCHIVED):
        campaign_services.transition(
            actor=organizer, campaign=campaign, to_stage=stage, confirm=True
        )
    with pytest.raises(CommandError, match="文件夹不存在"):
        call_command("campaign", "archive", str(campaign.pk), str(tmp_path / "no" / "a.json"))
