"""The compute job: ``results.compute`` with params {"campaign": id, "reason": str}."""

from __future__ import annotations

from typing import Any

from kaoping.jobs.registry import Progress, handler


@handler("results.compute")
def run_compute(job: Any, progress: Progress) -> dict[str, Any]:
    from kaoping.campaigns.models import Campaign

    from . import services

    campaign = Campaign.objects.select_related("owner", "scheme_version").get(
        pk=job.params["campaign"]
    )
    rs, created = services.compute(
        actor=job.created_by,
        campaign=campaign,
        reason=str(job.params.get("reason") or ""),
        progress=progress,
    )
    return {
        "result_set": rs.pk,
        "number": rs.number,
        "created": created,
        "changed": (rs.changes or {}).get("changed", 0) if created else 0,
        "seconds": rs.seconds,
    }
