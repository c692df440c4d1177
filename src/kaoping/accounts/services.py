"""Writes to accounts and role grants.

Each function checks its rules, writes in one transaction and leaves a typed audit entry with
the fields before and after. Passwords never reach the audit log. ``actor=None`` means the
system itself (the ``kaoping createadmin`` command, demo data); any other actor must hold the
permission the change needs, even if the view has checked it already.

Rules for role grants:

- 三员分立: an account holding one of 系统管理员 / 安全管理员 / 审计管理员 cannot get another of
  the three. The account's row is locked (``SELECT ... FOR UPDATE``) while the grants are checked,
  so two concurrent grants cannot both pass.
- Scoped roles (考核管理员, 评审员, 单位填报员, 领导) name an active organization; the others
  (the three administrators and 党员) take none.
- 单位填报员 fills in for one unit: the grant names one organization of any type (党支部 and
  临时党支部, but also 党总支 or the 机关党委 itself, which are assessed too) and covers that
  organization only, not its subtree; an account is 单位填报员 of one organization at most.
- Nobody grants roles to, or revokes roles from, their own account.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from axes.utils import reset as axes_reset
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from kaoping import policy
from kaoping.audit.actions import Action
from kaoping.audit.services import diff, log_action
from kaoping.organizations.models import Organization, OrgStatus, Person
from kaoping.policy import Perm

from .models import SCOPED_ROLES, SEPARATED_ROLES, Role, RoleGrant, User

SYSTEM_ACTOR_NAME = "系统"
# Letters and digits without look-alikes (0/O, 1/l/I), so an initial password can be read aloud.
_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")
_SYMBOLS = "#%+-=@"


def generate_password(length: int = 14) -> str:
    """A random password with upper and lower case letters, digits and a symbol."""
    while True:
        chars = [secrets.choice(_ALPHABET) for _ in range(length - 1)]
        chars.insert(secrets.randbelow(length), secrets.choice(_SYMBOLS))
        pw = "".join(chars)
        if (
            any(c.islower() for c in pw)
            and any(c.isupper() for c in pw)
            and any(c.isdigit() for c in pw)
        ):
            return pw


def user_snapshot(user: User) -> dict[str, Any]:
    """The audited fields of an account, by their Chinese labels (never the password)."""
    return {
        "用户名": user.username,
        "姓名": user.full_name,
        "对应人员": str(user.person) if user.person_id else None,
        "状态": "正常" if user.is_active else "停用",
        "下次登录须修改密码": "是" if user.must_change_password else "否",
    }


def _require(actor: Any, perm: Perm) -> None:
    if actor is not None and not policy.has_perm(actor, perm):
        raise PermissionDenied


def _log(action: Action, *, actor: Any, **kwargs: Any) -> None:
    if actor is None:
        kwargs.setdefault("actor_name", SYSTEM_ACTOR_NAME)
    log_action(action, actor=actor, **kwargs)


def _forget_access(user: User) -> None:
    if hasattr(user, "_kaoping_access"):
        del user._kaoping_access


def _check_person(actor: Any, person: Person | None, user: User | None) -> None:
    if person is None:
        return
    if actor is not None and not policy.visible_people(actor).filter(pk=person.pk).exists():
        raise ValidationError({"person": "无权关联该人员"})
    taken = User.objects.filter(person=person)
    if user is not None and user.pk is not None:
        taken = taken.exclude(pk=user.pk)
    other = taken.first()
    if other is not None:
        raise ValidationError({"person": f"该人员已关联账号“{other.username}”"})


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc


@transaction.atomic
def create_user(
    *,
    actor: Any,
    username: str,
    full_name: str,
    person: Person | None = None,
    password: str | None = None,
    must_change_password: bool = True,
) -> tuple[User, str]:
    """Create an account with no roles. Returns the account and its initial password.

    Without ``password`` a strong random one is generated. The account must change its password
    at first login (``must_change_password``), unless the caller typed the password itself (the
    ``createadmin`` command passes ``must_change_password=False``).
    """
    _require(actor, Perm.USER_MANAGE)
    username = (username or "").strip()
    full_name = (full_name or "").strip()
    if not username:
        raise ValidationError({"username": "请填写用户名"})
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError as exc:
        raise ValidationError({"username": "用户名只能包含字母、数字和 @ . + - _ 字符"}) from exc
    if len(username) > 150:
        raise ValidationError({"username": "用户名最多 150 个字符"})
    if not full_name:
        raise ValidationError({"full_name": "请填写姓名"})
    if len(full_name) > 50:
        raise ValidationError({"full_name": "姓名最多 50 个字符"})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": f"用户名“{username}”已存在"})
    user = User(username=username, full_name=full_name, person=person)
    _check_person(actor, person, user)
    if password:
        _check_password(password, user)
    else:
        password = generate_password()
    user.set_password(password)
    user.must_change_password = must_change_password
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # a concurrent create of the same username or person
        raise ValidationError("用户名或人员已被其他账号占用，请刷新后重试") from exc
    _log(
        Action.USER_CREATE,
        actor=actor,
        obj=user,
        changes=diff({}, user_snapshot(user)),
    )
    return user, password


@transaction.atomic
def update_user(*, actor: Any, user: User, full_name: str | None = None, person: Any = ...) -> User:
    """Change the name or the linked person (``person=None`` unlinks). The username is fixed."""
    _require(actor, Perm.USER_MANAGE)
    user = _lock_user(user)
    before = user_snapshot(user)
    if full_name is not None:
        full_name = full_name.strip()
        if not full_name:
            raise ValidationError({"full_name": "请填写姓名"})
        if len(full_name) > 50:
            raise ValidationError({"full_name": "姓名最多 50 个字符"})
        user.full_name = full_name
    if person is not ...:
        if person is not None and person.pk != user.person_id:
            _check_person(actor, person, user)
        user.person = person
    changes = diff(before, user_snapshot(user))
    if changes:
        user.save(update_fields=["full_name", "person"])
        _forget_access(user)
        _log(Action.USER_UPDATE, actor=actor, obj=user, changes=changes)
    return user


@transaction.atomic
def set_active(*, actor: Any, user: User, active: bool) -> User:
    """Disable or enable an account. Accounts are never deleted: the audit log refers to them.

    A disabled account cannot log in, and its open sessions end at their next request.
    """
    _require(actor, Perm.USER_MANAGE)
    if actor is not None and actor.pk == user.pk and not active:
        raise ValidationError("不能停用自己的账号")
    user = _lock_user(user)
    if user.is_active == active:
        return user
    before = user_snapshot(user)
    user.is_active = active
    user.save(update_fields=["is_active"])
    _forget_access(user)
    _log(
        Action.USER_ENABLE if active else Action.USER_DISABLE,
        actor=actor,
        obj=user,
        changes=diff(before, user_snapshot(user)),
    )
    return user


@transaction.atomic
def reset_password(*, actor: Any, user: User) -> str:
    """Give the account a new random password, to be changed at next login. Open sessions of
    the account end (the session hash no longer matches)."""
    _require(actor, Perm.USER_MANAGE)
    if actor is not None and actor.pk == user.pk:
        raise ValidationError("不能重置自己的密码，请使用“修改密码”")
    user = _lock_user(user)
    before = user_snapshot(user)
    password = generate_password()
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    _log(
        Action.USER_RESET_PASSWORD,
        actor=actor,
        obj=user,
        changes=diff(before, user_snapshot(user)),
    )
    return password


@transaction.atomic
def unlock(*, actor: Any, username: str) -> int:
    """Lift a login lockout (django-axes) on ``username``. Returns how many failure records were
    cleared (0 if the account was not locked)."""
    _require(actor, Perm.ROLE_GRANT)
    from .selectors import locked_usernames

    was_locked = username in locked_usernames([username])
    count = axes_reset(username=username)
    user = User.objects.filter(username=username).first()
    _log(
        Action.USER_UNLOCK,
        actor=actor,
        obj=user,
        object_type="accounts.user",
        object_repr=username,
        changes={"锁定": [was_locked, False]} if was_locked else {},
        data={"cleared_attempts": count},
    )
    return count


def _lock_user(user: User) -> User:
    """The account's row, locked until the transaction ends (no-op lock on SQLite, where
    ``transaction_mode=IMMEDIATE`` already serializes writers). The one place accounts lock."""
    return User.objects.select_for_update().get(pk=user.pk)


def _grant_label(role: Role, organization: Organization | None) -> str:
    return f"{role.label}（{organization.name}）" if organization is not None else role.label


@transaction.atomic
def grant_role(
    *, actor: Any, user: User, role: Role | str, organization: Organization | None = None
) -> RoleGrant:
    _require(actor, Perm.ROLE_GRANT)
    try:
        role = Role(role)
    except ValueError as exc:
        raise ValidationError({"role": "未知的角色"}) from exc
    if actor is not None and actor.pk == user.pk:
        raise ValidationError("不能给自己的账号授予角色，请由另一位安全管理员操作")
    if role in SCOPED_ROLES:
        if organization is None:
            raise ValidationError({"organization": f"授予“{role.label}”须指定适用的党组织"})
        if organization.status != OrgStatus.ACTIVE:
            raise ValidationError({"organization": f"党组织“{organization.name}”已撤销"})
        if (
            actor is not None
            and not policy.visible_organizations(actor, Perm.DIRECTORY_LOOKUP)
            .filter(pk=organization.pk)
            .exists()
        ):
            raise ValidationError({"organization": "无权在该党组织授予角色"})
    elif organization is not None:
        raise ValidationError({"organization": f"“{role.label}”不限定党组织，请不要选择党组织"})

    locked = _lock_user(user)
    if not locked.is_active:
        raise ValidationError("该账号已停用，不能授予角色")
    held = {Role(r) for r in locked.grants.values_list("role", flat=True)}
    if role in SEPARATED_ROLES:
        others = sorted((held & SEPARATED_ROLES) - {role}, key=lambda r: r.label)
        if others:
            raise ValidationError(
                f"三员分立：该账号已是{'、'.join(r.label for r in others)}，"
                f"不能再授予{role.label}。系统管理员、安全管理员、审计管理员须由不同账号担任。"
            )
    if role == Role.SUBMITTER:
        existing = locked.grants.filter(role=Role.SUBMITTER).select_related("organization").first()
        if existing is not None and existing.organization_id != organization.pk:
            raise ValidationError(
                f"该账号已是“{existing.organization.name}”的单位填报员；"
                "一个账号只能为一个党组织填报，请先收回原授权"
            )
    if locked.grants.filter(role=role, organization=organization).exists():
        raise ValidationError(f"该账号已拥有“{_grant_label(role, organization)}”")
    try:
        with transaction.atomic():
            grant = RoleGrant.objects.create(
                user=locked,
                role=role,
                organization=organization,
                granted_by=actor if actor is not None else None,
            )
    except IntegrityError as exc:
        raise ValidationError(f"该账号已拥有“{_grant_label(role, organization)}”") from exc
    _forget_access(user)
    _log(
        Action.ROLE_GRANT,
        actor=actor,
        obj=locked,
        changes={"角色": [None, _grant_label(role, organization)]},
        data={
            "grant_id": grant.pk,
            "role": role.value,
            "organization_id": organization.pk if organization else None,
        },
    )
    return grant


@transaction.atomic
def revoke_role(*, actor: Any, grant: RoleGrant) -> None:
    _require(actor, Perm.ROLE_GRANT)
    if actor is not None and actor.pk == grant.user_id:
        raise ValidationError("不能收回自己账号的角色，请由另一位安全管理员操作")
    user = _lock_user(grant.user)
    grant = RoleGrant.objects.select_related("organization").get(pk=grant.pk, user=user)
    role = Role(grant.role)
    label = _grant_label(role, grant.organization)
    data = {
        "grant_id": grant.pk,
        "role": role.value,
        "organization_id": grant.organization_id,
    }
    grant.delete()
    _forget_access(user)
    _log(Action.ROLE_REVOKE, actor=actor, obj=user, changes={"角色": [label, None]}, data=data)
