"""``kaoping rectification remind [--json]``: notices for overdue tasks and tasks due soon, and
the list of overdue tasks; ``kaoping rectification list [--overdue] [--json]``."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from kaoping.rectification import services
from kaoping.rectification.models import ACTIVE_STATUSES, RectificationTask
from kaoping.rectification.selectors import overdue_q


def _row(t: RectificationTask) -> dict[str, Any]:
    return {
        "id": t.pk,
        "campaign": t.campaign.name,
        "organization": t.organization.name,
        "problem": t.problem,
        "responsible": t.responsible.name if t.responsible_id else "",
        "deadline": t.deadline.isoformat(),
        "status": t.get_status_display(),
        "days_overdue": t.days_overdue,
    }


class Command(BaseCommand):
    help = "整改任务：逾期提醒、列表"

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        rm = sub.add_parser("remind", help="提醒逾期和即将到期的整改任务，并列出逾期任务")
        rm.add_argument("--json", action="store_true", help="以 JSON 输出逾期任务")
        ls = sub.add_parser("list", help="列出整改中的任务")
        ls.add_argument("--overdue", action="store_true", help="只列出逾期任务")
        ls.add_argument("--json", action="store_true", help="以 JSON 数组输出")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "remind":
            done = services.remind(actor=None)
            self._out(done.overdue, options["json"])
            if not options["json"]:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"逾期 {len(done.overdue)} 项，{services.REMIND_DAYS} 天内到期 "
                        f"{len(done.due_soon)} 项，已发送 {done.notifications} 条提醒"
                    )
                )
            return
        qs = RectificationTask.objects.filter(status__in=ACTIVE_STATUSES)
        if options["overdue"]:
            qs = qs.filter(overdue_q())
        tasks = list(
            qs.select_related("campaign", "organization", "responsible").order_by("deadline", "pk")
        )
        self._out(tasks, options["json"])

    def _out(self, tasks: list[RectificationTask], as_json: bool) -> None:
        rows = [_row(t) for t in tasks]
        if as_json:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        if not rows:
            self.stdout.write("没有符合条件的整改任务")
            return
        for r in rows:
            late = f"逾期 {r['days_overdue']} 天" if r["days_overdue"] else r["status"]
            self.stdout.write(
                f"#{r['id']}  {r['organization']}  期限 {r['deadline']}（{late}）  "
                f"责任人 {r['responsible'] or '—'}  {r['problem'][:40]}"
            )
