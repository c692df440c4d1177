"""Benchmark: import 10,000 people (and ~50 organizations) from Excel into a fresh database.

    .venv/bin/python bench/org_import.py                     # a temporary SQLite database
    DATABASE_URL=postgres://u:p@host/db .venv/bin/python bench/org_import.py
                                                             # a throwaway database db_bench_<pid>

The last line holds the figures as name=value pairs: ``people=10000 seconds=… peak_mb=…``
(seconds: the import alone — read, check, write; peak_mb: the process's peak resident memory).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉梅晓东"
DEPARTMENTS = ["办公室", "人事处", "财务处", "法规处", "信息中心", "规划处", "审计处", "后勤中心"]


def build_workbook(path: Path, people: int, seed: int = 2024) -> None:
    """机关党委 → 6 党总支 → 43 党支部 (50 organizations), rows shuffled (children first too)."""
    from kaoping.organizations import workbook as wbk

    rnd = random.Random(seed)
    orgs = [["JG", "机关党委", "机关党委", "", "", "2000-07-01", "正常", "", "", ""]]
    branches = []
    for g in range(1, 7):
        dept = DEPARTMENTS[g % len(DEPARTMENTS)]
        orgs.append([f"ZZ{g}", f"第{g}党总支", "党总支", "JG", dept, "2005-01-01", "", "", "", ""])
    for b in range(1, 44):
        code, dept = f"ZB{b:02d}", DEPARTMENTS[b % len(DEPARTMENTS)]
        branches.append(code)
        parent = f"ZZ{1 + b % 6}"
        orgs.append(
            [code, f"{dept}第{b}党支部", "党支部", parent, dept, "2010/3/1", "", "", "", ""]
        )
    rnd.shuffle(orgs)
    rows = []
    for i in range(people):
        status = rnd.choices(["正式党员", "预备党员", "群众"], [80, 5, 15])[0]
        cadre = rnd.random() < 0.1
        name = rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2))))
        rows.append([
            f"G{i + 1:06d}", name, rnd.choice("男女"), rnd.choice(branches), status,
            "处长" if cadre else "科员", "是" if cadre else "否",
            rnd.choice(["处级", "科级"]) if cadre else "", rnd.choice(DEPARTMENTS),
            f"13{rnd.randrange(10**9):09d}", "是",
        ])  # fmt: skip
    book = wbk.new_workbook(write_only=True)
    wbk.add_data_sheet(book, wbk.ORG, orgs)
    wbk.add_data_sheet(book, wbk.PERSON, rows, max_row=people + 100)
    book.save(path)


def throwaway_database(url: str | None, tmp: Path) -> tuple[str, str | None]:
    """The URL of a fresh database, and (for PostgreSQL) the name to drop afterwards."""
    if not url or url.startswith("sqlite"):
        return f"sqlite:///{tmp / 'bench.sqlite3'}", None
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'kaoping'}_bench_{os.getpid()}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}")), name


def drop_database(url: str, name: str) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=10_000)
    args = parser.parse_args()
    given_url = os.environ.get("DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="kaoping-bench-") as tmpdir:
        tmp = Path(tmpdir)
        url, drop = throwaway_database(given_url, tmp)
        os.environ.update(DATABASE_URL=url, KAOPING_VAR=str(tmp), DEBUG="0", JOBS_MODE="immediate")
        os.environ.setdefault("SECRET_KEY", "benchmark-only-not-a-secret")
        os.environ["DJANGO_SETTINGS_MODULE"] = "kaoping.settings"
        try:
            return run(tmp, args.people)
        finally:
            if drop:
                from django.db import connections

                connections.close_all()
                drop_database(given_url or "", drop)


def run(tmp: Path, people: int) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from kaoping.organizations.importing import import_workbook
    from kaoping.organizations.models import Organization, Person

    settings.KAOPING_IMPORT_MAX_BYTES = 200 * 1024 * 1024
    call_command("migrate", verbosity=0)
    path = tmp / "people.xlsx"
    build_workbook(path, people)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"database={engine} file_kb={path.stat().st_size // 1024}", flush=True)

    started = time.perf_counter()
    report = import_workbook(actor=None, source=str(path), filename=path.name)
    seconds = time.perf_counter() - started
    if not report.ok or Person.objects.count() != people or Organization.objects.count() != 50:
        print("import failed:", report.errors[:10], file=sys.stderr)
        return 1
    again = time.perf_counter()
    report2 = import_workbook(actor=None, source=str(path), filename=path.name)
    reimport = time.perf_counter() - again
    assert report2.counts["people"]["unchanged"] == people, report2.counts
    print(f"reimport_unchanged_seconds={reimport:.2f}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(f"people={people} seconds={seconds:.2f} peak_mb={peak_mb:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
