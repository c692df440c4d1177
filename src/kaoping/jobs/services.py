"""Queueing and running jobs.

``KAOPING_JOBS_MODE``:
- ``thread`` (embedded default): the job runs in a thread of the web process once the request's
  transaction commits — no extra server to run.
- ``worker`` (production): jobs stay queued; ``kaoping worker`` processes (on this or other
  machines) claim them from the database.
- ``immediate``: inline, on commit (tests and the CLI).
Progress is written to the job row outside the job's own transaction, so it can be polled.
"""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.db import connection, transaction
from django.utils import timezone

from .models import Job, JobStatus
from .registry import Progress, get_handler

logger = logging.getLogger(__name__)


def enqueue(
    kind: str,
    *,
    actor: Any,
    params: dict[str, Any] | None = None,
    input_file: File | None = None,
    input_name: str = "",
) -> Job:
    get_handler(kind)  # unknown kinds fail here, not in the worker
    job = Job(kind=kind, created_by=actor, params=params or {})
    if input_file is not None:
        job.input_file.save(input_name or input_file.name or "input", input_file, save=False)
    job.save()
    mode = settings.KAOPING_JOBS_MODE
    if mode == "immediate":
        transaction.on_commit(lambda: run_job(job.pk))
    elif mode == "thread":
        transaction.on_commit(lambda: _start_thread(job.pk))
    return job


def _start_thread(job_id: int) -> None:
    def target() -> None:
        try:
            run_job(job_id)
        finally:
            connection.close()

    threading.Thread(target=target, name=f"job-{job_id}", daemon=True).start()


def claim_next() -> Job | None:
    """Claim the oldest queued job (row-locked on PostgreSQL; skip jobs others hold)."""
    with transaction.atomic():
        qs = Job.objects.filter(status=JobStatus.QUEUED).order_by("created_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        job = qs.first()
        if job is None:
            return None
        claimed = Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING, started_at=timezone.now()
        )
        return job if claimed else None


def run_job(job_id: int) -> Job:
    Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now()
    )
    job = Job.objects.get(pk=job_id)

    def report(done: int, total: int, stage: str) -> None:
        Job.objects.filter(pk=job_id).update(
            progress_done=done, progress_total=total, stage=stage[:100]
        )

    try:
        result = get_handler(job.kind)(job, Progress(report))
    except Exception as exc:  # the job failed; record why, never lose it silently
        logger.exception("job %s failed", job_id)
        message = str(exc) if str(exc) else exc.__class__.__name__
        Job.objects.filter(pk=job_id).update(
            status=JobStatus.FAILED,
            finished_at=timezone.now(),
            error=message,
            result={"traceback": traceback.format_exc()[-4000:]},
        )
    else:
        Job.objects.filter(pk=job_id).update(
            status=JobStatus.SUCCEEDED, finished_at=timezone.now(), result=result or {}
        )
    job.refresh_from_db()
    return job
