"""The whole pipeline with a REAL Celery worker (a subprocess on Redis) and the family card
simulator over HTTP (pytest-django's live_server): scored; simulator down → needs_review;
worker killed mid-task → re-queued by the sweeper and scored exactly once."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from portal.requests import services
from portal.requests.models import AidRequest, AidRequestScoring, Status
from scoring.simulator import faults as sim_faults
from tests.portal.factories import student_iin, submit
from tests.portal.pipeline import status_of, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


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
