"""``kaoping createadmin``: create an administrator account on a fresh install.

A production install has no account and no default password. The installer creates the three
separated administrators (三员分立), one account each:

    kaoping createadmin                            # 系统管理员 (asks username, name, password)
    kaoping createadmin --role security_admin      # 安全管理员
    kaoping createadmin --role audit_admin         # 审计管理员

Scripted installs pass ``--username`` and ``--full-name`` and put the password in the
environment variable ``KAOPING_ADMIN_PASSWORD`` (never on the command line, where ``ps`` and the
shell history would show it)::

    KAOPING_ADMIN_PASSWORD='...' kaoping createadmin --username sysadmin --full-name 张三

The password must satisfy the password rules (AUTH_PASSWORD_VALIDATORS). The command refuses an
existing username. Account and role grant are written in one transaction and audited.
"""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from kaoping.accounts import services
from kaoping.accounts.models import SEPARATED_ROLES, Role, User

PASSWORD_ENV = "KAOPING_ADMIN_PASSWORD"
ROLE_CHOICES = [Role.SYSTEM_ADMIN.value, Role.SECURITY_ADMIN.value, Role.AUDIT_ADMIN.value]


class Command(BaseCommand):
    help = (
        "创建管理员账号（默认系统管理员）。三员分立：系统管理员、安全管理员、审计管理员须为三个"
        f"不同账号，用 --role 分别创建。脚本安装：--username、--full-name，密码取自环境变量 "
        f"{PASSWORD_ENV}。"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", help="用户名")
        parser.add_argument("--full-name", dest="full_name", help="姓名")
        parser.add_argument(
            "--role",
            choices=ROLE_CHOICES,
            default=Role.SYSTEM_ADMIN.value,
            help="system_admin（系统管理员，默认）、security_admin（安全管理员）或 "
            "audit_admin（审计管理员）",
        )
        parser.add_argument(
            "--no-input",
            "--noinput",
            action="store_false",
            dest="interactive",
            help=f"不询问：须给出 --username、--full-name 和环境变量 {PASSWORD_ENV}",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        role = Role(options["role"])
        interactive = options["interactive"]
        env_password = os.environ.get(PASSWORD_ENV)
        username = (options.get("username") or "").strip()
        full_name = (options.get("full_name") or "").strip()

        if not interactive or env_password:
            if not (username and full_name and env_password):
                raise CommandError(
                    f"非交互方式须同时给出 --username、--full-name 和环境变量 {PASSWORD_ENV}"
                )
            self._check_username(username)
            password = env_password
            self._validate_password(password, username, full_name)
        else:
            self.stdout.write(f"创建{role.label}账号。")
            username = username or self._ask("用户名")
            self._check_username(username)
            full_name = full_name or self._ask("姓名")
            password = self._ask_password(username, full_name)

        try:
            with transaction.atomic():
                user, _ = services.create_user(
                    actor=None,
                    username=username,
                    full_name=full_name,
                    password=password,
                    must_change_password=False,
                )
                services.grant_role(actor=None, user=user, role=role)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc

        self.stdout.write(self.style.SUCCESS(f"已创建{role.label}账号“{username}”。"))
        missing = [
            r
            for r in sorted(SEPARATED_ROLES, key=ROLE_CHOICES.index)
            if not User.objects.filter(grants__role=r, is_active=True).exists()
        ]
        self.stdout.write(
            "三员分立：系统管理员、安全管理员、审计管理员须由三个不同的账号担任，同一账号不能兼任。"
        )
        for r in missing:
            self.stdout.write(f"  尚无{r.label}，请运行：kaoping createadmin --role {r.value}")

    def _check_username(self, username: str) -> None:
        if User.objects.filter(username__iexact=username).exists():
            raise CommandError(f"用户名“{username}”已存在，未做任何修改。")

    def _ask(self, label: str) -> str:
        while True:
            try:
                value = input(f"{label}: ").strip()
            except (EOFError, KeyboardInterrupt) as exc:
                raise CommandError("已取消，未创建账号。") from exc
            if value:
                return value
            self.stderr.write(f"{label}不能为空。")

    def _validate_password(self, password: str, username: str, full_name: str) -> None:
        try:
            validate_password(password, User(username=username, full_name=full_name))
        except ValidationError as exc:
            raise CommandError("密码不符合要求：" + "；".join(exc.messages)) from exc

    def _ask_password(self, username: str, full_name: str) -> str:
        while True:
            try:
                password = getpass.getpass("密码: ")
                again = getpass.getpass("再次输入密码: ")
            except (EOFError, KeyboardInterrupt) as exc:
                raise CommandError("已取消，未创建账号。") from exc
            if password != again:
                self.stderr.write("两次输入的密码不一致，请重新输入。")
                continue
            try:
                validate_password(password, User(username=username, full_name=full_name))
            except ValidationError as exc:
                self.stderr.write("密码不符合要求：" + "；".join(exc.messages))
                continue
            return password
