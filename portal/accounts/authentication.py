"""DRF authentication: sessions only with a completed second factor; knox tokens only of
users who have TOTP, with the last use recorded."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication
from knox.signals import token_expired
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request

from portal.accounts.mfa import mfa_passed, user_has_totp
from portal.accounts.throttle import client_ip

LAST_USE_RESOLUTION = dt.timedelta(minutes=1)


class MFASessionAuthentication(SessionAuthentication):
    """A session counts only when it completed the TOTP step (``mfa_passed``)."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        if not mfa_passed(request._request):
            return None
        return result


class ApiTokenAuthentication(TokenAuthentication):
    """``Authorization: Token …``: knox digests, expiry; the owner must still have TOTP."""

    def validate_user(self, auth_token: Any) -> tuple[Any, Any]:
        user, token = super().validate_user(auth_token)
        if not user_has_totp(user):
            raise exceptions.AuthenticationFailed(
                _("Токен недействителен: у владельца не подключена двухфакторная аутентификация.")
            )
        return user, token

    def _cleanup_token(self, auth_token: Any) -> bool:
        """Only this token's expiry, with no query per call (knox reads every token of the
        owner on every call to delete the expired ones): those go when the owner is issued a
        new token (``api_token_issue``), where they would count against the limit."""
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        user, token = result
        now = timezone.now()
        ip = client_ip(request._request)
        if (
            token.last_used_at is None
            or now - token.last_used_at >= LAST_USE_RESOLUTION
            or token.last_used_ip != ip
        ):
            type(token).objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=ip)
            token.last_used_at, token.last_used_ip = now, ip
        return user, token
