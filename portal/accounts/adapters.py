"""django-allauth adapters: no public sign-up, throttled sign-in, TOTP that cannot be removed."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django import forms
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse

from portal.accounts import throttle
from portal.accounts.mfa import mfa_required


def _login_of(credentials: dict[str, Any]) -> str:
    return str(credentials.get("username") or credentials.get("email") or "")


class AccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created by administrators: no public sign-up. Password attempts are
    throttled per account (``portal.accounts.throttle``), not by allauth's per-IP counter."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_client_ip(self, request: HttpRequest) -> str:
        return throttle.client_ip(request) or "0.0.0.0"  # noqa: S104 - a key, not a bind

    def _throttle_subject(self, request: HttpRequest, credentials: dict[str, Any]) -> Any:
        cached = getattr(request, "_komek_signin_subject", None)
        login = _login_of(credentials)
        if cached is None or cached[0] != login:
            user = throttle.account_for_login(login)
            cached = (login, user.pk if user is not None else None)
            request._komek_signin_subject = cached
        return cached

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        login, user_pk = self._throttle_subject(request, credentials)
        verdict = throttle.check(request, "password", user_pk, login)
        if not verdict.allowed:
            raise forms.ValidationError(throttle.refusal_message(verdict), code="throttled")

    def authenticate(self, request: HttpRequest, **credentials: Any) -> AbstractBaseUser | None:
        user = super().authenticate(request, **credentials)
        if user is not None:
            login, user_pk = self._throttle_subject(request, credentials)
            throttle.succeeded(request, "password", user_pk, login)
        return user

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        login, user_pk = self._throttle_subject(request, credentials)
        throttle.failed(request, "password", user_pk, login)

    def post_login(
        self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any
    ) -> HttpResponse:
        response = super().post_login(request, user, **kwargs)
        from portal.accounts.mfa import mfa_passed

        if mfa_passed(request):
            throttle.remember_device(request, response, user.pk)
        return response


class MFAAdapter(DefaultMFAAdapter):
    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        """TOTP is required for every role: it can be replaced, never switched off."""
        if authenticator.type == Authenticator.Type.TOTP and mfa_required(authenticator.user):
            return False
        return super().can_delete_authenticator(authenticator)
