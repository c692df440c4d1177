"""An approved campaign for result use (结果运用), built on ``results_fixtures.scored_campaign``.

The indicator system is the collection one plus a veto leaf 1.4 (等次不高于“较好”). Grade
thresholds 84/80/60 and the inputs give:

* a2 财务处党支部: 84.43 (好) but its self-assessment reports the veto → 较好, flagged veto;
* a1 办公室党支部: 83 → 较好;
* b1 法规处党支部: 54 → 差.

Rules: 好 or 较好 → 评先评优; 差 or a veto → 问责; 差 → 整改; every result → 干部档案. The
secretaries of a1 and a2 are on the register (b1 has none); a1's secretary was the target of an
earlier 述职评议 (好, with the leader's comment) and a1 has a 2024 result; members' ballots: three
for a1 (好, 较好, 差), one for a2 (withheld below three).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from kaoping.ballots.models import Appraisal, AppraisalStatus, DebriefingReport
from kaoping.campaigns.models import Campaign, CampaignType, Stage, Target, TargetKind
from kaoping.collection.models import SelfAssessment, SelfAssessmentItem
from kaoping.indicators import services as ind_services
from kaoping.indicators.constants import DataSource
from kaoping.indicators.models import SchemeVersion, VersionStatus
from kaoping.organizations import services as org_services
from kaoping.results import services
from kaoping.results.models import ResultSet, ResultStatus, TargetResult

from .ballot_fixtures import GRADES, add_ballot
from .collection_fixtures import INDICATORS, CampaignSetup
from .factories import PersonFactory
from .results_fixtures import scored_campaign

RULES = [
    {"when": "grade", "value": "好", "then": "award_eligible"},
    {"when": "grade", "value": "较好", "then": "award_eligible"},
    {"when": "grade", "value": "差", "then": "accountability"},
    {"when": "grade", "value": "差", "then": "rectification"},
    {"when": "veto", "then": "accountability"},
    {"when": "any", "then": "cadre_file"},
]
VETO_NAME = "发生严重违纪违法问题"


def veto_version(owner, actor):
    version = ind_services.create_scheme(actor=actor, owner=owner, name="含否决项的党支部考核")
    made = {}
    for code, parent, fields in INDICATORS:
        made[code] = ind_services.add_indicator(
            actor=actor, version=version, parent=made.get(parent or ""), code=code, **fields
        )
    ind_services.add_indicator(
        actor=actor, version=version, parent=made["1"], code="1.4", name=VETO_NAME,
        rule_kind="veto", veto={"effect": "ceiling", "grade": "较好"},
        data_source=DataSource.SELF, criteria="发生即否决",
    )  # fmt: skip
    SchemeVersion.objects.filter(pk=version.pk).update(status=VersionStatus.PUBLISHED)
    version.refresh_from_db()
    return version


def _stored_result(campaign, rows, status=ResultStatus.FINAL):
    """A stored result set for another campaign (its own compute is tested elsewhere)."""
    rs = ResultSet.objects.create(
        campaign=campaign, number=1, status=status, fingerprint="0" * 64, engine_version="t",
        summary={"targets": len(rows)},
    )  # fmt: skip
    for target, total, grade, rank in rows:
        TargetResult.objects.create(
            result_set=rs, target=target, total=total, grade=grade, rank=rank, group_rank=rank
        )
    return rs


def use_campaign(tree, organizer, *, approve=True) -> CampaignSetup:
    setup = scored_campaign(tree, organizer, version=veto_version(tree["root"], organizer))
    campaign = setup.campaign
    campaign.result_rules = RULES
    campaign.engine_settings = {"grade_thresholds": [84, 80, 60]}
    campaign.save(update_fields=["result_rules", "engine_settings"])
    a2_self = SelfAssessment.objects.get(target=setup.targets["a2"])
    SelfAssessmentItem.objects.create(
        assessment=a2_self, indicator=setup.version.indicators.get(code="1.4"), score=Decimal(1)
    )
    # secretaries
    secretaries = {}
    for key, name in (("a1", "李书记"), ("a2", "王书记")):
        person = PersonFactory(name=name, organization=tree[key], is_leading_cadre=True,
                               position="办公室主任")  # fmt: skip
        org_services.appoint(actor=organizer, organization=tree[key], person=person,
                             title="secretary")  # fmt: skip
        secretaries[key] = person
    setup.extra["secretaries"] = secretaries
    # ballots: three members' ballots for a1, one for a2
    appraisal = Appraisal.objects.create(
        campaign=campaign, name="党员测评", rater_group="members", status=AppraisalStatus.CLOSED,
        questions=[{"code": "overall", "text": "总体评价", "kind": "grade"}], grades=GRADES,
        min_breakdown=3,
    )  # fmt: skip
    appraisal.targets.set([setup.targets["a1"], setup.targets["a2"]])
    a1, a2 = setup.targets["a1"], setup.targets["a2"]
    add_ballot(appraisal, {a1: {"overall": 0}, a2: {"overall": 0}})
    add_ballot(appraisal, {a1: {"overall": 1}})
    add_ballot(appraisal, {a1: {"overall": 3}})
    # an earlier 述职评议 of a1's secretary, and a1's 2024 result
    debriefing = Campaign.objects.create(
        name="2025 年度党支部书记述职评议", campaign_type=CampaignType.DEBRIEFING,
        period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 12, 20), purpose="述职评议",
        owner=tree["root"], scheme_version=setup.version, status=Stage.ARCHIVED,
        target_kind=TargetKind.CADRE,
    )  # fmt: skip
    sec = secretaries["a1"]
    dt_target = Target.objects.create(campaign=debriefing, person=sec, code=sec.staff_no,
                                      name=sec.name)  # fmt: skip
    DebriefingReport.objects.create(
        target=dt_target, summary="全年工作", leader_comment="抓党建思路清晰，整改落实到位",
        commented_by=setup.extra["approver"], commented_at=timezone.now(),
    )  # fmt: skip
    _stored_result(debriefing, [(dt_target, 92.5, "好", 1)])
    setup.extra["debriefing"] = debriefing
    earlier = Campaign.objects.create(
        name="2024 年度党建工作考核", campaign_type=CampaignType.ANNUAL,
        period_start=dt.date(2024, 1, 1), period_end=dt.date(2024, 12, 31), purpose="年度考核",
        owner=tree["root"], scheme_version=setup.version, status=Stage.ARCHIVED,
    )  # fmt: skip
    old = [
        Target.objects.create(campaign=earlier, organization=tree[k], code=tree[k].code,
                              name=tree[k].name)
        for k in ("a1", "b2")
    ]  # fmt: skip
    _stored_result(earlier, [(old[1], 90.0, "好", 1), (old[0], 81.5, "较好", 2)])
    setup.extra["earlier"] = earlier
    services.compute(actor=organizer, campaign=campaign)
    if approve:
        services.submit(actor=organizer, campaign=campaign)
        services.approve(actor=setup.extra["approver"], campaign=campaign, comment="同意")
    return setup
