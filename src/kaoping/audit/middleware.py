from __future__ import annotations

from .context import RequestContext, client_ip, current


class RequestContextMiddleware:
    def __init__(self, get_response):  # type: ignore[no-untyped-def]
        self.get_response = get_response

    def __call__(self, request):  # type: ignore[no-untyped-def]
        token = current.set(RequestContext(ip=client_ip(request)))
        try:
            return self.get_response(request)
        finally:
            current.reset(token)
