"""/readyz (each dependency on its own) and /metrics (Prometheus format, not public)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.conf import settings
from django.test import Client

from portal import health, metrics
from tests.portal.factories import FakeSource, student_iin, submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh(settings):
    health._card_cache.clear()
    metrics.reset()
    yield
    metrics.reset()


def test_readyz_reports_each_dependency_and_stays_ready_without_the_card_service(settings):
    settings.FAMILY_CARD_URL = "http://127.0.0.1:9/nothing"  # nobody listens on port 9
    r = Client().get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert set(body["checks"]) == {"database", "broker", "card_service", "sweeper"}
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]
    assert body["checks"]["card_service"]["ok"] is False
    assert body["checks"]["card_service"]["error"] == "connection"
    assert body["status"] == "degraded"


def test_readyz_is_not_ready_without_the_broker(settings):
    with mock.patch.object(health, "check_broker", return_value={"ok": False, "error": "x"}):
        r = Client().get("/readyz")
    assert r.status_code == 503 and r.json()["status"] == "unavailable"
    assert Client().get("/healthz").status_code == 200  # liveness is another question


def test_readyz_warns_when_the_sweeper_does_not_run(settings):
    with mock.patch("portal.requests.tasks.sweeper_last_run", return_value=None):
        check = health.check_sweeper()
    assert check["ok"] is False and "beat" in check["warning"]


def test_metrics_need_a_superuser_or_the_token(settings, world):
    settings.METRICS_TOKEN = "s3cret-token-for-scrapes"
    assert Client().get("/metrics").status_code == 302
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 302
    r = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token-for-scrapes")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/plain")


def test_metrics_show_latency_outcomes_queue_and_breaker(settings, world, no_enqueue):
    from portal.requests import tasks

    settings.METRICS_TOKEN = "t0ken-t0ken-t0ken"
    req = submit(world)
    with mock.patch("scoring.sources.get_card_source", return_value=FakeSource()):
        tasks.aid_request_score.apply(args=[req.pk])
    _fetch_through_a_failing_service()
    Client().get("/healthz")
    text = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer t0ken-t0ken-t0ken").content.decode()
    for needle in (
        'komek_task_outcomes_total{outcome="scored",task="aid_request_score"} 1.0',
        "komek_task_duration_seconds_bucket",
        "komek_submit_to_scored_seconds_count 1.0",
        'komek_card_fetch_duration_seconds_count{outcome="unavailable"} 1.0',
        'komek_card_errors_total{reason="http_5xx"} 1.0',
        "komek_queue_depth{",
        "komek_circuit_state{",
        'komek_aid_requests{status="scored"} 1.0',
        "komek_aid_requests_held_back 0.0",
        "komek_http_request_duration_seconds_bucket",
    ):
        assert needle in text, needle
    assert req.student_iin not in text


def _fetch_through_a_failing_service() -> None:
    import uuid

    import httpx

    from scoring.circuit import CircuitBreaker, redis_client
    from scoring.sources import CardServiceUnavailable, HttpFamilyCardSource

    breaker = CircuitBreaker(
        "ops", client=redis_client(settings.REDIS_URL), key_prefix=f"test:ops:{uuid.uuid4().hex}:"
    )
    source = HttpFamilyCardSource(
        "http://127.0.0.1:9",
        connect_timeout=1,
        read_timeout=1,
        attempts=1,
        breaker=breaker,
        transport=httpx.MockTransport(lambda request: httpx.Response(503)),
    )
    with pytest.raises(CardServiceUnavailable):
        source.fetch(student_iin(1))
    breaker.reset()


def test_runserver_uses_the_server_that_closes_connections():
    from django.contrib.staticfiles.management.commands.runserver import Command as Static
    from django.core.management.commands.runserver import Command

    from portal.devserver import ClosingWSGIServer

    assert Command.server_cls is ClosingWSGIServer
    assert Static.server_cls is ClosingWSGIServer


def test_web_request_durations_are_summed_in_process_and_sent_in_one_round_trip(settings):
    """Issue 12: a web request's duration is not a Redis round trip of its own; the sums
    reach Redis with the next flush (every second, before a scrape, at exit)."""
    calls: list[int] = []
    real_send = metrics._send

    def counting(ops):  # noqa: ANN001, ANN202
        calls.append(len(ops))
        return real_send(ops)

    with mock.patch.object(metrics, "_send", counting):
        for _ in range(5):
            Client().get("/healthz")
        assert len(calls) <= 1  # (the background flush may fall in between, once)
        metrics.flush()
    assert 1 <= len(calls) <= 2  # five requests, at most two round trips
    raw = metrics._client().hgetall(
        metrics._key(
            "h",
            "komek_http_request_duration_seconds",
            {"method": "GET", "route": "healthz", "status": "2xx"},
        )
    )
    assert sum(int(v) for k, v in raw.items() if k != b"sum") == 5


def test_a_forked_child_does_not_send_its_parent_s_sums_again():
    import os

    key = ("incrby", metrics._key("c", "komek_test_fork_total", {}), "")
    with metrics._buffer_lock:  # (the flushing thread waits: the sum is there at the fork)
        metrics._buffer[key] = 1
        pid = os.fork()
        if pid == 0:  # the child: nothing of the parent's to send, and a lock of its own
            if not metrics._buffer_lock.acquire(timeout=5):
                os._exit(2)
            os._exit(0 if not metrics._buffer else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert metrics._buffer[key] == 1  # the parent still has it
    metrics.reset()
