"""Scoring a chunk of requests set-based (``aid_requests_score_many`` and the batch task):
the same assessments, states, audit rows and statistics as one request at a time, in a number
of queries that does not grow with the chunk; whatever the chunk cannot finish goes to the
per-request task."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from portal.audit.models import AuditEvent
from portal.requests import services, tasks
from portal.requests.models import AidRequest, AidRequestScoring, Status
from schools.scope import scope_for
from scoring.models import Assessment
from scoring.sources import CardNotFound, CardServiceUnavailable
from tests.portal.factories import FakeSource, score, stats_rollup, student_iin, submit

pytestmark = pytest.mark.django_db


class PickySource(FakeSource):
    """Serves synthetic cards, except for the ИИНs in ``errors`` (their exception)."""

    def __init__(self, errors: dict[str, Exception] | None = None) -> None:
        super().__init__()
        self.errors = errors or {}
        self.asked: list[list[str]] = []

    def fetch_many(self, iins):  # noqa: ANN001, ANN201
        self.asked.append(list(iins))
        out = []
        for iin in iins:
            if iin in self.errors:
                out.append(self.errors[iin])
            else:
                out.append(self.fetch(iin))
        return out


def submit_many(world, n: int, first: int = 200) -> list[AidRequest]:
    return [submit(world, student_iin=student_iin(first + k)) for k in range(n)]


def test_a_chunk_is_scored_like_one_request_at_a_time(world, no_enqueue):
    singles = submit_many(world, 4, first=200)
    chunk = submit_many(world, 4, first=300)
    for req in singles:
        score(req)
    source = PickySource()
    result = services.aid_requests_score_many(request_ids=[r.pk for r in chunk], source=source)
    assert result.outcomes == dict.fromkeys((r.pk for r in chunk), Status.SCORED)
    assert len(source.asked) == 1  # one call of the card service for the chunk
    for req in chunk:
        req.refresh_from_db()
        assert req.status == Status.SCORED and req.status_reason_code == ""
        (scoring,) = AidRequestScoring.objects.filter(request=req)
        assert scoring.attempt == req.attempt
        actions = list(
            AuditEvent.objects.filter(object_id=str(req.public_id))
            .order_by("pk")
            .values_list("action", "detail__from", "detail__to")
        )
        assert actions == [
            ("aid_request.submit", None, "queued"),
            ("aid_request.scoring_start", "queued", "scoring"),
            ("aid_request.scored", "scoring", "scored"),
        ]
        scored_event = AuditEvent.objects.get(
            object_id=str(req.public_id), action="aid_request.scored"
        )
        assert scored_event.detail["assessment"] == str(scoring.assessment.public_id)
        assert scored_event.detail["category"] == scoring.assessment.category
        assert scored_event.role == "system"
    # The same card scores the same in both paths (category, SHA-256 of the frozen card).
    one = submit(world, student_iin=student_iin(200), aid_kind="supplies")
    services.aid_requests_score_many(request_ids=[one.pk], source=PickySource())
    a_single = Assessment.objects.get(aid_request_scoring__request=singles[0])
    a_chunk = Assessment.objects.get(aid_request_scoring__request=one)
    assert (a_single.category, a_single.card_sha256, a_single.markers) == (
        a_chunk.category,
        a_chunk.card_sha256,
        a_chunk.markers,
    )
    # The rollups moved set-based equal the rollups rebuilt from the rows.
    live = stats_rollup()
    call_command("rebuild_stats", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert stats_rollup() == live


def test_a_chunk_twice_scores_each_request_once(world, no_enqueue):
    chunk = submit_many(world, 3)
    ids = [r.pk for r in chunk]
    services.aid_requests_score_many(request_ids=ids, source=PickySource())
    again = services.aid_requests_score_many(request_ids=ids + [10**9], source=PickySource())
    assert set(again.outcomes.values()) == {"skipped"}
    assert AidRequestScoring.objects.filter(request_id__in=ids).count() == 3


def test_each_request_of_a_chunk_ends_in_its_own_state(world, no_enqueue):
    ok, missing, withdrawn, no_consent, down = submit_many(world, 5)
    pedagogue = world.user("pedagogue_a")
    services.aid_request_withdraw(
        scope=scope_for(pedagogue), actor=pedagogue, aid_request=withdrawn
    )
    AidRequest.objects.filter(pk=no_consent.pk).update(consent_method="")
    unavailable = CardServiceUnavailable("http_5xx", retry_after=3.0, attempts=3)
    source = PickySource({missing.student_iin: CardNotFound(), down.student_iin: unavailable})
    ids = [r.pk for r in (ok, missing, withdrawn, no_consent, down)]
    result = services.aid_requests_score_many(request_ids=ids, source=source, final_try=False)
    assert result.outcomes == {
        ok.pk: Status.SCORED,
        missing.pk: Status.NEEDS_REVIEW,
        withdrawn.pk: "skipped",
        no_consent.pk: Status.NEEDS_REVIEW,
        down.pk: services.RETRY,
    }
    assert result.unavailable == {down.pk: unavailable}
    assert source.asked == [[ok.student_iin, missing.student_iin, down.student_iin]]
    states = dict(AidRequest.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert states[down.pk] == Status.SCORING  # held for the per-request retry
    assert AidRequest.objects.get(pk=missing.pk).status_reason_code == "card_not_found"
    # On the final try an unavailable service is a visible reason, as for one request.
    final = services.aid_requests_score_many(request_ids=[down.pk], source=source)
    assert final.outcomes == {down.pk: Status.NEEDS_REVIEW}
    assert AidRequest.objects.get(pk=down.pk).status_reason_code == "card_unavailable"


def test_the_queries_of_a_chunk_do_not_grow_with_its_size(world, no_enqueue):
    def queries(n: int, first: int) -> int:
        ids = [r.pk for r in submit_many(world, n, first=first)]
        with CaptureQueriesContext(connection) as ctx:
            result = services.aid_requests_score_many(request_ids=ids, source=PickySource())
        assert result.count(Status.SCORED) == n
        return len(ctx.captured_queries)

    small, large = queries(2, 400), queries(25, 500)
    assert large == small, (small, large)


def test_the_batch_task_hands_unfinished_requests_to_the_per_request_task(world, no_enqueue):
    ok, down = submit_many(world, 2)
    unavailable = CardServiceUnavailable("circuit_open", retry_after=7.0, attempts=0)
    with (
        mock.patch(
            "scoring.sources.get_card_source",
            return_value=PickySource({down.student_iin: unavailable}),
        ),
        mock.patch.object(tasks.aid_request_score, "apply_async") as single,
    ):
        counts = tasks.aid_requests_score_batch.apply(args=[[ok.pk, down.pk]]).get()
    assert counts == {Status.SCORED: 1, services.RETRY: 1}
    (call,) = single.call_args_list
    assert call.kwargs["args"] == (down.pk,)
    assert call.kwargs["countdown"] >= 7.0  # an open breaker's retry_after is the floor
    assert AidRequest.objects.get(pk=ok.pk).status == Status.SCORED


def test_a_database_error_sends_the_whole_chunk_to_the_per_request_task(world, no_enqueue):
    chunk = submit_many(world, 3)
    with (
        mock.patch.object(
            services, "aid_requests_score_many", side_effect=OperationalError("gone")
        ),
        mock.patch.object(tasks.aid_request_score, "apply_async") as single,
    ):
        counts = tasks.aid_requests_score_batch.apply(args=[[r.pk for r in chunk]]).get()
    assert counts == {"handed_over": 3}
    assert sorted(c.kwargs["args"][0] for c in single.call_args_list) == sorted(r.pk for r in chunk)


def test_enqueue_scoring_sends_chunks(world):
    with (
        mock.patch.object(tasks.aid_requests_score_batch, "delay") as batch,
        mock.patch.object(tasks.aid_request_score, "delay") as single,
    ):
        tasks.enqueue_scoring(list(range(1, 121)))
        tasks.enqueue_scoring([7])
    assert [len(c.args[0]) for c in batch.call_args_list] == [50, 50, 20]
    assert [c.args for c in single.call_args_list] == [(7,)]
