"""The public ballot pages (no login): ``/v/`` (type the short code), ``/v/<token>/`` (the ballot,
from the slip's QR code, or from a short code), ``/v/thanks/``.

Thin: ``services`` looks the token up, checks the window and the answers and stores the ballot.
The pages keep nothing about the voter: no session, no analytics, no third-party assets; they
are not cached and send no referrer to other sites (the token is in the URL). Answers are kept in the phone's
localStorage (``static/ballots/vote.js``) until they are submitted.
"""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from kaoping.audit.context import client_ip

from . import design, services
from .models import Appraisal
from .tokens import normalize_short

STATE_STATUS = {"unknown": 404, "used": 409, "voided": 410, "expired": 410, "not_open": 403}


def _braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _private(response: HttpResponse) -> HttpResponse:
    # "same-origin", not "no-referrer": with no-referrer browsers send ``Origin: null`` on the
    # form's POST and Django's CSRF check refuses it. Other sites never see the token URL.
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "no-store"
    return response


def _store_key(credential: str) -> str:
    """The localStorage key for this ballot's unsent answers (not the token, not its hash)."""
    mac = hmac.new(settings.SECRET_KEY.encode(), b"vote-store:" + credential.encode(), "sha256")
    return "kp-vote-" + mac.hexdigest()[:20]


def _state(request: HttpRequest, code: str, credential: str = "") -> HttpResponse:
    response = render(
        request,
        "ballots/vote_state.html",
        {
            "code": code,
            "message": services.MESSAGES.get(code, code),
            "store_key": _store_key(credential) if credential else "",
        },
        status=STATE_STATUS.get(code, 400) if code != "limited" else 429,
    )
    return _private(response)


def ballot_context(appraisal: Appraisal, answers: dict[str, dict[str, str]] | None = None,
                   errors: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    """Targets with their questions and the chosen answers, for the ballot form."""
    return _context(appraisal, services.ballot_targets(appraisal), answers, errors)


def _context(appraisal: Appraisal, ballot_targets: list[tuple[int, str, str]],
             answers: dict[str, dict[str, str]] | None = None,
             errors: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    answers = answers or {}
    errors = errors or {}
    questions = design.grade_questions(appraisal)
    grades = [{"index": i, "label": g["label"]} for i, g in enumerate(appraisal.grades)]
    # The grade buttons are the bulk of the page (targets × questions × grades): built here from
    # one escaped pattern rather than by nested template loops (a 8×3×4 ballot: ~10× faster).
    pattern = "".join(
        f'<input type="radio" class="btn-check" name="{{name}}" id="{{name}}-{i}" value="{i}" '
        f'autocomplete="off"{{checked{i}}}><label class="btn btn-outline-danger" '
        f'for="{{name}}-{i}">{_braces(escape(g["label"]))}</label>'
        for i, g in enumerate(appraisal.grades)
    )
    none_checked = {f"checked{i}": "" for i in range(len(grades))}

    def buttons(name: str, chosen: str) -> str:
        marks = dict(none_checked)
        if chosen.isdigit() and f"checked{chosen}" in marks:
            marks[f"checked{chosen}"] = " checked"
        return mark_safe(pattern.format(name=name, **marks))  # noqa: S308 - escaped above

    targets = []
    for pk, name, group in ballot_targets:
        given = answers.get(str(pk), {})
        targets.append(
            {
                "pk": pk,
                "name": name,
                "group": group,
                "questions": [
                    {
                        "code": q["code"],
                        "text": q["text"],
                        "name": f"a-{pk}-{q['code']}",
                        "buttons": buttons(
                            escape(f"a-{pk}-{q['code']}"), str(given.get(q["code"], ""))
                        ),
                        "error": errors.get(f"{pk}:{q['code']}", ""),
                    }
                    for q in questions
                ],
                "comment": given.get(design.COMMENT, ""),
                "comment_error": errors.get(f"{pk}:{design.COMMENT}", ""),
            }
        )
    return {
        "appraisal": appraisal,
        "targets": targets,
        "grades": grades,
        "with_comment": design.has_comment(appraisal),
        "comment_max": design.COMMENT_MAX,
        "errors": errors,
    }


# The empty ballot form is the same for every token of an appraisal: it is rendered once per
# process and open appraisal and kept with its design (``services.open_design``, which cannot
# change while the appraisal is open); each request puts in its CSRF token and store key.
_CSRF_MARK = "kp-csrf-mark-7f3a9c"
_STORE_MARK = "kp-store-mark-2b8e41"


def _empty_ballot(appraisal: Appraisal, csrf_token: str, store_key: str) -> HttpResponse:
    design_ = services.open_design(appraisal)
    html = design_.form
    if html is None:
        context = _context(appraisal, design_.targets)
        context["store_key"] = _STORE_MARK
        context["csrf_token"] = _CSRF_MARK
        html = design_.form = render_to_string("ballots/vote_ballot.html", context)
    html = html.replace(_CSRF_MARK, csrf_token).replace(_STORE_MARK, store_key)
    return _private(HttpResponse(html))


def answers_from_post(data: Any) -> dict[str, dict[str, str]]:
    """``a-<target>-<question>`` → grade index; ``c-<target>`` → comment."""
    out: dict[str, dict[str, str]] = {}
    for key, value in data.items():
        if key.startswith("a-"):
            parts = key.split("-", 2)
            if len(parts) == 3:
                out.setdefault(parts[1], {})[parts[2]] = value
        elif key.startswith("c-"):
            out.setdefault(key[2:], {})[design.COMMENT] = value
    return out


@never_cache
@require_http_methods(["GET"])
def entry(request: HttpRequest) -> HttpResponse:
    """Type the short code printed on the slip."""
    code = normalize_short(request.GET.get("code", ""))
    if code:
        return redirect("vote:ballot", code)
    return _private(render(request, "ballots/vote_entry.html"))


@never_cache
@require_http_methods(["GET", "POST"])
def ballot(request: HttpRequest, credential: str) -> HttpResponse:
    ip = client_ip(request)
    if request.method == "POST":
        return _submit(request, credential, ip)
    # Every ballot page sets the CSRF cookie (as ``ensure_csrf_cookie`` would); the form uses
    # this same masked token (each ``get_token`` call masks the secret anew: one is enough).
    csrf_token = get_token(request)
    try:
        token = services.find_token(credential, ip)
    except services.BallotError as exc:
        return _state(request, exc.code)
    state = services.token_state(token, campaign_fresh=True)
    if state:
        return _state(request, state, credential)
    return _empty_ballot(token.appraisal, csrf_token, _store_key(credential))


def _submit(request: HttpRequest, credential: str, ip: str | None) -> HttpResponse:
    answers = answers_from_post(request.POST)
    hint = request.POST.get("ap", "")
    try:
        services.cast(
            credential=credential,
            answers=answers,
            appraisal_hint=int(hint) if hint.isdigit() and len(hint) < 19 else None,
            ip=ip,
        )
    except services.AnswerError as exc:
        token = services.lookup_token(credential)
        appraisal = token.appraisal  # type: ignore[union-attr]
        context = _context(appraisal, services.open_design(appraisal).targets, answers, exc.errors)
        context["store_key"] = _store_key(credential)
        return _private(render(request, "ballots/vote_ballot.html", context, status=400))
    except services.BallotError as exc:
        return _state(request, exc.code, credential if exc.code != "limited" else "")
    return redirect("vote:thanks")


@never_cache
def thanks(request: HttpRequest) -> HttpResponse:
    return _private(render(request, "ballots/vote_thanks.html"))
