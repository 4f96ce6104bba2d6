"""The Celery app `portal.celery`: worker and beat run the same code against the same DB.

Queues: the scoring work goes to the default queue (``CELERY_TASK_DEFAULT_QUEUE``, "komek"),
the stuck-request sweeper to ``<default>-sweeper`` so that it never waits behind the backlog
it is repairing. A worker started with ``-Q komek,komek-sweeper`` (``make demo`` does) serves
both; every worker runs one sweep each time its consumer (re)connects to the broker, so a
broker restart is repaired in seconds, with or without beat.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery, bootsteps, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

logger = logging.getLogger(__name__)

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(
    ["portal.requests", "portal.rules", "portal.stats", "portal.notices", "portal.privacy"]
)

SWEEPER_TASKS = frozenset({"portal.aid_requests_requeue_stuck", "portal.aid_requests_requeue_held"})


def sweeper_queue() -> str:
    return f"{app.conf.task_default_queue}-sweeper"


def route_task(name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **kw: Any) -> Any:
    """CELERY_TASK_ROUTES: the sweeper tasks to their own queue (read at send time, so a
    changed default queue — the tests' private queues — is followed)."""
    if name in SWEEPER_TASKS:
        return {"queue": sweeper_queue()}
    return None


class SweepOnConnect(bootsteps.StartStopStep):
    """A consumer step: started on every (re)connection to the broker → one sweep now."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def start(self, c: Any) -> None:
        try:
            c.app.send_task(
                "portal.aid_requests_requeue_stuck",
                kwargs={"trigger": "connect"},
                queue=sweeper_queue(),
                expires=60,
            )
        except Exception:  # noqa: BLE001 - the next beat tick sweeps anyway
            logger.warning("sweep on connect: could not send the sweeper task")


app.steps["consumer"].add(SweepOnConnect)

# Every task is a deliberate cross-school job for row-level security (portal/db_scope.py): it
# takes ids and rebuilds what it needs; the scope of a person does not exist there.
_RLS_CONTEXTS: dict[str, object] = {}


@signals.worker_ready.connect
@signals.worker_process_init.connect
def _settle_heap(**kwargs):  # noqa: ANN003, ANN202
    """The loaded worker's heap out of the collector's sight (portal/runtime.py)."""
    from portal.runtime import settle_heap

    settle_heap()


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
