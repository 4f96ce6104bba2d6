"""Fixtures for the card sources and the simulator: real Redis keys under a per-test prefix,
the simulator served over HTTP by pytest-django's ``live_server`` at /familycard-sim/, and
tiny timeouts so fault tests run in well under a second each."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import httpx
import pytest
from django.conf import settings as django_settings

from schools.identifiers import make_identifier
from scoring.circuit import redis_client
from scoring.simulator import faults as sim_faults

AS_OF = dt.date(2026, 9, 15)


def sim_headers() -> dict[str, str]:
    """The simulator is never anonymous: the shared secret the launcher sets for the tests."""
    return {"Authorization": f"Bearer {django_settings.FAMILY_CARD_SIM_SECRET}"}


@pytest.fixture
def client():
    """Django's test client, presenting the simulator's shared secret."""
    from django.test import Client

    return Client(HTTP_AUTHORIZATION=sim_headers()["Authorization"])


def make_iin(birth: dt.date, sex: str = "F", serial: int = 1) -> str:
    """A valid ИИН with this birth date and sex (first issuable serial from ``serial``)."""
    digit7 = {18: 1, 19: 3, 20: 5}[birth.year // 100] + (1 if sex == "F" else 0)
    for s in range(serial, serial + 100):
        iin = make_identifier(f"{birth.year % 100:02d}{birth:%m%d}{digit7}{s % 10000:04d}")
        if iin is not None:
            return iin
    raise AssertionError("no issuable ИИН")  # pragma: no cover


def delete_keys(prefix: str) -> None:
    client = redis_client(django_settings.REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*", count=500))
    if keys:
        client.delete(*keys)


@pytest.fixture
def redis_prefix(settings) -> Iterator[str]:
    """Every Redis key of the simulator and of the card client lives under this prefix."""
    prefix = f"test:h2:{uuid.uuid4().hex[:12]}:"
    settings.FAMILY_CARD_SIM_REDIS_PREFIX = prefix + "sim:"
    settings.FAMILY_CARD_REDIS_PREFIX = prefix + "card:"
    yield prefix
    delete_keys(prefix)


@pytest.fixture
def sim_settings(settings, redis_prefix) -> None:
    """Simulator defaults for tests: no faults from the environment, quick "timeouts"."""
    settings.FAMILY_CARD_SIM_ENABLED = True
    settings.FAMILY_CARD_SIM_AS_OF = AS_OF.isoformat()
    settings.FAMILY_CARD_SIM_UNKNOWN_PERMILLE = 0
    settings.FAMILY_CARD_SIM_LATENCY_MS = 0
    settings.FAMILY_CARD_SIM_ERROR_RATE = 0.0
    settings.FAMILY_CARD_SIM_TIMEOUT_RATE = 0.0
    settings.FAMILY_CARD_SIM_MALFORMED_RATE = 0.0
    settings.FAMILY_CARD_SIM_TIMEOUT_SLEEP = 0.6


@pytest.fixture
def card_service(live_server, settings, sim_settings) -> str:
    """The portal served by ``live_server``; the client points at its /familycard-sim."""
    url = live_server.url + "/familycard-sim"
    settings.FAMILY_CARD_URL = url
    settings.FAMILY_CARD_CONNECT_TIMEOUT = 0.5
    settings.FAMILY_CARD_READ_TIMEOUT = 0.25
    settings.FAMILY_CARD_ATTEMPTS = 3
    settings.FAMILY_CARD_BACKOFF_BASE = 0.01
    settings.FAMILY_CARD_BACKOFF_MAX = 0.05
    settings.FAMILY_CARD_BREAKER_FAILURES = 5
    settings.FAMILY_CARD_BREAKER_COOLDOWN = 0.4
    # Warm the server up (first request: URL resolver, translations, the generator) so the
    # tiny read timeouts above measure the client, not the server's cold start.
    httpx.get(url + "/v1/health", timeout=10, headers=sim_headers())
    httpx.get(url + "/v1/cards", params={"iin": "850307300124"}, timeout=10, headers=sim_headers())
    return url


@pytest.fixture
def set_faults(sim_settings):
    """``set_faults(error_rate=1)`` — the same Redis override the management command writes."""

    def apply(**changes: float) -> sim_faults.Faults:
        return sim_faults.faults_set(**changes)

    return apply
