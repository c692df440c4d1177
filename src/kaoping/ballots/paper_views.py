"""Paper ballot pages for tellers: the batch entry form (one sheet after another, keyboard
first), the list of mismatched double entries, and the organizer's decision on one. Thin:
``paper`` does the checking, counting and auditing."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kaoping.core.web import flash_errors

from . import paper
from .models import AppraisalStatus
from .results_views import appraisal_for_organizer


@login_required
def paper_entry(request: HttpRequest, pk: int) -> HttpResponse:
    appraisal = appraisal_for_organizer(request, pk)
    sheet = paper.layout(appraisal)
    values: dict[str, str] = {}
    sheet_no = ""
    if request.method == "POST":
        sheet_no = request.POST.get("sheet_no", "").strip()
        try:
            answers = paper.answers_from_form(sheet, request.POST)
            outcome = paper.enter_sheet(
                actor=request.user, appraisal=appraisal, sheet_no=sheet_no, answers=answers
            )
        except ValidationError as exc:
            flash_errors(request, exc)
            values = {k: v for k, v in request.POST.items() if k[:2] in ("g-", "c-")}
        else:
            level = messages.warning if outcome == paper.MISMATCH else messages.success
            level(request, f"票号 {sheet_no}：{paper.OUTCOME_TEXT[outcome]}")
            return redirect("ballots:paper_entry", appraisal.pk)
    st = paper.status(appraisal, request.user)
    rows = [
        {
            "target": t,
            "cells": [
                {"q": q, "name": paper.field_name("g", t.pk, q["code"]),
                 "value": values.get(paper.field_name("g", t.pk, q["code"]), "")}
                for q in sheet.questions
            ],
            "comments": [
                {"q": q, "name": paper.field_name("c", t.pk, q["code"]),
                 "value": values.get(paper.field_name("c", t.pk, q["code"]), "")}
                for q in sheet.comments
            ],
        }
        for t in sheet.targets
    ]  # fmt: skip
    return render(
        request,
        "ballots/paper_entry.html",
        {
            "appraisal": appraisal,
            "campaign": appraisal.campaign,
            "sheet": sheet,
            "rows": rows,
            "status": st,
            "sheet_no": sheet_no or st.next_sheet_no,
            "recent": paper.recent_entries(appraisal, request.user),
            "is_open": appraisal.status == AppraisalStatus.OPEN,
        },
    )


@login_required
def paper_mismatches(request: HttpRequest, pk: int) -> HttpResponse:
    appraisal = appraisal_for_organizer(request, pk)
    return render(
        request,
        "ballots/paper_mismatches.html",
        {
            "appraisal": appraisal,
            "campaign": appraisal.campaign,
            "mismatches": paper.mismatches(appraisal),
            "status": paper.status(appraisal),
            "sheet": paper.layout(appraisal),
        },
    )


@login_required
@require_POST
def paper_resolve(request: HttpRequest, pk: int, sheet_no: int) -> HttpResponse:
    appraisal = appraisal_for_organizer(request, pk)
    choice = request.POST.get("choice", "")
    try:
        if choice == "reenter":
            sheet = paper.layout(appraisal)
            answers = paper.answers_from_form(sheet, request.POST)
            paper.resolve(actor=request.user, appraisal=appraisal, sheet_no=sheet_no,
                          answers=answers, note=request.POST.get("note", ""))  # fmt: skip
        else:
            paper.resolve(actor=request.user, appraisal=appraisal, sheet_no=sheet_no,
                          entry_id=int(choice) if choice.isdigit() else -1,
                          note=request.POST.get("note", ""))  # fmt: skip
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, f"票号 {sheet_no} 已裁定并计入票数。")
    return redirect("ballots:paper_mismatches", appraisal.pk)
