"""Single submissions gathered into chunks: one Celery message for what arrives together.

A submission through the API or the form is one request; scoring it in a task of its own
costs a message, a task start and a card call each. Instead, on commit, its id is appended to
a Redis list and *one* drain task is sent for everything that arrives until a worker takes
it (a flag set with ``NX`` says a drain is already on its way): the busier the workers, the
bigger the chunks. The drain task takes up to a chunk from the list and works on it
set-based; if more is waiting it sends the next drain at once. ``COALESCE_WINDOW`` > 0 delays
each drain by that many seconds (bigger chunks under light load), but Celery's event loop
pays for every message with a countdown: measured at 50 submissions/s, the worker's main
process spent 7 s of CPU instead of 1 s, so the default is 0.

Ordering makes it safe without locks: a producer pushes, *then* sets the flag; the drain
clears the flag, *then* takes from the list. Whatever a producer pushes after the drain took
its chunk finds the flag cleared and schedules a drain of its own. Nothing here is the only
record of the work: an id lost from the list (Redis flushed, a worker killed after taking it)
is still a ``queued`` request or a pending notice in PostgreSQL, and the sweepers re-queue
those (``STUCK_QUEUED_AFTER``, ``NOTICE_STUCK_THRESHOLD``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Coalescer:
    """``name``: what is gathered (part of the Redis keys); ``task``: the drain task's name."""

    name: str
    task: str

    def _keys(self) -> tuple[str, str]:
        from portal.celery import app

        # Per queue: a worker drains what was submitted for its queue (the tests' private
        # queues, two deployments on one Redis).
        base = f"komek:coalesce:{self.name}:{app.conf.task_default_queue}"
        return base + ":ids", base + ":drain"

    def _redis(self):  # noqa: ANN202
        from scoring.circuit import redis_client

        return redis_client(settings.REDIS_URL)

    def add(self, ids: list[int]) -> None:
        """Append ``ids`` and schedule a drain unless one is already scheduled. Raises when
        Redis or the broker is unreachable (callers run it ``on_commit(robust=True)``)."""
        if not ids:
            return
        items, flag = self._keys()
        window = float(settings.COALESCE_WINDOW)
        pipe = self._redis().pipeline(transaction=False)
        pipe.rpush(items, *ids)
        # The flag outlives the window: a drain lost with the broker is replaced once it
        # expires (and the sweeper re-queues what it would have taken meanwhile).
        pipe.set(flag, "1", nx=True, px=int((window + 30) * 1000))
        _, scheduled_now = pipe.execute()
        if scheduled_now:
            self._send(window)

    def _send(self, countdown: float) -> None:
        from portal.celery import app

        try:
            app.send_task(self.task, countdown=countdown or None)
        except Exception:
            self._redis().delete(self._keys()[1])
            raise

    def take(self, limit: int) -> list[int]:
        """The drain's step: clear the flag, then take up to ``limit`` ids (oldest first). If
        more are waiting, the next drain is scheduled now."""
        items, flag = self._keys()
        client = self._redis()
        client.delete(flag)
        pipe = client.pipeline(transaction=True)
        pipe.lrange(items, 0, limit - 1)
        pipe.ltrim(items, limit, -1)
        pipe.llen(items)
        taken, _, left = pipe.execute()
        if left and client.set(flag, "1", nx=True, px=30_000):
            try:
                self._send(0)
            except Exception:  # noqa: BLE001 - the flag expires; the next submission drains
                logger.warning("coalesce %s: could not schedule the next drain", self.name)
        return [int(raw) for raw in taken]

    def waiting(self) -> int:
        """Ids in the list (the ``komek_queue_depth`` metric, the sweeper)."""
        return int(self._redis().llen(self._keys()[0]))

    def kick(self) -> bool:
        """The sweeper's step: ids waiting with no drain scheduled (its message lost with the
        broker, its flag expired) get one now. True when a drain was sent."""
        items, flag = self._keys()
        client = self._redis()
        if not client.llen(items) or not client.set(flag, "1", nx=True, px=30_000):
            return False
        self._send(0)
        return True

    def add_on_commit(self, ids: list[int]) -> None:
        """:meth:`add` once the current transaction commits, in one Redis round trip with the
        transaction's other such work (:func:`redis_on_commit`)."""
        if ids:
            redis_on_commit(ids={self: list(ids)})


class OnCommit:
    """The Redis work of one transaction (at one savepoint level), done after it commits in
    one pipeline: every coalescer's ``RPUSH`` and ``SET NX``, and the counters' ``INCR``
    (the statistics' cache generation). Measured: three round trips after each API
    submission's commit (the request to score, its SMS, the generation) were a tenth of its
    CPU."""

    def __init__(self) -> None:
        self.ids: dict[Coalescer, list[int]] = {}
        self.incr: list[str] = []

    def __call__(self) -> None:
        from scoring.circuit import redis_client

        pipe = redis_client(settings.REDIS_URL).pipeline(transaction=False)
        for key in self.incr:
            pipe.incr(key)
        order = list(self.ids)
        window = float(settings.COALESCE_WINDOW)
        for coalescer in order:
            items, flag = coalescer._keys()
            pipe.rpush(items, *self.ids[coalescer])
            # The flag outlives the window: a drain lost with the broker is replaced once it
            # expires (and the sweeper re-queues what it would have taken meanwhile).
            pipe.set(flag, "1", nx=True, px=int((window + 30) * 1000))
        results = pipe.execute()[len(self.incr) :]
        failed: Exception | None = None
        for coalescer, scheduled_now in zip(order, results[1::2], strict=True):
            if scheduled_now:
                try:
                    coalescer._send(window)
                except Exception as exc:  # noqa: BLE001 - the others still get their drain
                    failed = exc
        if failed is not None:
            raise failed


def _pending() -> OnCommit | None:
    """The current transaction's batch at the current savepoint level, registered with
    ``on_commit(robust=True)`` when it is the first; None outside a transaction."""
    from django.db import connection, transaction

    if not connection.in_atomic_block:
        return None
    here = set(connection.savepoint_ids)
    for sids, func, _robust in reversed(connection.run_on_commit):
        if isinstance(func, OnCommit) and sids == here:
            return func
    batch = OnCommit()
    transaction.on_commit(batch, robust=True)
    return batch


def redis_on_commit(*, ids: dict[Coalescer, list[int]] | None = None, incr: tuple = ()) -> None:
    """Coalescers' ids to append and counters to raise once the current transaction commits
    (with the rest of its Redis work: one round trip); at once outside a transaction. Never
    raises: an outage of Redis or the broker leaves the rows for the sweepers
    (``on_commit(robust=True)``: logged)."""
    batch = _pending()
    now = batch is None
    if batch is None:
        batch = OnCommit()
    for coalescer, more in (ids or {}).items():
        batch.ids.setdefault(coalescer, []).extend(more)
    batch.incr.extend(incr)
    if now:
        try:
            batch()
        except Exception:  # noqa: BLE001 - as on_commit(robust=True) does
            logger.exception("coalesce: could not record the work in Redis")


def redis_on_commit_pending(incr: str) -> bool:
    """Whether the current transaction (at any savepoint level) raises counter ``incr`` after
    it commits."""
    from django.db import connection

    return connection.in_atomic_block and any(
        isinstance(func, OnCommit) and incr in func.incr
        for _sids, func, _robust in connection.run_on_commit
    )


#: Submitted requests waiting to be scored (drained by ``portal.aid_requests_drain``).
SUBMITTED = Coalescer("scoring", "portal.aid_requests_drain")
#: Notices waiting to be delivered (drained by ``notices.notices_drain``).
NOTICES = Coalescer("notices", "notices.notices_drain")
