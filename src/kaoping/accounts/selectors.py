"""Reads over accounts, role grants, login lockouts and the security settings in force."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from kaoping import policy
from kaoping.organizations.models import Organization, OrgStatus, Person
from kaoping.policy import Perm

from .models import RoleGrant, User

PICKER_LIMIT = 20


def user_list(*, query: str = "") -> QuerySet[User]:
    """All accounts (the administrators manage every account), with their grants."""
    qs = User.objects.select_related("person").prefetch_related(
        Prefetch(
            "grants",
            queryset=RoleGrant.objects.select_related("organization").order_by("role", "id"),
        )
    )
    query = query.strip()
    if query:
        qs = qs.filter(
            Q(username__icontains=query)
            | Q(full_name__icontains=query)
            | Q(person__name__icontains=query)
            | Q(person__staff_no__icontains=query)
        )
    return qs.order_by("username")


def get_user(pk: Any) -> User:
    try:
        return User.objects.select_related("person", "person__organization").get(pk=pk)
    except (User.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def user_grants(user: User) -> QuerySet[RoleGrant]:
    return user.grants.select_related("organization", "granted_by").order_by("role", "id").all()


def get_grant(pk: Any) -> RoleGrant:
    try:
        return RoleGrant.objects.select_related("user", "organization").get(pk=pk)
    except (RoleGrant.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def locked_usernames(usernames: Iterable[str] | None = None) -> set[str]:
    """Usernames that django-axes currently locks out (failures within the cool-off period
    reaching ``AXES_FAILURE_LIMIT``). Mirrors axes' own rule for ``AXES_LOCKOUT_PARAMETERS =
    ["username"]``."""
    qs = AccessAttempt.objects.all()
    cool_off = get_cool_off()
    if cool_off is not None:
        qs = qs.filter(attempt_time__gte=timezone.now() - cool_off)
    if usernames is not None:
        qs = qs.filter(username__in=list(usernames))
    rows = (
        qs.values("username")
        .annotate(failures=Sum("failures_since_start"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
    )
    return {r["username"] for r in rows}


def person_choices(actor: Any, query: str) -> QuerySet[Person]:
    """People the actor may link to an account, matching name, staff number or pinyin
    initials."""
    query = query.strip()
    if not query:
        return Person.objects.none()
    return (
        policy.visible_people(actor, Perm.DIRECTORY_LOOKUP)
        .filter(
            Q(name__icontains=query)
            | Q(staff_no__icontains=query)
            | Q(pinyin_initials__icontains=query.lower())
        )
        .select_related("organization")
        .order_by("name", "staff_no")[:PICKER_LIMIT]
    )


def organization_choices(actor: Any, query: str) -> QuerySet[Organization]:
    """Active organizations the actor may name in a role grant."""
    query = query.strip()
    if not query:
        return Organization.objects.none()
    return (
        policy.visible_organizations(actor, Perm.DIRECTORY_LOOKUP)
        .filter(status=OrgStatus.ACTIVE)
        .filter(
            Q(name__icontains=query)
            | Q(code__icontains=query)
            | Q(pinyin_initials__icontains=query.lower())
        )
        .order_by("path")[:PICKER_LIMIT]
    )


@dataclass(frozen=True)
class SecuritySetting:
    label: str
    value: str
    source: str  # the setting or environment variable it comes from


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds % 3600 == 0 and seconds >= 3600:
        return f"{seconds // 3600} 小时"
    if seconds % 60 == 0:
        return f"{seconds // 60} 分钟"
    return f"{seconds} 秒"


def _password_rules() -> list[str]:
    rules: list[str] = []
    for item in settings.AUTH_PASSWORD_VALIDATORS:
        name = item["NAME"].rsplit(".", 1)[-1]
        options = item.get("OPTIONS", {})
        if name == "MinimumLengthValidator":
            rules.append(f"至少 {options.get('min_length', 8)} 位")
        elif name == "UserAttributeSimilarityValidator":
            rules.append("不能与用户名、姓名过于相似")
        elif name == "CommonPasswordValidator":
            rules.append("不能是常见密码")
        elif name == "NumericPasswordValidator":
            rules.append("不能是纯数字")
        else:
            rules.append(name)
    return rules


def security_settings() -> list[SecuritySetting]:
    """The security settings in force, read from the settings (set by the environment)."""
    cool_off = get_cool_off()
    rows = [
        SecuritySetting(
            "登录失败锁定阈值",
            f"连续失败 {settings.AXES_FAILURE_LIMIT} 次后锁定账号",
            "AXES_FAILURE_LIMIT（环境变量 LOGIN_FAILURE_LIMIT）",
        ),
        SecuritySetting(
            "锁定时长",
            _duration(cool_off.total_seconds()) if cool_off is not None else "直至安全管理员解除",
            "AXES_COOLOFF_TIME（环境变量 LOGIN_LOCK_HOURS）",
        ),
        SecuritySetting(
            "锁定依据",
            "按用户名锁定"
            if list(settings.AXES_LOCKOUT_PARAMETERS) == ["username"]
            else str(settings.AXES_LOCKOUT_PARAMETERS),
            "AXES_LOCKOUT_PARAMETERS",
        ),
        SecuritySetting(
            "会话空闲超时",
            _duration(settings.SESSION_COOKIE_AGE)
            + ("，每次访问重新计时" if settings.SESSION_SAVE_EVERY_REQUEST else ""),
            "SESSION_COOKIE_AGE（环境变量 SESSION_IDLE_SECONDS）",
        ),
        SecuritySetting(
            "关闭浏览器后会话失效",
            "是" if settings.SESSION_EXPIRE_AT_BROWSER_CLOSE else "否",
            "SESSION_EXPIRE_AT_BROWSER_CLOSE",
        ),
        SecuritySetting(
            "仅通过 HTTPS 发送会话 Cookie",
            "是" if settings.SESSION_COOKIE_SECURE else "否",
            "SESSION_COOKIE_SECURE（环境变量 SECURE_COOKIES）",
        ),
        SecuritySetting("密码规则", "；".join(_password_rules()), "AUTH_PASSWORD_VALIDATORS"),
        SecuritySetting(
            "新账号与重置密码",
            "系统生成随机初始密码，首次登录须修改",
            "—",
        ),
    ]
    return rows
