"""A circuit breaker whose state lives in Redis, so every worker process shares it.

It opens on the failure **rate** over a sliding time window, not on a run of failures, so a
service that answers 70 % of calls keeps it closed while a dead one opens it in seconds.

States:

* **closed** — calls go through; every outcome is counted in one-second buckets. When, over
  the last ``window_seconds``, at least ``failure_threshold`` calls failed *and* failures are
  at least ``failure_rate`` of all calls, the circuit opens.
* **open** — calls are refused at once (:class:`CircuitOpen` with a ``retry_after`` hint) until
  the cool-down has passed.
* **half-open** — after the cool-down up to ``half_open_probes`` callers (in the whole fleet)
  may try a call. The circuit closes once enough of them succeed (all but
  ``floor(probes × failure_rate)``) and opens again as soon as more than
  ``probes × failure_rate`` of them fail; one unlucky probe does not re-open a 70 %-healthy
  service.

Keys (all under ``key_prefix + name``): ``:window`` (a hash of ``<second>:o`` / ``<second>:f``
counters), ``:open`` (present while open; its TTL is the cool-down, so the clock is Redis's,
not the workers'), ``:tripped`` (present from the first opening until the circuit closes:
open key gone + tripped = half-open) and ``:half`` (the half-open round: admitted probes,
their successes and failures; expires so crashed probers cannot wedge it).

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

# KEYS: window, open, tripped, half.
# ARGV: ok (1/0), window_s, min_failures, rate, cooldown_ms, keep_ms, probes, probe_ms.
# Returns 1 when this outcome opened (or re-opened) the circuit, 2 when it closed it, else 0.
_RECORD = """
local ok = ARGV[1] == '1'
local window = tonumber(ARGV[2])
local rate = tonumber(ARGV[4])
local probes = tonumber(ARGV[7])
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
local function trip()
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[5])
  redis.call('SET', KEYS[3], '1', 'PX', ARGV[6])
  redis.call('DEL', KEYS[4], KEYS[1])
  return 1
end
if redis.call('EXISTS', KEYS[3]) == 1 then
  local field = ok and 'ok' or 'fail'
  local n = redis.call('HINCRBY', KEYS[4], field, 1)
  redis.call('PEXPIRE', KEYS[4], ARGV[8])
  local hok = tonumber(redis.call('HGET', KEYS[4], 'ok') or '0')
  local hfail = tonumber(redis.call('HGET', KEYS[4], 'fail') or '0')
  if hfail > probes * rate then
    return trip()
  end
  if hok >= probes - math.floor(probes * rate) then
    redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
    return 2
  end
  return 0
end
local now = tonumber(redis.call('TIME')[1])
redis.call('HINCRBY', KEYS[1], now .. (ok and ':o' or ':f'), 1)
redis.call('PEXPIRE', KEYS[1], window * 2000)
if ok and redis.call('HLEN', KEYS[1]) <= 2 * window + 4 then
  return 0
end
local all = redis.call('HGETALL', KEYS[1])
local calls, fails = 0, 0
for i = 1, #all, 2 do
  local f = all[i]
  local sec = tonumber(string.sub(f, 1, -3))
  if sec <= now - window then
    redis.call('HDEL', KEYS[1], f)
  else
    local n = tonumber(all[i + 1])
    calls = calls + n
    if string.sub(f, -1) == 'f' then
      fails = fails + n
    end
  end
end
if not ok and fails >= tonumber(ARGV[3]) and fails >= rate * calls then
  return trip()
end
return 0
"""

# KEYS: open, tripped, half. ARGV: probes, probe_ms.
# Returns -1 when closed (go), 0 when admitted as a half-open probe, else the ms to wait.
_BEFORE = """
local ttl = redis.call('PTTL', KEYS[1])
if ttl ~= -2 then
  if ttl < 0 then ttl = 1000 end
  if ttl == 0 then ttl = 1 end
  return ttl
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  return -1
end
local n = redis.call('HINCRBY', KEYS[3], 'admitted', 1)
if n == 1 then
  redis.call('PEXPIRE', KEYS[3], ARGV[2])
end
if n <= tonumber(ARGV[1]) then
  return 0
end
local wait = redis.call('PTTL', KEYS[3])
if wait < 100 then wait = 100 end
return wait
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
    failures: int  # failed calls in the window (closed) or in the half-open round
    calls: int  # calls in the window (closed) or half-open outcomes so far
    retry_after: float | None

    @property
    def failure_rate(self) -> float:
        return self.failures / self.calls if self.calls else 0.0


class CircuitBreaker:
    """Redis-backed breaker shared by every instance with the same ``name`` and prefix."""

    def __init__(
        self,
        name: str,
        *,
        client: redis.Redis,
        failure_threshold: int = 5,
        failure_rate: float = 0.5,
        window_seconds: float = 30.0,
        half_open_probes: int = 3,
        cooldown_seconds: float = 30.0,
        probe_timeout_seconds: float = 30.0,
        key_prefix: str = "komek:circuit:",
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if not 0 < failure_rate <= 1:
            raise ValueError("failure_rate must be in (0, 1]")
        if half_open_probes < 1:
            raise ValueError("half_open_probes must be at least 1")
        self.name = name
        self.client = client
        self.failure_threshold = failure_threshold
        self.failure_rate = float(failure_rate)
        self.window_seconds = max(1, int(round(window_seconds)))
        self.half_open_probes = int(half_open_probes)
        self.cooldown_ms = max(1, int(cooldown_seconds * 1000))
        self.probe_ms = max(1, int(probe_timeout_seconds * 1000))
        # The tripped flag outlives any sensible outage, then vanishes.
        self.keep_ms = max(self.cooldown_ms * 10, 24 * 3600 * 1000)
        base = f"{key_prefix}{name}"
        self.k_window = f"{base}:window"
        self.k_open = f"{base}:open"
        self.k_tripped = f"{base}:tripped"
        self.k_half = f"{base}:half"
        self._record = client.register_script(_RECORD)
        self._before = client.register_script(_BEFORE)

    # -- the three calls a client makes ----------------------------------------------------

    def before_call(self) -> None:
        """Raise :class:`CircuitOpen` when a call must not be made now."""
        try:
            wait_ms = int(
                self._before(
                    keys=[self.k_open, self.k_tripped, self.k_half],
                    args=[self.half_open_probes, self.probe_ms],
                )
            )
        except redis.RedisError:
            logger.warning("circuit %s: Redis unavailable, allowing the call", self.name)
            return
        if wait_ms > 0:
            raise CircuitOpen(self.name, wait_ms / 1000)

    def _outcome(self, ok: bool) -> int:
        return int(
            self._record(
                keys=[self.k_window, self.k_open, self.k_tripped, self.k_half],
                args=[
                    1 if ok else 0,
                    self.window_seconds,
                    self.failure_threshold,
                    self.failure_rate,
                    self.cooldown_ms,
                    self.keep_ms,
                    self.half_open_probes,
                    self.probe_ms,
                ],
            )
        )

    def record_success(self) -> bool:
        """Count one success; True when it closed a half-open circuit (the service is back)."""
        try:
            closed = self._outcome(True) == 2
        except redis.RedisError:
            logger.warning("circuit %s: Redis unavailable, success not recorded", self.name)
            return False
        if closed:
            logger.warning("circuit %s closed: the service answers again", self.name)
        return closed

    def record_failure(self) -> bool:
        """Count one failure; True when it opened the circuit."""
        try:
            opened = self._outcome(False) == 1
        except redis.RedisError:
            logger.warning("circuit %s: Redis unavailable, failure not recorded", self.name)
            return False
        if opened:
            logger.warning("circuit %s opened for %.1f s", self.name, self.cooldown_ms / 1000)
        return opened

    # -- inspection and administration -----------------------------------------------------

    def status(self) -> CircuitStatus:
        pipe = self.client.pipeline(transaction=False)
        pipe.pttl(self.k_open)
        pipe.exists(self.k_tripped)
        pipe.hgetall(self.k_window)
        pipe.hgetall(self.k_half)
        pipe.time()
        open_ttl, tripped, window, half, (now, _micro) = pipe.execute()
        if open_ttl is not None and open_ttl != -2:
            return CircuitStatus(OPEN, 0, 0, max(open_ttl, 0) / 1000)
        if tripped:
            hok = int(half.get(b"ok", 0))
            hfail = int(half.get(b"fail", 0))
            return CircuitStatus(HALF_OPEN, hfail, hok + hfail, None)
        calls = fails = 0
        for field, count in window.items():
            second, _sep, kind = field.decode().partition(":")
            if int(second) > now - self.window_seconds:
                calls += int(count)
                fails += int(count) if kind == "f" else 0
        return CircuitStatus(CLOSED, fails, calls, None)

    def reset(self) -> None:
        self.client.delete(self.k_window, self.k_open, self.k_tripped, self.k_half)
