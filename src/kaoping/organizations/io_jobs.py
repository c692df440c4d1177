"""Background job kinds of the organization register (registered when the app is ready)."""

from __future__ import annotations

from typing import Any

from kaoping import policy
from kaoping.jobs.registry import Progress, handler

from .importing import import_workbook

IMPORT_KIND = "org.import"
IMPORT_RESULT_TEMPLATE = "organizations/_import_result.html"


@handler(IMPORT_KIND)
def run_import(job: Any, progress: Progress) -> dict[str, Any]:
    """Check the uploaded workbook and, when every row is fine, write it (as the job's creator)."""
    actor = job.created_by
    if actor is None or not policy.has_perm(actor, policy.Perm.ORG_MANAGE):
        raise PermissionError("发起导入的账号已不存在或已无导入权限")
    with job.input_file.open("rb") as fh:
        report = import_workbook(
            actor=actor,
            source=fh,
            filename=job.params.get("filename", ""),
            dry_run=bool(job.params.get("dry_run")),
            progress=progress,
        )
    return report.as_dict()
