"""Small view helpers every app's pages share."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpRequest

PAGE_SIZE = 50


def apply_errors(form: Any, exc: ValidationError, field_map: dict[str, str] | None = None) -> None:
    """Put a service's ValidationError on the form: on its fields where the names match
    (``field_map`` renames service fields to form fields), else at the top of the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            name = (field_map or {}).get(field, field)
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def flash_errors(request: HttpRequest, exc: Exception) -> None:
    """Show a service's refusal as error messages on the next page."""
    for message in getattr(exc, "messages", None) or [str(exc)]:
        messages.error(request, message)


def paginate(request: HttpRequest, qs: Any, per_page: int = PAGE_SIZE) -> tuple[Page, str]:
    """The requested page, and the other query parameters to keep in page links
    (``_pagination.html`` appends ``page=N`` to it)."""
    page_obj = Paginator(qs, per_page).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    query_string = params.urlencode()
    return page_obj, (query_string + "&" if query_string else "")
