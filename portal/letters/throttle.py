"""Rate limit of the public verification page: a fixed window per client IP, in the cache."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from portal.accounts.throttle import client_ip

_PREFIX = "komek:verify:"


def verify_allowed(request: HttpRequest) -> bool:
    """Count this look-up; False once the client IP used up ``VERIFY_RATE_LIMIT`` per window."""
    ip = client_ip(request) or "unknown"
    key = _PREFIX + hashlib.sha256(ip.encode()).hexdigest()[:32]
    window = int(settings.VERIFY_RATE_WINDOW)
    cache.add(key, 0, window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        count = 1
    return count <= int(settings.VERIFY_RATE_LIMIT)
