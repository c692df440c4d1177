"""Benchmark: 民主测评 casting under load, through the production server (not a timed test).

    DATABASE_URL=postgres://u:p@host/db .venv/bin/python bench/ballots.py

Creates a throwaway PostgreSQL database ``<db>_bench_<pid>`` next to the one ``DATABASE_URL``
names (dropped at the end), migrates it, builds a campaign in 测评 with an open appraisal over
``--targets`` targets (two indicator questions, the overall grade and a comment each) and
``--tokens`` one-time tokens, and starts the production server as production starts it
(``kaoping serve``: granian, a worker per core and 4 threads each; DEBUG off, SECRET_KEY and
ALLOWED_HOSTS set) on a free local port. Then ``--clients`` concurrent
clients (asyncio on raw sockets, HTTP/1.1 keep-alive) each repeatedly GET a ballot page for a
fresh token (which sets the CSRF cookie and carries the form token) and POST a full ballot, for
``--seconds``. Afterwards it counts what is stored:

- acknowledged: POSTs answered with the redirect to the thank-you page;
- lost = acknowledged − stored; duplicated = stored − acknowledged − indeterminate (POSTs whose
  connection broke before an answer: they may or may not have been stored); tokens used twice:
  stored ballots beyond used tokens.

In the same run the reference: a bare Django view that inserts one row (``ballots.bench_urls``),
POSTed by the same clients for ``--baseline-seconds``.

The machine is shared by the client, the server and PostgreSQL (and whatever else runs on it):
the rates move with that load. The run also reports the CPU time the server's workers and the
database's server processes spent per ballot and per reference insert (from ``/proc``), and the
client's own CPU share, which do not.

The server is started with a small settings wrapper written to the temporary folder: the product's
settings, the URLconf plus the reference view, and plain static storage (no collectstatic).

The last line: ``ballots_per_s=… p99_ms=… lost=… duplicated=… baseline_per_s=…``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote_plus, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.org_import import drop_database, throwaway_database  # noqa: E402

HOST = "127.0.0.1"
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
HINT_INPUT = re.compile(rb'name="ap" value="([^"]*)"')
COOKIE = re.compile(rb"csrftoken=([^;\s]+)")

SETTINGS = """
from kaoping.settings import *  # noqa: F401,F403

ROOT_URLCONF = "kaoping_bench_urls"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
"""
URLS = """
from django.urls import include, path

from kaoping.urls import *  # noqa: F401,F403
from kaoping.urls import urlpatterns as _product

urlpatterns = [*_product, path("bench/", include("kaoping.ballots.bench_urls"))]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# ---- data ----------------------------------------------------------------------------------


def build(n_targets: int, n_tokens: int) -> dict:
    """Migrate, then a campaign in 测评 with an open appraisal and its tokens."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from kaoping.accounts.models import Role
    from kaoping.ballots import design, services, tokens
    from kaoping.campaigns import rules
    from kaoping.campaigns import services as campaign_services
    from kaoping.campaigns.models import Stage
    from kaoping.organizations.models import OrgType
    from tests.ballot_helpers import ballot_version
    from tests.factories import OrganizationFactory, UserFactory, grant

    root = OrganizationFactory(code="JG", name="机关党委", org_type=OrgType.AGENCY_COMMITTEE)
    for i in range(n_targets):
        OrganizationFactory(code=f"ZB{i:03d}", name=f"第{i + 1}党支部", parent=root)
    organizer = UserFactory(username="bench_organizer")
    grant(organizer, Role.ASSESSMENT_ADMIN, root)
    reviewer = UserFactory(username="bench_reviewer")
    grant(reviewer, Role.REVIEWER, None)
    import datetime as dt

    campaign = campaign_services.create_campaign(
        actor=organizer, owner=root, name="基准测试考核", campaign_type="special",
        period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 12, 31),
        purpose="性能基准", result_rules=rules.DEFAULT_RULES,
        scheme_version=ballot_version(organizer, root), target_kind="organization",
    )  # fmt: skip
    campaign_services.add_targets_by_subtree(
        actor=organizer, campaign=campaign, root=root, org_types=[OrgType.BRANCH]
    )
    campaign_services.assign_reviewer(
        actor=organizer, campaign=campaign, reviewer=reviewer, targets=campaign.targets.all()
    )
    for s in (Stage.PUBLISHED, Stage.SELF_ASSESSMENT, Stage.REVIEW, Stage.APPRAISAL):
        campaign_services.transition(actor=organizer, campaign=campaign, to_stage=s, confirm=True)
    appraisal = design.design_from_campaign(
        actor=organizer, campaign=campaign, rater_group="members"
    )
    baseline = design.design_from_campaign(
        actor=organizer, campaign=campaign, rater_group="masses", name="基准：单行插入"
    )
    plain: list[str] = []
    while len(plain) < n_tokens:
        count = min(tokens.MAX_BATCH, n_tokens - len(plain))
        plain += [
            t for t, _ in tokens.issue_tokens(actor=organizer, appraisal=appraisal, count=count)
        ]
    services.open_appraisal(actor=organizer, appraisal=appraisal)
    fields = {}
    for target_id in services.target_ids(appraisal):
        for qi, q in enumerate(design.grade_questions(appraisal)):
            fields[f"a-{target_id}-{q['code']}"] = str((target_id + qi) % len(appraisal.grades))
        fields[f"c-{target_id}"] = "希望进一步加强理论学习"
    from django.db import connections

    connections.close_all()
    return {"appraisal": appraisal.pk, "baseline": baseline.pk, "tokens": plain, "fields": fields}


def count_stored(appraisal_pk: int, baseline_pk: int) -> dict:
    from django.db import connections

    from kaoping.ballots.models import Ballot, Token

    out = {
        "stored": Ballot.objects.filter(appraisal_id=appraisal_pk).count(),
        "used": Token.objects.filter(appraisal_id=appraisal_pk, used=True).count(),
        "baseline_rows": Ballot.objects.filter(appraisal_id=baseline_pk).count(),
    }
    connections.close_all()
    return out


# ---- a small HTTP/1.1 client on asyncio streams --------------------------------------------


class Connection:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, dict[bytes, list[bytes]], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].split(b"\r\n")
        status = int(status_line.split()[1])
        got: dict[bytes, list[bytes]] = {}
        for line in header_lines:
            name, _, value = line.partition(b":")
            got.setdefault(name.strip().lower(), []).append(value.strip())
        if b"chunked" in b"".join(got.get(b"transfer-encoding", [])):
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                chunks.append(chunk[:-2])
            data = b"".join(chunks)
        else:
            length = int((got.get(b"content-length") or [b"0"])[0])
            data = await self.reader.readexactly(length) if length else b""
        if b"close" in b"".join(got.get(b"connection", [])).lower():
            await self.close()
        return status, got, data


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.acknowledged = 0
        self.refused: dict[int, int] = {}
        self.indeterminate = 0
        self.get_errors = 0


async def voter(port: int, stop: float, tokens: list[str], fields: bytes,
                stats: Stats) -> None:  # fmt: skip
    """``fields``: the ballot's answers, form-encoded once (the client shares the CPUs with the
    server: it should cost as little as it can)."""
    conn = Connection(port)
    cookie = ""
    while time.monotonic() < stop and tokens:
        token = tokens.pop()
        path = f"/v/{token}/"
        try:
            headers = {"Cookie": f"csrftoken={cookie}"} if cookie else {}
            status, got, page = await conn.request("GET", path, headers)
            for value in got.get(b"set-cookie", []):
                m = COOKIE.search(value)
                if m:
                    cookie = m.group(1).decode()
            m = CSRF_INPUT.search(page)
            if status != 200 or not m or not cookie:
                stats.get_errors += 1
                continue
        except (OSError, asyncio.IncompleteReadError, ValueError):
            stats.get_errors += 1
            await conn.close()
            continue
        # As a browser posts the form: its CSRF token and hidden field, and the answers.
        hint = HINT_INPUT.search(page)
        body = b"csrfmiddlewaretoken=" + quote_plus(m.group(1)).encode() + b"&" + fields
        if hint:
            body += b"&ap=" + hint.group(1)
        started = time.perf_counter()
        try:
            status, got, _ = await conn.request(
                "POST", path,
                {"Cookie": f"csrftoken={cookie}",
                 "Content-Type": "application/x-www-form-urlencoded"},
                body,
            )  # fmt: skip
        except (OSError, asyncio.IncompleteReadError, ValueError):
            stats.indeterminate += 1
            await conn.close()
            continue
        stats.latencies.append(time.perf_counter() - started)
        location = b"".join(got.get(b"location", []))
        if status == 302 and location.endswith(b"/v/thanks/"):
            stats.acknowledged += 1
        else:
            stats.refused[status] = stats.refused.get(status, 0) + 1
    await conn.close()


async def inserter(port: int, stop: float, path: str, stats: Stats) -> None:
    conn = Connection(port)
    while time.monotonic() < stop:
        started = time.perf_counter()
        try:
            status, _, _ = await conn.request("POST", path, {})
        except (OSError, asyncio.IncompleteReadError, ValueError):
            stats.indeterminate += 1
            await conn.close()
            continue
        stats.latencies.append(time.perf_counter() - started)
        if status == 200:
            stats.acknowledged += 1
        else:
            stats.refused[status] = stats.refused.get(status, 0) + 1
    await conn.close()


async def run_load(clients: int, seconds: float, make) -> tuple[Stats, float]:  # type: ignore[no-untyped-def]
    stats = Stats()
    started = time.monotonic()
    stop = started + seconds
    await asyncio.gather(*(make(stop, stats) for _ in range(clients)))
    return stats, time.monotonic() - started


def p99_ms(latencies: list[float]) -> float:
    if not latencies:
        return float("nan")
    ordered = sorted(latencies)
    return 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


# ---- CPU accounting ------------------------------------------------------------------------
# The machine is shared (the client, the server, PostgreSQL, and whatever else runs): rates
# move with the load around them, CPU time spent per ballot much less. Read from /proc (Linux).


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            pass
    return out


def _db_backends() -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return [r[0] for r in cursor.fetchall()]


class CpuMeter:
    """CPU seconds used by the server's workers and by the database's server processes.

    Sampled every second by a thread: a process can end during the run (the server recycles
    its database connections after ``CONN_MAX_AGE``), and its time counts up to its last
    sample."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.start = self._sample()
        self.last = {k: dict(v) for k, v in self.start.items()}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> dict[str, dict[int, float]]:
        workers = _children(self.server_pid)
        return {
            "app": {p: _cpu_seconds(p) for p in workers},
            "db": {p: _cpu_seconds(p) for p in _db_backends()},
        }

    def _record(self) -> None:
        for kind, seen in self._sample().items():
            for pid, value in seen.items():
                if value > 0:
                    self.last[kind][pid] = max(value, self.last[kind].get(pid, 0.0))

    def _run(self) -> None:
        from django.db import connections

        try:
            while not self._done.wait(1.0):
                self._record()
        finally:
            connections.close_all()

    def stop(self) -> dict[str, float]:
        self._done.set()
        self._thread.join()
        self._record()
        return {
            kind: sum(v - self.start[kind].get(p, 0.0) for p, v in seen.items())
            for kind, seen in self.last.items()
        }


# ---- the server ----------------------------------------------------------------------------


def start_server(port: int, workers: int, threads: int, env: dict[str, str]) -> subprocess.Popen:
    """The production server, started as production starts it (``kaoping serve``)."""
    cmd = [
        sys.executable, "-m", "kaoping", "serve", "--bind", f"{HOST}:{port}",
        "--workers", str(workers), "--threads", str(threads),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, cwd=str(ROOT))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=1) as s:
                s.sendall(f"GET /healthz HTTP/1.0\r\nHost: {HOST}\r\n\r\n".encode())
                if b" 200 " in s.recv(200):
                    return proc
        except OSError:
            pass
        if proc.poll() is not None:
            raise SystemExit("the server exited while starting")
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("the server did not start")


def stop_server(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--baseline-seconds", type=float, default=20)
    parser.add_argument("--tokens", type=int, default=60_000)
    parser.add_argument("--targets", type=int, default=8)
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="server workers (one per core)"
    )
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    args = parser.parse_args()
    given_url = os.environ.get("DATABASE_URL", "")
    if not given_url.startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL database (postgres://…)")
    with tempfile.TemporaryDirectory(prefix="kaoping-bench-") as tmpdir:
        tmp = Path(tmpdir)
        (tmp / "kaoping_bench_settings.py").write_text(SETTINGS)
        (tmp / "kaoping_bench_urls.py").write_text(URLS)
        sys.path.insert(0, str(tmp))
        url, drop = throwaway_database(given_url, tmp)
        os.environ.update(
            DATABASE_URL=url, KAOPING_VAR=str(tmp), DEBUG="0", JOBS_MODE="immediate",
            DJANGO_SETTINGS_MODULE="kaoping_bench_settings", ALLOWED_HOSTS=HOST,
            SECRET_KEY=os.environ.get("SECRET_KEY") or "benchmark-only-not-a-secret-" * 2,
            PYTHONPATH=os.pathsep.join([str(tmp), str(ROOT / "src"), str(ROOT)]),
        )  # fmt: skip
        os.environ.pop("KAOPING_TESTING", None)
        try:
            return run(args)
        finally:
            from django.db import connections

            connections.close_all()
            if drop:
                drop_database(given_url, drop)


def run(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    data = build(args.targets, args.tokens)
    print(
        f"setup: {args.targets} targets, {len(data['tokens'])} tokens, "
        f"{len(data['fields'])} fields per ballot ({time.monotonic() - t0:.0f} s)",
        flush=True,
    )
    port = free_port()
    server = start_server(port, args.workers, args.threads, dict(os.environ))
    try:
        pool = list(data["tokens"])
        fields = urlencode(data["fields"]).encode()
        client_cpu = time.process_time()
        meter = CpuMeter(server.pid)
        ballots, elapsed = asyncio.run(
            run_load(
                args.clients, args.seconds,
                lambda stop, stats: voter(port, stop, pool, fields, stats),
            )
        )  # fmt: skip
        client_cpu = time.process_time() - client_cpu
        cpu = meter.stop()
        path = f"/bench/insert/{data['baseline']}/"
        meter = CpuMeter(server.pid)
        base, base_elapsed = asyncio.run(
            run_load(
                args.clients, args.baseline_seconds,
                lambda stop, stats: inserter(port, stop, path, stats),
            )
        )  # fmt: skip
        base_cpu = meter.stop()
    finally:
        stop_server(server)
    counted = count_stored(data["appraisal"], data["baseline"])
    stored, used = counted["stored"], counted["used"]
    lost = max(0, ballots.acknowledged - stored)
    duplicated = max(0, stored - ballots.acknowledged - ballots.indeterminate)
    used_twice = max(0, stored - used)
    rate = ballots.acknowledged / elapsed
    base_rate = base.acknowledged / base_elapsed
    median = 1000 * statistics.median(ballots.latencies) if ballots.latencies else float("nan")
    print(
        f"ballots: acknowledged={ballots.acknowledged} stored={stored} tokens_used={used} "
        f"tokens_used_twice={used_twice} refused={ballots.refused} "
        f"indeterminate={ballots.indeterminate} get_errors={ballots.get_errors} "
        f"p50_ms={median:.1f} seconds={elapsed:.1f} client_cpu={100 * client_cpu / elapsed:.0f}% "
        f"server=granian {args.workers}x{args.threads} clients={args.clients}",
        flush=True,
    )
    n_ballots, n_base = max(1, ballots.acknowledged), max(1, base.acknowledged)
    print(
        f"cpu per ballot (GET+POST): app={1000 * cpu['app'] / n_ballots:.2f} ms "
        f"db={1000 * cpu['db'] / n_ballots:.2f} ms; per baseline insert: "
        f"app={1000 * base_cpu['app'] / n_base:.2f} ms db={1000 * base_cpu['db'] / n_base:.2f} ms",
        flush=True,
    )
    print(
        f"baseline: acknowledged={base.acknowledged} stored={counted['baseline_rows']} "
        f"p99_ms={p99_ms(base.latencies):.1f} refused={base.refused} "
        f"indeterminate={base.indeterminate} seconds={base_elapsed:.1f}",
        flush=True,
    )
    print(
        f"ballots_per_s={rate:.1f} p99_ms={p99_ms(ballots.latencies):.1f} lost={lost} "
        f"duplicated={duplicated} baseline_per_s={base_rate:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
