"""The second factor: "MFA passed" comes only from the session's own record of a completed
TOTP (or recovery-code) step, which django-allauth keeps in the session
(``account_authentication_methods``). Having a device is never enough.
"""

from __future__ import annotations

import types
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

# Second-factor methods that count (allauth's record ``{"method": "mfa", "type": …}``).
MFA_TYPES = frozenset({"totp", "recovery_codes"})


def user_has_totp(user: AbstractBaseUser) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()


def mfa_required(user: AbstractBaseUser) -> bool:
    """Every role of the portal (and every account without one) needs TOTP."""
    return bool(getattr(user, "is_active", False))


def mfa_passed(request: HttpRequest) -> bool:
    """True only when this session completed a second-factor step for its current user."""
    from allauth.account.authentication import get_authentication_records

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "session"):
        return False
    return any(
        record.get("method") == "mfa" and record.get("type") in MFA_TYPES
        for record in get_authentication_records(request, user)
    )


def mfa_next_step(request: HttpRequest) -> HttpResponse:
    """Where a signed-in user without a completed second factor goes.

    Without TOTP: set it up (allauth asks for the password again first). With TOTP but no
    TOTP step in this session (a session that did not come through the sign-in flow): sign in
    again, properly.
    """
    from django.contrib.auth import logout

    if user_has_totp(request.user):
        logout(request)
        return redirect(f"{reverse('account_login')}?{urlencode({'next': request.path})}")
    return redirect("mfa_activate_totp")


def secure_admin_site(site: Any) -> None:
    """The Django admin: no login form of its own (sign-in goes through allauth: password,
    then TOTP), and no access for a session without a completed second factor."""
    from portal.accounts.views import admin_login

    original = site.has_permission

    def has_permission(self: Any, request: HttpRequest) -> bool:
        return original(request) and mfa_passed(request)

    site.has_permission = types.MethodType(has_permission, site)
    site.login = admin_login
