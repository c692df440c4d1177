"""Building blocks for ballot tests: a published indicator system with a banded ballot leaf, a
campaign over the test tree's four 党支部, appraisals and ballots written directly (the tally,
integrity and paper tests do not depend on the voting pages)."""

from __future__ import annotations

import datetime as dt
import itertools

from kaoping.ballots.models import Appraisal, AppraisalStatus, Ballot, BallotAnswer
from kaoping.campaigns import services
from kaoping.campaigns.models import Stage
from kaoping.indicators import services as ind_services
from kaoping.indicators.constants import REQUIRED_DIMENSIONS, DataSource
from kaoping.organizations.models import OrgType

from .campaign_helpers import SHARES, make_campaign

BANDS = [{"min": 0.9, "score": 10}, {"min": 0.8, "score": 8}, {"min": 0.6, "score": 6}]
ELSE = 2
QUESTIONS = [
    {"code": "Q1", "text": "党员先锋模范作用", "kind": "grade", "indicator": "D8.1"},
    {"code": "overall", "text": "总体评价", "kind": "grade"},
    {"code": "comment", "text": "意见建议", "kind": "comment", "optional": True},
]
GRADES = [
    {"label": "好", "coefficient": 100},
    {"label": "较好", "coefficient": 80},
    {"label": "一般", "coefficient": 60},
    {"label": "差", "coefficient": 40},
]
DAY = dt.date(2026, 12, 10)


def ballot_version(actor, owner, name="含民主测评的党支部考核"):
    """Eight dimensions with one leaf each; the last leaf is a banded 满意率 ballot rule."""
    version = ind_services.create_scheme(actor=actor, owner=owner, name=name)
    for i, (dim, pts) in enumerate(zip(REQUIRED_DIMENSIONS, SHARES, strict=True)):
        top = ind_services.add_indicator(
            actor=actor, version=version, code=f"D{i + 1}", name=dim.label, dimension=dim,
            points=pts,
        )  # fmt: skip
        if i == 7:
            ind_services.add_indicator(
                actor=actor, version=version, parent=top, code="D8.1", name="党员先锋模范作用",
                points=pts, rule_kind="ballot", data_source=DataSource.BALLOT,
                rule_params={"question": "Q1", "measure": "satisfaction_rate",
                             "bands": BANDS, "else": ELSE},
                criteria="满意率分档计分", rater_weights={"members": 0.5, "masses": 0.5},
            )  # fmt: skip
        else:
            ind_services.add_indicator(
                actor=actor, version=version, parent=top, code=f"D{i + 1}.1",
                name=f"{dim.label}成效", points=pts, rule_kind="rating",
                rule_params={"max": pts}, criteria="根据实际成效评分",
                data_source=DataSource.REVIEWER,
            )  # fmt: skip
    return ind_services.publish(actor=actor, version=version)


def ballot_campaign(organizer, tree, *, stage=Stage.DRAFT, root="root"):
    """Over the 党支部 under ``tree[root]`` (all four by default)."""
    version = ballot_version(organizer, tree["root"])
    campaign = make_campaign(organizer, tree["root"], version)
    services.add_targets_by_subtree(
        actor=organizer, campaign=campaign, root=tree[root], org_types=[OrgType.BRANCH]
    )
    if stage != Stage.DRAFT:
        campaign.status = stage
        campaign.save(update_fields=["status"])
    return campaign


def make_appraisal(campaign, *, group="members", status=AppraisalStatus.OPEN, min_breakdown=5,
                   questions=None):  # fmt: skip
    appraisal = Appraisal.objects.create(
        campaign=campaign, name=f"{group}测评", rater_group=group, status=status,
        questions=questions if questions is not None else QUESTIONS, grades=GRADES,
        min_breakdown=min_breakdown,
    )  # fmt: skip
    appraisal.targets.set(campaign.targets.all())
    return appraisal


def add_ballot(appraisal, answers, *, source="online", day=DAY):
    """``answers``: {target: {question: grade index, "comment": text}}."""
    ballot = Ballot.objects.create(appraisal=appraisal, cast_on=day, source=source)
    rows = []
    for target, row in answers.items():
        for code, value in row.items():
            if code == "comment":
                rows.append(BallotAnswer(ballot=ballot, target=target, question=code,
                                         comment=value))  # fmt: skip
            else:
                rows.append(BallotAnswer(ballot=ballot, target=target, question=code,
                                         grade=value))  # fmt: skip
    BallotAnswer.objects.bulk_create(rows)
    return ballot


def add_ballots(appraisal, targets, grades_per_ballot, *, questions=("Q1", "overall")):
    """One ballot per entry of ``grades_per_ballot``: the same grade for every target and
    question when an int, else a sequence cycled over targets."""
    for g in grades_per_ballot:
        cyc = itertools.cycle([g] if isinstance(g, int) else g)
        add_ballot(
            appraisal, {t: {q: v for q in questions} for t, v in zip(targets, cyc, strict=False)}
        )
