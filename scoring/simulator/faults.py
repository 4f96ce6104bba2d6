"""Fault injection for the simulator: settings/environment, overridden at run time from Redis.

The Redis key ``FAMILY_CARD_SIM_REDIS_PREFIX + "faults"`` holds a JSON object with any of
``latency_ms``, ``error_rate``, ``timeout_rate``, ``malformed_rate``, ``trickle_ms`` (a body sent in
64-byte pieces with this pause between them: a response that trickles in); fields it holds win over the
settings. ``manage.py familycard_sim faults …`` writes it, ``--reset`` deletes it. Every process
serving the simulator reads it on each request, so a test can take the simulator "down" and bring
it back without a restart.

The simulator also counts the card requests it receives (``…requests``) so tests can tell how
many times a client called.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, replace
from typing import Any

import redis
from django.conf import settings

from scoring.circuit import redis_client

logger = logging.getLogger(__name__)

FIELDS = ("latency_ms", "error_rate", "timeout_rate", "malformed_rate", "trickle_ms")
_INT_FIELDS = frozenset({"latency_ms", "trickle_ms"})
_COUNTER_TTL_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class Faults:
    latency_ms: int = 0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    malformed_rate: float = 0.0
    trickle_ms: int = 0

    def __post_init__(self) -> None:
        if self.latency_ms < 0:
            raise ValueError("latency_ms must be ≥ 0")
        if self.trickle_ms < 0:
            raise ValueError("trickle_ms must be ≥ 0")
        for name in ("error_rate", "timeout_rate", "malformed_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _prefix() -> str:
    return settings.FAMILY_CARD_SIM_REDIS_PREFIX


def faults_key() -> str:
    return _prefix() + "faults"


def requests_key() -> str:
    return _prefix() + "requests"


def _client() -> redis.Redis:
    return redis_client(settings.REDIS_URL)


def faults_from_settings() -> Faults:
    return Faults(
        latency_ms=int(settings.FAMILY_CARD_SIM_LATENCY_MS),
        error_rate=float(settings.FAMILY_CARD_SIM_ERROR_RATE),
        timeout_rate=float(settings.FAMILY_CARD_SIM_TIMEOUT_RATE),
        malformed_rate=float(settings.FAMILY_CARD_SIM_MALFORMED_RATE),
        trickle_ms=int(getattr(settings, "FAMILY_CARD_SIM_TRICKLE_MS", 0)),
    )


def _coerce(overrides: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in FIELDS:
        if name in overrides and overrides[name] is not None:
            out[name] = int(overrides[name]) if name in _INT_FIELDS else float(overrides[name])
    return out


def stored_overrides() -> dict[str, Any] | None:
    """The run-time overrides in Redis, or None when there are none (or Redis is down)."""
    try:
        raw = _client().get(faults_key())
    except redis.RedisError:
        logger.warning("simulator: Redis unavailable, using fault settings only")
        return None
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        logger.warning("simulator: ignoring unreadable fault overrides")
        return None
    return _coerce(data) if isinstance(data, dict) else None


def current_faults() -> tuple[Faults, str]:
    """The faults in force and where they come from (``settings`` or ``redis``)."""
    base = faults_from_settings()
    overrides = stored_overrides()
    if not overrides:
        return base, "settings"
    try:
        return replace(base, **overrides), "redis"
    except ValueError:
        logger.warning("simulator: ignoring out-of-range fault overrides")
        return base, "settings"


def faults_set(**changes: Any) -> Faults:
    """Merge ``changes`` into the faults in force and store the result in Redis."""
    current, _source = current_faults()
    updated = replace(current, **_coerce(changes))  # validates ranges
    _client().set(faults_key(), json.dumps(updated.as_dict()))
    return updated


def faults_reset() -> Faults:
    """Forget the run-time overrides: back to settings/environment."""
    _client().delete(faults_key())
    return faults_from_settings()


def request_counted() -> None:
    try:
        pipe = _client().pipeline(transaction=False)
        pipe.incr(requests_key())
        pipe.expire(requests_key(), _COUNTER_TTL_SECONDS)
        pipe.execute()
    except redis.RedisError:
        pass


def requests_seen() -> int:
    try:
        return int(_client().get(requests_key()) or 0)
    except redis.RedisError:
        return 0
