"""``kaoping campaign list [--json]``, ``kaoping campaign progress CAMPAIGN [--json]``,
``kaoping campaign remind CAMPAIGN`` and ``kaoping campaign archive CAMPAIGN FILE.json
[--allow-changed]`` (CAMPAIGN: the id or the exact name)."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kaoping.campaigns import selectors, services
from kaoping.campaigns.models import Campaign


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(rows: list[list[str]]) -> str:
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join([*(c + " " * (w - _width(c)) for c, w in zip(r, widths, strict=False)), r[-1]])
        for r in rows
    )


def _find(ref: str) -> Campaign:
    qs = Campaign.objects.select_related("owner", "scheme_version")
    if ref.isdigit():
        found = qs.filter(pk=int(ref)).first()
        if found is not None:
            return found
    matches = list(qs.filter(name=ref)[:2])
    if not matches:
        raise CommandError(f"找不到考核活动“{ref}”（请给出编号或完整名称）")
    if len(matches) > 1:
        raise CommandError(f"有多个名为“{ref}”的考核活动，请用编号")
    return matches[0]


class Command(BaseCommand):
    help = "考核活动：列表、进度、发送催办提醒"

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ls = sub.add_parser("list", help="列出考核活动")
        ls.add_argument("--json", action="store_true", help="以 JSON 数组输出")
        pr = sub.add_parser("progress", help="各阶段完成情况")
        pr.add_argument("campaign", help="活动编号或完整名称")
        pr.add_argument("--json", action="store_true", help="以 JSON 输出")
        rm = sub.add_parser("remind", help="提醒当前阶段未完成的单位和评审员")
        rm.add_argument("campaign", help="活动编号或完整名称")
        ar = sub.add_parser(
            "archive", help="导出已归档考核活动的归档包（全部输入、结果和佐证材料清单）"
        )
        ar.add_argument("campaign", help="活动编号或完整名称")
        ar.add_argument("file", help="归档包 JSON 文件（可用 kaoping evaluate 重新计分）")
        ar.add_argument(
            "--allow-changed",
            action="store_true",
            help="结果锁定后数据有变化时仍按现有数据归档（归档包记录变化）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            self._list(options["json"])
        elif action == "progress":
            self._progress(_find(options["campaign"]), options["json"])
        elif action == "archive":
            self._archive(_find(options["campaign"]), options["file"], options["allow_changed"])
        else:
            campaign = _find(options["campaign"])
            n = services.send_reminders(actor=None, campaign=campaign)
            self.stdout.write(self.style.SUCCESS(f"已发送 {n} 条提醒（{campaign.name}）"))

    def _list(self, as_json: bool) -> None:
        campaigns = list(
            Campaign.objects.select_related("owner", "scheme_version__scheme").order_by("pk")
        )
        if as_json:
            data = [
                {
                    "id": c.pk,
                    "name": c.name,
                    "status": c.status,
                    "status_label": c.get_status_display(),
                    "campaign_type": c.campaign_type,
                    "period_start": c.period_start.isoformat(),
                    "period_end": c.period_end.isoformat(),
                    "owner": c.owner.name,
                    "scheme_version": str(c.scheme_version),
                    "targets": c.targets.count(),
                }
                for c in campaigns
            ]
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        if not campaigns:
            self.stdout.write("还没有考核活动")
            return
        rows = [["编号", "当前阶段", "考核期", "名称"]]
        rows += [[str(c.pk), c.get_status_display(), f"{c.period_start}至{c.period_end}", c.name]
                 for c in campaigns]  # fmt: skip
        self.stdout.write(_table(rows))

    def _progress(self, campaign: Campaign, as_json: bool) -> None:
        data = selectors.progress_json(campaign)
        if as_json:
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"{campaign.name}（当前阶段：{campaign.get_status_display()}）")
        rows = [["阶段", "状态", "截止", "完成"]]
        states = {"done": "已完成", "current": "进行中", "pending": "未开始", "skipped": "不启用"}
        for s in data["stages"]:
            figure = (
                f"{s['done']}/{s['total']}（{s['percent']}%）" if s["total"] is not None else "—"
            )
            late = " 已逾期" if s["overdue"] else ""
            rows.append([s["label"], states[s["state"]], (s["deadline"] or "—") + late, figure])
        self.stdout.write(_table(rows))
        summary = data["summary"]
        self.stdout.write(
            f"评审已评 {summary['review_cells_filled']}/{summary['review_cells_total']} 格；"
            f"量化数据 {summary['quant_filled']}/{summary['quant_total']} 项；"
            f"逾期未完成 {summary['overdue']} 项"
        )

    def _archive(self, campaign: Campaign, path: str, allow_changed: bool) -> None:
        from django.core.exceptions import ValidationError
        from tqdm import tqdm

        from kaoping.jobs.registry import Progress
        from kaoping.results.archive import write_archive

        bar = tqdm(total=1, desc="归档", file=self.stderr._out, unit="项")

        def report(done: int, total: int, stage: str) -> None:
            bar.total = total
            bar.set_description(stage)
            bar.n = done
            bar.refresh()

        try:
            done = write_archive(
                actor=None, campaign=campaign, path=path, allow_changed=allow_changed,
                progress=Progress(report, every=50),
            )  # fmt: skip
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        finally:
            bar.close()
        self.stdout.write(
            self.style.SUCCESS(
                f"已导出归档包 {done.path}：{done.targets} 个考核对象的结果（第 "
                f"{done.result_set.number} 次计算，指纹 {done.result_set.fingerprint[:12]}），"
                f"佐证材料 {done.evidence} 份，{done.size / 1024:.0f} KB，SHA-256 {done.sha256}"
            )
        )
        if done.inputs_changed:
            self.stdout.write(
                self.style.WARNING("结果锁定后有变化的数据：" + "、".join(done.inputs_changed))
            )
        self.stdout.write(f"重新计分：kaoping evaluate {done.path} --out 结果.json")
