"""Issue 12: single submissions (and their notices) are gathered into one drain task each
(portal/coalesce.py) instead of one Celery message per request — against real Redis."""

from __future__ import annotations

import uuid
from unittest import mock

import pytest

from portal.celery import app
from portal.coalesce import NOTICES, SUBMITTED
from portal.notices import services as notice_services
from portal.notices.models import Notice
from portal.requests import tasks
from portal.requests.models import AidRequest, Status
from tests.portal.factories import FakeSource, student_iin, submit

pytestmark = pytest.mark.django_db

REAL_NOTICE_ENQUEUE = notice_services._enqueue  # before the suite's autouse stand-in
REAL_NOTICE_ENQUEUE_ON_COMMIT = notice_services._enqueue_on_commit


@pytest.fixture
def queue():
    """A private default queue: the coalescing keys are per queue."""
    old = app.conf.task_default_queue
    app.conf.task_default_queue = f"komek-test-coalesce-{uuid.uuid4().hex[:8]}"
    yield app.conf.task_default_queue
    for coalescer in (SUBMITTED, NOTICES):
        coalescer._redis().delete(*coalescer._keys())
    app.conf.task_default_queue = old


@pytest.fixture
def sent(queue):
    with mock.patch.object(app, "send_task") as send_task:
        yield send_task


def drains(send_task, name: str = "portal.aid_requests_drain") -> list:
    return [c for c in send_task.call_args_list if c.args[0] == name]


def test_submissions_arriving_together_are_one_drain_task(
    world, sent, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(notice_services, "_enqueue", REAL_NOTICE_ENQUEUE)
    monkeypatch.setattr(notice_services, "_enqueue_on_commit", REAL_NOTICE_ENQUEUE_ON_COMMIT)
    with django_capture_on_commit_callbacks(execute=True):
        reqs = [submit(world, student_iin=student_iin(k)) for k in range(1, 6)]
    assert len(drains(sent)) == 1  # five submissions, one message (before: five)
    ours = {r.pk for r in reqs}
    # (only ours: a live server thread left by an earlier test may push to any queue)
    assert [pk for pk in SUBMITTED.take(50) if pk in ours] == [r.pk for r in reqs]
    # Their five "request received" SMS are one drain of the notices too.
    assert len(drains(sent, "notices.notices_drain")) == 1
    notices = list(
        Notice.objects.filter(request__in=reqs).order_by("pk").values_list("pk", flat=True)
    )
    assert len(notices) == 5
    assert [pk for pk in NOTICES.take(50) if pk in set(notices)] == notices


def test_the_drain_takes_a_chunk_and_schedules_the_rest_at_once(queue, sent):
    SUBMITTED.add(list(range(1, tasks.SCORING_CHUNK + 8)))
    assert len(drains(sent)) == 1
    first = SUBMITTED.take(tasks.SCORING_CHUNK)
    assert first == list(range(1, tasks.SCORING_CHUNK + 1))  # oldest first
    assert len(drains(sent)) == 2  # the rest is not left for the next submission
    assert SUBMITTED.take(tasks.SCORING_CHUNK) == list(
        range(tasks.SCORING_CHUNK + 1, tasks.SCORING_CHUNK + 8)
    )
    assert len(drains(sent)) == 2 and SUBMITTED.waiting() == 0


def test_a_submission_after_the_drain_started_schedules_its_own(queue, sent):
    SUBMITTED.add([1])
    assert SUBMITTED.take(50) == [1]  # the drain cleared the flag before taking
    SUBMITTED.add([2])
    assert len(drains(sent)) == 2
    SUBMITTED.add([3])  # the second drain has not run yet: no third message
    assert len(drains(sent)) == 2
    assert SUBMITTED.take(50) == [2, 3]


def test_a_broker_that_refuses_leaves_no_flag_behind(queue):
    with (
        mock.patch.object(app, "send_task", side_effect=ConnectionError("down")),
        pytest.raises(ConnectionError),
    ):
        SUBMITTED.add([1])
    with mock.patch.object(app, "send_task") as send_task:
        SUBMITTED.add([2])  # the next submission schedules the drain of both
    assert len(drains(send_task)) == 1
    assert SUBMITTED.take(50) == [1, 2]


def test_the_drain_scores_what_arrived_together_as_one_chunk(world, sent, no_enqueue):
    reqs = [submit(world, student_iin=student_iin(k)) for k in range(1, 5)]
    SUBMITTED.add([r.pk for r in reqs])
    source = FakeSource()
    with mock.patch("scoring.sources.get_card_source", return_value=source):
        counts = tasks.aid_requests_drain.apply().get()
    assert counts == {Status.SCORED: 4}
    assert {AidRequest.objects.get(pk=r.pk).status for r in reqs} == {Status.SCORED}
    assert tasks.aid_requests_drain.apply().get() == {}  # nothing left


def test_a_lone_request_keeps_the_per_request_task_and_its_retry_policy(world, sent, no_enqueue):
    req = submit(world)
    SUBMITTED.add([req.pk])
    with mock.patch.object(tasks.aid_request_score, "delay") as single:
        assert tasks.aid_requests_drain.apply().get() == {"handed_over": 1}
    single.assert_called_once_with(req.pk)


def test_the_sweeper_resends_a_lost_drain_and_counts_the_gathered_as_backlog(queue):
    SUBMITTED.add([1, 2])  # its drain "lost": the message never arrives
    SUBMITTED._redis().delete(SUBMITTED._keys()[1])  # … and its flag expired
    with mock.patch.object(app, "send_task") as send_task:
        assert tasks._scoring_backlog() >= 2  # the sweeper does not re-queue these twice
        tasks._kick_drains()
        tasks._kick_drains()  # once: the flag is set again
    assert len(drains(send_task)) == 1
    assert SUBMITTED.take(50) == [1, 2]


def test_a_submission_s_redis_work_after_its_commit_is_one_round_trip(
    world, sent, monkeypatch, django_capture_on_commit_callbacks
):
    """Issue 12: the request to score, its SMS and the statistics' cache generation: one
    pipeline after the commit (three round trips before); a rolled-back savepoint's work is
    not sent."""
    from django.db import transaction
    from redis.client import Pipeline

    from portal.stats.selectors import _GENERATION_KEY, _generation_redis_key
    from tests.portal.factories import request_data

    monkeypatch.setattr(notice_services, "_enqueue", REAL_NOTICE_ENQUEUE)
    monkeypatch.setattr(notice_services, "_enqueue_on_commit", REAL_NOTICE_ENQUEUE_ON_COMMIT)
    from django.core.cache import cache

    assert _generation_redis_key() is not None
    before = cache.get(_GENERATION_KEY) or 0
    executed: list[int] = []
    real_execute = Pipeline.execute

    def counting(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        executed.append(len(self.command_stack))
        return real_execute(self, *args, **kwargs)

    from portal.requests import services
    from schools.scope import scope_for

    user = world.user("pedagogue_a")
    with (
        mock.patch.object(Pipeline, "execute", counting),
        django_capture_on_commit_callbacks(execute=True) as hooks,
        transaction.atomic(),
    ):
        req = services.aid_request_submit(
            scope=scope_for(user), actor=user, data=request_data(student_iin=student_iin(31))
        )
        with pytest.raises(RuntimeError), transaction.atomic():  # a savepoint, rolled back
            SUBMITTED.add_on_commit([-1])
            raise RuntimeError
        assert executed == []
    assert len(hooks) == 1
    assert executed == [5]  # INCR; RPUSH and SET NX of the scoring; of the SMS
    assert SUBMITTED.take(50) == [req.pk]
    assert len(NOTICES.take(50)) == 1
    assert (cache.get(_GENERATION_KEY) or 0) == before + 1
    assert len(drains(sent)) == 1 and len(drains(sent, "notices.notices_drain")) == 1


def test_a_rollup_change_in_a_savepoint_is_uncommitted_beside_other_redis_work(world, queue):
    """The statistics' cache is bypassed by a transaction that changed the rollup, whichever
    savepoint level its Redis batch is at (not only the first batch's)."""
    from django.db import transaction

    from portal.stats.selectors import stats_changed_uncommitted, stats_generation_bump_on_commit

    with transaction.atomic():
        SUBMITTED.add_on_commit([1])  # a batch of the outer level, with no counter
        assert not stats_changed_uncommitted()
        with transaction.atomic():
            stats_generation_bump_on_commit()
            assert stats_changed_uncommitted()
        assert stats_changed_uncommitted()
