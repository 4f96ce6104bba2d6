"""Issue 12: the Redis cache keeps one client per connection pool, and a counter is one INCR.

Django's Redis cache built a new ``redis.Redis`` (with its table of response callbacks) for
every cache call: two of those per API submission cost more than their commands.
"""

from __future__ import annotations

import uuid

from django.core.cache import cache

from portal.stats.selectors import _GENERATION_KEY, stats_generation_bump


def test_the_cache_reuses_its_client():
    inner = cache._cache
    assert inner.get_client() is inner.get_client()
    assert inner.get_client(write=True) is inner.get_client("any key", write=True)
    key = f"test:{uuid.uuid4().hex}"
    cache.set(key, {"a": 1}, 30)
    assert cache.get(key) == {"a": 1}
    cache.delete(key)


def test_a_counter_is_created_and_raised_by_one_incr(monkeypatch):
    key = f"test:{uuid.uuid4().hex}"
    client = cache._cache.get_client(write=True)
    commands: list[str] = []
    real = client.execute_command

    def spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        commands.append(str(args[0]).upper())
        return real(*args, **kwargs)

    monkeypatch.setattr(client, "execute_command", spy)
    assert cache.incr_or_create(key) == 1
    assert cache.incr_or_create(key, 2) == 3
    assert commands == ["INCRBY", "INCRBY"]  # one command each, no EXISTS before it
    monkeypatch.undo()
    assert cache.get(key) == 3  # readable by the cache (an int is stored as is)
    assert client.ttl(cache.make_key(key)) == -1  # no expiry, as cache.add(key, 1, None)
    cache.delete(key)


def test_the_statistics_generation_rises_by_one_per_bump():
    before = cache.get(_GENERATION_KEY, 0)
    stats_generation_bump()
    stats_generation_bump()
    assert cache.get(_GENERATION_KEY) == before + 2
