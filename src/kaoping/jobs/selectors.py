from __future__ import annotations

from typing import Any

from django.http import Http404

from .models import Job


def get_job_for_user(user: Any, pk: Any) -> Job:
    """A job is visible to the account that started it, and to nobody else."""
    try:
        return Job.objects.get(pk=pk, created_by_id=user.pk)
    except (Job.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
