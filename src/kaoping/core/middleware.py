"""Middleware wrappers that leave the public ballot pages (``/v/``) alone.

The ballot pages are anonymous: they keep no session, log nobody in, flash no messages, write no
audit entries and never see a login form. The middlewares that serve the signed-in site
(sessions, authentication, messages, the audit request context, the forced password change,
htmx, and the language negotiation of a one-language site) are wrapped here so that a request
under ``PUBLIC_PREFIXES`` bypasses them; every other request goes through them unchanged. The
security middlewares (``SecurityMiddleware``, ``CsrfViewMiddleware``,
``XFrameOptionsMiddleware``) are not wrapped: the ballot form keeps its CSRF check and the pages
keep their headers. Axes stays as it is (its system check wants it by name; on pages without a
login it only passes the response on). The guessing limit lives in the ballot services.

Skipping the session also means a signed-in administrator who opens a slip's link in the same
browser is not recognised there: the visit does not load, renew or touch their session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.module_loading import import_string

# The URL prefixes of the anonymous ballot pages (``kaoping.ballots.public_urls``).
PUBLIC_PREFIXES = ("/v/",)


def is_public(request: HttpRequest) -> bool:
    return request.path_info.startswith(PUBLIC_PREFIXES)


class _SkipOnPublicPages:
    """Runs the wrapped middleware (``wrapped``: its dotted path) except on the public pages,
    where the request goes straight to the next one (after ``on_public``)."""

    wrapped = ""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.inner: Any = import_string(self.wrapped)(get_response)

    def on_public(self, request: HttpRequest) -> None:
        """What the public pages get instead of the middleware (nothing by default)."""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(PUBLIC_PREFIXES):
            self.on_public(request)
            return self.get_response(request)
        return self.inner(request)


class SessionMiddleware(_SkipOnPublicPages):
    wrapped = "django.contrib.sessions.middleware.SessionMiddleware"


class AuthenticationMiddleware(_SkipOnPublicPages):
    wrapped = "django.contrib.auth.middleware.AuthenticationMiddleware"

    def on_public(self, request: HttpRequest) -> None:
        # Code and templates may still ask who is there: nobody.
        request.user = AnonymousUser()


class RequestContextMiddleware(_SkipOnPublicPages):
    wrapped = "kaoping.audit.middleware.RequestContextMiddleware"


class PasswordChangeRequiredMiddleware(_SkipOnPublicPages):
    wrapped = "kaoping.accounts.middleware.PasswordChangeRequiredMiddleware"


class LocaleMiddleware(_SkipOnPublicPages):
    wrapped = "django.middleware.locale.LocaleMiddleware"

    def on_public(self, request: HttpRequest) -> None:
        # The site speaks one language (``LANGUAGES``): no need to negotiate it per ballot.
        translation.activate(settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = settings.LANGUAGE_CODE


class MessageMiddleware(_SkipOnPublicPages):
    wrapped = "django.contrib.messages.middleware.MessageMiddleware"


class HtmxMiddleware(_SkipOnPublicPages):
    wrapped = "django_htmx.middleware.HtmxMiddleware"
