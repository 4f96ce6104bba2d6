"""Fixtures shared by the portal tests (helpers are in ``tests/portal/factories.py``)."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings

from portal.requests import services
from scoring.circuit import redis_client
from tests.dburl import current_database_url
from tests.portal.pipeline import WORKER_APP_NAME, Worker
from tests.scoring.conftest import delete_keys


@pytest.fixture
def no_enqueue(monkeypatch):
    """Record the ids the services would send to Celery (on commit) instead of sending them."""
    sent: list[int] = []
    monkeypatch.setattr(services, "_enqueue_on_commit", lambda req: sent.append(req.pk))
    monkeypatch.setattr(services, "_enqueue_many_on_commit", lambda ids: sent.extend(ids))
    return sent


@pytest.fixture
def pipeline(idle_pipeline) -> Worker:
    """Simulator faults under a private Redis prefix; a worker on this test's own queue."""
    idle_pipeline.start()
    return idle_pipeline


@pytest.fixture
def idle_pipeline(live_server, settings, world) -> Iterator[Worker]:
    """The same, the worker not started yet: ``idle_pipeline.start(ENV=value)``."""
    prefix = f"test:h4:{uuid.uuid4().hex[:10]}:"
    settings.FAMILY_CARD_SIM_REDIS_PREFIX = prefix + "sim:"
    settings.FAMILY_CARD_SIM_AS_OF = "2026-09-15"
    settings.FAMILY_CARD_SIM_UNKNOWN_PERMILLE = 0
    card_url = live_server.url + "/familycard-sim"
    # A fresh circuit breaker for this URL (the port may be reused between runs).
    name = "familycard:" + hashlib.sha256(card_url.encode()).hexdigest()[:12]
    delete_keys(f"komek:familycard:circuit:{name}")
    queue = f"{django_settings.CELERY_TASK_DEFAULT_QUEUE}-it-{uuid.uuid4().hex[:8]}"
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    from portal.celery import app

    app.conf.task_default_queue = queue
    env = {
        **os.environ,
        "DATABASE_URL": current_database_url(),
        "CELERY_QUEUE": queue,
        "KOMEK_TESTING": "1",
        "FAMILY_CARD_URL": card_url,
        "FAMILY_CARD_ATTEMPTS": "1",
        "FAMILY_CARD_READ_TIMEOUT": "5",
        "SCORING_TASK_MAX_RETRIES": "2",
        "FAMILY_CARD_SIM_ENABLED": "0",
        # libpq names the worker's sessions: a test may kill exactly those
        "PGAPPNAME": WORKER_APP_NAME,
    }
    worker = Worker(env, queue)
    try:
        yield worker
    finally:
        worker.stop()
        app.conf.task_default_queue = django_settings.CELERY_TASK_DEFAULT_QUEUE
        redis_client(django_settings.REDIS_URL).delete(queue, f"{queue}-sweeper")
        delete_keys(prefix)


@pytest.fixture
def sms_worker(live_server, settings, world) -> Iterator[Worker]:
    """A worker on its own queue delivering notices to the SMS simulator of live_server (and
    scoring with its card simulator); notices are really enqueued (see ``notices_sent``)."""
    prefix = f"test:sms:{uuid.uuid4().hex[:10]}:"
    settings.FAMILY_CARD_SIM_REDIS_PREFIX = prefix + "sim:"
    settings.FAMILY_CARD_SIM_AS_OF = "2026-09-15"
    settings.SMS_SIM_FAULT_KEY = prefix + "sms-faults"
    settings.SMS_GATEWAY_URL = live_server.url + "/sms-sim"
    card_url = live_server.url + "/familycard-sim"
    name = "familycard:" + hashlib.sha256(card_url.encode()).hexdigest()[:12]
    delete_keys(f"komek:familycard:circuit:{name}")
    queue = f"{django_settings.CELERY_TASK_DEFAULT_QUEUE}-sms-{uuid.uuid4().hex[:8]}"
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    from portal.celery import app

    app.conf.task_default_queue = queue
    env = {
        **os.environ,
        "DATABASE_URL": current_database_url(),
        "CELERY_QUEUE": queue,
        "KOMEK_TESTING": "1",
        "FAMILY_CARD_URL": card_url,
        "FAMILY_CARD_ATTEMPTS": "1",
        "SMS_GATEWAY_URL": settings.SMS_GATEWAY_URL,
        "SMS_GATEWAY_KEY": django_settings.SMS_SIM_SECRET,
        "SCORING_RETRY_BACKOFF_BASE": "0.2",
        "NOTICE_MAX_RETRIES": "3",
        "FAMILY_CARD_SIM_ENABLED": "0",
        "SMS_SIM_ENABLED": "0",
    }
    worker = Worker(env, queue)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
        app.conf.task_default_queue = django_settings.CELERY_TASK_DEFAULT_QUEUE
        redis_client(django_settings.REDIS_URL).delete(queue)
        delete_keys(prefix)
