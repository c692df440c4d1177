"""Ballot design (民主测评票): what one rater group is asked about which targets.

``design_from_campaign`` builds an ``Appraisal`` from the campaign, so the ballot always matches
the indicator system it feeds:

- targets: every target of the campaign;
- questions: every leaf indicator scored by the 民主测评 rule (``rule_kind="ballot"``) whose
  rater-group weights (the campaign's override, else the indicator's, else the version's
  default) give this group a share; the question's code is the rule's ``question`` (what the
  engine reads the answers by) and its text is the indicator's name. Indicators sharing one
  question code share one question. Then an overall grade (``overall``) and an optional comment
  (``comment``);
- grades: the version's ``ballot_grades`` (label and conversion coefficient), else the engine's
  default 好/较好/一般/差.

``update_design`` changes a draft only: once voting has opened, the ballot is fixed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from kaoping.audit.services import log_action
from kaoping.campaigns.models import Campaign, Stage
from kaoping.indicators.constants import RaterGroupCode, RuleKind

from .models import Appraisal, AppraisalMode, AppraisalStatus

OVERALL = "overall"
COMMENT = "comment"
COMMENT_MAX = 500
GRADE = "grade"
# Audit action codes (labels: see the report; kaoping.audit.actions lists the typed ones).
ACTION_CREATE = "appraisal.create"
ACTION_UPDATE = "appraisal.update"
# Campaign stages in which a ballot may still be designed.
DESIGN_STAGES = (
    Stage.DRAFT, Stage.PUBLISHED, Stage.SELF_ASSESSMENT, Stage.REVIEW, Stage.APPRAISAL,
)  # fmt: skip


def _user_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def ballot_grades(campaign: Campaign) -> list[dict[str, Any]]:
    from kaoping.indicators.services import DEFAULT_BALLOT_GRADES

    options = campaign.scheme_version.options or {}
    return [
        {"label": str(g["label"]), "coefficient": float(g["coefficient"])}
        for g in (options.get("ballot_grades") or DEFAULT_BALLOT_GRADES)
    ]


def ballot_questions(campaign: Campaign, rater_group: str) -> list[dict[str, Any]]:
    """The questions one rater group answers about each target, in indicator order."""
    from kaoping.campaigns.services import effective_rater_weights

    weights = effective_rater_weights(campaign)
    leaves = campaign.scheme_version.indicators.filter(rule_kind=RuleKind.BALLOT).order_by(
        "level", "position", "id"
    )
    questions: list[dict[str, Any]] = []
    seen: set[str] = set()
    for ind in leaves:
        code = str((ind.rule_params or {}).get("question") or "").strip()
        if not code or code in seen or code in (OVERALL, COMMENT):
            continue
        if not (weights.get(ind.code) or {}).get(rater_group):
            continue
        seen.add(code)
        questions.append({"code": code, "text": ind.name, "kind": GRADE, "indicator": ind.code})
    questions.append({"code": OVERALL, "text": "总体评价", "kind": GRADE})
    questions.append({"code": COMMENT, "text": "意见建议", "kind": "comment", "optional": True})
    return questions


def grade_questions(appraisal: Appraisal) -> list[dict[str, Any]]:
    return grade_questions_in(appraisal.questions)


def has_comment(appraisal: Appraisal) -> bool:
    return has_comment_in(appraisal.questions)


def grade_questions_in(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The questions answered with a grade, of a design's question list."""
    return [q for q in questions if q.get("kind") == GRADE]


def has_comment_in(questions: list[dict[str, Any]]) -> bool:
    return any(q.get("kind") == COMMENT for q in questions)


def _clean_group(rater_group: str) -> str:
    if rater_group not in RaterGroupCode.values:
        raise ValidationError({"rater_group": "请选择评价主体"})
    return rater_group


def _clean_mode(mode: str) -> str:
    if mode not in AppraisalMode.values:
        raise ValidationError({"mode": "请选择投票方式"})
    return mode


@transaction.atomic
def design_from_campaign(
    *,
    actor: Any,
    campaign: Campaign,
    rater_group: str,
    name: str | None = None,
    mode: str = AppraisalMode.TOKEN,
) -> Appraisal:
    """A draft appraisal for ``rater_group`` over all the campaign's targets."""
    group = _clean_group(rater_group)
    mode = _clean_mode(mode)
    if campaign.status not in DESIGN_STAGES:
        raise ValidationError("考核活动已进入汇总及以后阶段，不能再新建民主测评")
    if not campaign.targets.exists():
        raise ValidationError("考核活动还没有考核对象")
    label = RaterGroupCode(group).label
    name = (name or "").strip() or f"{campaign.name}·{label}民主测评"
    if len(name) > 100:
        raise ValidationError({"name": "测评名称最多 100 字"})
    appraisal = Appraisal.objects.create(
        campaign=campaign,
        name=name,
        rater_group=group,
        mode=mode,
        questions=ballot_questions(campaign, group),
        grades=ballot_grades(campaign),
        created_by=_user_or_none(actor),
    )
    appraisal.targets.set(campaign.targets.all())
    log_action(
        ACTION_CREATE,
        actor=actor,
        obj=appraisal,
        data={
            "campaign": campaign.name,
            "rater_group": label,
            "mode": AppraisalMode(mode).label,
            "questions": [q["text"] for q in appraisal.questions],
            "targets": appraisal.targets.count(),
        },
    )
    return appraisal


@transaction.atomic
def update_design(
    *,
    actor: Any,
    appraisal: Appraisal,
    name: str | None = None,
    mode: str | None = None,
    question_texts: dict[str, str] | None = None,
    drop_questions: list[str] | None = None,
    comment: bool | None = None,
    target_ids: list[int] | None = None,
    opens_at: dt.datetime | None | bool = False,
    closes_at: dt.datetime | None | bool = False,
    min_breakdown: int | None = None,
) -> Appraisal:
    """Change a draft: name, mode, question wording, leave out indicator questions (the overall
    grade stays), the comment box, the targets, the time window, the breakdown minimum.
    ``opens_at``/``closes_at``: ``False`` leaves them, ``None`` clears them."""
    locked = Appraisal.objects.select_for_update().get(pk=appraisal.pk)
    if locked.status != AppraisalStatus.DRAFT:
        raise ValidationError("测评已开始，测评票不能再修改")
    before = {
        "name": locked.name, "mode": locked.mode, "questions": list(locked.questions),
        "targets": sorted(locked.targets.values_list("pk", flat=True)),
        "opens_at": locked.opens_at, "closes_at": locked.closes_at,
        "min_breakdown": locked.min_breakdown,
    }  # fmt: skip
    errors: dict[str, str] = {}
    if name is not None:
        name = name.strip()
        if not name or len(name) > 100:
            errors["name"] = "请填写测评名称（最多 100 字）"
        else:
            locked.name = name
    if mode is not None:
        locked.mode = _clean_mode(mode)
    questions = [dict(q) for q in locked.questions]
    if question_texts:
        for q in questions:
            text = question_texts.get(q["code"])
            if text is not None:
                text = text.strip()
                if not text or len(text) > 200:
                    errors[f"q_{q['code']}"] = "题目文字不能为空，最多 200 字"
                else:
                    q["text"] = text
    if drop_questions:
        questions = [
            q for q in questions if q["code"] == OVERALL or q["code"] not in drop_questions
        ]
    if comment is not None:
        questions = [q for q in questions if q.get("kind") != "comment"]
        if comment:
            questions.append(
                {"code": COMMENT, "text": "意见建议", "kind": "comment", "optional": True}
            )
    locked.questions = questions
    if target_ids is not None:
        targets = list(locked.campaign.targets.filter(pk__in=target_ids))
        if not targets:
            errors["targets"] = "至少选择一个考核对象"
        else:
            locked.targets.set(targets)
    if opens_at is not False:
        locked.opens_at = opens_at or None
    if closes_at is not False:
        locked.closes_at = closes_at or None
    if locked.opens_at and locked.closes_at and locked.closes_at <= locked.opens_at:
        errors["closes_at"] = "结束时间应晚于开始时间"
    if min_breakdown is not None:
        if not 1 <= int(min_breakdown) <= 1000:
            errors["min_breakdown"] = "最少显示票数应在 1 至 1000 之间"
        else:
            locked.min_breakdown = int(min_breakdown)
    if errors:
        raise ValidationError(errors)
    locked.save()
    after = {
        "name": locked.name, "mode": locked.mode, "questions": locked.questions,
        "targets": sorted(locked.targets.values_list("pk", flat=True)),
        "opens_at": locked.opens_at, "closes_at": locked.closes_at,
        "min_breakdown": locked.min_breakdown,
    }  # fmt: skip
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        log_action(ACTION_UPDATE, actor=actor, obj=locked, changes=changes)
    return locked
