"""Metrics of the pipeline in the Prometheus text format (``/metrics``, not public).

Counters and histograms are kept in Redis (one hash per series, ``komek:metrics:…``) so that
every process — gunicorn workers, Celery workers — adds to the same numbers and one scrape of
any web process sees the fleet. Gauges (queue depth, breaker state, requests per status,
requests held back) are read at scrape time. Labels never carry personal data.

Series:

* ``komek_http_request_duration_seconds{method,route,status}`` — web requests;
* ``komek_task_duration_seconds{task,outcome}`` and ``komek_task_outcomes_total{task,outcome}``;
* ``komek_submit_to_scored_seconds`` — a request's wait from submission to its assessment;
* ``komek_card_fetch_duration_seconds{outcome}``, ``komek_card_errors_total{reason}``;
* ``komek_queue_depth{queue}``, ``komek_circuit_state{name}`` (0 closed, 1 half-open,
  2 open), ``komek_aid_requests{status}``, ``komek_aid_requests_held_back``.
"""

from __future__ import annotations

import atexit
import hmac
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

PREFIX = "komek:metrics:"
BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
)  # fmt: skip
HELP = {
    "komek_http_request_duration_seconds": "Web request duration",
    "komek_task_duration_seconds": "Celery task duration",
    "komek_submit_to_scored_seconds": "From submission to the stored assessment",
    "komek_card_fetch_duration_seconds": "Family card fetch duration (all attempts)",
    "komek_task_outcomes_total": "Celery task outcomes",
    "komek_card_errors_total": "Family card service errors by reason",
}


def _client() -> Any:
    from scoring.circuit import redis_client

    return redis_client(settings.REDIS_URL)


def _key(kind: str, name: str, labels: dict[str, str]) -> str:
    parts = ",".join(f"{k}={labels[k]}" for k in sorted(labels))
    return f"{PREFIX}{kind}:{name}:{parts}"


_local = threading.local()


@contextmanager
def batched() -> Iterator[None]:
    """Collect this thread's observations and send them in one Redis round trip at the end
    (a task's duration, outcome, card fetch and wait: one pipeline instead of four)."""
    if getattr(_local, "ops", None) is not None:
        yield
        return
    _local.ops = []
    try:
        yield
    finally:
        ops, _local.ops = _local.ops, None
        _send(ops)


def _send(ops: list[tuple[str, str, str, float]]) -> None:
    if not ops:
        return
    try:
        pipe = _client().pipeline(transaction=False)
        for op, key, field, value in ops:
            if op == "hincrby":
                pipe.hincrby(key, field, int(value))
            elif op == "hincrbyfloat":
                pipe.hincrbyfloat(key, field, value)
            else:
                pipe.incrby(key, int(value))
        pipe.execute()
    except Exception:  # noqa: BLE001 - metrics never break the work
        logger.debug("metrics not recorded")


#: Observations made outside :func:`batched` (every web request's duration) are summed in this
#: process and sent at most every ``FLUSH_SECONDS`` by a background thread, before every
#: scrape this process answers and at exit: one Redis round trip per web request was a
#: twentieth of an API submission's CPU (measured, bench/api.py).
FLUSH_SECONDS = 1.0
_buffer: dict[tuple[str, str, str], float] = {}
_buffer_lock = threading.Lock()
_flusher_pid: int | None = None


def flush() -> None:
    """Send what this process has summed so far (never raises)."""
    global _buffer
    with _buffer_lock:
        summed, _buffer = _buffer, {}
    _send([(op, key, field, value) for (op, key, field), value in summed.items()])


def _flush_forever() -> None:
    while True:
        time.sleep(FLUSH_SECONDS)
        if _buffer:
            flush()


def _start_flusher() -> None:
    """One flushing thread per process (started in the process that emits: after a fork)."""
    global _flusher_pid
    with _buffer_lock:
        if _flusher_pid == os.getpid():
            return
        _flusher_pid = os.getpid()
    threading.Thread(target=_flush_forever, name="komek-metrics", daemon=True).start()


def _after_fork_in_child() -> None:
    """A forked child starts with nothing to send (its parent sends what it had summed)."""
    global _buffer, _buffer_lock
    _buffer, _buffer_lock = {}, threading.Lock()


atexit.register(flush)
os.register_at_fork(after_in_child=_after_fork_in_child)


def _emit(ops: list[tuple[str, str, str, float]]) -> None:
    pending = getattr(_local, "ops", None)
    if pending is not None:
        pending.extend(ops)
        return
    if _flusher_pid != os.getpid():
        _start_flusher()
    with _buffer_lock:
        for op, key, field, value in ops:
            _buffer[(op, key, field)] = _buffer.get((op, key, field), 0) + value


def observe(name: str, seconds: float, **labels: str) -> None:
    """Add one observation to a histogram (never raises)."""
    key = _key("h", name, labels)
    bucket = next((repr(b) for b in BUCKETS if seconds <= b), "+Inf")
    _emit([("hincrby", key, bucket, 1), ("hincrbyfloat", key, "sum", seconds)])


def inc(name: str, amount: int = 1, **labels: str) -> None:
    _emit([("incrby", _key("c", name, labels), "", amount)])


def reset() -> None:
    with _buffer_lock:
        _buffer.clear()
    client = _client()
    keys = list(client.scan_iter(match=PREFIX + "*", count=1000))
    if keys:
        client.delete(*keys)


# --------------------------------------------------------------------------- exposition


def _parse_key(key: str) -> tuple[str, str, dict[str, str]]:
    kind, name, parts = key[len(PREFIX) :].split(":", 2)
    labels = dict(p.split("=", 1) for p in parts.split(",") if p)
    return kind, name, labels


class _Collector:
    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            HistogramMetricFamily,
        )

        client = _client()
        histograms: dict[str, list[tuple[dict[str, str], dict[bytes, bytes]]]] = {}
        counters: dict[str, list[tuple[dict[str, str], int]]] = {}
        keys = sorted(k.decode() for k in client.scan_iter(match=PREFIX + "*", count=1000))
        pipe = client.pipeline(transaction=False)
        for key in keys:
            (pipe.hgetall if key.startswith(PREFIX + "h:") else pipe.get)(key)
        for key, value in zip(keys, pipe.execute(), strict=True):
            kind, name, labels = _parse_key(key)
            if kind == "h":
                histograms.setdefault(name, []).append((labels, value))
            elif value is not None:
                counters.setdefault(name, []).append((labels, int(value)))
        for name, series in histograms.items():
            label_names = sorted({k for labels, _ in series for k in labels})
            family = HistogramMetricFamily(name, HELP.get(name, name), labels=label_names)
            for labels, raw in series:
                counts = {k.decode(): v for k, v in raw.items()}
                cumulative, buckets = 0, []
                for bound in BUCKETS:
                    cumulative += int(counts.get(repr(bound), 0))
                    buckets.append((repr(bound), cumulative))
                cumulative += int(counts.get("+Inf", 0))
                buckets.append(("+Inf", cumulative))
                family.add_metric(
                    [labels.get(k, "") for k in label_names],
                    buckets,
                    float(counts.get("sum", 0)),
                )
            yield family
        for name, series in counters.items():
            label_names = sorted({k for labels, _ in series for k in labels})
            base = name[: -len("_total")] if name.endswith("_total") else name
            family = CounterMetricFamily(base, HELP.get(name, name), labels=label_names)
            for labels, value in series:
                family.add_metric([labels.get(k, "") for k in label_names], value)
            yield family
        yield from _gauges()


def _gauges() -> Iterable[Any]:
    from prometheus_client.core import GaugeMetricFamily

    from portal.celery import app, sweeper_queue

    depth = GaugeMetricFamily("komek_queue_depth", "Messages waiting", labels=["queue"])
    try:
        with app.connection_for_read() as conn:
            channel = conn.default_channel
            for queue in (app.conf.task_default_queue, sweeper_queue()):
                depth.add_metric([queue], int(channel.client.llen(queue)))
        from portal.coalesce import NOTICES, SUBMITTED

        for coalescer in (SUBMITTED, NOTICES):  # gathered for the next drain task
            depth.add_metric([f"{coalescer.name}-gathered"], coalescer.waiting())
    except Exception:  # noqa: BLE001
        logger.debug("queue depth not read")
    yield depth

    state = GaugeMetricFamily(
        "komek_circuit_state",
        "Card service breaker: 0 closed, 1 half-open, 2 open",
        labels=["name"],
    )
    try:
        from scoring.circuit import HALF_OPEN, OPEN
        from scoring.sources import card_breaker

        breaker = card_breaker()
        st = breaker.status().state
        state.add_metric([breaker.name], {OPEN: 2, HALF_OPEN: 1}.get(st, 0))
    except Exception:  # noqa: BLE001
        logger.debug("breaker state not read")
    yield state

    from django.db.models import Count

    from portal.requests.models import AidRequest
    from portal.requests.tasks import held_back_count

    per_status = GaugeMetricFamily(
        "komek_aid_requests", "Aid requests by status", labels=["status"]
    )
    rows = AidRequest.objects.unscoped().values("status").annotate(n=Count("id")).order_by()
    for row in rows:
        per_status.add_metric([row["status"]], row["n"])
    yield per_status
    held = GaugeMetricFamily(
        "komek_aid_requests_held_back", "Requests waiting for the card service to return"
    )
    held.add_metric([], held_back_count())
    yield held


def render() -> bytes:
    from prometheus_client import CollectorRegistry, generate_latest

    flush()  # this process's own observations are in the answer

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector())
    return generate_latest(registry)


def token_ok(header: str) -> bool:
    token = str(getattr(settings, "METRICS_TOKEN", "") or "")
    scheme, _sep, presented = header.partition(" ")
    return bool(
        token
        and scheme.lower() == "bearer"
        and hmac.compare_digest(presented.strip().encode(), token.encode())
    )


# --------------------------------------------------------------------------- hooks


class RequestTimingMiddleware:
    """Observes every web request's duration by route name (never the path: it holds ids)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = (match.view_name if match else "") or "unmatched"
        if route != "metrics":
            observe(
                "komek_http_request_duration_seconds",
                time.perf_counter() - started,
                method=request.method,
                route=route,
                status=str(response.status_code // 100) + "xx",
            )
        return response


def _on_card_fetch(sender: object, seconds: float, outcome: str, reason: str, **kw: Any) -> None:
    observe("komek_card_fetch_duration_seconds", seconds, outcome=outcome)
    if reason:
        inc("komek_card_errors_total", reason=reason)


def connect_signals() -> None:
    from scoring.sources import card_fetch_observed

    card_fetch_observed.connect(_on_card_fetch, dispatch_uid="portal.metrics.card_fetch")
