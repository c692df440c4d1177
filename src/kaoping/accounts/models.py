"""Accounts and role grants. Which grant allows what is decided in ``kaoping.policy``."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    SYSTEM_ADMIN = "system_admin", "系统管理员"
    SECURITY_ADMIN = "security_admin", "安全管理员"
    AUDIT_ADMIN = "audit_admin", "审计管理员"
    ASSESSMENT_ADMIN = "assessment_admin", "考核管理员"
    REVIEWER = "reviewer", "评审员"
    SUBMITTER = "submitter", "单位填报员"
    LEADER = "leader", "领导"
    MEMBER = "member", "党员"


# 三员分立: no account holds two of these.
SEPARATED_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})
# Roles whose grant names the organization (subtree or unit) it applies to.
SCOPED_ROLES = frozenset({Role.ASSESSMENT_ADMIN, Role.SUBMITTER, Role.LEADER, Role.REVIEWER})


class User(AbstractUser):
    full_name = models.CharField("姓名", max_length=50, blank=True)
    person = models.OneToOneField(
        "organizations.Person",
        verbose_name="对应人员",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="user",
    )
    must_change_password = models.BooleanField("下次登录须修改密码", default=False)

    class Meta:
        verbose_name = "账号"

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


class RoleGrant(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants")
    role = models.CharField("角色", max_length=20, choices=Role.choices)
    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name="适用组织",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="role_grants",
    )
    granted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "角色授权"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "organization"], name="unique_role_grant"
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(organization__isnull=True),
                name="unique_unscoped_role_grant",
            ),
        ]

    def __str__(self) -> str:
        scope = f"（{self.organization}）" if self.organization_id else ""
        return f"{self.user} {self.get_role_display()}{scope}"
