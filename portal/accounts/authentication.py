"""DRF authentication: sessions only with a completed second factor; knox tokens only of
users who have TOTP, with the last use recorded."""

from __future__ import annotations

import binascii
import datetime as dt
import functools
from hmac import compare_digest
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS, knox_settings
from knox.signals import token_expired
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request

from portal.accounts.mfa import mfa_passed, user_has_totp
from portal.accounts.throttle import client_ip
from portal.dbrows import from_row, select_list, width

LAST_USE_RESOLUTION = dt.timedelta(minutes=1)


@functools.cache
def _token_query() -> str:
    """The statement of :func:`_tokens_by_key`: the tokens, their owners, TOTP or not, and the
    owner's membership ids (``schools.scope``: the scope then needs no statement of its own)."""
    from allauth.mfa.models import Authenticator
    from django.contrib.auth import get_user_model

    from schools.scope import membership_select

    token_model, user_model = get_token_model(), get_user_model()
    tokens, users, mfa = token_model._meta, user_model._meta, Authenticator._meta
    q = connection.ops.quote_name
    owner = q(tokens.get_field("user").column)
    # names from the models' metadata, quoted; the values are parameters
    return (
        f"SELECT {select_list(token_model, 't')}, {select_list(user_model, 'u')}, "  # noqa: S608
        f"EXISTS (SELECT 1 FROM {q(mfa.db_table)} a "
        f"WHERE a.{q(mfa.get_field('user').column)} = t.{owner} "
        f"AND a.{q(mfa.get_field('type').column)} = %s), mm.* "
        f"FROM {q(tokens.db_table)} t JOIN {q(users.db_table)} u "
        f"ON u.{q(users.pk.column)} = t.{owner} "
        f"LEFT JOIN LATERAL ({membership_select('t.' + owner)}) mm ON TRUE "
        f"WHERE t.{q(tokens.get_field('token_key').column)} = %s"
    )


def _tokens_by_key(key: str) -> list[Any]:
    """The tokens whose key starts so, each with its owner loaded (with its membership ids)
    and ``owner_has_totp``."""
    from allauth.mfa.models import Authenticator
    from django.contrib.auth import get_user_model

    from schools.scope import MEMBERSHIP_IDS, MEMBERSHIP_WIDTH

    with connection.cursor() as cur:
        cur.execute(_token_query(), [Authenticator.Type.TOTP, key])
        rows = cur.fetchall()
    token_model, user_model = get_token_model(), get_user_model()
    n, u, k = width(token_model), width(user_model), MEMBERSHIP_WIDTH
    found = []
    for row in rows:
        auth_token = from_row(token_model, row[:n])
        auth_token.user = from_row(user_model, row[n : n + u])
        auth_token.owner_has_totp = bool(row[n + u])
        membership = tuple(row[-k:])
        # no membership: the lateral join's columns are all NULL (a role is never NULL)
        setattr(auth_token.user, MEMBERSHIP_IDS, membership if membership[0] is not None else None)
        found.append(auth_token)
    return found


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

    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        """knox's lookup by the key's first characters and digest comparison, in one fixed
        statement with the owner and whether the owner has TOTP (knox's queryset, then a
        query for TOTP, were two round trips and a quarter of an API call's CPU)."""
        invalid = _("Недействительный токен.")
        try:
            raw = token.decode("utf-8")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(invalid) from None
        for auth_token in _tokens_by_key(raw[: CONSTANTS.TOKEN_KEY_LENGTH]):
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(raw)
            except (TypeError, binascii.Error):
                raise exceptions.AuthenticationFailed(invalid) from None
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(invalid)

    def validate_user(self, auth_token: Any) -> tuple[Any, Any]:
        user, token = super().validate_user(auth_token)
        has_totp = getattr(auth_token, "owner_has_totp", None)
        if not (user_has_totp(user) if has_totp is None else has_totp):
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
