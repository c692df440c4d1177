"""Demo step: a campaign in progress (2026年度党支部工作考核).

A published indicator system (from the indicator library when present, else a small valid one),
the campaign over every active 党支部 in 自评 with its timeline, three reviewers (demo
accounts ``reviewer``, ``reviewer2``, ``reviewer3``) assigned with the conflict-of-interest check, and work under
way: most units have submitted their self-assessment with evidence, the demo ``submitter``'s
unit is still filling in its own, one unit was returned, a reviewer has pre-scored some
targets, and the quantitative data of the 组织部 statistics were imported.

Set-up goes through ``campaigns.services`` (checked and audited as the demo ``organizer``); the
inputs are written through the collection models directly, deterministically (``ctx.rng`` and
fixed dates). Hooks for later features: ``ctx.extra["campaign"]``, ``ctx.extra["campaign_version"]``
and ``ctx.extra["campaign_reviewers"]``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from kaoping.accounts.models import User
from kaoping.core.demo import DemoContext, register_step
from kaoping.indicators.constants import DataSource, RuleKind
from kaoping.indicators.models import SchemeVersion
from kaoping.organizations.models import BRANCH_TYPES, OrgStatus

from . import rules, services
from .models import Campaign, Stage

CAMPAIGN_NAME = "2026年度党支部工作考核"
SCHEME_NAME = "党支部年度工作考核（演示）"
REVIEWERS = ("reviewer", "reviewer2", "reviewer3")  # demo accounts (core.demo.DEMO_ACCOUNTS)
STAGE_PLAN = {
    Stage.SELF_ASSESSMENT: (dt.date(2026, 11, 2), dt.date(2026, 12, 4)),
    Stage.REVIEW: (dt.date(2026, 12, 7), dt.date(2026, 12, 18)),
    Stage.APPRAISAL: (dt.date(2026, 12, 7), dt.date(2026, 12, 18)),
    Stage.CONSOLIDATION: (dt.date(2026, 12, 21), dt.date(2026, 12, 25)),
    Stage.PUBLICATION: (dt.date(2026, 12, 28), dt.date(2027, 1, 4)),
    Stage.ARCHIVED: (dt.date(2027, 1, 15), None),
}
SUBMITTED_AT = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def _version(ctx: DemoContext, actor: Any) -> SchemeVersion:
    """The indicator system: the library's branch system when available, published."""
    from kaoping.indicators import services as ind_services

    owner = ctx.orgs["JG"]
    try:
        from kaoping.indicators.library import install_library_scheme

        version = install_library_scheme(
            actor=actor, owner=owner, key="branch_annual", name=SCHEME_NAME
        )
        return ind_services.publish(actor=actor, version=version)
    except ImportError:
        pass
    from kaoping.indicators.constants import REQUIRED_DIMENSIONS

    version = ind_services.create_scheme(actor=actor, owner=owner, name=SCHEME_NAME)
    shares = [15, 15, 15, 10, 10, 10, 10, 15]
    for i, (dim, pts) in enumerate(zip(REQUIRED_DIMENSIONS, shares, strict=True)):
        top = ind_services.add_indicator(
            actor=actor, version=version, code=str(i + 1), name=dim.label, dimension=dim,
            points=pts,
        )  # fmt: skip
        ind_services.add_indicator(
            actor=actor, version=version, parent=top, code=f"{i + 1}.1",
            name=f"{dim.label}工作成效", points=pts, rule_kind="rating",
            rule_params={"max": pts}, criteria="对照年度工作要点，按完成质量评分",
            data_source=DataSource.QUANTITATIVE if i == 2 else DataSource.REVIEWER,
        )  # fmt: skip
    return ind_services.publish(actor=actor, version=version)


def _reviewers(ctx: DemoContext) -> list[User]:
    """The demo reviewer accounts (``reviewer``, ``reviewer2``, ``reviewer3``)."""
    return [ctx.users[name] for name in REVIEWERS]


def _assign(actor: Any, campaign: Campaign, reviewers: list[User]) -> int:
    """Two reviewers per target, in turn, skipping anyone with a conflict of interest."""
    targets = list(campaign.targets.select_related("organization").order_by("code"))
    plan: dict[int, list[Any]] = {r.pk: [] for r in reviewers}
    for i, target in enumerate(targets):
        chosen = 0
        for k in range(len(reviewers)):
            reviewer = reviewers[(i + k) % len(reviewers)]
            if chosen < 2 and services.conflict_of_interest(reviewer, target) is None:
                plan[reviewer.pk].append(target)
                chosen += 1
    n = 0
    for reviewer in reviewers:
        n += len(services.assign_reviewer(actor=actor, campaign=campaign, reviewer=reviewer,
                                          targets=plan[reviewer.pk]))  # fmt: skip
    return n


def _pdf(title: str) -> bytes:
    """A small valid PDF whose bytes differ per title (stored once per content)."""
    text = title.encode("unicode_escape").decode("ascii")
    body = (
        "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        "2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
        f"% {text}\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return body.encode("ascii")


def _self_value(ind: Any, rng: Any) -> dict[str, Any]:
    params = ind.rule_params or {}
    if ind.rule_kind == RuleKind.GRADE:
        grades = params.get("grades") or {}
        labels = list(grades) if isinstance(grades, dict) else [g.get("label") for g in grades]
        labels = [g for g in labels if g] or ["好", "较好"]
        return {"grade": labels[min(len(labels) - 1, rng.choice((0, 0, 1)))]}
    if ind.rule_kind in (RuleKind.DEDUCTION, RuleKind.BONUS, RuleKind.PENALTY,
                         RuleKind.BASE_ADJUST):  # fmt: skip
        items = params.get("items") or []
        if items and rng.random() < 0.3:
            return {"occurrences": {items[0]["code"]: 1}}
        return {"occurrences": {}}
    top = Decimal(str(params.get("max") or ind.points or 10))
    return {"score": (top * Decimal(rng.choice((80, 85, 90, 95, 100))) / 100).quantize(
        Decimal("0.5"))}  # fmt: skip


def _inputs(ctx: DemoContext, campaign: Campaign, reviewers: list[User]) -> dict[str, int]:
    from kaoping.collection import evidence as evidence_files
    from kaoping.collection.models import (
        QuantBatch,
        QuantValue,
        ReviewScore,
        ReviewSheet,
        SelfAssessment,
        SelfAssessmentItem,
    )

    rng = ctx.rng
    version = campaign.scheme_version
    inds = list(version.indicators.order_by("level", "position", "id"))
    parents = {i.parent_id for i in inds}
    leaves = [i for i in inds if i.pk not in parents]
    self_leaves = [i for i in leaves if i.data_source in (DataSource.SELF, DataSource.REVIEWER)
                   and i.rule_kind not in (RuleKind.BALLOT, "")]  # fmt: skip
    quant_leaves = [i for i in leaves if i.data_source == DataSource.QUANTITATIVE]
    rated = [i for i in self_leaves if i.rule_kind == RuleKind.RATING]
    targets = list(campaign.targets.select_related("organization").order_by("code"))
    submitter_org = ctx.users["submitter"].grants.get().organization_id
    counts = {"自评已提交": 0, "佐证材料": 0, "评审评分": 0, "量化数据": 0}
    for n, target in enumerate(targets):
        own_unit = target.organization_id == submitter_org
        roll = rng.random()
        if own_unit:
            status, share = "draft", 0.4  # the demo submitter's unit: still filling in
        elif roll < 0.7:
            status, share = "submitted", 1.0
        elif roll < 0.78:
            status, share = "returned", 1.0
        elif roll < 0.9:
            status, share = "draft", 0.5
        else:
            continue  # not started
        sa = SelfAssessment.objects.create(
            target=target,
            status=status,
            submitted_at=SUBMITTED_AT + dt.timedelta(hours=n) if status != "draft" else None,
            return_comment="“三会一课”记录不全，请补充第三季度支委会会议记录后重新提交"
            if status == "returned" else "",
        )  # fmt: skip
        shown = self_leaves[: max(1, int(len(self_leaves) * share))]
        evidence, _ = evidence_files.store(
            organization=target.organization,
            uploaded_file=SimpleUploadedFile(f"{target.name}2026年党建工作总结.pdf",
                                             _pdf(f"{target.code} 2026")),
        )  # fmt: skip
        counts["佐证材料"] += 1
        for j, ind in enumerate(shown):
            item = SelfAssessmentItem.objects.create(
                assessment=sa, indicator=ind, narrative=f"{ind.name}：按要求完成，详见佐证材料。",
                **_self_value(ind, rng),
            )  # fmt: skip
            if j % 3 == 0:
                item.evidence.add(evidence)
        if status == "submitted":
            counts["自评已提交"] += 1
    # A reviewer pre-scores the first submitted targets assigned to them (read-only until 评审).
    first = reviewers[0]
    sheet = ReviewSheet.objects.create(campaign=campaign, reviewer=first)
    mine = [
        t for t in targets
        if t.assignments.filter(reviewer=first).exists()
        and SelfAssessment.objects.filter(target=t, status="submitted").exists()
    ][:4]  # fmt: skip
    for t in mine:
        for ind in rated:
            top = Decimal(str((ind.rule_params or {}).get("max") or ind.points or 10))
            ReviewScore.objects.create(
                sheet=sheet, target=t, indicator=ind,
                score=(top * Decimal(rng.choice((70, 80, 85, 90, 95))) / 100).quantize(Decimal("0.5")),
                reason="",
            )  # fmt: skip
            counts["评审评分"] += 1
    if quant_leaves:
        batch = QuantBatch.objects.create(
            campaign=campaign, source_name="2026年组织生活和党费收缴统计.xlsx",
            imported_by=ctx.users["organizer"],
        )  # fmt: skip
        values = [
            QuantValue(
                batch=batch, target=t, indicator=ind, value=Decimal(rng.randint(60, 100))
            )  # fmt: skip
            for t in targets[: len(targets) * 3 // 4]
            for ind in quant_leaves
        ]
        QuantValue.objects.bulk_create(values)
        QuantBatch.objects.filter(pk=batch.pk).update(rows=len(values))
        counts["量化数据"] = len(values)
    return counts


@register_step("演示考核活动")
def build_campaign(ctx: DemoContext) -> None:
    actor = ctx.users["organizer"]
    version = _version(ctx, actor)
    campaign = services.create_campaign(
        actor=actor,
        owner=ctx.orgs["JG"],
        name=CAMPAIGN_NAME,
        campaign_type="annual",
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 12, 31),
        purpose=(
            "检验各党支部2026年度党建工作成效，突出政治功能和组织功能，"
            "推动党建与业务深度融合，解决“灯下黑”“两张皮”问题。"
        ),
        result_rules=rules.DEFAULT_RULES,
        scheme_version=version,
        target_kind="organization",
    )
    services.add_targets_by_subtree(
        actor=actor, campaign=campaign, root=ctx.orgs["JG"], org_types=list(BRANCH_TYPES)
    )
    for stage, (starts, deadline) in STAGE_PLAN.items():
        services.set_stage_plan(actor=actor, campaign=campaign, stage=stage,
                                starts_on=starts, deadline=deadline)  # fmt: skip
    reviewers = _reviewers(ctx)
    n_assign = _assign(actor, campaign, reviewers)
    services.transition(actor=actor, campaign=campaign, to_stage=Stage.PUBLISHED)
    services.transition(actor=actor, campaign=campaign, to_stage=Stage.SELF_ASSESSMENT)
    counts = _inputs(ctx, campaign, reviewers)
    ctx.extra.update(campaign=campaign, campaign_version=version, campaign_reviewers=reviewers)
    ctx.summary.counts["考核活动"] = 1
    ctx.summary.counts["考核对象"] = campaign.targets.count()
    ctx.summary.counts["评审分工"] = n_assign
    ctx.summary.counts.update(counts)
    assert not campaign.targets.filter(organization__status=OrgStatus.DISSOLVED).exists()
