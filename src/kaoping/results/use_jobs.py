"""The result-use export job: ``results.use_export`` with params {"campaign": id, "kind": …,
"fmt": …}. Used for the combined 选拔任用 PDF of large campaigns (2,000 cadres take tens of
seconds); the file is the job's output, audited like a direct download."""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile

from kaoping.jobs.registry import Progress, handler

KIND = "results.use_export"


@handler(KIND)
def run_use_export(job: Any, progress: Progress) -> dict[str, Any]:
    from kaoping import policy
    from kaoping.campaigns.models import Campaign

    from . import use, use_exports

    campaign = Campaign.objects.select_related("owner", "scheme_version").get(
        pk=job.params["campaign"]
    )
    if not policy.can_use_results(job.created_by, campaign):  # rights may change while queued
        raise PermissionError("无权导出该考核活动的结果运用材料")
    out = use_exports.export(
        actor=job.created_by, u=use.usable(campaign), kind=str(job.params["kind"]),
        fmt=str(job.params["fmt"]), progress=progress,
    )  # fmt: skip
    job.output_file.save(out.filename, ContentFile(out.data), save=False)
    # only the file: the progress columns were written behind this instance's back
    type(job).objects.filter(pk=job.pk).update(output_file=job.output_file.name)
    return {"filename": out.filename, "rows": out.rows}
