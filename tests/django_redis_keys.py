"""Delete this test process's cache keys only (never FLUSHDB: other processes share Redis)."""

from __future__ import annotations

import redis
from django.conf import settings


def delete_prefix(prefix: str) -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        batch = []
        for key in client.scan_iter(match=f"{prefix}:*", count=500):
            batch.append(key)
            if len(batch) >= 500:
                client.delete(*batch)
                batch = []
        if batch:
            client.delete(*batch)
    finally:
        client.close()
