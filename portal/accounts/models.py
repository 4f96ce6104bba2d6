"""API tokens (django-rest-knox): only a SHA-512 digest is stored, never the token."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken

TOKEN_NAME_MAX_LENGTH = 100


class ApiToken(AbstractAuthToken):
    """One API token of a user: hashed at rest, expiring, revocable, last use recorded.

    Revoking deletes the row (knox's model); the audit log keeps the history.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("название"), max_length=TOKEN_NAME_MAX_LENGTH)
    last_used_at = models.DateTimeField(_("последнее использование"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(
        _("IP последнего использования"), null=True, blank=True
    )

    class Meta:
        ordering = ["-created"]
        verbose_name = _("API-токен")
        verbose_name_plural = _("API-токены")

    def __str__(self) -> str:
        return f"{self.name} ({self.token_key}…)"

    @property
    def is_expired(self) -> bool:
        return self.expiry is not None and self.expiry <= timezone.now()
