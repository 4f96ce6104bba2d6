"""Thin Celery task: the daily retention run (beat: ``privacy-retention-run``)."""

from __future__ import annotations

from celery import shared_task

from portal.privacy.services import retention_run


@shared_task(name="portal.privacy_retention_run", acks_late=True)
def privacy_retention_run() -> dict[str, int]:
    return retention_run(dry_run=False).counts()
