"""The Celery app `portal.celery`: worker and beat run the same code against the same DB."""

from __future__ import annotations

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["portal.requests", "portal.rules", "portal.stats", "portal.notices"])


# Every task is a deliberate cross-school job for row-level security (portal/db_scope.py): it
# takes ids and rebuilds what it needs; the scope of a person does not exist there.
_RLS_CONTEXTS: dict[str, object] = {}


@signals.task_prerun.connect
def _cross_school_begin(task_id=None, task=None, **kwargs):  # noqa: ANN001, ANN003, ANN202
    from portal.db_scope import cross_school

    ctx = cross_school(f"celery task {getattr(task, 'name', '?')}")
    ctx.__enter__()
    _RLS_CONTEXTS[task_id] = ctx


@signals.task_postrun.connect
def _cross_school_end(task_id=None, **kwargs):  # noqa: ANN001, ANN003, ANN202
    ctx = _RLS_CONTEXTS.pop(task_id, None)
    if ctx is not None:
        ctx.__exit__(None, None, None)
