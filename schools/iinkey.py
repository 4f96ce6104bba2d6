"""The keyed hash of an ИИН: HMAC-SHA256 with ``settings.IIN_HMAC_KEY``.

Unique keys and exact lookups use :func:`iin_digest` instead of the ИИН itself, so that a
unique-constraint failure (whose DETAIL line PostgreSQL writes to its log with the key values)
or a slow-query log never carries an ИИН; :func:`iin_ref` is the short reference used in
application logs. Without the key neither can be reversed by trying every birth date.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["IIN_DIGEST_LENGTH", "iin_digest", "iin_ref"]

IIN_DIGEST_LENGTH = 64  # hex characters of HMAC-SHA256


def _key() -> bytes:
    key = getattr(settings, "IIN_HMAC_KEY", "") or ""
    if not key:
        raise ImproperlyConfigured("IIN_HMAC_KEY is not set")
    return key.encode("utf-8")


def iin_digest(iin: str) -> str:
    """HMAC-SHA256 of the ИИН under the deployment's key, as 64 hex characters."""
    return hmac.new(_key(), iin.encode("utf-8"), hashlib.sha256).hexdigest()


def iin_ref(iin: str) -> str:
    """A short reference to an ИИН for logs: ``iin#`` and 10 hex digits of a keyed hash
    (domain-separated from :func:`iin_digest`, so a logged reference is no prefix of a stored
    digest)."""
    mac = hmac.new(_key(), b"log-ref\x00" + iin.encode("utf-8"), hashlib.sha256)
    return "iin#" + mac.hexdigest()[:10]
