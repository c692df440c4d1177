"""``kaoping results lock-expired [--json]``: lock the results whose publication period (公示)
has ended (the appeal pages also do this when they load). A subparser-based command: further
result subcommands go beside ``lock-expired``."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "考核结果：锁定公示期已结束的结果"

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        lk = sub.add_parser("lock-expired", help="锁定公示期已结束的考核结果")
        lk.add_argument("--json", action="store_true", help="以 JSON 输出")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "lock-expired":
            self._lock_expired(options["json"])

    def _lock_expired(self, as_json: bool) -> None:
        from kaoping.results.appeal_services import lock_expired

        locked = lock_expired()
        if as_json:
            data = [
                {"campaign": rs.campaign_id, "name": rs.campaign.name, "result_set": rs.number}
                for rs in locked
            ]
            self.stdout.write(json.dumps({"locked": data}, ensure_ascii=False))
            return
        if not locked:
            self.stdout.write("没有公示期已结束而未锁定的考核结果")
            return
        for rs in locked:
            self.stdout.write(f"已锁定：{rs.campaign.name} 第 {rs.number} 次计算结果")
        self.stdout.write(self.style.SUCCESS(f"共锁定 {len(locked)} 个考核活动的结果"))
