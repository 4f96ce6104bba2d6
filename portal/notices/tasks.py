"""Celery tasks of notices: thin wrappers that take ids and call one service."""

from __future__ import annotations

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


@shared_task(name="notices.notices_requeue_pending", acks_late=True)
def notices_requeue_pending() -> int:
    return services.notices_requeue_pending(older_than=settings.NOTICE_STUCK_THRESHOLD)
