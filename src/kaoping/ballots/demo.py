"""Demo step: a finished 述职评议 with its democratic appraisal (2025年度党组织书记抓基层党建述职评议).

The library's ``secretary_debriefing`` system, published; the campaign over the current 书记 of
every active 党支部 (自评 and 评审 switched off: the 述职 report is the secretary's own account);
each secretary's 述职 report (a small generated PDF) with a summary; the 机关党委's comment on
each (一述一评, through ``debriefing.record_comment``); one appraisal per rater group of the
ballot indicator (``design.design_from_campaign``), opened, voted through one-time tokens
(``services.cast``) and, for the 党员 group, partly on paper sheets entered twice
(``paper.enter_sheets`` by the organizer and by a second teller); closed; the campaign archived.

Grades are drawn from ``ctx.rng``: mostly 好/较好, a few weaker branches. Fixed dates in
December 2025. The second teller is the demo ``reviewer`` (机关党委 staff), given 考核管理员 for
the count only: the grant is removed afterwards, as the demo's accounts keep their roles.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from kaoping.accounts.models import Role, RoleGrant
from kaoping.core.demo import DemoContext, register_step

CAMPAIGN_NAME = "2025年度党组织书记抓基层党建述职评议"
SCHEME_NAME = "党组织书记抓基层党建述职评议（演示）"
VOTED_AT = dt.datetime(2025, 12, 18, 1, 30, tzinfo=dt.UTC)  # 09:30 Beijing time
# Voters per rater group (online), and paper sheets of the 党员 group.
VOTERS = {"party_committee": 9, "leadership": 11, "members": 150, "masses": 60}
PAPER_SHEETS = 40
WEAK_BRANCHES = 3
# Grade weights (好, 较好, 一般, 差) of ordinary, strong and weak branches.
PROFILES = {
    "strong": (70, 24, 5, 1),
    "normal": (52, 34, 11, 3),
    "weak": (22, 38, 28, 12),
}
COMMENTS = {
    "strong": "抓基层党建思路清晰、措施有力，“三会一课”规范，党建与业务融合成效明显，望继续保持。",
    "normal": "能够履行第一责任人职责，重点任务推进有序；党员教育管理的针对性还需加强。",
    "weak": "对党建工作研究部署不够，组织生活质量不高，上年度问题整改不到位，需限期整改。",
}


def _pdf(title: str) -> bytes:
    text = title.encode("unicode_escape").decode("ascii")
    body = (
        "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        "2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
        f"% {text}\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return body.encode("ascii")


def _campaign(ctx: DemoContext, actor: Any) -> Any:
    from kaoping.campaigns import rules, services
    from kaoping.campaigns.models import Stage
    from kaoping.indicators import services as ind_services
    from kaoping.indicators.library import install_library_scheme
    from kaoping.organizations.models import BRANCH_TYPES, OrgStatus

    owner = ctx.orgs["JG"]
    version = install_library_scheme(
        actor=actor, owner=owner, key="secretary_debriefing", name=SCHEME_NAME
    )
    version = ind_services.publish(actor=actor, version=version)
    campaign = services.create_campaign(
        actor=actor, owner=owner, name=CAMPAIGN_NAME, campaign_type="debriefing",
        period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 12, 31),
        purpose="党组织书记向机关党委述抓基层党建工作情况，接受点评和民主测评，"
        "压实书记第一责任人职责，推动问题整改。",
        result_rules=rules.DEFAULT_RULES, scheme_version=version, target_kind="cadre",
    )  # fmt: skip
    for org in sorted(ctx.orgs.values(), key=lambda o: o.path):
        if org.org_type in BRANCH_TYPES and org.status == OrgStatus.ACTIVE:
            services.add_cadre_targets(
                actor=actor, campaign=campaign, root=org, secretaries=True, cadres=False
            )
    campaign.targets.exclude(person__organization__org_type__in=BRANCH_TYPES).delete()
    services.set_stage_plan(
        actor=actor, campaign=campaign, stage=Stage.SELF_ASSESSMENT, enabled=False
    )
    services.set_stage_plan(actor=actor, campaign=campaign, stage=Stage.REVIEW,
                            starts_on=dt.date(2025, 12, 8), deadline=dt.date(2025, 12, 16))  # fmt: skip
    from kaoping.campaigns.demo import _assign

    _assign(actor, campaign, [ctx.users[u] for u in ("reviewer", "reviewer2", "reviewer3")])
    services.set_stage_plan(actor=actor, campaign=campaign, stage=Stage.APPRAISAL,
                            starts_on=dt.date(2025, 12, 18), deadline=dt.date(2025, 12, 19))  # fmt: skip
    services.transition(actor=actor, campaign=campaign, to_stage=Stage.PUBLISHED)
    return campaign


def _reports(campaign: Any, profiles: dict[int, str]) -> int:
    from kaoping.collection import evidence as evidence_store

    from .models import DebriefingReport

    n = 0
    for t in campaign.targets.select_related("person__organization").order_by("code"):
        unit = t.person.organization
        evidence, _ = evidence_store.store(
            organization=unit,
            uploaded_file=SimpleUploadedFile(
                f"{t.name}2025年度抓基层党建工作述职报告.pdf", _pdf(f"{t.code} 2025 述职")
            ),
        )
        weak = profiles[t.pk] == "weak"
        DebriefingReport.objects.create(
            target=t, report=evidence,
            summary=(
                f"一、履行第一责任人职责情况：{unit.name}全年召开支委会12次、党员大会4次，"
                "书记讲党课2次。\n二、存在的问题：" + ("党员教育管理方式单一，整改推进较慢。"
                if weak else "党建与业务融合的载体还不够多。") + "\n三、下一步打算：对标对表，补齐短板。"
            ),
        )  # fmt: skip
        n += 1
    return n


# Per profile: share of a rating leaf's points, deductions per item, grade index (好 … 差).
REVIEW_PROFILES = {
    "strong": ((0.9, 1.0), (0, 0), (0, 0)),
    "normal": ((0.78, 0.92), (0, 1), (0, 1)),
    "weak": ((0.6, 0.78), (1, 2), (1, 2)),
}
# 年度党建重点任务完成率 and 上年度问题整改完成率 (as fractions) per profile.
RATES = {"strong": (0.96, 1.0), "normal": (0.85, 0.97), "weak": (0.65, 0.8)}


def _review_and_data(ctx: DemoContext, campaign: Any, targets: list[Any], profiles: dict) -> None:
    """The 评审 stage of the finished campaign: every assigned reviewer scores and submits; the
    组织部 enters the two rates; 巡察 findings and one veto case are on record."""
    from decimal import Decimal

    from kaoping.collection import quant_services, review_services
    from kaoping.collection.models import DailyRecord, RecordKind, ReviewScore, ReviewSheet
    from kaoping.collection.review_rules import is_rated_leaf

    rng = ctx.rng
    inds = [i for i in campaign.scheme_version.indicators.all() if is_rated_leaf(i)]
    by_reviewer: dict[int, list[Any]] = {}
    for a in campaign.assignments.select_related("reviewer", "target"):
        by_reviewer.setdefault(a.reviewer_id, []).append(a)
    for rows in by_reviewer.values():
        reviewer = rows[0].reviewer
        sheet = ReviewSheet.objects.create(campaign=campaign, reviewer=reviewer)
        scores = []
        for a in rows:
            share, deduct, step = REVIEW_PROFILES[profiles[a.target_id]]
            for ind in inds:
                cell = ReviewScore(sheet=sheet, target=a.target, indicator=ind)
                if ind.rule_kind == "rating":
                    top = float((ind.rule_params or {}).get("max") or ind.points)
                    cell.score = Decimal(str(round(top * rng.uniform(*share) * 2) / 2))
                elif ind.rule_kind == "grade":
                    cell.grade = ["好", "较好", "一般", "差"][rng.randint(*step)]
                else:
                    n = rng.randint(*deduct)
                    items = (ind.rule_params or {}).get("items") or []
                    cell.occurrences = {items[0]["code"]: n} if items else {}
                    if n:
                        cell.reason = f"查阅会议记录，{items[0]['name']}，共 {n} 次。"
                scores.append(cell)
        ReviewScore.objects.bulk_create(scores)
        review_services.submit_sheet(actor=reviewer, campaign=campaign)
    quant = {i.code: i for i in campaign.scheme_version.indicators.filter(code__in=("2.1", "3.1"))}
    values = {}
    for t in targets:
        lo, hi = RATES[profiles[t.pk]]
        for ind in quant.values():
            values[(t.pk, ind.pk)] = f"{rng.uniform(lo, hi):.2f}"
    batch, errors = quant_services.enter_values(
        actor=ctx.users["organizer"], campaign=campaign, values=values
    )
    assert batch is not None and not errors, errors
    weak = [t for t in targets if profiles[t.pk] == "weak"]
    for k, t in enumerate(weak):
        DailyRecord.objects.create(
            organization=t.person.organization, indicator_code="3.2", item_code="a",
            kind=RecordKind.DEDUCTION, occurrences=1 + k % 2, occurred_on=dt.date(2025, 9, 10),
            description="机关党委督查反馈的“三会一课”记录不规范问题未按期整改。",
            recorded_by=ctx.users["organizer"],
        )  # fmt: skip
    if weak:
        DailyRecord.objects.create(
            organization=weak[0].person.organization, indicator_code="V",
            kind=RecordKind.DEDUCTION, occurred_on=dt.date(2025, 7, 3),
            description="所在单位一名党员干部因违反中央八项规定精神被立案审查，书记履行主体责任不力被约谈问责。",
            recorded_by=ctx.users["organizer"],
        )  # fmt: skip


def _grade(rng: Any, profile: str) -> int:
    return rng.choices(range(4), weights=PROFILES[profile])[0]


def _answers(rng: Any, appraisal: Any, targets: list[Any], profiles: dict[int, str]) -> dict:
    codes = [q["code"] for q in appraisal.questions if q.get("kind") == "grade"]
    out: dict[str, dict[str, Any]] = {}
    for t in targets:
        g = _grade(rng, profiles[t.pk])
        # The overall grade mostly follows the indicator question, sometimes one step apart.
        row = {c: g if c == codes[0] or rng.random() < 0.8 else min(3, max(0, g + rng.choice((-1, 1))))
               for c in codes}  # fmt: skip
        out[str(t.pk)] = row
    return out


@register_step("演示述职评议")
def build_debriefing(ctx: DemoContext) -> None:
    from kaoping.campaigns import services as campaign_services
    from kaoping.campaigns.models import Stage
    from kaoping.indicators.constants import RuleKind

    from . import debriefing, design, paper, services, tokens

    rng = ctx.rng
    actor = ctx.users["organizer"]
    campaign = _campaign(ctx, actor)
    targets = list(campaign.targets.select_related("person").order_by("code"))
    weak = set(rng.sample([t.pk for t in targets], min(WEAK_BRANCHES, len(targets))))
    profiles = {
        t.pk: "weak" if t.pk in weak else "strong" if rng.random() < 0.35 else "normal"
        for t in targets
    }
    n_reports = _reports(campaign, profiles)
    groups: list[str] = []
    for ind in campaign.scheme_version.indicators.filter(rule_kind=RuleKind.BALLOT):
        groups += [g for g in (ind.rater_weights or {}) if g not in groups]
    appraisals = [
        design.design_from_campaign(actor=actor, campaign=campaign, rater_group=g) for g in groups
    ]
    campaign_services.transition(actor=actor, campaign=campaign, to_stage=Stage.REVIEW)
    _review_and_data(ctx, campaign, targets, profiles)
    campaign_services.transition(actor=actor, campaign=campaign, to_stage=Stage.APPRAISAL)
    for t in targets:
        debriefing.record_comment(actor=actor, target=t, comment=COMMENTS[profiles[t.pk]])
    teller = ctx.users["reviewer"]
    grant = RoleGrant.objects.create(
        user=teller, role=Role.ASSESSMENT_ADMIN, organization=ctx.orgs["JG"]
    )
    teller.__dict__.pop("_kaoping_access", None)
    n_online = n_paper = 0
    for appraisal in appraisals:
        services.open_appraisal(actor=actor, appraisal=appraisal)
        pairs = tokens.issue_tokens(
            actor=actor, appraisal=appraisal, count=VOTERS[appraisal.rater_group]
        )
        now = VOTED_AT
        for token, _short in pairs:
            now += dt.timedelta(seconds=rng.randint(5, 40))
            services.cast(
                credential=token, answers=_answers(rng, appraisal, targets, profiles), now=now
            )
            n_online += 1
        if appraisal.rater_group == "members":
            sheets = [
                (i + 1, _answers(rng, appraisal, targets, profiles)) for i in range(PAPER_SHEETS)
            ]
            paper.enter_sheets(actor=actor, appraisal=appraisal, sheets=sheets)
            paper.enter_sheets(actor=teller, appraisal=appraisal, sheets=sheets)
            n_paper += len(sheets)
        services.close_appraisal(actor=actor, appraisal=appraisal)
    grant.delete()
    teller.__dict__.pop("_kaoping_access", None)
    campaign_services.transition(actor=actor, campaign=campaign, to_stage=Stage.CONSOLIDATION)
    finish_debriefing(ctx, campaign, actor)
    ctx.extra.update(debriefing_campaign=campaign, debriefing_appraisals=appraisals)
    ctx.summary.counts["述职评议对象"] = len(targets)
    ctx.summary.counts["述职报告"] = n_reports
    ctx.summary.counts["民主测评"] = len(appraisals)
    ctx.summary.counts["网上选票"] = n_online
    ctx.summary.counts["纸质选票"] = n_paper


def finish_debriefing(ctx: DemoContext, campaign: Any, actor: Any) -> None:
    """Results of the finished campaign: computed, approved and published; during 公示 the
    demo ``submitter``'s secretary appeals (upheld: a reviewer score corrected, recomputed with
    its diff) and another secretary appeals in vain; then 归档 locks the results. Rectification
    tasks are proposed from the results and confirmed; the ``submitter``'s unit completes one
    and the organizer verifies it (销号), others run past their deadline — the 2026 campaign
    (the next cycle) shows them."""
    from kaoping.campaigns import services as campaign_services
    from kaoping.campaigns.models import Stage
    from kaoping.rectification import services as rect
    from kaoping.results import appeal_services
    from kaoping.results import services as results

    results.compute(actor=actor, campaign=campaign, reason="测评结束后计算")
    results.submit(actor=actor, campaign=campaign)
    results.approve(actor=ctx.users["approver"], campaign=campaign, comment="同意公示")
    campaign_services.transition(actor=actor, campaign=campaign, to_stage=Stage.PUBLICATION)

    submitter = ctx.users["submitter"]
    unit = ctx.orgs["ZB0401"]
    own = campaign.targets.get(person__organization=unit)
    rs = results.current_set(campaign)
    before = rs.results.get(target=own).indicators.get("1.3", 0)
    appeal = appeal_services.file_appeal(
        actor=submitter, target=own, indicator_code="1.3",
        reason="评审时未看到我支部落实“一岗双责”的专项检查记录（已补充上传），"
        "请求对“落实全面从严治党和‘一岗双责’”重新评分。",
        uploads=[SimpleUploadedFile("一岗双责专项检查记录.pdf", _pdf("ZB0401 一岗双责"))],
    )  # fmt: skip
    appeal_services.uphold(
        actor=actor, appeal=appeal, decision="经核实材料齐全，申诉成立，按实际情况更正评分。",
        corrections=[appeal_services.CorrectionInput(
            indicator_code="1.3", score=str(min(9, round(before + 1.5, 1))),
            reason="补充的专项检查记录证明“一岗双责”落实到位",
        )],
    )  # fmt: skip
    rejected = appeal_services.file_appeal(
        actor=submitter, target=own, indicator_code="5.1",
        reason="认为群众满意度测评参与人数偏少，请求重新测评。",
    )  # fmt: skip
    appeal_services.reject(
        actor=actor, appeal=rejected,
        decision="测评按规定程序进行，各类评价主体票数均达到最低要求，不予支持。",
    )  # fmt: skip
    campaign_services.transition(
        actor=actor, campaign=campaign, to_stage=Stage.ARCHIVED, confirm=True
    )

    proposals = rect.propose_from_results(
        actor=actor, result_set=results.current_set(campaign), today=dt.date(2026, 1, 12)
    )
    # the organizer confirms the mandatory tasks and the weak indicators; the single
    # deductions stay proposals, waiting for review
    open_tasks = [
        t
        for t in proposals.tasks
        if t.responsible_id is not None and (t.mandatory or t.source_kind != "deduction")
    ]
    if open_tasks:
        rect.confirm(actor=actor, tasks=open_tasks)
    task = rect.create_task(
        actor=actor, target=own, deadline=timezone.localdate() + dt.timedelta(days=90),
        problem="述职评议点评指出：党员教育管理方式单一，主题党日活动形式需要丰富。",
    )  # fmt: skip
    rect.save_plan(
        actor=submitter, task=task,
        plan="制定主题党日年度计划，每季度开展一次现场教学，建立党员学习积分台账。",
    )  # fmt: skip
    rect.report_progress(
        actor=submitter, task=task, date=dt.date(2026, 3, 28),
        text="已制定主题党日年度计划，开展红色教育基地现场教学1次。",
    )  # fmt: skip
    rect.submit_completion(
        actor=submitter, task=task,
        completion="四个季度主题党日均按计划开展，党员学习积分台账已建立并运行。",
        files=[SimpleUploadedFile("主题党日开展情况.pdf", _pdf("ZB0401 主题党日"))],
    )  # fmt: skip
    rect.verify(actor=actor, task=task, comment="整改措施落实到位，同意销号。")
    ctx.summary.counts["申诉"] = 2
    ctx.summary.counts["整改任务"] = len(open_tasks) + 1
