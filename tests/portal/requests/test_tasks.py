"""The scoring task body, called directly: once, twice, concurrently, and with retries."""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.db import connection

from portal.requests import tasks
from portal.requests.models import AidRequest, AidRequestScoring, Status
from scoring.sources import CardServiceUnavailable
from tests.portal.factories import FakeSource, submit


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
