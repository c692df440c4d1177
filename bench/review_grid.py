"""Benchmark: the reviewer grid page for 40 targets × 60 indicators, every cell scored.

    .venv/bin/python bench/review_grid.py                    # a temporary SQLite database
    DATABASE_URL=postgres://u:p@host/db .venv/bin/python bench/review_grid.py
                                                             # a throwaway database db_bench_<pid>

Renders the page through Django's test client (middleware, session, template and all) a few
times and reports the best and median time. The last line holds the figures:
``targets=40 indicators=60 seconds=… queries=…`` (seconds: the median full request).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.org_import import drop_database, throwaway_database  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--targets", type=int, default=40)
    parser.add_argument("--indicators", type=int, default=60)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    given_url = os.environ.get("DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="kaoping-bench-") as tmpdir:
        tmp = Path(tmpdir)
        url, drop = throwaway_database(given_url, tmp)
        os.environ.update(DATABASE_URL=url, KAOPING_VAR=str(tmp), DEBUG="0", JOBS_MODE="immediate")
        os.environ.setdefault("SECRET_KEY", "benchmark-only-not-a-secret")
        os.environ["DJANGO_SETTINGS_MODULE"] = "kaoping.settings"
        try:
            return run(args.targets, args.indicators, args.runs)
        finally:
            if drop:
                from django.db import connections

                connections.close_all()
                drop_database(given_url or "", drop)


def run(n_targets: int, n_indicators: int, runs: int) -> int:
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    # No collectstatic here: serve {% static %} names as they are.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from tests.factories import make_tree
    from tests.review_fixtures import build_grid

    call_command("migrate", verbosity=0)
    tree = make_tree()
    built = build_grid(tree["root"], tree["a1"], targets=n_targets, indicators=n_indicators)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    client = Client()
    client.force_login(built.reviewer)
    url = reverse("collection:review_grid", args=[built.campaign.pk])
    client.get(url)  # warm up: template loading and compilation
    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    cells = response.content.decode().count('class="kp-cell')
    assert cells == n_targets * n_indicators, cells
    print(
        f"database={engine} html_kb={len(response.content) // 1024} best_seconds={min(times):.3f}",
        flush=True,
    )
    print(
        f"targets={n_targets} indicators={n_indicators} "
        f"seconds={statistics.median(times):.3f} queries={len(ctx.captured_queries)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
