"""Shadow scoring: re-score the frozen cards of stored assessments with a draft rule set.

The scan streams ``(assessment, school, request)`` rows of a period with a server-side cursor,
builds each card with :func:`scoring.card.parse_trusted_card` (frozen cards were validated when
stored), scores it with the compiled draft and aggregates counts in memory: the old → new
category matrix (6 × 6), high-welfare flags appearing/disappearing, per school (keyed by school
id) and per region, plus the public ids of affected aid requests per school (shown only to that
school's staff). Large periods are split over worker processes by ``id % workers``.

No family data leaves this module: only counts and request public ids.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import queue
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from django.conf import settings
from django.db import connection, transaction

from portal.db_scope import CROSS_SCHOOL_SQL
from scoring import engine
from scoring.card import parse_trusted_card
from scoring.jsondoc import load_json_document
from scoring.ruleset import CompiledRuleSet, RuleSetError, compile_ruleset

__all__ = ["AFFECTED_PER_SCHOOL", "impact_compute", "impact_scan_rows"]

#: At most this many affected request ids are kept per school.
AFFECTED_PER_SCHOOL: Final = 500
#: Periods with at least this many assessments are split over worker processes.
PARALLEL_THRESHOLD: Final = 20_000
_BATCH: Final = 5_000
_NO_REQUEST: Final = "none"

_SQL: Final = """
SELECT a.id, a.card::text, a.card_sha256, a.category, a.high_welfare, r.school_id, r.public_id
FROM scoring_assessment a
LEFT JOIN portal_aidrequestscoring s ON s.assessment_id = a.id
LEFT JOIN portal_aidrequest r ON r.id = s.request_id
WHERE a.created_at >= %s AND a.created_at < %s {part}
"""
_COUNT_SQL: Final = (
    "SELECT count(*) FROM scoring_assessment WHERE created_at >= %s AND created_at < %s"
)

# Per-bucket counters: total, changed, up (higher category), down, hw_appear, hw_disappear,
# errors, then the 36 cells of the old → new matrix.
_T, _CH, _UP, _DOWN, _HWA, _HWD, _ERR = range(7)
_M0: Final = 7
_WIDTH: Final = _M0 + 36


def _bounds(period_from: dt.date, period_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Inclusive dates → [start, end) datetimes in the project time zone."""
    from django.utils import timezone

    tz = timezone.get_default_timezone()
    start = dt.datetime.combine(period_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(period_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def impact_scan_rows(
    rows: Iterable[tuple[Any, ...]],
    compiled: CompiledRuleSet,
    tick: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Aggregate ``(id, card JSON text, sha256, category, high_welfare, school_id, request_id)`` rows.

    Returns ``{"buckets": {school_id|"none": [counters…]}, "affected": {school_id: [ids]}}``.
    """
    buckets: dict[Any, list[int]] = {}
    affected: dict[Any, list[str]] = {}
    assess = engine.assess
    parse = parse_trusted_card

    def loads(text: str) -> Any:
        # exact decimals, as every card is read elsewhere (never binary floats)
        return load_json_document(text, max_bytes=None)

    n = 0
    for _id, card_doc, sha, old, old_hw, school_id, request_id in rows:
        key = _NO_REQUEST if school_id is None else school_id
        b = buckets.get(key)
        if b is None:
            b = buckets[key] = [0] * _WIDTH
        b[_T] += 1
        n += 1
        if tick is not None and n % _BATCH == 0:
            tick(_BATCH)
        try:
            result = assess(parse(loads(card_doc), sha), compiled, card_sha256=sha)
        except (RuleSetError, KeyError, TypeError, ValueError):
            b[_ERR] += 1
            continue
        new, new_hw = result.category, result.high_welfare
        b[_M0 + (old - 1) * 6 + (new - 1)] += 1
        moved = new != old
        if moved:
            b[_CH] += 1
            b[_UP if new > old else _DOWN] += 1
        if new_hw != old_hw:
            b[_HWA if new_hw else _HWD] += 1
            moved = True
        if moved and request_id is not None:
            ids = affected.setdefault(key, [])
            if len(ids) < AFFECTED_PER_SCHOOL:
                ids.append(str(request_id))
    if tick is not None and n % _BATCH:
        tick(n % _BATCH)
    return {"buckets": buckets, "affected": affected}


def _scan_connection(raw: Any, sql: str, params: tuple[Any, ...]) -> Iterable[tuple[Any, ...]]:
    with raw.cursor(name=f"impact_{time.monotonic_ns()}") as cur:
        cur.itersize = 2_000
        cur.execute(sql, params)
        yield from cur


def _worker(
    document: bytes,
    conninfo: Mapping[str, Any],
    start: dt.datetime,
    end: dt.datetime,
    part: int,
    parts: int,
    counter: Any,
) -> dict[str, Any]:
    import psycopg

    compiled = compile_ruleset(document)
    sql = _SQL.format(part="AND a.id %% %s = %s")

    def tick(k: int) -> None:
        with counter.get_lock():
            counter.value += k

    with psycopg.connect(**conninfo) as raw:
        # a deliberate cross-school scan (row-level security, portal/db_scope.py)
        raw.execute(CROSS_SCHOOL_SQL)
        return impact_scan_rows(
            _scan_connection(raw, sql, (start, end, parts, part)), compiled, tick
        )


def _worker_entry(*args: Any) -> None:
    results = args[-1]
    try:
        results.put(("ok", _worker(*args[:-1])))
    except BaseException as exc:  # reported to the parent, which fails the preview
        results.put(("error", type(exc).__name__))


def _conninfo() -> dict[str, Any]:
    db = settings.DATABASES["default"]
    info = {
        "dbname": db["NAME"],
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
    }
    return {k: v for k, v in info.items() if v is not None}


def _merge(parts: list[dict[str, Any]]) -> tuple[dict[Any, list[int]], dict[Any, list[str]]]:
    buckets: dict[Any, list[int]] = {}
    affected: dict[Any, list[str]] = {}
    for part in parts:
        for key, counts in part["buckets"].items():
            b = buckets.setdefault(key, [0] * _WIDTH)
            for i, v in enumerate(counts):
                b[i] += v
        for key, ids in part["affected"].items():
            have = affected.setdefault(key, [])
            have.extend(ids[: AFFECTED_PER_SCHOOL - len(have)])
    return buckets, affected


def _summary(counts: list[int]) -> dict[str, Any]:
    return {
        "total": counts[_T],
        "changed": counts[_CH],
        "up": counts[_UP],
        "down": counts[_DOWN],
        "hw_appear": counts[_HWA],
        "hw_disappear": counts[_HWD],
        "errors": counts[_ERR],
    }


def _matrix(counts: list[int]) -> list[list[int]]:
    return [counts[_M0 + r * 6 : _M0 + r * 6 + 6] for r in range(6)]


def _result(
    buckets: dict[Any, list[int]], affected: dict[Any, list[str]], seconds: float
) -> dict[str, Any]:
    from schools.models import School

    total = [0] * _WIDTH
    for counts in buckets.values():
        for i, v in enumerate(counts):
            total[i] += v
    ids = [k for k in buckets if k != _NO_REQUEST]
    info = {
        s["pk"]: s
        for s in School.objects.filter(pk__in=ids).values(
            "pk",
            "name_ru",
            "district_id",
            "district__name_ru",
            "district__region_id",
            "district__region__name_ru",
        )
    }
    schools: dict[str, Any] = {}
    regions: dict[str, Any] = {}
    region_counts: dict[Any, list[int]] = {}
    for key in ids:
        s = info.get(key, {})
        region_id = s.get("district__region_id")
        schools[str(key)] = {
            "name": s.get("name_ru", str(key)),
            "district": s.get("district__name_ru", ""),
            "region_id": region_id,
            **_summary(buckets[key]),
            "affected": affected.get(key, []),
        }
        rc = region_counts.setdefault(region_id, [0] * _WIDTH)
        for i, v in enumerate(buckets[key]):
            rc[i] += v
        regions.setdefault(str(region_id), {"name": s.get("district__region__name_ru", "")})
    for region_id, counts in region_counts.items():
        regions[str(region_id)].update(_summary(counts), matrix=_matrix(counts))
    return {
        **_summary(total),
        "matrix": _matrix(total),
        "regions": regions,
        "schools": schools,
        "no_request": _summary(buckets.get(_NO_REQUEST, [0] * _WIDTH)),
        "seconds": round(seconds, 3),
    }


def impact_compute(
    *,
    document: Mapping[str, Any] | bytes,
    period_from: dt.date,
    period_to: dt.date,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Shadow-score the assessments created in ``[period_from, period_to]`` with ``document``.

    ``workers`` None: 2 processes for large periods, in-process otherwise (in-process sees the
    caller's open transaction, which tests rely on). ``progress(processed, total)`` is called
    now and then from this process.
    """
    started = time.perf_counter()
    compiled = compile_ruleset(document)
    start, end = _bounds(period_from, period_to)
    with connection.cursor() as cur:
        cur.execute(_COUNT_SQL, (start, end))
        total = cur.fetchone()[0]
    if progress is not None:
        progress(0, total)
    if workers is None:
        workers = 2 if total >= PARALLEL_THRESHOLD else 1
    if connection.in_atomic_block:  # uncommitted rows are invisible to other connections
        workers = 1
    if multiprocessing.current_process().daemon:  # daemonic processes may not have children
        workers = 1

    if workers <= 1:
        done = 0

        def tick(k: int) -> None:
            nonlocal done
            done += k
            if progress is not None:
                progress(done, total)

        with transaction.atomic():
            connection.ensure_connection()
            rows = _scan_connection(connection.connection, _SQL.format(part=""), (start, end))
            parts = [impact_scan_rows(rows, compiled, tick)]
    else:
        ctx = multiprocessing.get_context("fork")
        counter = ctx.Value("q", 0)
        results = ctx.Queue()
        raw = compiled.canonical_json()
        info = _conninfo()
        connection.close()  # never share a connection with forked children
        procs = [
            ctx.Process(
                target=_worker_entry,
                args=(raw, info, start, end, k, workers, counter, results),
                daemon=True,
            )
            for k in range(workers)
        ]
        for proc in procs:
            proc.start()
        parts = []
        try:
            while len(parts) < workers:
                try:
                    status, payload = results.get(timeout=0.5)
                except queue.Empty:
                    if progress is not None:
                        progress(min(counter.value, total), total)
                    if not any(p.is_alive() for p in procs) and results.empty():
                        raise RuntimeError("an impact worker died") from None
                    continue
                if status != "ok":
                    raise RuntimeError(f"an impact worker failed: {payload}")
                parts.append(payload)
        finally:
            for proc in procs:
                proc.join(timeout=5)
                if proc.is_alive():
                    proc.terminate()
    buckets, affected = _merge(parts)
    return _result(buckets, affected, time.perf_counter() - started)
