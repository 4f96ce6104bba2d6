"""Celery tasks of notices: thin wrappers that take ids and call one service."""

from __future__ import annotations

from collections import Counter

from celery import shared_task
from django.conf import settings

from portal.notices import services


@shared_task(
    bind=True,
    name="notices.notice_deliver",
    acks_late=True,
    max_retries=settings.NOTICE_MAX_RETRIES,
)
def notice_deliver(self, notice_id: int) -> str:  # noqa: ANN001
    from portal.notices.gateway import GatewayUnavailable
    from portal.requests.tasks import retry_countdown

    final_try = self.request.retries >= self.max_retries
    try:
        return services.notice_deliver(notice_id=notice_id, final_try=final_try)
    except GatewayUnavailable:
        raise self.retry(countdown=retry_countdown(self.request.retries), exc=None) from None


@shared_task(name="notices.notices_drain", acks_late=True)
def notices_drain() -> dict[str, int]:
    """Deliver the notices written one by one since the last drain (``portal.coalesce``)."""
    from portal.coalesce import NOTICES
    from portal.notices.services import DELIVERY_CHUNK

    ids = NOTICES.take(DELIVERY_CHUNK)
    return _deliver_all(ids) if ids else {}


@shared_task(name="notices.notices_deliver_batch", acks_late=True)
def notices_deliver_batch(notice_ids: list[int]) -> dict[str, int]:
    """Deliver a chunk of notices (a class list's "request received") in one task, one by
    one. A notice that meets an unavailable gateway, or the rest of the chunk at the time
    limit, goes to :func:`notice_deliver` and its retries (delivery is idempotent)."""
    return _deliver_all(list(notice_ids))


def _deliver_all(ids: list[int]) -> dict[str, int]:
    from celery.exceptions import SoftTimeLimitExceeded

    from portal.notices.gateway import SmsGateway
    from portal.requests.tasks import retry_countdown

    try:
        with SmsGateway() as gateway:  # one client, one kept-alive connection for the chunk
            result = services.notices_deliver_many(notice_ids=ids, gateway=gateway)
    except SoftTimeLimitExceeded:
        for pk in ids:  # idempotent: what was delivered is "done" for notice_deliver
            notice_deliver.apply_async((pk,), countdown=retry_countdown(0))
        return {"handed_over": len(ids)}
    for pk in result.unavailable:
        notice_deliver.apply_async((pk,), countdown=retry_countdown(0))
    return dict(Counter(result.outcomes.values()))


@shared_task(name="notices.notices_requeue_pending", acks_late=True)
def notices_requeue_pending() -> int:
    return services.notices_requeue_pending(older_than=settings.NOTICE_STUCK_THRESHOLD)
