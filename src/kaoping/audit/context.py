"""The request's actor and IP address, available to services without passing the request."""

from __future__ import annotations

from contextvars import ContextVar

# The client IP address of the request being handled (None outside requests).
current_ip: ContextVar[str | None] = ContextVar("kaoping_request_ip", default=None)


def client_ip(request) -> str | None:  # type: ignore[no-untyped-def]
    # Behind a reverse proxy the deployment sets BEHIND_HTTPS_PROXY and the proxy appends the
    # client address; we trust only the last hop, which the proxy itself wrote.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if forwarded:
        from django.conf import settings

        if settings.SECURE_PROXY_SSL_HEADER:
            return forwarded.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None
