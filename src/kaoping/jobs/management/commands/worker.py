import time

from django.core.management.base import BaseCommand

from kaoping.jobs.services import claim_next, run_job


class Command(BaseCommand):
    help = "Run queued background jobs (production: JOBS_MODE=worker)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="处理完当前队列后退出")
        parser.add_argument("--interval", type=float, default=1.0, help="轮询间隔（秒）")

    def handle(self, *args, once=False, interval=1.0, **options):
        while True:
            job = claim_next()
            if job is None:
                if once:
                    return
                time.sleep(interval)
                continue
            done = run_job(job.pk)
            self.stdout.write(f"{done.kind} #{done.pk}: {done.get_status_display()}")
