"""The Celery app `portal.celery`: worker and beat run the same code against the same DB."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["portal.requests", "portal.rules", "portal.stats", "portal.notices"])
