"""Injected faults of the SMS simulator (in Redis, so every serving process sees them)."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

_KEY = "komek:sms-sim:fail-next"


def _key() -> str:
    return getattr(settings, "SMS_SIM_FAULT_KEY", "") or _KEY


def fail_next_set(count: int) -> None:
    """The next ``count`` messages are answered 503 (then the gateway works again)."""
    cache.set(_key(), int(count), 3600)


def fail_next_take() -> bool:
    """True (and one fewer left) when this message should fail."""
    try:
        left = cache.decr(_key())
    except ValueError:
        return False
    if left < 0:
        cache.delete(_key())
        return False
    return True
