"""Notices to the guardian (SMS, e-mail) through an outbox delivered by Celery."""
