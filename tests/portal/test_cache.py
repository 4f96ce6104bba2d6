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


def test_a_change_bumps_the_generation_once_on_commit_and_its_reads_bypass_the_cache(
    world, no_enqueue, django_capture_on_commit_callbacks, monkeypatch
):
    """Issue 12: the rollup's generation rises when the change commits (one Redis round trip
    per submission, not two); until then the transaction's own dashboard reads neither use
    nor fill the cache, so nothing uncommitted is ever cached for others."""
    from portal.stats import selectors
    from portal.stats.selectors import StatsFilters, stats_changed_uncommitted, stats_tree
    from tests.portal.factories import student_iin, submit

    stats_generation_bump()
    before = cache.get(_GENERATION_KEY)
    touched: list[str] = []
    real_get, real_set = selectors.cache.get, selectors.cache.set

    def get(key, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        touched.append(key)
        return real_get(key, *args, **kwargs)

    def set_(key, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        touched.append(key)
        return real_set(key, *args, **kwargs)

    monkeypatch.setattr(selectors.cache, "get", get)
    monkeypatch.setattr(selectors.cache, "set", set_)
    with django_capture_on_commit_callbacks(execute=True):
        submit(world)
        submit(world, student_iin=student_iin(2))
        assert cache.get(_GENERATION_KEY) == before  # not yet: uncommitted
        assert stats_changed_uncommitted()
        assert stats_tree(filters=StatsFilters()) is not None
        assert not [k for k in touched if str(k).startswith("stats:tree")], touched
    monkeypatch.undo()
    assert cache.get(_GENERATION_KEY) == before + 1  # once for the transaction
