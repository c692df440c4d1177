"""Result use (结果运用): the lists and files a campaign's declared rules call for.

Reads only (selectors). Everything is built from the campaign's *current* result set once it is
approved (已审批, 公示中 or 已锁定); before that nothing is available and ``usable`` says why.
The rules are the campaign's ``result_rules`` (see ``campaigns.rules``): a target's result meets
a rule's condition (a grade, a veto, any result) and the rule's action applies:

* 评先评优 eligibility (``award_eligible``): targets meeting an award rule, except those with a
  veto or on the 问责 list — those are listed apart, with why;
* 问责 (``accountability``): targets meeting an accountability rule, with the reason (the grade,
  the veto indicators from the explanation);
* 选拔任用 files (``cadre_file``): per leading cadre — the target person, or the current
  secretary of the target unit — grade, ranks, total and dimensions, ballot shares per rater
  group (small groups withheld), the 述职评议 result and comment, the rectification record and
  earlier results of the same person or unit;
* 限期整改 (``rectification``) is shown beside each row (the tasks themselves belong to the
  rectification app).

Every function costs a fixed number of queries whatever the number of targets (the
rectification hook, when present, is asked once per unit).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q

from kaoping.campaigns.models import Campaign, Target
from kaoping.campaigns.rules import ACTIONS, describe

from .models import ResultSet, ResultStatus, TargetResult

#: result-set statuses whose results may be used
USABLE = (ResultStatus.APPROVED, ResultStatus.PUBLISHED, ResultStatus.FINAL)
FLAG_LABELS = {
    "veto": "触发一票否决",
    "incomplete": "考核数据不完整",
    "too_few_ballots": "测评票数不足",
}
NO_RECTIFICATION = "整改记录暂无"
NO_BALLOTS = "本次考核未开展民主测评"
KIND_TITLES = {
    "awards": "评先评优资格名单",
    "accountability": "问责名单",
    "cadres": "选拔任用干部考核档案",
}


# ---- availability and rules ------------------------------------------------------------------


@dataclass
class Usable:
    """The result set to use, or why there is none; the campaign's rules."""

    campaign: Campaign
    result_set: ResultSet | None
    reason: str
    rules: list[dict[str, str]]

    @property
    def ok(self) -> bool:
        return self.result_set is not None

    def declared(self, action: str) -> bool:
        return any(r.get("then") == action for r in self.rules)

    def rule_texts(self, *actions: str) -> list[str]:
        return [describe(r) for r in self.rules if not actions or r.get("then") in actions]


def usable(campaign: Campaign) -> Usable:
    """The campaign's current result set if it is approved, published or final."""
    rules = [r for r in (campaign.result_rules or []) if isinstance(r, dict)]
    rs = (
        ResultSet.objects.filter(campaign=campaign, is_current=True)
        .select_related("approved_by")
        .first()
    )
    if rs is None:
        return Usable(
            campaign, None, "尚未计算考核结果。结果审批通过后才能生成结果运用材料。", rules
        )
    if rs.status not in USABLE:
        return Usable(
            campaign,
            None,
            f"考核结果目前为“{rs.get_status_display()}”，审批通过后才能生成结果运用材料。",
            rules,
        )
    return Usable(campaign, rs, "", rules)


def rule_met(rule: dict[str, str], grade: str, flags: list[str]) -> bool:
    when = rule.get("when")
    if when == "any":
        return True
    if when == "grade":
        return bool(grade) and grade == rule.get("value")
    if when == "veto":
        return "veto" in flags
    return False


def actions_met(rules: list[dict[str, str]], grade: str, flags: list[str]) -> dict[str, list[str]]:
    """{action: [descriptions of the rules met that call for it]}."""
    out: dict[str, list[str]] = {}
    for rule in rules:
        if rule.get("then") in ACTIONS and rule_met(rule, grade, flags):
            out.setdefault(rule["then"], []).append(describe(rule))
    return out


def veto_items(explanation: dict[str, Any]) -> list[str]:
    """The veto indicators a target's explanation shows as triggered, e.g.
    ``1.4 发生严重违纪问题（总分计零）``."""
    out: list[str] = []
    stack = [explanation] if explanation else []
    while stack:
        node = stack.pop()
        veto = node.get("veto")
        if veto:
            effect = (
                f"等次不高于“{veto.get('grade')}”"
                if veto.get("effect") == "ceiling"
                else "总分计零"
            )
            out.append(f"{node.get('code', '')} {node.get('name', '')}（{effect}）".strip())
        stack.extend(reversed([c for c in node.get("children") or [] if isinstance(c, dict)]))
    return out


# ---- the two lists ---------------------------------------------------------------------------


@dataclass
class Row:
    """One target on a list."""

    result: TargetResult
    target: Target
    rules: list[str]  # the rules met that put it here
    reasons: list[str]  # why it is here (or, for the excluded, why not)
    vetoes: list[str] = field(default_factory=list)
    rectify: bool = False  # a 限期整改 rule applies too

    @property
    def total(self) -> float:
        return self.result.total

    @property
    def grade(self) -> str:
        return self.result.grade

    @property
    def rank(self) -> int | None:
        return self.result.rank

    @property
    def group_rank(self) -> int | None:
        return self.result.group_rank


@dataclass
class UseList:
    kind: str  # "awards" | "accountability"
    usable: Usable
    declared: bool  # the rules call for this list at all
    rows: list[Row]
    excluded: list[Row] = field(default_factory=list)  # awards: met a rule but left out

    @property
    def title(self) -> str:
        return KIND_TITLES[self.kind]

    @property
    def rule_texts(self) -> list[str]:
        if self.kind == "awards":
            return self.usable.rule_texts("award_eligible", "accountability")
        return self.usable.rule_texts("accountability", "rectification")


def _results(rs: ResultSet) -> list[TargetResult]:
    """Results in rank order, without the heavy JSON (explanations are read for vetoes only)."""
    return list(
        TargetResult.objects.filter(result_set=rs)
        .select_related("target", "target__organization", "target__person")
        .defer("explanation", "indicators")
        .order_by("rank", "target__code")
    )


def _vetoes_of(results: list[TargetResult]) -> dict[int, list[str]]:
    ids = [r.pk for r in results if "veto" in (r.flags or [])]
    if not ids:
        return {}
    return {
        pk: veto_items(expl or {})
        for pk, expl in TargetResult.objects.filter(pk__in=ids).values_list("pk", "explanation")
    }


def _rows(rs: ResultSet, rules: list[dict[str, str]]) -> list[tuple[TargetResult, dict[str, list[str]], list[str]]]:  # fmt: skip
    results = _results(rs)
    vetoes = _vetoes_of(results)
    return [(r, actions_met(rules, r.grade, r.flags or []), vetoes.get(r.pk, [])) for r in results]


def _veto_reason(vetoes: list[str]) -> str:
    return "触发一票否决：" + "；".join(vetoes) if vetoes else "触发一票否决"


def award_list(u: Usable) -> UseList:
    """评先评优 eligibility: targets meeting an ``award_eligible`` rule, in rank order, without
    any that has a veto or meets an ``accountability`` rule (listed in ``excluded``)."""
    assert u.result_set is not None
    out = UseList("awards", u, u.declared("award_eligible"), [])
    for r, met, vetoes in _rows(u.result_set, u.rules):
        if "award_eligible" not in met:
            continue
        why_not: list[str] = []
        if "veto" in (r.flags or []):
            why_not.append(_veto_reason(vetoes))
        other = [
            describe(rule) for rule in u.rules
            if rule.get("then") == "accountability" and rule.get("when") != "veto"
            and rule_met(rule, r.grade, r.flags or [])
        ]  # fmt: skip
        if other:
            why_not.append("列入问责名单（" + "；".join(other) + "）")
        row = Row(
            result=r, target=r.target, rules=met["award_eligible"],
            reasons=why_not or [f"评定等次为“{r.grade}”"], vetoes=vetoes,
            rectify="rectification" in met,
        )  # fmt: skip
        (out.excluded if why_not else out.rows).append(row)
    return out


def accountability_list(u: Usable) -> UseList:
    """问责: targets meeting an ``accountability`` rule, in rank order, with the reason."""
    assert u.result_set is not None
    out = UseList("accountability", u, u.declared("accountability"), [])
    for r, met, vetoes in _rows(u.result_set, u.rules):
        if "accountability" not in met:
            continue
        reasons: list[str] = []
        for rule in u.rules:
            if rule.get("then") != "accountability" or not rule_met(rule, r.grade, r.flags or []):
                continue
            if rule["when"] == "grade":
                reasons.append(f"评定等次为“{r.grade}”")
            elif rule["when"] == "veto":
                reasons.append(_veto_reason(vetoes))
            else:
                reasons.append("规则规定所有考核对象列入")
        out.rows.append(
            Row(result=r, target=r.target, rules=met["accountability"],
                reasons=list(dict.fromkeys(reasons)), vetoes=vetoes,
                rectify="rectification" in met)
        )  # fmt: skip
    return out


# ---- 选拔任用 files ---------------------------------------------------------------------------


@dataclass
class DimensionScore:
    code: str
    name: str
    score: float | None
    points: float | None  # full marks
    mean: float | None  # the campaign's average


@dataclass
class BallotShare:
    group: str
    ballots: int
    shown: bool
    good_pct: float | None = None
    satisfaction_pct: float | None = None
    bad_pct: float | None = None
    note: str = ""


@dataclass
class DebriefingResult:
    campaign_name: str
    period: str
    grade: str
    total: float | None
    rank: int | None
    comment: str
    commented_by: str
    commented_at: dt.datetime | None
    note: str = ""  # e.g. the result is not approved yet


@dataclass
class PastResult:
    campaign_name: str
    campaign_type: str
    period: str
    grade: str
    total: float
    rank: int | None
    of: int


@dataclass
class RectificationRecord:
    available: bool  # the rectification feature answers
    tasks: list[dict[str, Any]]
    required: bool  # a 限期整改 rule applies to this result

    @property
    def text(self) -> str:
        if not self.available or not self.tasks:
            return NO_RECTIFICATION
        return f"未完成整改任务 {len(self.tasks)} 项"


@dataclass
class CadreFile:
    target: Target
    result: TargetResult
    person: Any  # organizations.Person, or None when the unit has no current secretary
    unit: Any  # organizations.Organization
    post: str  # 书记 / the person's position
    of: int  # targets ranked in the campaign
    group_size: int
    dimensions: list[DimensionScore]
    flags: list[str]
    vetoes: list[str]
    ballots: list[BallotShare]
    ballot_note: str
    debriefing: DebriefingResult | None
    rectification: RectificationRecord
    previous: list[PastResult]
    uses: dict[str, list[str]]  # the actions the rules apply to this result

    @property
    def person_name(self) -> str:
        return self.person.name if self.person is not None else "（未登记现任书记）"

    @property
    def unit_name(self) -> str:
        return self.unit.name if self.unit is not None else ""

    @property
    def use_labels(self) -> list[str]:
        return [ACTIONS[a] for a in ACTIONS if a in self.uses and a != "cadre_file"]


@dataclass
class CadreFiles:
    usable: Usable
    declared: bool
    files: list[CadreFile]
    dimension_names: list[tuple[str, str]]
    ballot_groups: list[str]

    @property
    def title(self) -> str:
        return KIND_TITLES["cadres"]

    @property
    def rule_texts(self) -> list[str]:
        return self.usable.rule_texts("cadre_file")


def _period(c: Any) -> str:
    return f"{c.period_start:%Y-%m-%d} 至 {c.period_end:%Y-%m-%d}"


def _secretaries(org_ids: list[int]) -> dict[int, Any]:
    from kaoping.organizations.models import Post, PostTitle

    return {
        p.organization_id: p.person
        for p in Post.objects.filter(
            organization_id__in=org_ids, title=PostTitle.SECRETARY, ended_on__isnull=True
        ).select_related("person")
    }


def _dimensions(rs: ResultSet) -> list[tuple[str, str, float | None]]:
    """(code, name, full points) of the version's top-level indicators, in tree order."""
    names = (rs.summary or {}).get("dimensions") or {}
    points = {
        code: (float(p) if p is not None else None)
        for code, p in rs.campaign.scheme_version.indicators.filter(level=1).values_list(
            "code", "points"
        )
    }
    return [(code, name, points.get(code)) for code, name in names.items()]


def _ballots(campaign: Campaign) -> tuple[list[str], dict[int, list[BallotShare]]]:
    from kaoping.ballots.models import Appraisal
    from kaoping.ballots.tally import campaign_tally, hidden_note

    if not Appraisal.objects.filter(campaign=campaign).exists():
        return [], {}  # (campaign_tally fails on a campaign without appraisals)
    ct = campaign_tally(campaign)
    groups = [g.label for g in ct.groups]
    out: dict[int, list[BallotShare]] = {}
    for row in ct.rows:
        shares = []
        for g, c in zip(ct.groups, row.cells, strict=True):
            if c.shown and c.n:
                shares.append(
                    BallotShare(g.label, c.n, True, c.good_pct, c.satisfaction_pct, c.bad_pct)
                )
            else:
                shares.append(
                    BallotShare(g.label, c.n, False, note=hidden_note(g.min_breakdown) if c.n
                                else "无选票")
                )  # fmt: skip
        out[row.target_id] = shares
    return groups, out


def _debriefings(campaign: Campaign, person_ids: set[int]) -> dict[int, DebriefingResult]:
    """Per person: their latest 述职评议 (a debriefing campaign, or one over cadres, that began
    by the end of this campaign's period) — its approved result and the leader's comment."""
    if not person_ids:
        return {}
    from kaoping.ballots.models import DebriefingReport

    chosen: dict[int, Target] = {}
    for t in (
        Target.objects.filter(person_id__in=person_ids)
        .filter(Q(campaign__campaign_type="debriefing") | Q(campaign__target_kind="cadre"))
        .filter(campaign__period_start__lte=campaign.period_end)
        .select_related("campaign")
        .order_by("person_id", "-campaign__period_end", "-campaign_id")
    ):
        chosen.setdefault(t.person_id, t)
    if not chosen:
        return {}
    ids = [t.pk for t in chosen.values()]
    results = {
        r.target_id: r
        for r in TargetResult.objects.filter(
            target_id__in=ids, result_set__is_current=True, result_set__status__in=USABLE
        ).only("target_id", "total", "grade", "rank")
    }
    reports = {
        r.target_id: r
        for r in DebriefingReport.objects.filter(target_id__in=ids).select_related("commented_by")
    }
    out = {}
    for person_id, t in chosen.items():
        r, rep = results.get(t.pk), reports.get(t.pk)
        out[person_id] = DebriefingResult(
            campaign_name=t.campaign.name,
            period=_period(t.campaign),
            grade=r.grade if r else "",
            total=r.total if r else None,
            rank=r.rank if r else None,
            comment=rep.leader_comment if rep else "",
            commented_by=(rep.commented_by.display_name if rep and rep.commented_by else ""),
            commented_at=rep.commented_at if rep else None,
            note="" if r else "述职评议结果尚未审批",
        )
    return out


def _previous(campaign: Campaign, targets: list[Target]) -> dict[int, list[PastResult]]:
    """Per target: approved results of earlier campaigns for the same unit (organization
    targets) or person (person targets), latest first."""
    orgs = {t.organization_id: t.pk for t in targets if t.organization_id}
    people = {t.person_id: t.pk for t in targets if t.person_id}
    if not orgs and not people:
        return {}
    rows = list(
        TargetResult.objects.filter(
            result_set__is_current=True,
            result_set__status__in=USABLE,
            result_set__campaign__period_end__lt=campaign.period_end,
        )
        .filter(Q(target__organization_id__in=list(orgs)) | Q(target__person_id__in=list(people)))
        .exclude(result_set__campaign=campaign)
        .values(
            "result_set_id",
            "target__organization_id",
            "target__person_id",
            "grade",
            "total",
            "rank",
            "result_set__campaign__name",
            "result_set__campaign__campaign_type",
            "result_set__campaign__period_start",
            "result_set__campaign__period_end",
        )  # fmt: skip
        .order_by("-result_set__campaign__period_end", "-result_set__campaign_id")
    )
    sizes = dict(
        TargetResult.objects.filter(result_set_id__in={r["result_set_id"] for r in rows})
        .values("result_set_id").annotate(n=Count("id")).order_by()
        .values_list("result_set_id", "n")
    )  # fmt: skip
    types = dict(Campaign._meta.get_field("campaign_type").choices)  # type: ignore[arg-type]
    out: dict[int, list[PastResult]] = {}
    for r in rows:
        tid = orgs.get(r["target__organization_id"]) or people.get(r["target__person_id"])
        if tid is None:
            continue
        start, end = r["result_set__campaign__period_start"], r["result_set__campaign__period_end"]
        out.setdefault(tid, []).append(
            PastResult(
                campaign_name=r["result_set__campaign__name"],
                campaign_type=str(types.get(r["result_set__campaign__campaign_type"], "")),
                period=f"{start:%Y-%m-%d} 至 {end:%Y-%m-%d}",
                grade=r["grade"], total=r["total"], rank=r["rank"],
                of=sizes.get(r["result_set_id"], 0),
            )
        )  # fmt: skip
    return out


def rectification_hook() -> Any:
    """``kaoping.rectification.selectors.open_tasks_for`` when the rectification feature
    provides it, else None."""
    try:
        from kaoping.rectification import selectors  # type: ignore[attr-defined]
    except ImportError:
        return None
    return getattr(selectors, "open_tasks_for", None)


#: above this many units, open tasks are read in one query (not one ``open_tasks_for`` each)
BATCH_UNITS = 50


def _open_tasks(hook: Any, units: list[Any]) -> dict[int, list[Any]]:
    """Open rectification tasks by unit id: ``open_tasks_for(unit)`` per unit, or for many units
    one query with the same filter (the rectification app's active statuses)."""
    if hook is None or not units:
        return {}
    if len(units) > BATCH_UNITS:
        try:
            from kaoping.rectification.models import ACTIVE_STATUSES, RectificationTask
        except ImportError:
            pass
        else:
            out: dict[int, list[Any]] = {}
            for task in RectificationTask.objects.filter(
                organization_id__in={u.pk for u in units}, status__in=ACTIVE_STATUSES
            ).order_by("deadline", "pk"):
                out.setdefault(task.organization_id, []).append(task)
            return out
    return {u.pk: list(hook(u)) for u in units}


def _overdue(task: Any) -> bool:
    flag = getattr(task, "overdue", None)
    if flag is None:
        flag = getattr(task, "is_overdue", False)
    return bool(flag() if callable(flag) else flag)


def _task(task: Any) -> dict[str, Any]:
    """What the file shows of a rectification task, read defensively (the rectification app
    owns the model)."""
    status = getattr(task, "get_status_display", None)
    deadline = getattr(task, "deadline", None)
    problem = getattr(task, "problem", "") or getattr(task, "title", "") or str(task)
    return {
        "problem": str(problem),
        "deadline": deadline if isinstance(deadline, dt.date) else None,
        "status": str(status()) if callable(status) else str(getattr(task, "status", "") or ""),
        "overdue": _overdue(task),
    }


def cadre_files(u: Usable, *, target_ids: list[int] | None = None) -> CadreFiles:
    """选拔任用 files of the targets meeting a ``cadre_file`` rule (all of them, or those of
    ``target_ids``), in rank order."""
    assert u.result_set is not None
    rs, campaign = u.result_set, u.campaign
    declared = u.declared("cadre_file")
    dims = _dimensions(rs)
    results = _results(rs)
    if target_ids is not None:
        wanted = set(target_ids)
        results = [r for r in results if r.target_id in wanted]
    picked = []
    for r in results:
        met = actions_met(u.rules, r.grade, r.flags or [])
        if "cadre_file" in met:
            picked.append((r, met))
    if not picked:
        return CadreFiles(u, declared, [], [(c, n) for c, n, _ in dims], [])
    all_results = _results(rs) if target_ids is not None else results
    of = len(all_results)
    group_sizes = Counter(r.target.group_code for r in all_results)
    vetoes = _vetoes_of([r for r, _ in picked])
    targets = [r.target for r, _ in picked]
    secretaries = _secretaries([t.organization_id for t in targets if t.organization_id])
    people = {
        t.pk: (t.person if t.person_id else secretaries.get(t.organization_id)) for t in targets
    }
    groups, ballots = _ballots(campaign)
    debriefings = _debriefings(campaign, {p.pk for p in people.values() if p is not None})
    previous = _previous(campaign, targets)
    hook = rectification_hook()
    units = [
        t.organization if t.organization_id else (people[t.pk].organization if people[t.pk] else None)
        for t in targets
    ]  # fmt: skip
    open_tasks = _open_tasks(hook, [x for x in units if x is not None])
    means = (rs.summary or {}).get("dimension_means") or {}
    files = []
    for r, met in picked:
        t = r.target
        person = people[t.pk]
        unit = t.organization if t.organization_id else (person.organization if person else None)
        tasks = [_task(x) for x in open_tasks.get(unit.pk, [])] if unit is not None else []
        files.append(
            CadreFile(
                target=t, result=r, person=person, unit=unit,
                post=("书记" if t.organization_id else (person.position or "领导干部")),
                of=of, group_size=group_sizes.get(t.group_code, 0),
                dimensions=[
                    DimensionScore(code, name, (r.dimensions or {}).get(code), pts,
                                   means.get(code))
                    for code, name, pts in dims
                ],
                flags=[FLAG_LABELS.get(f, f) for f in r.flags or []],
                vetoes=vetoes.get(r.pk, []),
                ballots=ballots.get(t.pk, []),
                ballot_note="" if groups else NO_BALLOTS,
                debriefing=debriefings.get(person.pk) if person is not None else None,
                rectification=RectificationRecord(hook is not None, tasks,
                                                  "rectification" in met),
                previous=previous.get(t.pk, []),
                uses=met,
            )
        )  # fmt: skip
    return CadreFiles(u, declared, files, [(c, n) for c, n, _ in dims], groups)


def counts(u: Usable) -> dict[str, int]:
    """How many targets each list and file set holds (for the overview page)."""
    assert u.result_set is not None
    c: Counter[str] = Counter()
    for r, met, _ in _rows(u.result_set, u.rules):
        if "award_eligible" in met:
            excluded = "veto" in (r.flags or []) or "accountability" in met
            c["awards_excluded" if excluded else "awards"] += 1
        for action in ("accountability", "rectification", "cadre_file"):
            if action in met:
                c[action] += 1
    return dict(c)
