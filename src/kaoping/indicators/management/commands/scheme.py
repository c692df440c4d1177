"""``kaoping scheme import FILE --name NAME [--owner ORGCODE]``, ``kaoping scheme export NAME FILE
[--version N]``, ``kaoping scheme library`` and ``kaoping scheme install KEY --owner ORGCODE``.

Formats by extension: .xlsx (the 考核评分细则 layout) or .json (``kaoping.scheme/1``). Importing
under the name of an existing scheme adds a new draft version to it. Errors are listed with their
row and column; nothing is written then and the command exits with code 1.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kaoping.indicators.library import LibraryError, entries, install_library_scheme
from kaoping.indicators.models import Scheme
from kaoping.indicators.scheme_io import export_version, format_of, import_scheme
from kaoping.jobs.registry import Progress
from kaoping.organizations.management.commands.org import _Bar, _table
from kaoping.organizations.models import Organization


class Command(BaseCommand):
    help = "指标体系的导入、导出（.xlsx 考核评分细则或 .json）与内置指标库"

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="导入：先检查全部行，无误才写入")
        imp.add_argument("file", help=".xlsx 或 .json 文件")
        imp.add_argument("--name", required=True, help="指标体系名称；已有同名体系时导入为其新草稿")
        imp.add_argument("--owner", help="新体系所属党组织的编码（默认唯一的机关党委）")
        imp.add_argument("--dry-run", action="store_true", help="只检查，不写入")
        exp = sub.add_parser("export", help="导出某个版本（默认最新版本）")
        exp.add_argument("name", help="指标体系名称")
        exp.add_argument("file", help="要写入的 .xlsx 或 .json 文件")
        exp.add_argument("--version", type=int, dest="number", help="版本号")
        sub.add_parser("library", help="列出内置指标库")
        ins = sub.add_parser("install", help="从指标库新建指标体系（草稿）")
        ins.add_argument("key", help="指标库条目，见 kaoping scheme library")
        ins.add_argument("--owner", help="所属党组织的编码（默认唯一的机关党委）")
        ins.add_argument("--name", default="", help="新体系名称（默认条目名称）")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "library":
            self._library()
        elif action == "install":
            self._install(options)
        elif action == "export":
            self._export(options)
        else:
            self._import(options)

    def _owner(self, code: str | None) -> Organization:
        if code:
            try:
                return Organization.objects.get(code=code)
            except Organization.DoesNotExist as exc:
                raise CommandError(f"没有编码为“{code}”的党组织") from exc
        roots = list(Organization.objects.filter(parent__isnull=True)[:2])
        if len(roots) != 1:
            raise CommandError("请用 --owner 指定所属党组织的编码")
        return roots[0]

    def _import(self, options: dict[str, Any]) -> None:
        path, name = options["file"], options["name"].strip()
        if not format_of(path):
            raise CommandError("只能导入 .xlsx 或 .json 文件")
        scheme = Scheme.objects.filter(name=name).first()
        owner = None if scheme else self._owner(options["owner"])
        bar = _Bar(sys.stderr)
        try:
            with open(path, "rb") as fh:
                report = import_scheme(
                    actor=None, source=fh, filename=path, owner=owner, scheme=scheme, name=name,
                    dry_run=options["dry_run"], progress=Progress(bar, every=100),
                )  # fmt: skip
        except OSError as exc:
            raise CommandError(f"无法打开文件：{exc.strerror or exc}") from exc
        finally:
            bar.close()
        if report.warnings:
            self.stdout.write("提醒：")
            self.stdout.write(_table(self._rows(report.warnings)))
        if not report.ok:
            self.stdout.write(_table(self._rows(report.errors)))
            raise CommandError(f"发现 {report.error_total} 个问题，未写入任何数据")
        if options["dry_run"]:
            self.stdout.write(self.style.SUCCESS(f"检查通过（未写入）：{report.indicators} 个指标"))
            return
        v = report.version
        assert v is not None
        what = "新草稿" if scheme else "新指标体系"
        self.stdout.write(
            self.style.SUCCESS(
                f"已导入为{what}“{v.scheme.name}”第 {v.number} 版：{report.indicators} 个指标"
            )
        )

    @staticmethod
    def _rows(items: list[Any]) -> list[list[str]]:
        rows = [["工作表", "行", "列", "问题"]]
        rows += [[e.sheet or "—", str(e.row or "—"), e.column or "—", e.message] for e in items]
        return rows

    def _export(self, options: dict[str, Any]) -> None:
        path = options["file"]
        fmt = format_of(path)
        if not fmt:
            raise CommandError("导出文件的扩展名应为 .xlsx 或 .json")
        scheme = Scheme.objects.filter(name=options["name"]).first()
        if scheme is None:
            raise CommandError(f"没有名为“{options['name']}”的指标体系")
        versions = scheme.versions.order_by("-number")
        if options["number"] is not None:
            versions = versions.filter(number=options["number"])
        version = versions.first()
        if version is None:
            raise CommandError(f"“{scheme.name}”没有第 {options['number']} 版")
        data = export_version(actor=None, version=version, fmt=fmt)
        try:
            with open(path, "wb") as fh:
                fh.write(data)
        except OSError as exc:
            raise CommandError(f"无法写入文件：{exc.strerror or exc}") from exc
        count = version.indicators.count()
        self.stdout.write(
            self.style.SUCCESS(f"已导出“{scheme.name}”第 {version.number} 版：{count} 个指标")
        )

    def _library(self) -> None:
        rows = [["编号", "名称", "考核对象", "指标", "末级指标"]]
        rows += [
            [e.key, e.name, e.target_label, str(e.indicators), str(e.leaves)] for e in entries()
        ]
        self.stdout.write(_table(rows))

    def _install(self, options: dict[str, Any]) -> None:
        owner = self._owner(options["owner"])
        try:
            version = install_library_scheme(
                actor=None, owner=owner, key=options["key"], name=options["name"].strip()
            )
        except LibraryError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"已从指标库新建“{version.scheme.name}”第 {version.number} 版（草稿），"
                f"所属：{owner.name}"
            )
        )
