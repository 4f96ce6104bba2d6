"""Request-wide wiring: the scope, MFA enforcement and session timeouts."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from schools.scope import scope_for

# Paths a signed-in user may reach before enrolling MFA.
MFA_EXEMPT_PREFIXES = (
    "/accounts/",
    "/static/",
    "/i18n/",
    "/healthz",
    "/familycard-sim/",
    "/api/",
)


class ScopeMiddleware:
    """Sets `request.scope` (lazily) from `schools.scope.scope_for`: the one scoping path."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.scope = SimpleLazyObject(lambda: scope_for(request.user))
        return self.get_response(request)


def user_has_mfa(user) -> bool:  # noqa: ANN001
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class RequireMFAMiddleware:
    """Every role needs TOTP: a signed-in user without it is sent to set it up first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(MFA_EXEMPT_PREFIXES)
            and not request.session.get("_mfa_ok")
        ):
            if user_has_mfa(user):
                request.session["_mfa_ok"] = True
            else:
                messages.warning(
                    request, _("Для работы в портале подключите двухфакторную аутентификацию.")
                )
                return redirect("mfa_activate_totp")
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
