"""Building blocks for 民主测评 tests: a published indicator system with two ballot-rule
indicators (Q1 rated by 党员 and 群众, Q2 by 党员 only), a campaign over the four 党支部 in 测评,
and an open token appraisal."""

from __future__ import annotations

import datetime as dt

from kaoping.ballots import design, services, tokens
from kaoping.campaigns import rules
from kaoping.campaigns import services as campaign_services
from kaoping.campaigns.models import Stage
from kaoping.indicators import services as ind_services
from kaoping.indicators.constants import REQUIRED_DIMENSIONS, DataSource
from kaoping.organizations.models import OrgType

from .campaign_helpers import SHARES, reviewer_user

BALLOT_LEAVES = {
    0: ("Q1", "群众满意度", {"members": 0.5, "masses": 0.5}),
    2: ("Q2", "党员对支部工作的评价", {"members": 1.0}),
}


def ballot_version(actor, owner, name="党支部年度考核（含民主测评）"):
    version = ind_services.create_scheme(
        actor=actor, owner=owner, name=name, target_kind="organization"
    )
    for i, (dim, pts) in enumerate(zip(REQUIRED_DIMENSIONS, SHARES, strict=True)):
        top = ind_services.add_indicator(
            actor=actor, version=version, code=f"D{i + 1}", name=dim.label, dimension=dim,
            points=pts,
        )  # fmt: skip
        ballot = BALLOT_LEAVES.get(i)
        review_pts = pts - 5 if ballot else pts
        ind_services.add_indicator(
            actor=actor, version=version, parent=top, code=f"D{i + 1}.1",
            name=f"{dim.label}成效", points=review_pts, rule_kind="rating",
            rule_params={"max": review_pts}, criteria="根据实际成效评分",
            data_source=DataSource.QUANTITATIVE if i == 7 else DataSource.REVIEWER,
        )  # fmt: skip
        if ballot:
            question, label, weights = ballot
            ind_services.add_indicator(
                actor=actor, version=version, parent=top, code=f"D{i + 1}.2", name=label,
                points=5, rule_kind="ballot",
                rule_params={"question": question, "measure": "grade_score", "max": 5},
                criteria="民主测评", data_source=DataSource.BALLOT, rater_weights=weights,
            )  # fmt: skip
    return ind_services.publish(actor=actor, version=version)


def appraisal_campaign(organizer, tree, *, stage=Stage.APPRAISAL):
    """A campaign over the four 党支部 using ``ballot_version``, moved on to ``stage``."""
    version = ballot_version(organizer, tree["root"])
    campaign = campaign_services.create_campaign(
        actor=organizer, owner=tree["root"], name="2026年度党支部工作考核",
        campaign_type="annual", period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 12, 31), purpose="检验党支部全年党建工作成效",
        result_rules=rules.DEFAULT_RULES, scheme_version=version, target_kind="organization",
    )  # fmt: skip
    campaign_services.add_targets_by_subtree(
        actor=organizer, campaign=campaign, root=tree["root"], org_types=[OrgType.BRANCH]
    )
    reviewer = reviewer_user("ballot_rev", tree["root"], "评审员乙")
    campaign_services.assign_reviewer(
        actor=organizer, campaign=campaign, reviewer=reviewer, targets=campaign.targets.all()
    )
    for s in (Stage.PUBLISHED, Stage.SELF_ASSESSMENT, Stage.REVIEW, Stage.APPRAISAL):
        if campaign.status == stage:
            break
        campaign_services.transition(actor=organizer, campaign=campaign, to_stage=s, confirm=True)
    campaign.refresh_from_db()
    return campaign


def open_appraisal(organizer, campaign, *, group="members", count=10, mode="token"):
    """An open appraisal of ``campaign`` for ``group`` and ``count`` fresh tokens."""
    appraisal = design.design_from_campaign(
        actor=organizer, campaign=campaign, rater_group=group, mode=mode
    )
    pairs = (
        tokens.issue_tokens(actor=organizer, appraisal=appraisal, count=count)
        if mode == "token"
        else []
    )
    services.open_appraisal(actor=organizer, appraisal=appraisal)
    appraisal.refresh_from_db()
    return appraisal, pairs


def full_answers(appraisal, grade=0, comment=""):
    """Every target × every grade question answered with ``grade`` (an int or a callable of
    (target_index, question_index))."""
    out = {}
    questions = design.grade_questions(appraisal)
    for ti, target_id in enumerate(services.target_ids(appraisal)):
        row = {}
        for qi, q in enumerate(questions):
            row[q["code"]] = grade(ti, qi) if callable(grade) else grade
        if comment:
            row[design.COMMENT] = comment
        out[target_id] = row
    return out
