"""``kaoping campaign list --json`` and ``kaoping campaign progress CAMPAIGN --json``."""

import json

import pytest
from django.core.management import CommandError, call_command

from kaoping.audit.actions import Action
from kaoping.audit.models import AuditEntry
from kaoping.collection.models import SelfAssessment

from .campaign_helpers import reviewer_user, running_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(organizer, tree):
    return running_campaign(organizer, tree, reviewer_user("rev", tree["root"], "评审员甲"))


def test_list_json(campaign, capsys):
    call_command("campaign", "list", "--json")
    data = json.loads(capsys.readouterr().out)
    assert data == [
        {
            "id": campaign.pk,
            "name": "2026年度党支部工作考核",
            "status": "self_assessment",
            "status_label": "自评",
            "campaign_type": "annual",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "owner": "机关党委",
            "scheme_version": str(campaign.scheme_version),
            "targets": 4,
        }
    ]
    call_command("campaign", "list")
    assert "2026年度党支部工作考核" in capsys.readouterr().out


def test_progress_json_by_id_or_name(campaign, capsys):
    SelfAssessment.objects.create(target=campaign.targets.get(code="ZB11"), status="submitted")
    call_command("campaign", "progress", str(campaign.pk), "--json")
    data = json.loads(capsys.readouterr().out)
    stages = {s["stage"]: s for s in data["stages"]}
    assert stages["self_assessment"] | {"deadline": None} == {
        "stage": "self_assessment", "label": "自评", "enabled": True, "state": "current",
        "deadline": None, "done": 1, "total": 4, "percent": 25, "overdue": False,
    }  # fmt: skip
    assert stages["review"]["done"] == 0 and stages["review"]["total"] == 1
    assert stages["published"]["state"] == "done" and stages["draft"]["total"] is None
    assert data["summary"]["targets"] == 4 and data["summary"]["review_cells_total"] == 4 * 7
    assert [t["code"] for t in data["targets"]] == ["ZB11", "ZB12", "ZB21", "ZB22"]
    call_command("campaign", "progress", "2026年度党支部工作考核")
    out = capsys.readouterr().out
    assert "自评" in out and "1/4（25%）" in out
    with pytest.raises(CommandError, match="找不到"):
        call_command("campaign", "progress", "没有这个活动")


def test_remind(campaign, capsys):
    call_command("campaign", "remind", str(campaign.pk))
    assert "已发送 0 条提醒" in capsys.readouterr().out  # no 单位填报员 accounts
    entry = AuditEntry.objects.get(action=Action.CAMPAIGN_REMIND)
    assert entry.actor_name == "命令行"
