"""Benchmark: import a 500-row 考核评分细则 workbook (the messy agency layout) into a fresh database.

    .venv/bin/python bench/scheme_import.py                  # a temporary SQLite database
    DATABASE_URL=postgres://u:p@host/db .venv/bin/python bench/scheme_import.py
                                                             # a throwaway database db_bench_<pid>

The workbook (tests/indicator_workbooks.py): title rows, 一级 cells merged over their rows, blank
rows, a 合计 and a 备注 row, deduction/bonus/veto sentences to read rule proposals from. The last
line holds the figures: ``rows=500 seconds=… peak_mb=…`` (seconds: the import alone — read,
check, propose rules, write in one transaction; the target is under 2 s).
"""

from __future__ import annotations

import argparse
import os
import resource
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
    parser.add_argument("--rows", type=int, default=500)
    args = parser.parse_args()
    given_url = os.environ.get("DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="kaoping-bench-") as tmpdir:
        tmp = Path(tmpdir)
        url, drop = throwaway_database(given_url, tmp)
        os.environ.update(DATABASE_URL=url, KAOPING_VAR=str(tmp), DEBUG="0", JOBS_MODE="immediate")
        os.environ.setdefault("SECRET_KEY", "benchmark-only-not-a-secret")
        os.environ["DJANGO_SETTINGS_MODULE"] = "kaoping.settings"
        try:
            return run(tmp, args.rows)
        finally:
            if drop:
                from django.db import connections

                connections.close_all()
                drop_database(given_url or "", drop)


def run(tmp: Path, rows: int) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from kaoping.indicators.models import Indicator
    from kaoping.indicators.scheme_io import import_scheme
    from kaoping.organizations.models import OrgType
    from kaoping.organizations.services import create_organization
    from tests.indicator_workbooks import large_workbook

    call_command("migrate", verbosity=0)
    owner = create_organization(
        actor=None, audit=False, code="JG", name="机关党委", org_type=OrgType.AGENCY_COMMITTEE,
        parent=None,
    )  # fmt: skip
    path = tmp / "scheme.xlsx"
    large_workbook(rows).save(path)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"database={engine} file_kb={path.stat().st_size // 1024}", flush=True)

    started = time.perf_counter()
    report = import_scheme(
        actor=None, source=str(path), filename=path.name, owner=owner, name="五百行细则"
    )
    seconds = time.perf_counter() - started
    leaves = Indicator.objects.filter(children__isnull=True).count()
    if not report.ok or leaves != rows + 2:
        print("import failed:", report.errors[:10], leaves, file=sys.stderr)
        return 1
    proposed = Indicator.objects.exclude(proposed_rule={}).count()
    print(f"indicators={report.indicators} proposals={proposed} warnings={len(report.warnings)}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(f"rows={rows} seconds={seconds:.2f} peak_mb={peak_mb:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
