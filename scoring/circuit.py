"""A circuit breaker whose state lives in Redis, so every worker process shares it.

States:

* **closed** — calls go through; each failure increments a counter of consecutive failures,
  any success resets it. ``failure_threshold`` consecutive failures open the circuit.
* **open** — calls are refused at once (:class:`CircuitOpen` with a ``retry_after`` hint) until
  the cool-down has passed.
* **half-open** — after the cool-down one caller (in the whole fleet) may try a call; its success
  closes the circuit, its failure opens it again for another cool-down.

Keys (all under ``key_prefix + name``): ``:failures`` (consecutive failures), ``:open`` (present
while open; its TTL is the cool-down, so the clock is Redis's, not the workers'), ``:tripped``
(present from the first opening until a success: open key gone + tripped = half-open) and
``:probe`` (the half-open trial in progress; expires so a crashed prober cannot wedge it).

When Redis itself is unreachable the breaker fails *open-for-traffic* (calls are allowed and a
warning is logged): a broken breaker store must not take the card service down with it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import redis

logger = logging.getLogger(__name__)

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"

_REDIS_TIMEOUT_SECONDS = 0.5
_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()

# KEYS: failures, open, tripped, probe. ARGV: threshold, cooldown_ms, keep_ms.
# Returns 1 when this failure opened (or re-opened) the circuit, else 0.
_RECORD_FAILURE = """
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local tripped = redis.call('EXISTS', KEYS[3])
local is_open = redis.call('EXISTS', KEYS[2])
if is_open == 1 then
  return 0
end
if tripped == 1 or n >= tonumber(ARGV[1]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
  redis.call('SET', KEYS[3], '1', 'PX', ARGV[3])
  redis.call('DEL', KEYS[4])
  return 1
end
return 0
"""


def redis_client(url: str) -> redis.Redis:
    """A shared client (one connection pool per URL and process); ``unix://`` URLs work."""
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            client = redis.Redis.from_url(
                url,
                socket_timeout=_REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=_REDIS_TIMEOUT_SECONDS,
            )
            _clients[url] = client
        return client


class CircuitOpen(Exception):
    """The circuit is open: do not call; try again in ``retry_after`` seconds."""

    def __init__(self, name: str, retry_after: float) -> None:
        self.name = name
        self.retry_after = retry_after
        super().__init__(f"circuit {name!r} is open; retry after {retry_after:.1f} s")


@dataclass(frozen=True)
class CircuitStatus:
    state: str
    consecutive_failures: int
    retry_after: float | None


class CircuitBreaker:
    """Redis-backed breaker shared by every instance with the same ``name`` and prefix."""

    def __init__(
        self,
        name: str,
        *,
        client: redis.Redis,
        failure_threshold: int = 5,
        cooldown_seconds: float = 30.0,
        probe_timeout_seconds: float = 30.0,
        key_prefix: str = "komek:circuit:",
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.name = name
        self.client = client
        self.failure_threshold = failure_threshold
        self.cooldown_ms = max(1, int(cooldown_seconds * 1000))
        self.probe_ms = max(1, int(probe_timeout_seconds * 1000))
        # Failure counts and the tripped flag outlive any sensible outage, then vanish.
        self.keep_ms = max(self.cooldown_ms * 10, 24 * 3600 * 1000)
        base = f"{key_prefix}{name}"
        self.k_failures = f"{base}:failures"
        self.k_open = f"{base}:open"
        self.k_tripped = f"{base}:tripped"
        self.k_probe = f"{base}:probe"
        self._record_failure = client.register_script(_RECORD_FAILURE)

    # -- the three calls a client makes ----------------------------------------------------

    def before_call(self) -> None:
        """Raise :class:`CircuitOpen` when a call must not be made now."""
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.pttl(self.k_open)
            pipe.exists(self.k_tripped)
            open_ttl, tripped = pipe.execute()
            if open_ttl is not None and open_ttl != -2:  # -2: no such key
                retry_ms = open_ttl if open_ttl > 0 else self.cooldown_ms
                raise CircuitOpen(self.name, retry_ms / 1000)
            if not tripped:
                return
            # Half-open: exactly one trial call at a time across all processes.
            if self.client.set(self.k_probe, "1", nx=True, px=self.probe_ms):
                return
            probe_ttl = self.client.pttl(self.k_probe)
            raise CircuitOpen(self.name, max(probe_ttl, 100) / 1000)
        except redis.RedisError:
            logger.warning("circuit %s: Redis unavailable, allowing the call", self.name)

    def record_success(self) -> None:
        try:
            self.client.delete(self.k_failures, self.k_open, self.k_tripped, self.k_probe)
        except redis.RedisError:
            logger.warning("circuit %s: Redis unavailable, success not recorded", self.name)

    def record_failure(self) -> bool:
        """Count one failure; True when it opened the circuit."""
        try:
            opened = self._record_failure(
                keys=[self.k_failures, self.k_open, self.k_tripped, self.k_probe],
                args=[self.failure_threshold, self.cooldown_ms, self.keep_ms],
            )
        except redis.RedisError:
            logger.warning("circuit %s: Redis unavailable, failure not recorded", self.name)
            return False
        if opened:
            logger.warning("circuit %s opened for %.1f s", self.name, self.cooldown_ms / 1000)
        return bool(opened)

    # -- inspection and administration -----------------------------------------------------

    def status(self) -> CircuitStatus:
        pipe = self.client.pipeline(transaction=False)
        pipe.pttl(self.k_open)
        pipe.exists(self.k_tripped)
        pipe.get(self.k_failures)
        open_ttl, tripped, failures = pipe.execute()
        count = int(failures or 0)
        if open_ttl is not None and open_ttl != -2:
            return CircuitStatus(OPEN, count, max(open_ttl, 0) / 1000)
        if tripped:
            return CircuitStatus(HALF_OPEN, count, None)
        return CircuitStatus(CLOSED, count, None)

    def reset(self) -> None:
        self.client.delete(self.k_failures, self.k_open, self.k_tripped, self.k_probe)
