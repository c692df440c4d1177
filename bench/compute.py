"""Benchmark: computing a large campaign's results (``results.services.compute``), not a test.

    DATABASE_URL=postgres://u:p@host/db .venv/bin/python bench/compute.py

Creates a throwaway PostgreSQL database ``<db>_bench_<pid>`` next to the one ``DATABASE_URL``
names (dropped at the end), migrates it and builds a campaign in 汇总:

* ``--targets`` (2,000) 党支部 under 100 党总支, each its own organization;
* an indicator system of ``--indicators`` (150) leaves under the eight required dimensions: a
  few ballot leaves (Q1…Q5, rated by 党员 and 群众), a few quantitative (linear) leaves, some
  deduction and grade leaves, the rest rated (rating);
* ``--scores`` (300,000) reviewer scores of submitted review sheets (every rated cell scored by
  one reviewer, some cells by a second one); a quantitative value per target and linear leaf;
* ``--answers`` (10,000,000) ballot answers (``BallotAnswer`` rows) on 100,000 ballots of two
  appraisals (党员, 群众): each ballot answers the five questions for the 20 党支部 of one 党总支.

Rows are made in SQL (``INSERT … SELECT generate_series``), not through the ORM; the answer
table's indexes and constraints are dropped for the load and rebuilt afterwards (then VACUUM
ANALYZE), so the database ends up as a production one would be.

Then, in the same run:

* the floor: the raw ``SELECT target_id, question, grade, count(*) FROM ballots_ballotanswer
  GROUP BY 1, 2, 3`` over the same answers, timed alone (after one untimed warm-up run; the best
  of three);
* ``compute``: ``results.services.compute`` (gather every input, run the engine, store 2,000
  ``TargetResult`` rows with explanations) in a child process started for it, timed there;
  peak memory is that process's peak resident set (``ru_maxrss``: numpy's buffers included).

The last line: ``compute_s=… groupby_s=… ratio=… peak_mb=…`` (ratio = compute_s / groupby_s).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.org_import import drop_database, throwaway_database  # noqa: E402

QUESTIONS = ["Q1", "Q2", "Q3", "Q4", "Q5"]
BLOCK = 20  # 党支部 per 党总支 (the targets one ballot answers)
FLOOR_SQL = (
    "SELECT target_id, question, grade, count(*) FROM ballots_ballotanswer "
    "GROUP BY target_id, question, grade"
)


def _leaf_kind(n: int, n_leaves: int) -> str:
    """Rule kind of leaf ``n``: 5 ballot, 10 linear, 10 deduction, 15 grade, the rest rating
    (for 150 leaves; proportionally for other sizes)."""
    step = max(n_leaves // 5, 1)
    if n % step == step // 2 and n // step < len(QUESTIONS):
        return "ballot"
    k = n % 15
    if k == 1:
        return "linear"
    if k == 4:
        return "deduction"
    if k in (7, 11):
        return "grade"
    return "rating"


def build(n_targets: int, n_leaves: int, n_scores: int, n_answers: int) -> int:
    """Migrate and build the campaign; returns its id."""
    import datetime as dt

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from kaoping.accounts.models import Role
    from kaoping.ballots.models import Appraisal, AppraisalStatus
    from kaoping.campaigns import rules
    from kaoping.campaigns.models import Campaign, CampaignStage, CampaignType, Stage, Target
    from kaoping.collection.models import QuantBatch, ReviewSheet, SheetStatus
    from kaoping.indicators import services as ind_services
    from kaoping.indicators.constants import REQUIRED_DIMENSIONS, DataSource
    from kaoping.indicators.services import DEFAULT_BALLOT_GRADES
    from kaoping.organizations.models import Organization, OrgType
    from tests.factories import OrganizationFactory, UserFactory, grant

    t0 = time.monotonic()
    root = OrganizationFactory(code="JG", name="机关党委", org_type=OrgType.AGENCY_COMMITTEE)
    organizer = UserFactory(username="bench_organizer")
    grant(organizer, Role.ASSESSMENT_ADMIN, root)
    n_groups = max(1, -(-n_targets // BLOCK))
    groups = [
        OrganizationFactory(code=f"ZZ{g:03d}", name=f"第{g + 1}党总支", parent=root,
                            org_type=OrgType.GENERAL_BRANCH)
        for g in range(n_groups)
    ]  # fmt: skip
    branches = Organization.objects.bulk_create(
        [
            Organization(code=f"ZB{i:04d}", name=f"第{i + 1}党支部", org_type=OrgType.BRANCH,
                         parent=groups[i // BLOCK], depth=2)
            for i in range(n_targets)
        ]
    )  # fmt: skip
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE organizations_organization o SET path = p.path || lpad(o.id::text, 8, '0') "
            "|| '/' FROM organizations_organization p WHERE o.parent_id = p.id AND o.depth = 2"
        )

    # the indicator system: 8 dimensions, n_leaves leaves of 2 points each
    version = ind_services.create_scheme(
        actor=organizer, owner=root, name="基准测试指标体系", total_points=2 * n_leaves
    )
    per_dim = [n_leaves // 8 + (1 if d < n_leaves % 8 else 0) for d in range(8)]
    leaf = 0
    for d, (dim, count) in enumerate(zip(REQUIRED_DIMENSIONS, per_dim, strict=True)):
        top = ind_services.add_indicator(
            actor=organizer, version=version, code=f"D{d + 1}", name=dim.label, dimension=dim,
            points=2 * count,
        )  # fmt: skip
        for j in range(count):
            kind = _leaf_kind(leaf, n_leaves)
            fields: dict = {"points": 2, "rule_kind": kind, "criteria": "按评分标准评分"}
            if kind == "rating":
                fields |= {"rule_params": {"max": 10}, "data_source": DataSource.REVIEWER}
            elif kind == "grade":
                fields |= {"rule_params": {}, "data_source": DataSource.REVIEWER}
            elif kind == "deduction":
                items = [{"code": "a", "name": "未按时召开", "per": 1},
                         {"code": "b", "name": "记录不全", "per": 0.5}]  # fmt: skip
                fields |= {"rule_params": {"max": 2, "items": items},
                           "data_source": DataSource.REVIEWER}  # fmt: skip
            elif kind == "linear":
                fields |= {"rule_params": {"floor": 60, "target": 95},
                           "data_source": DataSource.QUANTITATIVE}  # fmt: skip
            else:
                q = QUESTIONS[leaf // max(n_leaves // 5, 1)]
                fields |= {
                    "rule_params": {"question": q, "measure": "grade_score", "max": 2},
                    "data_source": DataSource.BALLOT,
                    "rater_weights": {"members": 0.6, "masses": 0.4},
                }
            ind_services.add_indicator(
                actor=organizer, version=version, parent=top, code=f"D{d + 1}.{j + 1}",
                name=f"{dim.label}指标{j + 1}", **fields,
            )  # fmt: skip
            leaf += 1
    version = ind_services.publish(actor=organizer, version=version)
    leaves = list(version.indicators.filter(level=2).order_by("id"))

    campaign = Campaign.objects.create(
        name="基准测试年度考核", campaign_type=CampaignType.ANNUAL,
        period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 12, 31), purpose="性能基准",
        result_rules=rules.DEFAULT_RULES, owner=root, scheme_version=version,
        target_kind="organization", status=Stage.CONSOLIDATION, created_by=organizer,
    )  # fmt: skip
    CampaignStage.objects.bulk_create([CampaignStage(campaign=campaign, stage=s) for s in Stage])
    Target.objects.bulk_create(
        [
            Target(campaign=campaign, organization=b, code=b.code, name=b.name,
                   group_code=groups[i // BLOCK].code, group_name=groups[i // BLOCK].name)
            for i, b in enumerate(branches)
        ]
    )  # fmt: skip
    print(f"setup: register, indicator system, targets ({time.monotonic() - t0:.0f} s)", flush=True)

    # reviewer scores: one sheet per reviewer (each reviewer has 100 targets); every rated cell
    # scored once, the rest of --scores as second opinions on the first leaves
    rated = [i for i in leaves if i.rule_kind in ("rating", "grade", "deduction")]
    reviewers = []
    n_reviewers = max(1, -(-n_targets // 100))
    for r in range(n_reviewers):
        u = UserFactory(username=f"bench_reviewer{r}")
        grant(u, Role.REVIEWER, root)
        reviewers.append(u)
    sheets = ReviewSheet.objects.bulk_create(
        [ReviewSheet(campaign=campaign, reviewer=u, status=SheetStatus.SUBMITTED) for u in reviewers]
    )  # fmt: skip
    sheet_ids = [s.pk for s in sheets]
    first = n_targets * len(rated)
    second_leaves = max(0, min(len(rated), -(-(n_scores - first) // n_targets)))
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE bench_leaf (idx int, id bigint, kind text)")
        cur.executemany(
            "INSERT INTO bench_leaf VALUES (%s, %s, %s)",
            [(k, i.pk, i.rule_kind) for k, i in enumerate(rated)],
        )
        cur.execute(
            "CREATE TEMP TABLE bench_target AS SELECT id, row_number() OVER (ORDER BY code) - 1 "
            "AS idx FROM campaigns_target WHERE campaign_id = %s",
            [campaign.pk],
        )
        for pass_no, (n_l, offset) in enumerate(((len(rated), 0), (second_leaves, 1))):
            if n_l == 0:
                continue
            cur.execute(
                """
                INSERT INTO collection_reviewscore
                    (sheet_id, target_id, indicator_id, score, grade, occurrences, reason,
                     updated_at)
                SELECT (%(sheets)s::bigint[])[1 + ((t.idx / 100 + %(offset)s) %% %(n)s)],
                       t.id, l.id,
                       CASE WHEN l.kind = 'rating' THEN 6 + ((t.idx * 7 + l.idx * 3) %% 9) / 2.0
                       END,
                       CASE WHEN l.kind = 'grade'
                            THEN (ARRAY['好','较好','一般','差'])[1 + ((t.idx + l.idx) %% 7) / 2]
                            ELSE '' END,
                       CASE WHEN l.kind = 'deduction'
                            THEN jsonb_build_object('a', (t.idx + l.idx) %% 3,
                                                    'b', (t.idx * l.idx) %% 2)
                            ELSE '{}'::jsonb END,
                       '', now()
                FROM bench_target t CROSS JOIN bench_leaf l
                WHERE l.idx < %(n_l)s
                """,
                {"sheets": sheet_ids, "offset": offset, "n": len(sheet_ids), "n_l": n_l},
            )
            if pass_no == 1:
                # second opinions only up to --scores in all
                cur.execute(
                    "DELETE FROM collection_reviewscore WHERE id IN (SELECT id FROM "
                    "collection_reviewscore ORDER BY id DESC LIMIT %s)",
                    [max(0, first + n_targets * n_l - n_scores)],
                )
        batch = QuantBatch.objects.create(
            campaign=campaign, source_name="组织部统计", rows=n_targets, imported_by=organizer
        )
        cur.execute(
            """
            INSERT INTO collection_quantvalue (batch_id, target_id, indicator_id, value)
            SELECT %s, t.id, i.id, 50 + ((t.idx * 13 + i.id) %% 50)
            FROM bench_target t CROSS JOIN indicators_indicator i
            WHERE i.version_id = %s AND i.rule_kind = 'linear'
            """,
            [batch.pk, version.pk],
        )
        cur.execute("SELECT count(*) FROM collection_reviewscore")
        stored_scores = cur.fetchone()[0]
    print(
        f"setup: {stored_scores} reviewer scores ({len(rated)} rated leaves, {len(sheets)} "
        f"sheets), quantitative values ({time.monotonic() - t0:.0f} s)",
        flush=True,
    )

    # ballots: two appraisals; each ballot answers the 5 questions for one 党总支's 20 党支部
    questions = [{"code": q, "text": f"题目{q}", "kind": "grade"} for q in QUESTIONS]
    appraisals = [
        Appraisal.objects.create(
            campaign=campaign, name=name, rater_group=group, questions=questions,
            grades=DEFAULT_BALLOT_GRADES, status=AppraisalStatus.CLOSED, created_by=organizer,
        )
        for name, group in (("党员测评", "members"), ("群众测评", "masses"))
    ]  # fmt: skip
    for a in appraisals:
        a.targets.set(Target.objects.filter(campaign=campaign))
    per_ballot = BLOCK * len(QUESTIONS)
    n_ballots = max(1, n_answers // per_ballot)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'ballots_ballotanswer'::regclass AND contype IN ('p', 'f', 'u')"
        )
        constraints = cur.fetchall()
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'ballots_ballotanswer' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint "
            "WHERE conrelid = 'ballots_ballotanswer'::regclass)"
        )
        indexes = cur.fetchall()
        for name, _ in constraints:
            cur.execute(f'ALTER TABLE ballots_ballotanswer DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        cur.execute("SELECT setseed(0.42)")
        cur.execute(
            """
            CREATE TEMP TABLE bench_ballot AS
            SELECT gen_random_uuid() AS id, k %% %(blocks)s AS block,
                   CASE WHEN (k / %(blocks)s) %% 5 < 3 THEN %(members)s ELSE %(masses)s END
                       AS appraisal_id
            FROM generate_series(0, %(n)s - 1) AS k
            """,
            {
                "blocks": n_groups, "n": n_ballots,
                "members": appraisals[0].pk, "masses": appraisals[1].pk,
            },
        )  # fmt: skip
        cur.execute(
            "INSERT INTO ballots_ballot (id, appraisal_id, cast_on, source) "
            "SELECT id, appraisal_id, DATE '2025-12-10', 'online' FROM bench_ballot"
        )
        cur.execute(
            "CREATE TEMP TABLE bench_block AS SELECT id, idx, idx / %s AS block, "
            "(idx %% 10) / 40.0 AS bias FROM bench_target",
            [BLOCK],
        )
        cur.execute(
            """
            INSERT INTO ballots_ballotanswer (id, ballot_id, target_id, question, grade, comment)
            SELECT gen_random_uuid(), b.id, t.id, q.code,
                   CASE WHEN r < 0.005 THEN NULL
                        WHEN r < 0.50 + t.bias THEN 0 WHEN r < 0.82 + t.bias / 2 THEN 1
                        WHEN r < 0.96 THEN 2 ELSE 3 END,
                   ''
            FROM bench_ballot b
            JOIN bench_block t ON t.block = b.block
            CROSS JOIN unnest(%s::text[]) AS q(code)
            CROSS JOIN LATERAL (SELECT random() + 0 * t.idx AS r) AS rnd
            """,
            [QUESTIONS],
        )
        print(f"setup: ballot answers loaded ({time.monotonic() - t0:.0f} s)", flush=True)
        cur.execute("SET maintenance_work_mem = '512MB'")
        for name, definition in constraints:
            cur.execute(f'ALTER TABLE ballots_ballotanswer ADD CONSTRAINT "{name}" {definition}')
        for _, definition in indexes:
            cur.execute(definition)
        cur.execute("SELECT count(*) FROM ballots_ballotanswer")
        stored_answers = cur.fetchone()[0]
    connection.close()
    with connection.cursor() as cur:  # VACUUM cannot run in a transaction block
        cur.execute("VACUUM ANALYZE")
    print(
        f"setup: {n_ballots} ballots, {stored_answers} ballot answers, indexes rebuilt, "
        f"VACUUM ANALYZE ({time.monotonic() - t0:.0f} s)",
        flush=True,
    )
    connection.close()
    return campaign.pk


def floor(runs: int = 3) -> float:
    """The best time of the raw GROUP BY of the ballot answers (after one warm-up run)."""
    from django.db import connection

    times = []
    with connection.cursor() as cur:
        for k in range(runs + 1):
            started = time.perf_counter()
            cur.execute(FLOOR_SQL)
            rows = cur.fetchall()
            if k:
                times.append(time.perf_counter() - started)
    print(f"floor: {len(rows)} groups, runs {', '.join(f'{t:.2f}' for t in times)} s", flush=True)
    return min(times)


def child(campaign_id: int) -> int:
    """Run in a fresh process: compute and report the time (stages too) as JSON."""
    import django

    django.setup()
    from kaoping.campaigns.models import Campaign
    from kaoping.jobs.registry import Progress
    from kaoping.results import services

    campaign = Campaign.objects.get(pk=campaign_id)
    marks: list[tuple[str, float]] = []

    def report(done: int, total: int, stage: str) -> None:
        marks.append((f"{stage} {done}/{total}", time.perf_counter()))

    started = time.perf_counter()
    rs, created = services.compute(
        actor=None, campaign=campaign, reason="基准测试", check_permission=False,
        progress=Progress(report, every=1),
    )  # fmt: skip
    seconds = time.perf_counter() - started
    steps = [(label, round(t - started, 2)) for label, t in marks]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"compute_s": seconds, "created": created, "targets": rs.results.count(),
                      "steps": steps, "peak_mb": peak}, ensure_ascii=False))  # fmt: skip
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--targets", type=int, default=2_000)
    parser.add_argument("--indicators", type=int, default=150)
    parser.add_argument("--scores", type=int, default=300_000)
    parser.add_argument("--answers", type=int, default=10_000_000)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help="keep the database (prints its URL)")
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    given_url = os.environ.get("DATABASE_URL", "")
    if not given_url.startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL database (postgres://…)")
    with tempfile.TemporaryDirectory(prefix="kaoping-bench-") as tmpdir:
        tmp = Path(tmpdir)
        url, drop = throwaway_database(given_url, tmp)
        os.environ.update(DATABASE_URL=url, KAOPING_VAR=str(tmp), DEBUG="0", JOBS_MODE="immediate")
        os.environ.setdefault("SECRET_KEY", "benchmark-only-not-a-secret")
        os.environ["DJANGO_SETTINGS_MODULE"] = "kaoping.settings"
        os.environ.pop("KAOPING_TESTING", None)
        try:
            return run(args)
        finally:
            from django.db import connections

            connections.close_all()
            if drop and not args.keep:
                drop_database(given_url, drop)
            elif drop:
                print(f"kept: {url}")


def run(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    campaign_id = build(args.targets, args.indicators, args.scores, args.answers)
    print(f"setup done ({time.monotonic() - t0:.0f} s); cores={os.cpu_count()}", flush=True)
    groupby_s = floor()
    from django.db import connections

    connections.close_all()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(campaign_id)],
        env=env, capture_output=True, text=True, cwd=str(ROOT),
    )  # fmt: skip
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit("compute failed")
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with connections["default"].cursor() as cur:
        cur.execute("SELECT pg_total_relation_size('results_targetresult')")
        stored = cur.fetchone()[0] / 2**20
    connections.close_all()
    print(
        f"compute: {got['targets']} results stored ({stored:.0f} MB with explanations); "
        f"steps {got['steps']}; peak of the compute process {children:.0f} MB, "
        f"of this process {own:.0f} MB",
        flush=True,
    )
    compute_s = got["compute_s"]
    print(
        f"compute_s={compute_s:.2f} groupby_s={groupby_s:.2f} ratio={compute_s / groupby_s:.2f} "
        f"peak_mb={children:.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
