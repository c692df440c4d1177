"""``kaoping compute CAMPAIGN [--reason …] [--json]``: compute and store a campaign's results,
with progress on the terminal (CAMPAIGN: the id or the exact name)."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from kaoping.campaigns.management.commands.campaign import _find
from kaoping.jobs.registry import Progress


class Command(BaseCommand):
    help = "计算并保存考核活动的结果"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("campaign", help="活动编号或完整名称")
        parser.add_argument("--reason", default="", help="计算原因（记入结果和审计日志）")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出摘要")

    def handle(self, *args: Any, **options: Any) -> None:
        from kaoping.results import services

        campaign = _find(options["campaign"])
        bar = tqdm(total=3, desc="计算", disable=options["json"], file=self.stderr._out)

        def report(done: int, total: int, stage: str) -> None:
            bar.total = total
            bar.set_description(stage)
            bar.n = done
            bar.refresh()

        try:
            rs, created = services.compute(
                actor=None,
                campaign=campaign,
                reason=options["reason"] or "命令行计算",
                progress=Progress(report, every=1),
                check_permission=False,
            )
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError("；".join(getattr(exc, "messages", [str(exc)]))) from exc
        finally:
            bar.close()
        summary = {
            "campaign": campaign.pk,
            "result_set": rs.number,
            "created": created,
            "fingerprint": rs.fingerprint,
            "targets": rs.summary.get("targets"),
            "grades": rs.summary.get("grades"),
            "changed": (rs.changes or {}).get("changed", 0) if created else 0,
            "why": (rs.changes or {}).get("why", []) if created else [],
            "seconds": rs.seconds,
        }
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            return
        if not created:
            self.stdout.write(
                f"输入未变化，沿用第 {rs.number} 次计算结果（指纹 {rs.fingerprint[:12]}）"
            )
            return
        grades = "，".join(f"{k} {v}" for k, v in (rs.summary.get("grades") or {}).items())
        self.stdout.write(
            f"已保存第 {rs.number} 次计算结果：{summary['targets']} 个考核对象（{grades}），"
            f"用时 {rs.seconds:.1f} 秒，指纹 {rs.fingerprint[:12]}"
        )
        for line in summary["why"]:
            self.stdout.write(f"  变化原因：{line}")
        if summary["changed"]:
            self.stdout.write(f"  结果变化的考核对象：{summary['changed']} 个")
