"""Request-wide wiring: the scope, MFA enforcement and session timeouts."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from portal.accounts.mfa import mfa_next_step, mfa_passed, user_has_totp
from portal.db_scope import db_scope_apply, db_scope_clear
from schools.scope import scope_for

# What a signed-in user may reach before completing the second factor in this session:
# sign-out, setting up TOTP (and the password confirmation it asks for), the TOTP step of a
# pending sign-in, the language switch, health and static files. Nothing that shows data.
MFA_PENDING_URL_NAMES = frozenset(
    {
        "account_login",
        "account_logout",
        "account_reauthenticate",
        "mfa_authenticate",
        "mfa_reauthenticate",
        "mfa_activate_totp",
        "set_language",
        "healthz",
        "readyz",
    }
)
MFA_PENDING_PREFIXES = ("/static/",)


class ScopeMiddleware:
    """Sets `request.scope` (lazily) from `schools.scope.scope_for`: the one scoping path."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.scope = SimpleLazyObject(lambda: scope_for(request.user))
        # Row-level security follows the same scope (portal/db_scope.py); cleared afterwards.
        if request.user.is_authenticated:
            db_scope_apply(request.scope)
        else:
            db_scope_clear()
        try:
            response = self.get_response(request)
        except BaseException:
            db_scope_clear()
            raise
        if getattr(response, "streaming", False):
            response._resource_closers.append(db_scope_clear)
        else:
            db_scope_clear()
        return response


def _url_name(request: HttpRequest) -> str | None:
    try:
        return resolve(request.path_info).url_name
    except Resolver404:
        return None


class RequireMFAMiddleware:
    """Every door needs the second factor: pages, HTMX fragments, exports, the admin and the
    session-authenticated API. "Passed" is the session's own record of a completed TOTP step
    (:func:`portal.accounts.mfa.mfa_passed`), never "the user has a device"."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(MFA_PENDING_PREFIXES)
            and _url_name(request) not in MFA_PENDING_URL_NAMES
            and not mfa_passed(request)
        ):
            message = _("Для работы в портале нужен второй фактор: код из приложения (TOTP).")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=403)
            if not user_has_totp(user):
                messages.warning(
                    request, _("Для работы в портале подключите двухфакторную аутентификацию.")
                )
            response = mfa_next_step(request)
            if request.headers.get("HX-Request"):
                # An HTMX fragment: no data, and the whole page goes to the next step.
                hx = HttpResponse(message, status=403, content_type="text/plain; charset=utf-8")
                hx["HX-Redirect"] = response["Location"]
                return hx
            return response
        return self.get_response(request)


class SessionTimeoutMiddleware:
    """Idle timeout (30 min) and absolute timeout (12 h) for signed-in sessions."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            session = request.session
            started = session.setdefault("_started_at", now)
            last = session.get("_last_seen", now)
            idle = now - last > settings.SESSION_IDLE_TIMEOUT
            too_old = now - started > settings.SESSION_ABSOLUTE_TIMEOUT
            if idle or too_old:
                logout(request)
                messages.info(
                    request,
                    _("Сеанс завершён из-за отсутствия активности. Войдите снова.")
                    if idle
                    else _("Сеанс истёк (12 часов). Войдите снова."),
                )
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                return redirect(f"{settings.LOGIN_URL and '/accounts/login/'}?next={request.path}")
            # Write at most once a minute to keep session saves cheap.
            if now - last >= 60 or "_last_seen" not in session:
                session["_last_seen"] = now
        return self.get_response(request)


class BodySizeLimitMiddleware:
    """Refuses (413) a request whose declared body is larger than ``REQUEST_MAX_BODY_BYTES``
    before anything reads it. Smaller limits: Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` for
    forms (400) and the API's JSON parser (413)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.REQUEST_MAX_BODY_BYTES
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if limit and declared > limit:
            message = _("Тело запроса слишком большое (больше %(mb)d МБ).") % {
                "mb": max(1, limit // (1024 * 1024))
            }
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=413)
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every dynamic response (pages, fragments, exports, the
    API): any of them may carry family data, and none may stay in a browser's or a proxy's
    cache. Static files are served before this middleware (WhiteNoise) and keep theirs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "no-store" in response.get("Cache-Control", ""):
            return response
        if not request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            add_never_cache_headers(response)
            patch_cache_control(response, private=True)
        return response
