"""Celery tasks of aid requests: thin wrappers that take ids and call one service.

The task names keep their ``portal.`` prefix: messages already queued still find them.
"""

from __future__ import annotations

import random

from celery import shared_task
from django.conf import settings

from portal.requests import services


def retry_countdown(
    retries: int, retry_after: float | None = None, *, circuit_open: bool = False
) -> float:
    """Exponential backoff with jitter, bounded by SCORING_RETRY_BACKOFF_MAX (< visibility
    timeout). An open circuit breaker's retry_after is a floor."""
    base = float(settings.SCORING_RETRY_BACKOFF_BASE)
    ceiling = min(float(settings.SCORING_RETRY_BACKOFF_MAX), base * (2**retries))
    delay = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security
    if circuit_open and retry_after:
        delay = max(delay, float(retry_after))
    return min(delay, float(settings.SCORING_RETRY_BACKOFF_MAX))


@shared_task(
    bind=True,
    name="portal.aid_request_score",
    acks_late=True,
    max_retries=settings.SCORING_TASK_MAX_RETRIES,
)
def aid_request_score(self, request_id: int) -> str:  # noqa: ANN001
    from scoring.sources import CardServiceUnavailable

    final_try = self.request.retries >= self.max_retries
    try:
        return services.aid_request_score(request_id=request_id, final_try=final_try)
    except CardServiceUnavailable as exc:
        countdown = retry_countdown(
            self.request.retries, exc.retry_after, circuit_open=exc.reason == "circuit_open"
        )
        raise self.retry(countdown=countdown, exc=None) from None


@shared_task(name="portal.aid_requests_requeue_stuck", acks_late=True)
def aid_requests_requeue_stuck() -> int:
    return services.aid_requests_requeue_stuck(older_than=settings.STUCK_REQUEST_THRESHOLD)
