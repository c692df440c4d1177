"""``kaoping demo``: build the demo agency into an empty database; ``--logins``: list its logins."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from kaoping.core.demo import (
    DEMO_PASSWORD,
    DemoError,
    DemoLogin,
    build_demo,
    demo_logins,
    existing_data,
    steps,
)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def login_lines(logins: list[DemoLogin]) -> list[str]:
    rows = [["用户名", "密码", "角色", "范围", "姓名"]]
    rows += [[x.username, x.password, x.roles, x.scope, x.full_name] for x in logins]
    return _table(rows)


class Command(BaseCommand):
    help = "在新数据库中生成演示数据（虚构机关的党组织、人员和每个角色一个演示账号）；--logins 只列出演示账号。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--logins", action="store_true", help="只列出演示账号（用户名、密码、角色、范围）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["logins"]:
            self.print_logins()
            return
        verbosity = options["verbosity"]
        reason = existing_data()  # checked again inside the build's transaction
        if reason:
            raise self.refusal(reason)
        with tqdm(
            total=len(steps()),
            desc="生成演示数据",
            unit="步",
            disable=None if verbosity >= 1 else True,
        ) as bar:

            def progress(done: int, total: int, label: str) -> None:
                bar.total = total
                bar.n = done
                bar.set_postfix_str(label)
                bar.refresh()

            try:
                summary = build_demo(progress=progress)
            except DemoError as exc:
                raise self.refusal(str(exc)) from exc
        if verbosity < 1:
            return
        self.stdout.write(self.style.SUCCESS(f"演示数据已生成（用时 {summary.seconds:.1f} 秒）："))
        for line in _table([["项目", "数量"]] + [[k, str(v)] for k, v in summary.counts.items()]):
            self.stdout.write("  " + line)
        self.stdout.write("")
        self.write_logins(summary.logins)

    def refusal(self, reason: str) -> CommandError:
        return CommandError(
            f"{reason.rstrip('。')}，演示数据只能装入新数据库，未做任何修改。"
            "需要演示数据时请使用新的数据库（例如删除 var/kaoping.sqlite3 后重新运行 make run）。"
        )

    def print_logins(self) -> None:
        logins = demo_logins()
        if not logins:
            self.stdout.write("当前数据库没有演示账号。")
            return
        self.write_logins(logins)

    def write_logins(self, logins: list[DemoLogin]) -> None:
        self.stdout.write(f"演示账号（仅用于演示数据，共用密码 {DEMO_PASSWORD}）：")
        for line in login_lines(logins):
            self.stdout.write("  " + line)
