"""``kaoping org init CODE NAME``, ``kaoping org import FILE.xlsx`` and ``kaoping org export FILE.xlsx``
(with a progress bar)."""

from __future__ import annotations

import sys
import unicodedata
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from kaoping import policy
from kaoping.jobs.registry import Progress
from kaoping.organizations.exporting import export_workbook
from kaoping.organizations.importing import import_workbook
from kaoping.organizations.models import OrgType
from kaoping.organizations.services import create_organization

SHEETS = (("orgs", "党组织"), ("people", "人员"))


class _Bar:
    """A tqdm bar per stage, fed by ``Progress`` callbacks."""

    def __init__(self, stream: Any) -> None:
        self.stream, self.stage, self.bar = stream, None, None

    def __call__(self, done: int, total: int, stage: str) -> None:
        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(total=total or None, desc=stage, unit="行", file=self.stream,
                            dynamic_ncols=True, leave=False, disable=None)  # fmt: skip
        assert self.bar is not None
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(rows: list[list[str]]) -> str:
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for r in rows:
        cells = [c + " " * (w - _width(c)) for c, w in zip(r, widths, strict=False)]
        lines.append("  ".join([*cells, r[-1]]))
    return "\n".join(lines)


class Command(BaseCommand):
    help = "党组织和人员的 Excel 导入与导出（与网页上的导入导出相同的格式和规则）"

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="从 Excel 导入：先检查全部行，无误才写入")
        imp.add_argument("file", help=".xlsx 文件")
        imp.add_argument("--dry-run", action="store_true", help="只检查，不写入")
        imp.add_argument("--as", dest="username", help="以该账号的身份与权限范围导入")
        init = sub.add_parser("init", help="安装后建立最高层级的机关党委（一次）")
        init.add_argument("code", help="组织编码，如 JG")
        init.add_argument("name", help="组织名称，如 某某机关党委")
        init.add_argument("--business-department", default="", help="服务的业务部门")
        exp = sub.add_parser("export", help="导出到 Excel（可再导入）")
        exp.add_argument("file", help="要写入的 .xlsx 文件")
        exp.add_argument("--as", dest="username", help="以该账号的身份与权限范围导出")

    def _actor(self, username: str | None, perm: policy.Perm) -> Any:
        if not username:
            return None  # the system: everything, audited as 命令行
        try:
            user = get_user_model().objects.get(username=username, is_active=True)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"账号“{username}”不存在或已停用") from exc
        if not policy.has_perm(user, perm):
            raise CommandError(f"账号“{username}”没有此操作的权限")
        return user

    def handle(self, *args: Any, **options: Any) -> None:
        bar = _Bar(sys.stderr)
        progress = Progress(bar, every=500)
        try:
            if options["action"] == "init":
                self._init(options)
            elif options["action"] == "import":
                self._import(options, progress)
            else:
                self._export(options, progress)
        finally:
            bar.close()

    def _init(self, options: dict[str, Any]) -> None:
        try:
            org = create_organization(
                actor=None,
                code=options["code"],
                name=options["name"],
                org_type=OrgType.AGENCY_COMMITTEE,
                parent=None,
                business_department=options["business_department"],
            )
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"已建立“{org.name}”（{org.code}）"))

    def _import(self, options: dict[str, Any], progress: Progress) -> None:
        actor = self._actor(options["username"], policy.Perm.ORG_MANAGE)
        try:
            with open(options["file"], "rb") as fh:
                report = import_workbook(actor=actor, source=fh, filename=options["file"],
                                         dry_run=options["dry_run"], progress=progress)  # fmt: skip
        except OSError as exc:
            raise CommandError(f"无法打开文件：{exc.strerror or exc}") from exc
        if not report.ok:
            rows = [["工作表", "行", "列", "问题"]]
            rows += [[e.sheet or "—", str(e.row or "—"), e.column or "—", e.message]
                     for e in report.errors]  # fmt: skip
            self.stdout.write(_table(rows))
            more = (
                f"（仅列出前 {len(report.errors)} 个）"
                if report.error_total > len(report.errors)
                else ""
            )
            raise CommandError(f"发现 {report.error_total} 个问题{more}，未写入任何数据")
        verb = "检查通过（只检查，未写入）" if report.dry_run else "导入完成"
        parts = [
            f"{label} 新增 {c['created']}、修改 {c['updated']}、未变 {c['unchanged']}"
            for key, label in SHEETS
            for c in [report.counts[key]]
        ]
        self.stdout.write(self.style.SUCCESS(f"{verb}：{'；'.join(parts)}"))

    def _export(self, options: dict[str, Any], progress: Progress) -> None:
        actor = self._actor(options["username"], policy.Perm.ORG_EXPORT)
        try:
            counts = export_workbook(actor=actor, target=options["file"], progress=progress)
        except OSError as exc:
            raise CommandError(f"无法写入文件：{exc.strerror or exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(f"已导出党组织 {counts['orgs']} 个、人员 {counts['people']} 人")
        )
