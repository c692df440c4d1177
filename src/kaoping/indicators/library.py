"""The built-in library of indicator systems (指标库): complete, realistic systems to start from.

Each entry is a ``kaoping.scheme/1`` document in ``data/<key>.json``, written for Kaoping from
public practice (no real document copied). ``install_library_scheme`` creates a new scheme with a
draft version 1 from an entry; the organizer adapts it and publishes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .models import SchemeVersion
from .scheme_doc import parse_document
from .scheme_write import SchemeWriteError, write_plan

DATA_DIR = Path(__file__).resolve().parent / "data"
KEYS = ("branch_annual", "secretary_debriefing")
TARGET_LABELS = {"organization": "党组织", "cadre": "党组织书记", "member": "党员"}


class LibraryError(Exception):
    """Unknown library key, or the entry cannot be installed (e.g. the name is taken)."""


@dataclass(frozen=True)
class LibraryEntry:
    key: str
    name: str
    description: str
    target_kind: str
    indicators: int
    leaves: int
    total_points: Any

    @property
    def target_label(self) -> str:
        return TARGET_LABELS.get(self.target_kind, self.target_kind)


@cache
def _load(key: str) -> str:
    if key not in KEYS:
        raise LibraryError(f"指标库中没有“{key}”")
    return (DATA_DIR / f"{key}.json").read_text(encoding="utf-8")


def load_entry(key: str) -> dict[str, Any]:
    """The entry's document (a fresh copy)."""
    doc: dict[str, Any] = json.loads(_load(key))
    return doc


def entries() -> list[LibraryEntry]:
    out = []
    for key in KEYS:
        doc = load_entry(key)
        inds = doc["indicators"]
        parents = {d.get("parent") for d in inds}
        out.append(
            LibraryEntry(
                key=key,
                name=doc["scheme"]["name"],
                description=doc["scheme"].get("description", ""),
                target_kind=doc["scheme"].get("target_kind", "organization"),
                indicators=len(inds),
                leaves=sum(1 for d in inds if d["code"] not in parents),
                total_points=doc["version"].get("total_points", 100),
            )
        )
    return out


def install_library_scheme(*, actor: Any, owner: Any, key: str, name: str = "") -> SchemeVersion:
    """A new scheme owned by ``owner`` with draft version 1 copied from library entry ``key``
    (named ``name``, default the entry's name). The caller checks permissions."""
    doc = load_entry(key)
    plan, errors = parse_document(doc)
    if plan is None:  # a broken entry is a bug; the library tests guard against it
        raise LibraryError("；".join(f"{e.path}: {e.message}" for e in errors))
    try:
        return write_plan(
            actor=actor, plan=plan, owner=owner, name=name, source=f"指标库：{plan.scheme['name']}"
        )
    except SchemeWriteError as exc:
        raise LibraryError(str(exc)) from exc
