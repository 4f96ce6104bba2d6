"""The scoring task body, called directly: once, twice, concurrently, and with retries."""

from __future__ import annotations

import datetime as dt
import threading
from unittest import mock

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from portal.requests import services, tasks
from portal.requests.models import AidRequest, AidRequestScoring, Status
from scoring.sources import CardNotFound, CardServiceUnavailable
from tests.portal.factories import FakeSource, student_iin, submit


@pytest.fixture
def fake_source():
    source = FakeSource()
    with mock.patch("scoring.sources.get_card_source", return_value=source):
        yield source


@pytest.mark.django_db
def test_it_scores_through_the_task_and_skips_the_second_run(world, no_enqueue, fake_source):
    req = submit(world)
    assert tasks.aid_request_score.apply(args=[req.pk]).get() == Status.SCORED
    assert tasks.aid_request_score.apply(args=[req.pk]).get() == "skipped"
    assert fake_source.calls == 1
    assert AidRequestScoring.objects.filter(request=req).count() == 1


@pytest.mark.django_db
def test_it_retries_transient_errors_then_needs_review(world, no_enqueue, settings):
    req = submit(world)
    down = FakeSource(CardServiceUnavailable("http_5xx", retry_after=None, attempts=3))
    with mock.patch("scoring.sources.get_card_source", return_value=down):
        tasks.aid_request_score.apply(args=[req.pk])
    req.refresh_from_db()
    assert req.status == Status.NEEDS_REVIEW
    assert "недоступен" in req.status_reason
    assert down.calls == settings.SCORING_TASK_MAX_RETRIES + 1


@pytest.mark.django_db(transaction=True)
def test_it_writes_one_assessment_when_run_concurrently(world, no_enqueue):
    req = submit(world)
    gate = threading.Barrier(4)

    class SlowSource(FakeSource):
        def fetch(self, iin):  # noqa: ANN001, ANN201
            gate.wait(timeout=10)  # every thread has claimed the request before any writes
            return super().fetch(iin)

    results: list[str] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(tasks.aid_request_score.run(req.pk))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    with mock.patch("scoring.sources.get_card_source", side_effect=SlowSource):
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    assert not errors
    assert sorted(results) == ["scored", "skipped", "skipped", "skipped"]
    assert AidRequestScoring.objects.filter(request=req).count() == 1
    assert AidRequest.objects.get(pk=req.pk).status == Status.SCORED


@pytest.mark.django_db
def test_the_sweeper_task_uses_the_threshold(world, no_enqueue):
    submit(world)
    assert tasks.aid_requests_requeue_stuck.apply().get() == 0


# --------------------------------------------------------------------------- retry policy


class SequenceSource(FakeSource):
    """Raises the given errors in turn, then serves cards."""

    def __init__(self, *errors: Exception) -> None:
        super().__init__()
        self.errors = list(errors)

    def fetch(self, iin):  # noqa: ANN001, ANN201
        if self.errors:
            self.calls += 1
            raise self.errors.pop(0)
        return super().fetch(iin)


def _open_circuit() -> CardServiceUnavailable:
    return CardServiceUnavailable("circuit_open", retry_after=0.01, attempts=0)


@pytest.mark.django_db
def test_circuit_open_refusals_do_not_spend_retries(world, no_enqueue, settings):
    settings.SCORING_RETRY_BACKOFF_BASE = 0.01
    req = submit(world)
    # More refusals than retries: they are rescheduled without counting, then it is scored.
    source = SequenceSource(
        *[_open_circuit() for _ in range(settings.SCORING_TASK_MAX_RETRIES + 3)]
    )
    with mock.patch("scoring.sources.get_card_source", return_value=source):
        assert tasks.aid_request_score.apply(args=[req.pk]).get() == Status.SCORED
    assert AidRequestScoring.objects.filter(request=req).count() == 1


@pytest.mark.django_db
def test_the_time_budget_ends_the_retries_as_card_unavailable(world, no_enqueue, settings):
    settings.SCORING_RETRY_BUDGET = 0  # the budget is already spent at the first try
    req = submit(world)
    with mock.patch("scoring.sources.get_card_source", return_value=FakeSource(_open_circuit())):
        assert tasks.aid_request_score.apply(args=[req.pk]).get() == Status.NEEDS_REVIEW
    req.refresh_from_db()
    assert req.status == Status.NEEDS_REVIEW
    assert "очередь" in req.status_reason
    assert req.status_reason_code == "card_unavailable"


@pytest.mark.django_db
def test_it_retries_database_errors(world, no_enqueue, settings):
    settings.SCORING_RETRY_BACKOFF_BASE = 0.01
    req = submit(world)
    real = services.aid_request_score
    failures = [OperationalError("server closed the connection unexpectedly"), InterfaceError("x")]

    def flaky(**kwargs):  # noqa: ANN003, ANN202
        if failures:
            raise failures.pop(0)
        return real(source=FakeSource(), **kwargs)

    with mock.patch.object(services, "aid_request_score", side_effect=flaky):
        assert tasks.aid_request_score.apply(args=[req.pk]).get() == Status.SCORED
    assert not failures
    assert AidRequestScoring.objects.filter(request=req).count() == 1


@pytest.mark.django_db
def test_a_non_card_failure_ends_in_needs_review_scoring_failed(world, no_enqueue):
    req = submit(world)
    with (
        mock.patch("scoring.services.assessment_build", side_effect=ZeroDivisionError("a bug")),
        mock.patch("scoring.sources.get_card_source", return_value=FakeSource()),
    ):
        assert tasks.aid_request_score.apply(args=[req.pk]).get() == Status.NEEDS_REVIEW
    req.refresh_from_db()
    assert req.status == Status.NEEDS_REVIEW and "ZeroDivisionError" in req.status_reason
    assert req.status_reason_code == "scoring_failed"


@pytest.mark.django_db
def test_the_soft_time_limit_ends_in_needs_review(world, no_enqueue):
    req = submit(world)
    with mock.patch(
        "scoring.sources.get_card_source", return_value=FakeSource(SoftTimeLimitExceeded())
    ):
        assert tasks.aid_request_score.apply(args=[req.pk]).get() == Status.NEEDS_REVIEW
    assert AidRequest.objects.get(pk=req.pk).status == Status.NEEDS_REVIEW


@pytest.mark.django_db
def test_held_back_requests_are_requeued_with_a_new_attempt(world, no_enqueue, settings):
    settings.SCORING_RETRY_BUDGET = 0
    held = submit(world)
    other = submit(world, student_iin=student_iin(7))
    with mock.patch("scoring.sources.get_card_source", return_value=FakeSource(_open_circuit())):
        tasks.aid_request_score.apply(args=[held.pk])
    with mock.patch("scoring.sources.get_card_source", return_value=FakeSource(CardNotFound())):
        tasks.aid_request_score.apply(args=[other.pk])
    assert tasks.held_back_count() == 1
    no_enqueue.clear()
    assert services.aid_requests_requeue_card_unavailable() == 1
    held.refresh_from_db()
    assert held.status == Status.QUEUED and held.attempt == 2
    assert no_enqueue == [held.pk]
    assert AidRequest.objects.get(pk=other.pk).status == Status.NEEDS_REVIEW  # not a card outage
    assert services.aid_requests_requeue_card_unavailable() == 0  # no longer held back
    settings.SCORING_RETRY_BUDGET = 300
    with mock.patch("scoring.sources.get_card_source", return_value=FakeSource()):
        assert tasks.aid_request_score.apply(args=[held.pk]).get() == Status.SCORED


@pytest.mark.django_db
def test_the_sweeper_requeues_queued_only_when_the_queue_is_empty(world, no_enqueue, settings):
    req = submit(world)
    no_enqueue.clear()
    AidRequest.objects.filter(pk=req.pk).update(
        status_changed_at=timezone.now() - dt.timedelta(minutes=1)
    )
    with mock.patch.object(tasks, "_scoring_backlog", return_value=5):
        assert tasks.aid_requests_requeue_stuck.apply().get() == 0
    with mock.patch.object(tasks, "_scoring_backlog", return_value=0):
        assert tasks.aid_requests_requeue_stuck.apply().get() == 1
    assert no_enqueue == [req.pk]
    assert tasks.sweeper_last_run() is not None
