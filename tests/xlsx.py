"""Building small workbooks for import tests."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook, load_workbook

from kaoping.organizations import workbook as wbk

ORG_HEADER = [c.header for c in wbk.ORG.columns]
PERSON_HEADER = [c.header for c in wbk.PERSON.columns]


def make_xlsx(
    orgs: list[list[Any]] | None = None,
    people: list[list[Any]] | None = None,
    *,
    org_header: list[str] | None = None,
    person_header: list[str] | None = None,
) -> io.BytesIO:
    book = Workbook()
    book.remove(book.active)
    if orgs is not None:
        ws = book.create_sheet(wbk.ORG_SHEET)
        ws.append(org_header or ORG_HEADER)
        for row in orgs:
            ws.append(row)
    if people is not None:
        ws = book.create_sheet(wbk.PERSON_SHEET)
        ws.append(person_header or PERSON_HEADER)
        for row in people:
            ws.append(row)
    buf = io.BytesIO()
    book.save(buf)
    buf.seek(0)
    return buf


def read_rows(data: bytes | io.BytesIO, sheet: str) -> list[list[Any]]:
    if isinstance(data, bytes):
        data = io.BytesIO(data)
    ws = load_workbook(data)[sheet]
    return [list(r) for r in ws.iter_rows(values_only=True)]
