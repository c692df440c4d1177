"""Every permission in Kaoping is decided here.

Two questions, always asked together:

1. *May this user do this kind of thing at all?* — ``has_perm(user, perm)``, from the user's
   role grants. Django's ``is_superuser`` and ``is_staff`` flags are ignored: in the product
   nobody bypasses the roles, and the three security roles stay separated (三员分立).
2. *On which objects?* — the scope helpers (``org_scope``, ``visible_organizations`` ...) that
   every view uses to fetch objects, so anything outside the user's subtree answers 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.http import Http404

from kaoping.accounts.models import Role

if TYPE_CHECKING:
    from kaoping.organizations.models import Organization, Person


class Perm(StrEnum):
    ORG_VIEW = "org.view"  # read organizations and people in scope
    ORG_MANAGE = "org.manage"  # create, edit, move, dissolve; people and posts; import
    ORG_EXPORT = "org.export"
    USER_MANAGE = "user.manage"  # accounts (系统管理员)
    ROLE_GRANT = "role.grant"  # role grants and account locks (安全管理员)
    AUDIT_VIEW = "audit.view"  # the audit log (审计管理员)
    DIRECTORY_LOOKUP = "directory.lookup"  # pick people/organizations when managing accounts
    SCHEME_VIEW = "scheme.view"  # read indicator systems
    SCHEME_MANAGE = "scheme.manage"  # design, weight, import, publish indicator systems
    CAMPAIGN_VIEW = "campaign.view"  # see campaigns one takes part in
    CAMPAIGN_MANAGE = "campaign.manage"  # launch and run campaigns (organizers)
    SELF_ASSESS = "campaign.self_assess"  # fill in the own unit's self-assessment
    REVIEW = "campaign.review"  # score assigned targets
    RESULT_APPROVE = (
        "result.approve"  # approve computed results before publication (second account)
    )


ROLE_PERMS: dict[Role, frozenset[Perm]] = {
    Role.SYSTEM_ADMIN: frozenset({Perm.USER_MANAGE, Perm.DIRECTORY_LOOKUP}),
    Role.SECURITY_ADMIN: frozenset({Perm.ROLE_GRANT, Perm.DIRECTORY_LOOKUP}),
    Role.AUDIT_ADMIN: frozenset({Perm.AUDIT_VIEW}),
    Role.ASSESSMENT_ADMIN: frozenset(
        {
            Perm.ORG_VIEW,
            Perm.ORG_MANAGE,
            Perm.ORG_EXPORT,
            Perm.SCHEME_VIEW,
            Perm.SCHEME_MANAGE,
            Perm.CAMPAIGN_VIEW,
            Perm.CAMPAIGN_MANAGE,
        }
    ),
    Role.LEADER: frozenset(
        {Perm.ORG_VIEW, Perm.ORG_EXPORT, Perm.SCHEME_VIEW, Perm.CAMPAIGN_VIEW, Perm.RESULT_APPROVE}
    ),
    Role.SUBMITTER: frozenset(
        {Perm.ORG_VIEW, Perm.SCHEME_VIEW, Perm.CAMPAIGN_VIEW, Perm.SELF_ASSESS}
    ),
    Role.REVIEWER: frozenset({Perm.ORG_VIEW, Perm.SCHEME_VIEW, Perm.CAMPAIGN_VIEW, Perm.REVIEW}),
    Role.MEMBER: frozenset({Perm.ORG_VIEW}),
}

# Which roles' scopes count for a permission on objects (subtree of the grant's organization).
SUBTREE_ROLES = frozenset({Role.ASSESSMENT_ADMIN, Role.LEADER})
UNIT_ROLES = frozenset({Role.SUBMITTER, Role.REVIEWER})


@dataclass
class Access:
    """What one user holds: roles, and for each role the organization paths it covers."""

    roles: set[Role] = field(default_factory=set)
    # role -> list of (path, subtree?) ; subtree=False means the organization itself only.
    scopes: dict[Role, list[tuple[str, bool]]] = field(default_factory=dict)
    own_org_path: str | None = None
    person_id: int | None = None


def access(user: Any) -> Access:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Access()
    cached = getattr(user, "_kaoping_access", None)
    if cached is not None:
        return cached
    acc = Access()
    grants = user.grants.select_related("organization").all()
    for grant in grants:
        role = Role(grant.role)
        acc.roles.add(role)
        org = grant.organization
        if org is not None:
            acc.scopes.setdefault(role, []).append((org.path, role in SUBTREE_ROLES))
    person = user.person if user.person_id else None
    if person is not None:
        acc.person_id = person.pk
        if person.organization_id:
            acc.own_org_path = person.organization.path
            if Role.MEMBER in acc.roles:
                acc.scopes.setdefault(Role.MEMBER, []).append((acc.own_org_path, False))
    user._kaoping_access = acc
    return acc


def roles(user: Any) -> set[Role]:
    return access(user).roles


def has_perm(user: Any, perm: Perm) -> bool:
    return any(perm in ROLE_PERMS[r] for r in access(user).roles)


def has_role(user: Any, role: Role) -> bool:
    return role in access(user).roles


def _paths_for(user: Any, perm: Perm) -> list[tuple[str, bool]]:
    acc = access(user)
    out: list[tuple[str, bool]] = []
    for role in acc.roles:
        if perm in ROLE_PERMS[role]:
            out.extend(acc.scopes.get(role, []))
    return out


def org_scope(user: Any, perm: Perm, *, prefix: str = "") -> Q:
    """A Q over Organization (or over a model reaching it by ``prefix``) for ``perm``."""
    paths = _paths_for(user, perm)
    if not paths:
        return Q(pk__in=[]) if not prefix else Q(**{f"{prefix}pk__in": []})
    q = Q()
    for path, subtree in paths:
        lookup = f"{prefix}path__startswith" if subtree else f"{prefix}path"
        q |= Q(**{lookup: path})
    return q


def visible_organizations(user: Any, perm: Perm = Perm.ORG_VIEW) -> QuerySet[Organization]:
    from kaoping.organizations.models import Organization

    if has_perm(user, Perm.DIRECTORY_LOOKUP) and perm in (Perm.ORG_VIEW, Perm.DIRECTORY_LOOKUP):
        return Organization.objects.all()
    if not has_perm(user, perm):
        return Organization.objects.none()
    return Organization.objects.filter(org_scope(user, perm))


def visible_people(user: Any, perm: Perm = Perm.ORG_VIEW) -> QuerySet[Person]:
    from kaoping.organizations.models import Person

    if has_perm(user, Perm.DIRECTORY_LOOKUP) and perm in (Perm.ORG_VIEW, Perm.DIRECTORY_LOOKUP):
        return Person.objects.all()
    if not has_perm(user, perm):
        return Person.objects.none()
    acc = access(user)
    q = org_scope(user, perm, prefix="organization__")
    if perm == Perm.ORG_VIEW and acc.person_id is not None:
        q |= Q(pk=acc.person_id)
    return Person.objects.filter(q)


def can_manage_org(user: Any, org: Organization) -> bool:
    return has_perm(user, Perm.ORG_MANAGE) and any(
        org.path.startswith(p) if sub else org.path == p
        for p, sub in _paths_for(user, Perm.ORG_MANAGE)
    )


def can_manage_person(user: Any, person: Person) -> bool:
    org = person.organization
    if org is None:
        # A person with no organization can be managed only by an unrestricted organizer
        # (one whose grant covers a root organization).
        return any(p.count("/") == 2 and sub for p, sub in _paths_for(user, Perm.ORG_MANAGE))
    return can_manage_org(user, org)


def get_org_for_user(user: Any, pk: Any) -> tuple[Organization, bool]:
    """The organization if the user may see it (else 404), and whether they may change it."""
    from kaoping.organizations.models import Organization

    try:
        org = visible_organizations(user).get(pk=pk)
    except (ValueError, TypeError, Organization.DoesNotExist) as exc:
        raise Http404 from exc
    return org, can_manage_org(user, org)


def get_person_for_user(user: Any, pk: Any) -> tuple[Person, bool]:
    from kaoping.organizations.models import Person

    try:
        person = visible_people(user).select_related("organization").get(pk=pk)
    except (ValueError, TypeError, Person.DoesNotExist) as exc:
        raise Http404 from exc
    return person, can_manage_person(user, person)


def manageable_roots(user: Any) -> list[str]:
    """Paths of the subtrees the user may manage (for imports and pickers)."""
    return [p for p, sub in _paths_for(user, Perm.ORG_MANAGE) if sub]


# ---- indicator systems --------------------------------------------------------------------


def _scheme_q(user: Any, perm: Perm) -> Q:
    """Schemes owned by an organization in the user's scope, or by one of its ancestors (a
    branch organizer uses the agency's system; reading it is part of being assessed by it)."""
    q = Q(pk__in=[])
    for path, subtree in _paths_for(user, perm):
        q |= Q(owner__path__startswith=path) if subtree else Q(owner__path=path)
        if perm == Perm.SCHEME_VIEW:
            parts = path.strip("/").split("/")
            ancestors = ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts))]
            if ancestors:
                q |= Q(owner__path__in=ancestors)
    return q


def visible_schemes(user: Any) -> QuerySet[Any]:
    from kaoping.indicators.models import Scheme

    if not has_perm(user, Perm.SCHEME_VIEW):
        return Scheme.objects.none()
    return Scheme.objects.filter(_scheme_q(user, Perm.SCHEME_VIEW))


def can_manage_scheme(user: Any, scheme: Any) -> bool:
    return has_perm(user, Perm.SCHEME_MANAGE) and any(
        scheme.owner.path.startswith(p) if sub else scheme.owner.path == p
        for p, sub in _paths_for(user, Perm.SCHEME_MANAGE)
    )


def get_scheme_for_user(user: Any, pk: Any) -> tuple[Any, bool]:
    from kaoping.indicators.models import Scheme

    try:
        scheme = visible_schemes(user).select_related("owner").get(pk=pk)
    except (ValueError, TypeError, Scheme.DoesNotExist) as exc:
        raise Http404 from exc
    return scheme, can_manage_scheme(user, scheme)


def get_version_for_user(user: Any, pk: Any) -> tuple[Any, bool]:
    """A scheme version if its scheme is visible (else 404), and whether the user may edit
    the scheme (a published version stays read-only regardless: see indicators.services)."""
    from kaoping.indicators.models import SchemeVersion

    try:
        version = (
            SchemeVersion.objects.select_related("scheme", "scheme__owner")
            .filter(scheme__in=visible_schemes(user))
            .get(pk=pk)
        )
    except (ValueError, TypeError, SchemeVersion.DoesNotExist) as exc:
        raise Http404 from exc
    return version, can_manage_scheme(user, version.scheme)


# ---- campaigns ----------------------------------------------------------------------------
#
# Who sees which campaign, and which of its targets:
# - 考核管理员: campaigns owned in their subtree (and may run them); campaigns owned above them
#   that have targets in their subtree (read, limited to those targets);
# - 领导: campaigns with targets in their subtree (read, limited to those targets);
# - 单位填报员: campaigns in which their unit is a target (their own target only);
# - 评审员: campaigns in which they are assigned targets (those targets only).


def _target_unit_q(user: Any, perm: Perm, prefix: str = "") -> Q:
    """Targets whose unit (the organization, or the person's organization) is in scope."""
    return org_scope(user, perm, prefix=f"{prefix}organization__") | org_scope(
        user, perm, prefix=f"{prefix}person__organization__"
    )


def visible_campaigns(user: Any) -> QuerySet[Any]:
    from kaoping.campaigns.models import Campaign

    if not has_perm(user, Perm.CAMPAIGN_VIEW):
        return Campaign.objects.none()
    q = Q(pk__in=[])
    if has_perm(user, Perm.CAMPAIGN_MANAGE):
        q |= org_scope(user, Perm.CAMPAIGN_MANAGE, prefix="owner__")
    q |= Q(pk__in=_targets_q_campaign_ids(user))
    if has_perm(user, Perm.REVIEW):
        q |= Q(assignments__reviewer=user)
    return Campaign.objects.filter(q).distinct()


def _targets_q_campaign_ids(user: Any) -> QuerySet[Any]:
    from kaoping.campaigns.models import Target

    return Target.objects.filter(_target_unit_q(user, Perm.CAMPAIGN_VIEW)).values("campaign_id")


def can_manage_campaign(user: Any, campaign: Any) -> bool:
    return has_perm(user, Perm.CAMPAIGN_MANAGE) and any(
        campaign.owner.path.startswith(p) if sub else campaign.owner.path == p
        for p, sub in _paths_for(user, Perm.CAMPAIGN_MANAGE)
    )


def get_campaign_for_user(user: Any, pk: Any) -> tuple[Any, bool]:
    """The campaign if the user takes part in it (else 404), and whether they run it."""
    from kaoping.campaigns.models import Campaign

    try:
        campaign = (
            visible_campaigns(user)
            .select_related("owner", "scheme_version", "scheme_version__scheme")
            .get(pk=pk)
        )
    except (ValueError, TypeError, Campaign.DoesNotExist) as exc:
        raise Http404 from exc
    return campaign, can_manage_campaign(user, campaign)


def visible_targets(user: Any, campaign: Any) -> QuerySet[Any]:
    """The targets of ``campaign`` the user may see (all of them for those who run it)."""
    from kaoping.campaigns.models import Target

    targets = Target.objects.filter(campaign=campaign)
    if can_manage_campaign(user, campaign):
        return targets
    q = _target_unit_q(user, Perm.CAMPAIGN_VIEW)
    if has_perm(user, Perm.REVIEW):
        q |= Q(assignments__reviewer=user)
    return targets.filter(q).distinct()


def get_target_for_user(user: Any, campaign: Any, pk: Any) -> Any:
    from kaoping.campaigns.models import Target

    try:
        return visible_targets(user, campaign).select_related("organization", "person").get(pk=pk)
    except (ValueError, TypeError, Target.DoesNotExist) as exc:
        raise Http404 from exc


def can_self_assess(user: Any, target: Any) -> bool:
    """单位填报员 of the target's own unit (a unit fills in its own form, nobody else's)."""
    unit = target.unit
    return (
        unit is not None
        and has_perm(user, Perm.SELF_ASSESS)
        and any(unit.path == p for p, _ in _paths_for(user, Perm.SELF_ASSESS))
    )


def is_assigned_reviewer(user: Any, target: Any) -> bool:
    return has_perm(user, Perm.REVIEW) and target.assignments.filter(reviewer=user).exists()


def get_appraisal_for_user(user: Any, pk: Any) -> tuple[Any, bool]:
    """A 民主测评 if its campaign is visible to the user (else 404), and whether they run it."""
    from kaoping.ballots.models import Appraisal

    try:
        appraisal = (
            Appraisal.objects.select_related("campaign__owner", "campaign__scheme_version")
            .filter(campaign__in=visible_campaigns(user))
            .get(pk=pk)
        )
    except (ValueError, TypeError, Appraisal.DoesNotExist) as exc:
        raise Http404 from exc
    return appraisal, can_manage_campaign(user, appraisal.campaign)


# ---- results ---------------------------------------------------------------------------------


def can_approve_results(user: Any, campaign: Any) -> bool:
    """审批: a leader whose scope covers the organization that runs the campaign."""
    return has_perm(user, Perm.RESULT_APPROVE) and any(
        campaign.owner.path.startswith(p) if sub else campaign.owner.path == p
        for p, sub in _paths_for(user, Perm.RESULT_APPROVE)
    )


def can_use_results(user: Any, campaign: Any) -> bool:
    """结果运用 (awards list, accountability list, cadre files and their exports): those who run
    the campaign and those who approve its results."""
    return can_manage_campaign(user, campaign) or can_approve_results(user, campaign)


def result_access(user: Any, result_set: Any) -> str:
    """How much of a campaign's results the user sees: ``"all"`` (those who run it, and approvers
    once submitted), ``"subtree"`` (leaders: their subtree, once published), ``"own"`` (a target's
    own unit or person, once published) or ``""`` (nothing)."""
    from kaoping.results.models import ResultStatus

    if result_set is None:
        return ""
    campaign = result_set.campaign
    if can_manage_campaign(user, campaign):
        return "all"
    status = result_set.status
    if can_approve_results(user, campaign) and status != ResultStatus.DRAFT:
        return "all"
    if status not in (ResultStatus.PUBLISHED, ResultStatus.FINAL):
        return ""
    if has_role(user, Role.LEADER):
        return "subtree"
    return "own"


def visible_results(user: Any, result_set: Any) -> QuerySet[Any]:
    """The TargetResults of ``result_set`` the user may see (none before they may see any)."""
    from kaoping.campaigns.models import Target
    from kaoping.results.models import TargetResult

    qs = TargetResult.objects.filter(result_set=result_set)
    level = result_access(user, result_set)
    if level == "all":
        return qs
    if level == "subtree":
        return qs.filter(target__in=Target.objects.filter(_target_unit_q(user, Perm.CAMPAIGN_VIEW)))
    if level == "own":
        return qs.filter(target__in=own_targets(user))
    return qs.none()


def get_result_for_user(user: Any, result_set: Any, target_id: Any) -> Any:
    """One target's result if the user may see it (else 404)."""
    from kaoping.results.models import TargetResult

    try:
        return (
            visible_results(user, result_set)
            .select_related("target", "target__organization", "target__person")
            .get(target_id=target_id)
        )
    except (ValueError, TypeError, TargetResult.DoesNotExist) as exc:
        raise Http404 from exc


# ---- rectification (整改) ------------------------------------------------------------------
#
# - those who run the campaign: every task of it (proposals too), and everything on them;
# - 考核管理员 and 领导: read the confirmed tasks of units in their subtree;
# - the responsible person (and the 督办 leader) and the unit's 单位填报员: read their tasks, and
#   the responsible person and the 单位填报员 report plan, progress and completion.


def _rect_manage_q(user: Any) -> Q:
    if not has_perm(user, Perm.CAMPAIGN_MANAGE):
        return Q(pk__in=[])
    return org_scope(user, Perm.CAMPAIGN_MANAGE, prefix="campaign__owner__")


def visible_rect_tasks(user: Any) -> QuerySet[Any]:
    """The rectification tasks the user may see."""
    from kaoping.rectification.models import CONFIRMED_STATUSES, RectificationTask

    acc = access(user)
    if not acc.roles and acc.person_id is None:
        return RectificationTask.objects.none()
    q = Q(pk__in=[])
    for role in (Role.ASSESSMENT_ADMIN, Role.LEADER):
        for path, subtree in acc.scopes.get(role, []):
            q |= Q(organization__path__startswith=path) if subtree else Q(organization__path=path)
    units = [p for p, _ in _paths_for(user, Perm.SELF_ASSESS)]
    if units:
        q |= Q(organization__path__in=units)
    if acc.person_id is not None:
        q |= Q(responsible_id=acc.person_id) | Q(supervisor_id=acc.person_id)
    return RectificationTask.objects.filter(
        _rect_manage_q(user) | (q & Q(status__in=CONFIRMED_STATUSES))
    )


def can_manage_rect(user: Any, task: Any) -> bool:
    """Confirm, edit, drop, verify and return: those who run the task's campaign."""
    return can_manage_campaign(user, task.campaign)


def can_work_on_rect(user: Any, task: Any) -> bool:
    """Plan, progress and completion: the responsible person, the unit's 单位填报员, and those
    who run the campaign."""
    if can_manage_rect(user, task):
        return True
    acc = access(user)
    if acc.person_id is not None and acc.person_id == task.responsible_id:
        return True
    return has_perm(user, Perm.SELF_ASSESS) and any(
        task.organization.path == p for p, _ in _paths_for(user, Perm.SELF_ASSESS)
    )


def get_rect_task_for_user(user: Any, pk: Any) -> tuple[Any, bool, bool]:
    """A task if the user may see it (else 404), whether they run it, and whether they may
    report on it."""
    from kaoping.rectification.models import RectificationTask

    try:
        task = (
            visible_rect_tasks(user)
            .select_related(
                "campaign__owner", "target", "organization", "responsible", "supervisor"
            )
            .get(pk=pk)
        )
    except (ValueError, TypeError, RectificationTask.DoesNotExist) as exc:
        raise Http404 from exc
    return task, can_manage_rect(user, task), can_work_on_rect(user, task)


def get_result_set_for_user(user: Any, campaign: Any, number: Any) -> tuple[Any, str]:
    """A result set (current or earlier) of ``campaign`` — fetched through
    ``get_campaign_for_user`` — by its number, and how much of the campaign's results the user
    sees now (``result_access`` of the current set); 404 when they see none."""
    from kaoping.results.models import ResultSet

    current = ResultSet.objects.filter(campaign=campaign, is_current=True).first()
    level = result_access(user, current)
    if not level:
        raise Http404
    try:
        rs = ResultSet.objects.select_related("campaign__owner").get(
            campaign=campaign, number=number
        )
    except (ValueError, TypeError, ResultSet.DoesNotExist) as exc:
        raise Http404 from exc
    return rs, level


def may_view_result(user: Any, target_result: Any) -> bool:
    """Whether the user may open this target result (its campaign and its row are visible)."""
    rs = target_result.result_set
    return (
        visible_campaigns(user).filter(pk=rs.campaign_id).exists()
        and visible_results(user, rs).filter(pk=target_result.pk).exists()
    )


def own_result_campaigns(user: Any) -> QuerySet[Any]:
    """Campaigns in which the user's own person is a target and whose current results are
    published or locked (a secretary or cadre sees their own result, whatever their roles)."""
    from kaoping.campaigns.models import Campaign
    from kaoping.results.models import ResultStatus

    person_id = access(user).person_id
    if person_id is None:
        return Campaign.objects.none()
    return Campaign.objects.filter(
        targets__person_id=person_id,
        result_sets__is_current=True,
        result_sets__status__in=(ResultStatus.PUBLISHED, ResultStatus.FINAL),
    ).distinct()


def own_results(user: Any) -> QuerySet[Any]:
    """The published or locked current results of the targets the user answers for (their
    unit's, and their own as a person assessed)."""
    from kaoping.results.models import ResultStatus, TargetResult

    return TargetResult.objects.filter(
        target__in=own_targets(user),
        result_set__is_current=True,
        result_set__status__in=(ResultStatus.PUBLISHED, ResultStatus.FINAL),
    )


# ---- appeals (申诉) ----------------------------------------------------------------------------


def can_appeal(user: Any, target: Any) -> bool:
    """A target's own side: the 单位填报员 of its unit, or for a person target the person."""
    person_id = access(user).person_id
    if target.person_id is not None and person_id is not None and person_id == target.person_id:
        return True
    return can_self_assess(user, target)


def own_targets(user: Any) -> QuerySet[Any]:
    """Every campaign target the user answers for (see ``can_appeal``), across campaigns."""
    from kaoping.campaigns.models import Target

    q = Q(pk__in=[])
    paths = (
        [p for p, _ in _paths_for(user, Perm.SELF_ASSESS)]
        if has_perm(user, Perm.SELF_ASSESS)
        else []
    )
    if paths:
        q |= Q(organization__path__in=paths) | Q(person__organization__path__in=paths)
    person_id = access(user).person_id
    if person_id is not None:
        q |= Q(person_id=person_id)
    return Target.objects.filter(q)


def get_own_target_for_user(user: Any, pk: Any) -> Any:
    """A target the user answers for (else 404)."""
    from kaoping.campaigns.models import Target

    try:
        return (
            own_targets(user)
            .select_related("campaign__owner", "campaign__scheme_version", "organization",
                            "person__organization")
            .get(pk=pk)
        )  # fmt: skip
    except (ValueError, TypeError, Target.DoesNotExist) as exc:
        raise Http404 from exc


def visible_appeals(user: Any) -> QuerySet[Any]:
    """Appeals of campaigns the user runs, and those of the targets the user answers for."""
    from kaoping.results.models import Appeal

    q = Q(target__in=own_targets(user))
    if has_perm(user, Perm.CAMPAIGN_MANAGE):
        q |= org_scope(user, Perm.CAMPAIGN_MANAGE, prefix="campaign__owner__")
    return Appeal.objects.filter(q)


def get_appeal_for_user(user: Any, pk: Any) -> tuple[Any, bool]:
    """An appeal if the user runs its campaign or answers for its target (else 404), and
    whether the user may decide it."""
    from kaoping.results.models import Appeal

    try:
        appeal = (
            visible_appeals(user)
            .select_related("campaign__owner", "campaign__scheme_version", "target__organization",
                            "target__person__organization", "result__result_set")
            .get(pk=pk)
        )  # fmt: skip
    except (ValueError, TypeError, Appeal.DoesNotExist) as exc:
        raise Http404 from exc
    return appeal, can_manage_campaign(user, appeal.campaign)
