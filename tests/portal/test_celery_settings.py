"""The timing invariants of the asynchronous pipeline (ARCHITECTURE §4)."""

from __future__ import annotations

import pytest
from django.conf import settings

from portal.celery import app
from portal.requests.tasks import retry_countdown


def test_it_orders_the_timeouts():
    # Worst case of one task: every attempt times out, with the longest backoff between them.
    card = (
        settings.FAMILY_CARD_READ_TIMEOUT + settings.FAMILY_CARD_CONNECT_TIMEOUT
    ) * settings.FAMILY_CARD_ATTEMPTS + settings.FAMILY_CARD_BACKOFF_MAX * (
        settings.FAMILY_CARD_ATTEMPTS - 1
    )
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert card < settings.CELERY_TASK_SOFT_TIME_LIMIT
    assert settings.FAMILY_CARD_DEADLINE < settings.CELERY_TASK_SOFT_TIME_LIMIT
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT
    scoring = settings.STUCK_SCORING_AFTER.total_seconds()
    assert settings.CELERY_TASK_TIME_LIMIT < scoring < visibility
    # "just above the hard limit": recovery of a killed worker in about two minutes at most
    assert scoring <= settings.CELERY_TASK_TIME_LIMIT + 60
    # queued is short: a lost message is noticed within half a minute
    assert settings.STUCK_QUEUED_AFTER.total_seconds() <= 30
    assert settings.STUCK_QUEUED_AFTER.total_seconds() > settings.SWEEPER_INTERVAL
    assert settings.STUCK_REQUEST_THRESHOLD == settings.STUCK_SCORING_AFTER


def test_it_keeps_every_retry_countdown_below_the_visibility_timeout():
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    for retries in range(settings.SCORING_TASK_MAX_RETRIES + 1):
        for _ in range(20):
            assert 0 < retry_countdown(retries) < visibility
            assert retry_countdown(retries, 10_000.0, circuit_open=True) < visibility
    assert retry_countdown(1, 30.0, circuit_open=True) >= 30.0


def test_it_acks_late_with_prefetch_one_and_json():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_serializer == "json"
    task = app.tasks["portal.aid_request_score"]
    assert task.acks_late and task.max_retries == settings.SCORING_TASK_MAX_RETRIES


def test_it_schedules_the_stuck_request_sweeper():
    entries = [e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()]
    assert "portal.aid_requests_requeue_stuck" in entries
    assert "portal.aid_requests_requeue_stuck" in app.tasks


def test_it_routes_the_sweeper_to_its_own_queue_and_sweeps_on_connect():
    from portal.celery import SweepOnConnect, route_task, sweeper_queue

    default = app.conf.task_default_queue
    assert sweeper_queue() == f"{default}-sweeper"
    for name in ("portal.aid_requests_requeue_stuck", "portal.aid_requests_requeue_held"):
        assert route_task(name, (), {}, {}) == {"queue": sweeper_queue()}
    assert route_task("portal.aid_request_score", (), {}, {}) is None
    assert SweepOnConnect in app.steps["consumer"]


def test_it_checks_database_connections_before_reuse():
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


def test_it_limits_every_task_in_settings_below_the_visibility_timeout():
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    ours = sorted(name for name in app.tasks if not name.startswith("celery."))
    assert ours and set(ours) <= set(settings.CELERY_TASK_TIME_LIMITS), ours
    for name in ours:
        soft, hard = settings.CELERY_TASK_TIME_LIMITS[name]
        task = app.tasks[name]
        assert (task.soft_time_limit, task.time_limit) == (soft, hard), name
        assert 0 < soft < hard < visibility, name
    scoring_hard = settings.CELERY_TASK_TIME_LIMITS["portal.aid_request_score"][1]
    assert scoring_hard < settings.STUCK_REQUEST_THRESHOLD.total_seconds()


@pytest.mark.django_db(transaction=True)
def test_a_task_whose_connection_is_reopened_stays_cross_school():
    """Seen in the demo (the application's role, row-level security on): the first task after
    a minute idle saw no row. Celery's Django fixup closes an obsolete connection after our
    prerun handler set the cross-school setting on it; the new connection had none."""
    import time

    from celery import signals
    from django.db import close_old_connections, connection

    from portal.celery import app
    from portal.db_scope import ALL_SCHOOLS

    def setting() -> str:
        with connection.cursor() as cur:
            cur.execute("SELECT coalesce(current_setting(%s, true), '')", [ALL_SCHOOLS])
            return cur.fetchone()[0]

    task = app.tasks["portal.aid_request_score"]
    connection.ensure_connection()
    connection.close_at = time.monotonic() - 1  # older than CONN_MAX_AGE
    signals.task_prerun.send(sender=task, task_id="t-reopen", task=task, args=(), kwargs={})
    try:
        close_old_connections()  # what the worker's Django fixup does before the task
        assert setting() == "on"
    finally:
        signals.task_postrun.send(sender=task, task_id="t-reopen", task=task)
    assert setting() == ""
