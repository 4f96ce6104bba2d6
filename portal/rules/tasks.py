"""Celery tasks of rules administration: thin wrappers that take ids and call one service."""

from __future__ import annotations

from celery import shared_task


# Time limits: settings.CELERY_TASK_TIME_LIMITS (applied as task annotations).
@shared_task(name="portal.rules_impact_preview", acks_late=True)
def rules_impact_preview(preview_id: int) -> str:
    from portal.rules import services

    return services.impact_preview_run(preview_id=preview_id).status


@shared_task(name="portal.rules_rescore_open_requests", acks_late=True)
def rules_rescore_open_requests(batch_id: int) -> str:
    from portal.rules import services

    return services.rules_rescore_run(batch_id=batch_id).status
