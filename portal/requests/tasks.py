"""Celery tasks of aid requests: thin wrappers that take ids and call one service.

The retry policy lives here (the services only score, once): transient failures — the card
service (timeouts, 5xx, 429, an open circuit breaker) and the database (a killed connection,
"too many clients", a restart) — are retried with exponential backoff and jitter within a
time budget (``SCORING_RETRY_BUDGET`` seconds since the first try) and a count
(``SCORING_TASK_MAX_RETRIES``); refusals of an open breaker do not count. Anything else that
stops a request from being scored ends in ``needs_review`` with the code ``scoring_failed``,
never silently in ``scoring``.

The task names keep their ``portal.`` prefix: messages already queued still find them.
"""

from __future__ import annotations

import logging
import random
import time
import traceback
from collections import Counter

from celery import shared_task
from celery.exceptions import Retry, SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.dispatch import receiver

from portal import metrics
from portal.requests import services
from scoring.sources import card_service_recovered

logger = logging.getLogger(__name__)

SCORING_FAILED = "scoring_failed"
_DB_ERRORS = (OperationalError, InterfaceError)
SWEEPER_HEARTBEAT_KEY = "komek:pipeline:sweeper:last"


def retry_countdown(
    retries: int, retry_after: float | None = None, *, circuit_open: bool = False
) -> float:
    """Exponential backoff with jitter, bounded by SCORING_RETRY_BACKOFF_MAX (< visibility
    timeout). An open circuit breaker's retry_after is a floor."""
    base = float(settings.SCORING_RETRY_BACKOFF_BASE)
    ceiling = min(float(settings.SCORING_RETRY_BACKOFF_MAX), base * (2**retries))
    delay = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security
    if circuit_open and retry_after:
        delay = max(delay, float(retry_after) + random.uniform(0, 1))  # noqa: S311
    return min(delay, float(settings.SCORING_RETRY_BACKOFF_MAX))


def _drop_connection() -> None:
    """After a database error the connection may be dead: close it so the next try opens a
    fresh one (never inside an atomic block: the task runs outside any)."""
    if connection.in_atomic_block:
        return
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - a dead connection may fail to close; it is gone anyway
        logger.debug("closing a broken database connection failed")


def _mark_failed(request_id: int, cause: str, error: str = "") -> str:
    """needs_review (scoring_failed) for the request's current attempt, if still active."""
    from portal.requests.models import AidRequest
    from portal.requests.reasons import Reason, ReasonCode

    reason = Reason(
        ReasonCode.SCORING_FAILED, {"cause": cause, **({"error": error} if error else {})}
    )

    try:
        attempt = (
            AidRequest.objects.unscoped()
            .filter(pk=request_id)
            .values_list("attempt", flat=True)
            .first()
        )
        if attempt is None:
            return "skipped"
        return services._needs_review_if_current(request_id, attempt, reason)
    except _DB_ERRORS:
        _drop_connection()
        logger.warning("request %s: could not record the failure; the sweeper retries", request_id)
        return "deferred"


@shared_task(
    bind=True,
    name="portal.aid_request_score",
    acks_late=True,
    max_retries=settings.SCORING_TASK_MAX_RETRIES,
)
def aid_request_score(
    self,  # noqa: ANN001
    request_id: int,
    since: float | None = None,
    free: int = 0,
) -> str:
    """Score one request. ``since``: wall-clock time of the first try; ``free``: how many of
    the retries so far were circuit-open refusals (not counted against the retries)."""
    with metrics.batched():
        return _score(self, request_id, since, free)


def _score(self, request_id: int, since: float | None, free: int) -> str:  # noqa: ANN001
    from scoring.sources import CardServiceUnavailable

    since = since if since is not None else time.time()
    spent = max(0, self.request.retries - free)
    budget_left = float(settings.SCORING_RETRY_BUDGET) - (time.time() - since)
    final_try = spent >= self.max_retries or budget_left <= 0

    def again(countdown: float, *, counted: bool) -> str:
        nonlocal outcome
        outcome = "retry"
        countdown = max(0.05, min(countdown, max(budget_left, 0.05)))
        raise self.retry(
            countdown=countdown,
            args=(request_id,),
            kwargs={"since": since, "free": free + (0 if counted else 1)},
            max_retries=self.request.retries + 1,  # the budgets above decide
            exc=None,
        )

    started = time.perf_counter()
    outcome = "error"
    try:
        outcome = services.aid_request_score(request_id=request_id, final_try=final_try)
        if outcome == "scored":
            _observe_wait(request_id)
        return outcome
    except Retry:
        outcome = "retry"
        raise
    except CardServiceUnavailable as exc:
        circuit = exc.reason == "circuit_open"
        return again(
            retry_countdown(spent, exc.retry_after, circuit_open=circuit), counted=not circuit
        )
    except _DB_ERRORS as exc:
        _drop_connection()
        logger.warning("request %s: database error (%s), retrying", request_id, type(exc).__name__)
        if final_try:
            outcome = _mark_failed(request_id, "database")
            return outcome
        return again(retry_countdown(spent), counted=True)
    except SoftTimeLimitExceeded:
        logger.warning("request %s: the soft time limit was reached", request_id)
        outcome = _mark_failed(request_id, "time_limit")
        return outcome
    except Exception as exc:  # noqa: BLE001 - a bug must not leave the request in `scoring`
        # The message may quote data: log the type and where, never the text.
        logger.error(
            "request %s: scoring failed with %s\n%s",
            request_id,
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
        outcome = _mark_failed(request_id, "internal", type(exc).__name__)
        return outcome
    finally:
        metrics.observe(
            "komek_task_duration_seconds",
            time.perf_counter() - started,
            task="aid_request_score",
            outcome=outcome,
        )
        metrics.inc("komek_task_outcomes_total", task="aid_request_score", outcome=outcome)


#: Requests per scoring-batch message (class lists, the sweeper, the pilot seed).
SCORING_CHUNK = 50


def enqueue_scoring(request_ids: list[int]) -> None:
    """Send requests to be scored: in chunks of :data:`SCORING_CHUNK` to the batch task, a
    single one to :func:`aid_request_score`."""
    ids = list(request_ids)
    if len(ids) == 1:
        aid_request_score.delay(ids[0])
        return
    for start in range(0, len(ids), SCORING_CHUNK):
        aid_requests_score_batch.delay(ids[start : start + SCORING_CHUNK])


@shared_task(name="portal.aid_requests_drain", acks_late=True, max_retries=0)
def aid_requests_drain() -> dict[str, int]:
    """Score what was submitted one by one since the last drain (``portal.coalesce``), up to
    :data:`SCORING_CHUNK` at once. A lone request goes to :func:`aid_request_score` and its
    retry policy unchanged; several are scored set-based as a chunk."""
    from portal.coalesce import SUBMITTED

    ids = SUBMITTED.take(SCORING_CHUNK)
    if not ids:
        return {}
    if len(ids) == 1:
        aid_request_score.delay(ids[0])
        return {"handed_over": 1}
    with metrics.batched():
        return _score_batch(ids)


@shared_task(bind=True, name="portal.aid_requests_score_batch", acks_late=True, max_retries=0)
def aid_requests_score_batch(self, request_ids: list[int]) -> dict[str, int]:  # noqa: ANN001
    """Score a chunk of requests set-based (one card call, one write per table). The fast
    path only: whatever it cannot finish — cards held back by an unavailable service, a
    database error, a time limit, a bug — goes to :func:`aid_request_score` per request, whose
    retry policy above decides (idempotent: a request scored meanwhile is skipped)."""
    with metrics.batched():
        return _score_batch(list(request_ids))


def _score_batch(request_ids: list[int]) -> dict[str, int]:
    from scoring.sources import CardServiceUnavailable

    started = time.perf_counter()
    since = time.time()
    try:
        result = services.aid_requests_score_many(request_ids=request_ids, final_try=False)
    except SoftTimeLimitExceeded:
        logger.warning("scoring batch of %d: the soft time limit was reached", len(request_ids))
        return _hand_over(request_ids, "time_limit", started)
    except _DB_ERRORS as exc:
        _drop_connection()
        logger.warning("scoring batch: database error (%s), per request", type(exc).__name__)
        return _hand_over(request_ids, "database", started)
    except Exception as exc:  # noqa: BLE001 - never leave a chunk in `scoring`
        logger.error(
            "scoring batch failed with %s\n%s",
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
        return _hand_over(request_ids, "internal", started)
    for pk, exc in result.unavailable.items():
        circuit = isinstance(exc, CardServiceUnavailable) and exc.reason == "circuit_open"
        aid_request_score.apply_async(
            args=(pk,),
            kwargs={"since": since},
            countdown=retry_countdown(0, getattr(exc, "retry_after", None), circuit_open=circuit),
        )
    scored = [pk for pk, o in result.outcomes.items() if o == "scored"]
    _observe_waits(scored)
    counts = Counter(result.outcomes.values())
    for outcome, n in counts.items():
        metrics.inc("komek_task_outcomes_total", n, task="aid_request_score", outcome=outcome)
    metrics.observe(
        "komek_task_duration_seconds",
        time.perf_counter() - started,
        task="aid_requests_score_batch",
        outcome="ok",
    )
    return dict(counts)


def _hand_over(request_ids: list[int], cause: str, started: float) -> dict[str, int]:
    """The chunk failed as a whole: every request becomes a task of its own."""
    for pk in request_ids:
        aid_request_score.apply_async(args=(pk,), countdown=retry_countdown(0))
    metrics.observe(
        "komek_task_duration_seconds",
        time.perf_counter() - started,
        task="aid_requests_score_batch",
        outcome=cause,
    )
    return {"handed_over": len(request_ids)}


def _observe_waits(request_ids: list[int]) -> None:
    from django.utils import timezone

    from portal.requests.models import AidRequest

    if not request_ids:
        return
    now = timezone.now()
    for created in (
        AidRequest.objects.unscoped()
        .filter(pk__in=request_ids)
        .values_list("created_at", flat=True)
    ):
        metrics.observe("komek_submit_to_scored_seconds", (now - created).total_seconds())


def _observe_wait(request_id: int) -> None:
    from django.utils import timezone

    from portal.requests.models import AidRequest

    created = (
        AidRequest.objects.unscoped()
        .filter(pk=request_id)
        .values_list("created_at", flat=True)
        .first()
    )
    if created is not None:
        metrics.observe(
            "komek_submit_to_scored_seconds", (timezone.now() - created).total_seconds()
        )


def _scoring_backlog() -> int | None:
    """Work waiting for the scoring workers: messages in the scoring queue and submissions
    gathered for the next drain (``portal.coalesce``); None when it cannot be asked."""
    from portal.celery import app
    from portal.coalesce import SUBMITTED

    try:
        with app.connection_for_read() as conn:
            queued = int(conn.default_channel.client.llen(app.conf.task_default_queue))
        return queued + SUBMITTED.waiting()
    except Exception:  # noqa: BLE001 - not a Redis broker, or unreachable
        return None


def _kick_drains() -> None:
    """Gathered submissions and notices whose drain was lost get one (see Coalescer.kick)."""
    from portal.coalesce import NOTICES, SUBMITTED

    for coalescer in (SUBMITTED, NOTICES):
        try:
            if coalescer.kick():
                logger.info("sweeper: a lost %s drain re-sent", coalescer.name)
        except Exception as exc:  # noqa: BLE001 - the next sweep tries again
            logger.warning("sweeper: %s drain not re-sent (%s)", coalescer.name, type(exc).__name__)


def _heartbeat() -> None:
    from scoring.circuit import redis_client

    try:
        redis_client(settings.REDIS_URL).set(SWEEPER_HEARTBEAT_KEY, str(time.time()), ex=86400)
    except Exception:  # noqa: BLE001
        logger.debug("sweeper heartbeat not written")


def sweeper_last_run() -> float | None:
    """When the sweeper last ran (epoch seconds), or None."""
    from scoring.circuit import redis_client

    try:
        raw = redis_client(settings.REDIS_URL).get(SWEEPER_HEARTBEAT_KEY)
    except Exception:  # noqa: BLE001
        return None
    return float(raw) if raw else None


def requeue_held_if_service_answers() -> int:
    """Re-queue the requests held back as card_unavailable when the card service answers
    (one probe through the breaker: it counts as a half-open trial)."""
    from scoring.sources import get_card_source

    if not held_back_count():
        return 0
    source = get_card_source()
    try:
        if not source.probe_through_breaker():
            return 0
    finally:
        source.close()
    return services.aid_requests_requeue_card_unavailable()


def held_back_count() -> int:
    """Requests waiting for the card service (needs_review, card_unavailable)."""
    from portal.requests.models import AidRequest, Status
    from portal.requests.reasons import ReasonCode

    return (
        AidRequest.objects.unscoped()
        .filter(status=Status.NEEDS_REVIEW, status_reason_code=ReasonCode.CARD_UNAVAILABLE)
        .count()
    )


@shared_task(name="portal.aid_requests_requeue_stuck", acks_late=True)
def aid_requests_requeue_stuck(trigger: str = "beat") -> int:
    """The sweeper: `scoring` older than STUCK_SCORING_AFTER; `queued` older than
    STUCK_QUEUED_AFTER while the scoring queue is empty (their message is lost); and the
    requests held back while the card service was down, once it answers again."""
    from portal.requests.models import Status

    _heartbeat()
    n = services.aid_requests_requeue_stuck(
        older_than=settings.STUCK_SCORING_AFTER, statuses=(Status.SCORING,)
    )
    _kick_drains()
    if _scoring_backlog() == 0:
        n += services.aid_requests_requeue_stuck(
            older_than=settings.STUCK_QUEUED_AFTER, statuses=(Status.QUEUED,)
        )
    try:
        n += requeue_held_if_service_answers()
    except Exception as exc:  # noqa: BLE001 - the next sweep tries again
        logger.warning("sweeper: held-back requests not re-queued (%s)", type(exc).__name__)
    if n:
        logger.info("sweeper (%s): %d request(s) re-queued", trigger, n)
    return n


@shared_task(name="portal.aid_requests_requeue_held", acks_late=True)
def aid_requests_requeue_held() -> int:
    """The card service answers again: re-queue what was held back (no probe needed)."""
    total = 0
    while True:
        n = services.aid_requests_requeue_card_unavailable()
        total += n
        if n < 500:
            return total


@receiver(card_service_recovered, dispatch_uid="portal.requests.requeue_held_on_recovery")
def _on_card_service_recovered(sender: object, **kwargs: object) -> None:
    try:
        aid_requests_requeue_held.apply_async(expires=300)
    except Exception:  # noqa: BLE001 - the sweeper re-queues them anyway
        logger.warning("card service recovered: re-queue task not sent")
