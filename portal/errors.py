"""Error pages (wiring: ``handler400/403/404/500`` in ``portal.urls``, ``CSRF_FAILURE_VIEW``).

Each page is in the reader's language and says what to do next. The 500 page renders without
the database, a session or a user: only the template, the language and static files.
"""

from __future__ import annotations

import logging

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotFound,
    HttpResponseServerError,
)
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

logger = logging.getLogger(__name__)


def _render(request: HttpRequest, template: str, context: dict | None = None) -> str:
    # error_page: the page never echoes the query string (it may carry an ИИН).
    return loader.get_template(template).render({"error_page": True, **(context or {})}, request)


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return HttpResponseBadRequest(_render(request, "400.html"))


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Our own PermissionDenied messages are written for people (gettext); Django's are empty.
    message = str(exception) if exception is not None and exception.args else ""
    return HttpResponseForbidden(_render(request, "403.html", {"reason": message}))


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Never the resolver's message: it would list URL patterns.
    return HttpResponseNotFound(_render(request, "404.html"))


def server_error(request: HttpRequest) -> HttpResponse:
    """No request context: the database or the session may be what failed."""
    try:
        body = loader.get_template("500.html").render({"request_path": request.path})
    except Exception:  # the last resort must answer whatever happens
        logger.exception("the 500 page could not be rendered")
        body = "<!DOCTYPE html><title>500</title><h1>500</h1>"
    return HttpResponseServerError(body)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """The form was too old (or cookies are off): say so and how to go on."""
    return HttpResponseForbidden(_render(request, "403_csrf.html", {"csrf_reason": reason}))
