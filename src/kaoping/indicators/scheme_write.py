"""Writing a checked scheme document to the database: all of it in one transaction, or nothing.

A new scheme with draft version 1, or a new draft version of an existing scheme. Indicators are
bulk-created level by level (parents first, so children get their parent's id) and the import
leaves one ``Action.IMPORT`` audit entry.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from kaoping.audit.actions import Action
from kaoping.audit.services import log_action
from kaoping.jobs.registry import Progress

from .models import Indicator, Scheme, SchemeVersion, VersionStatus
from .scheme_doc import Plan

CLI_ACTOR_NAME = "命令行"


class SchemeWriteError(Exception):
    """The plan cannot be written (name taken, concurrent change ...); nothing was written."""


def _user(actor: Any) -> Any:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def write_plan(
    *,
    actor: Any,
    plan: Plan,
    owner: Any = None,
    scheme: Scheme | None = None,
    name: str = "",
    source: str = "",
    progress: Progress | None = None,
) -> SchemeVersion:
    """Create ``scheme``'s next draft, or (``scheme`` None) a new scheme owned by ``owner``
    named ``name`` (default the document's name), with every planned indicator.

    The caller has checked permissions. Raises SchemeWriteError; nothing is written then.
    """
    progress = progress or Progress()
    try:
        with transaction.atomic():
            version = _write(actor, plan, owner, scheme, name, source, progress)
    except IntegrityError as exc:
        raise SchemeWriteError("写入时数据被他人修改（名称或版本号冲突），未写入任何数据") from exc
    return version


def _write(
    actor: Any,
    plan: Plan,
    owner: Any,
    scheme: Scheme | None,
    name: str,
    source: str,
    progress: Progress,
) -> SchemeVersion:
    user = _user(actor)
    if scheme is None:
        name = (name or plan.scheme.get("name") or "").strip()
        if not name:
            raise SchemeWriteError("请填写指标体系名称")
        if len(name) > 100:
            raise SchemeWriteError("指标体系名称超过 100 个字")
        if Scheme.objects.filter(name=name).exists():
            raise SchemeWriteError(f"已有名为“{name}”的指标体系，请换一个名称或导入为它的新草稿")
        scheme = Scheme.objects.create(
            name=name,
            description=plan.scheme.get("description", ""),
            target_kind=plan.scheme.get("target_kind") or "organization",
            owner=owner,
            created_by=user,
        )
        based_on, number = None, 1
    else:
        scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
        based_on = scheme.versions.order_by("-number").first()
        number = (scheme.versions.aggregate(m=Max("number"))["m"] or 0) + 1
    v = plan.version
    version = SchemeVersion.objects.create(
        scheme=scheme,
        number=number,
        label=v.get("label", ""),
        status=VersionStatus.DRAFT,
        based_on=based_on,
        weighting=v["weighting"],
        total_points=v["total_points"],
        options=v.get("options") or {},
        note=v.get("note", ""),
        created_by=user,
    )
    progress.start("写入指标", len(plan.indicators))
    ids: dict[str, int] = {}
    for level in range(1, 5):
        rows = [p for p in plan.indicators if p.level == level]
        if not rows:
            break
        objs = [
            Indicator(
                version=version,
                parent_id=ids[p.parent] if p.parent else None,
                code=p.code,
                name=p.name,
                level=p.level,
                position=p.position,
                **p.values,
            )
            for p in rows
        ]
        created = Indicator.objects.bulk_create(objs, batch_size=500)
        if any(o.pk is None for o in created):  # databases that return no ids
            by_code = dict(
                Indicator.objects.filter(version=version, level=level).values_list("code", "pk")
            )
            ids.update(by_code)
        else:
            ids.update({o.code: o.pk for o in created})
        progress.advance(len(rows))
    parents = {p.parent for p in plan.indicators}
    log_action(
        Action.IMPORT,
        actor=user,
        actor_name="" if user is not None else CLI_ACTOR_NAME,
        obj=version,
        object_type="indicators.schemeversion",
        data={
            "来源": source or "导入",
            "指标体系": scheme.name,
            "版本": number,
            "指标数": len(plan.indicators),
            "末级指标数": len({p.code for p in plan.indicators} - parents),
        },
    )
    return version
