"""The whole pipeline with a REAL Celery worker (a subprocess on Redis) and the family card
simulator over HTTP (pytest-django's live_server): scored; simulator down → needs_review;
worker killed mid-task → re-queued by the sweeper and scored exactly once."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from portal import services
from portal.models import AidRequest, AidRequestScoring, Status
from scoring.circuit import redis_client
from scoring.simulator import faults as sim_faults
from tests.dburl import current_database_url
from tests.portal.test_requests_fixtures import student_iin, submit
from tests.scoring.conftest import delete_keys

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def status_of(req: AidRequest) -> str:
    return AidRequest.objects.get(pk=req.pk).status


class Worker:
    def __init__(self, env: dict[str, str], queue: str) -> None:
        self.env, self.queue = env, queue
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        cmd = [
            sys.executable, "-m", "celery", "-A", "portal", "worker", "-P", "solo",
            "-Q", self.queue, "--without-heartbeat", "--without-gossip", "--without-mingle",
            "--loglevel", "WARNING",
        ]  # fmt: skip
        self.proc = subprocess.Popen(  # noqa: S603 - fixed argv
            cmd, cwd=ROOT, env=self.env, start_new_session=True
        )

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def pipeline(live_server, settings, world) -> Iterator[Worker]:
    """Simulator faults under a private Redis prefix; a worker on this test's own queue."""
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


def test_it_scores_a_submitted_request(pipeline, world):
    req = submit(world)
    wait_for(lambda: status_of(req) == Status.SCORED, 30, "scored")
    assert AidRequestScoring.objects.filter(request=req).count() == 1


def test_it_retries_a_dead_simulator_then_needs_review(pipeline, world):
    sim_faults.faults_set(error_rate=1.0)
    req = submit(world)
    wait_for(lambda: status_of(req) == Status.NEEDS_REVIEW, 40, "needs_review")
    reason = AidRequest.objects.get(pk=req.pk).status_reason
    assert "недоступен" in reason
    assert sim_faults.requests_seen() == 3  # 1 try + SCORING_TASK_MAX_RETRIES=2 retries
    assert not AidRequestScoring.objects.filter(request=req).exists()


def test_it_survives_a_worker_killed_mid_task(pipeline, world):
    sim_faults.faults_set(latency_ms=2500)
    req = submit(world, student_iin=student_iin(5))
    wait_for(lambda: status_of(req) == Status.SCORING, 30, "scoring")
    time.sleep(0.3)  # the worker is now waiting for the slow simulator
    pipeline.kill()
    assert status_of(req) == Status.SCORING
    sim_faults.faults_reset()
    pipeline.start()
    # The unacked message would come back only after the visibility timeout: the sweeper
    # (run here with a zero threshold) re-queues the stuck request.
    assert services.aid_requests_requeue_stuck(older_than=dt.timedelta(0)) == 1
    wait_for(lambda: status_of(req) == Status.SCORED, 30, "scored after restart")
    time.sleep(1.0)
    assert AidRequestScoring.objects.filter(request=req).count() == 1
