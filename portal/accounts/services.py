"""Writes of accounts: API tokens (issue, revoke) and replacing the TOTP device.

Each write is atomic and leaves an audit event in the same transaction. The token itself is
returned once, to be shown once; only knox's digest is stored.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.accounts.mfa import user_has_totp
from portal.accounts.models import ApiToken
from portal.audit.services import audit_record

__all__ = ["api_token_issue", "api_token_revoke", "totp_replace"]


@transaction.atomic
def api_token_issue(
    *, actor: Any, name: str, via: str, ip: str | None = None
) -> tuple[ApiToken, str]:
    """A new API token for ``actor``: ``(row, token)``; ``token`` is never stored or shown again.

    Refused (PermissionDenied) to a user without TOTP; ValidationError past the per-user limit.
    """
    if not getattr(actor, "is_active", False) or not user_has_totp(actor):
        raise PermissionDenied(_("API-токены выдаются только пользователям с подключённым TOTP."))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Укажите название токена.")})
    # Serialise issuing per user (the limit below must hold under concurrency).
    get_user_model().objects.select_for_update().filter(pk=actor.pk).first()
    # The owner's expired tokens go now (authentication checks only the token it is shown).
    ApiToken.objects.filter(user=actor, expiry__lt=timezone.now()).delete()
    limit = settings.REST_KNOX.get("TOKEN_LIMIT_PER_USER")
    if limit is not None and ApiToken.objects.filter(user=actor).count() >= int(limit):
        raise ValidationError(
            {"name": _("Не больше %(n)d токенов: отзовите ненужный.") % {"n": int(limit)}}
        )
    row = ApiToken(name=name, user=actor)
    row.full_clean(exclude=["digest", "token_key"])
    row, token = ApiToken.objects.create(user=actor, name=name)
    audit_record(
        action="api_token.issue",
        actor=actor,
        object_type="api_token",
        object_id=str(row.public_id),
        ip=ip,
        detail={"via": via, "expires": row.expiry.isoformat() if row.expiry else ""},
    )
    return row, token


@transaction.atomic
def api_token_revoke(*, actor: Any, token: ApiToken, via: str, ip: str | None = None) -> None:
    """Revoke (delete) one of the actor's own tokens."""
    if token.user_id != actor.pk:
        raise PermissionDenied
    public_id = str(token.public_id)
    ApiToken.objects.filter(pk=token.pk).delete()
    audit_record(
        action="api_token.revoke",
        actor=actor,
        object_type="api_token",
        object_id=public_id,
        ip=ip,
        detail={"via": via},
    )


@transaction.atomic
def totp_replace(*, actor: Any, secret: str, ip: str | None = None) -> Any:
    """Swap the actor's TOTP device for a new one whose code was just verified."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    Authenticator.objects.filter(user=actor, type=Authenticator.Type.TOTP).delete()
    new = TOTP.activate(actor, secret).instance
    audit_record(
        action="mfa.totp_replace",
        actor=actor,
        object_type="user",
        object_id=str(actor.pk),
        ip=ip,
    )
    return new
