"""Readiness of the portal's dependencies, each reported separately (``/readyz``).

``/healthz`` is liveness (this process answers and reaches its database); ``/readyz`` says
whether the pieces around it work: the database, the broker (submissions are still accepted
without it: they are enqueued when it returns), the family card service (requests are held
back and re-queued when it returns) and the sweeper (a warning when beat is not running).
Only the database and the broker make it "not ready" (503).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.conf import settings
from django.db import connection

_CARD_CACHE_SECONDS = 5.0
_card_cache: dict[str, Any] = {}
_card_lock = threading.Lock()


def check_database() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def check_broker() -> dict[str, Any]:
    from portal.celery import app

    started = time.perf_counter()
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
            depth = None
            client = getattr(conn.default_channel, "client", None)
            if client is not None:
                depth = int(client.llen(app.conf.task_default_queue))
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__}
    return {
        "ok": True,
        "ms": round((time.perf_counter() - started) * 1000, 1),
        "queue_depth": depth,
    }


def check_card_service() -> dict[str, Any]:
    """The breaker's state and a probe of the card endpoint (cached a few seconds)."""
    from scoring.sources import card_breaker, new_card_source

    with _card_lock:
        cached = _card_cache.get("result")
        if cached and time.monotonic() - cached[0] < _CARD_CACHE_SECONDS:
            return cached[1]
    started = time.perf_counter()
    try:
        source = new_card_source()
    except Exception as exc:  # noqa: BLE001 - misconfigured
        result: dict[str, Any] = {"ok": False, "error": type(exc).__name__}
    else:
        source.timeout = type(source.timeout)(1.0)
        try:
            ok, detail = source.probe()
        finally:
            source.close()
        result = {"ok": ok, "ms": round((time.perf_counter() - started) * 1000, 1)}
        if not ok:
            result["error"] = detail
        try:
            result["breaker"] = card_breaker().status().state
        except Exception:  # noqa: BLE001
            result["breaker"] = "unknown"
    with _card_lock:
        _card_cache["result"] = (time.monotonic(), result)
    return result


def check_sweeper() -> dict[str, Any]:
    from portal.requests.tasks import sweeper_last_run

    last = sweeper_last_run()
    limit = 3 * float(settings.SWEEPER_INTERVAL) + 5
    if last is None:
        return {"ok": False, "warning": "the sweeper never ran: is celery beat running?"}
    age = time.time() - last
    result: dict[str, Any] = {"ok": age <= limit, "seconds_since_last_run": round(age, 1)}
    if age > limit:
        result["warning"] = "the sweeper has not run lately: is celery beat running?"
    return result


def readiness() -> tuple[bool, dict[str, Any]]:
    checks = {
        "database": check_database(),
        "broker": check_broker(),
        "card_service": check_card_service(),
        "sweeper": check_sweeper(),
    }
    ready = checks["database"]["ok"] and checks["broker"]["ok"]
    degraded = not (checks["card_service"]["ok"] and checks["sweeper"]["ok"])
    status = "unavailable" if not ready else ("degraded" if degraded else "ok")
    return ready, {"status": status, "checks": checks}
