"""Writes of the statistics rollup.

``stats_apply(old, new)`` moves one request from the bucket it was counted in to the bucket it
belongs to now (decrement the old, increment the new), with ``INSERT … ON CONFLICT DO UPDATE``,
inside the caller's transaction. ``stats_rebuild()`` recomputes the whole table from requests,
assessments and decisions. Both derive a request's bucket by the same definition:

* month: the month of ``created_at`` in the portal's time zone;
* category: the category of the latest scoring attempt (0: never scored);
* outcome and approved amount: the latest decision, only while the request is ``decided``;
* duration: from submission to the FIRST scoring (histogram bucket by ``DURATION_BOUNDS``).
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from portal.stats.models import (
    ALL,
    DISTRICT_KEY_FIELDS,
    DURATION_BOUNDS,
    HIST_FIELDS,
    KEY_FIELDS,
    MEASURE_FIELDS,
)

TABLE = "portal_statsbucket"
DISTRICT_TABLE = "portal_statsdistrictbucket"


@dataclass(frozen=True)
class StatsRow:
    """Where one request is counted, and what it adds there."""

    school_id: int
    district_id: int
    region_id: int
    month: dt.date
    academic_year: str
    aid_kind: str
    ground: str
    category: int
    status: str
    outcome: str
    amount_requested: int
    amount_approved: int
    against: bool
    duration_bucket: int | None

    def key(self) -> tuple:
        return tuple(getattr(self, f) for f in KEY_FIELDS)

    def district_keys(self) -> list[tuple]:
        """The three district-rollup keys: all kinds and grounds, per kind, per ground."""
        rest = (self.category, self.status, self.outcome)
        head = (self.district_id, self.month, self.academic_year)
        return [
            (*head, ALL, ALL, *rest),
            (*head, self.aid_kind, ALL, *rest),
            (*head, ALL, self.ground, *rest),
        ]

    def measures(self, sign: int) -> list[int]:
        hist = [0] * len(HIST_FIELDS)
        if self.duration_bucket is not None:
            hist[self.duration_bucket] = sign
        return [
            sign,
            sign * self.amount_requested,
            sign * self.amount_approved,
            sign * int(self.against),
            *hist,
        ]


def duration_bucket(seconds: float) -> int:
    return bisect.bisect_right(DURATION_BOUNDS, seconds)


_ROW_SQL = """
SELECT r.id, r.school_id, s.district_id, d.region_id, r.created_at, r.academic_year, r.aid_kind,
       r.ground, r.status, r.amount_kzt,
       (SELECT a.category FROM portal_aidrequestscoring sc
          JOIN scoring_assessment a ON a.id = sc.assessment_id
         WHERE sc.request_id = r.id ORDER BY sc.attempt DESC LIMIT 1),
       (SELECT sc.created_at FROM portal_aidrequestscoring sc
         WHERE sc.request_id = r.id ORDER BY sc.attempt ASC LIMIT 1),
       dec.outcome, dec.amount_kzt, dec.against_recommendation
  FROM portal_aidrequest r
  JOIN schools_school s ON s.id = r.school_id
  JOIN schools_district d ON d.id = s.district_id
  LEFT JOIN LATERAL (
        SELECT dd.outcome, dd.amount_kzt, dd.against_recommendation FROM portal_decision dd
         WHERE dd.request_id = r.id AND r.status = 'decided' AND dd.superseded_at IS NULL
         ORDER BY dd.id DESC LIMIT 1
  ) dec ON true
 WHERE r.id = ANY(%s)
"""


def _stats_row(row: tuple) -> StatsRow:
    (school_id, district_id, region_id, created_at, year, kind, ground, status, amount,
     category, first_scored, outcome, approved, against) = row[1:]  # fmt: skip
    month = timezone.localtime(created_at).date().replace(day=1)
    bucket = duration_bucket((first_scored - created_at).total_seconds()) if first_scored else None
    return StatsRow(
        school_id=school_id,
        district_id=district_id,
        region_id=region_id,
        month=month,
        academic_year=year,
        aid_kind=kind,
        ground=ground,
        category=category or 0,
        status=status,
        outcome=outcome or "",
        amount_requested=amount,
        amount_approved=(approved or 0) if outcome == "approve" else 0,
        against=bool(against),
        duration_bucket=bucket,
    )


def stats_row_of_new(req: Any, *, district_id: int, region_id: int) -> StatsRow:
    """The bucket of a request just created (saved in this transaction): what
    :func:`stats_row_for` would read back, from the object — nothing is scored or decided
    yet. ``district_id`` and ``region_id`` are its school's (the submitter's scope)."""
    return StatsRow(
        school_id=req.school_id,
        district_id=district_id,
        region_id=region_id,
        month=timezone.localtime(req.created_at).date().replace(day=1),
        academic_year=req.academic_year,
        aid_kind=req.aid_kind,
        ground=req.ground,
        category=0,
        status=req.status,
        outcome="",
        amount_requested=req.amount_kzt,
        amount_approved=0,
        against=False,
        duration_bucket=None,
    )


def stats_rows_for(request_ids: list[int]) -> dict[int, StatsRow]:
    """The buckets of many requests now (this transaction), in one query."""
    if not request_ids:
        return {}
    with connection.cursor() as cur:
        cur.execute(_ROW_SQL, [list(request_ids)])
        return {row[0]: _stats_row(row) for row in cur.fetchall()}


def stats_row_for(request_id: int) -> StatsRow | None:
    """The bucket a request belongs to now, read from the database (this transaction)."""
    return stats_rows_for([request_id]).get(request_id)


_COLUMNS = ("district_id", "region_id", *KEY_FIELDS, *MEASURE_FIELDS)
_D_COLUMNS = ("region_id", *DISTRICT_KEY_FIELDS, *MEASURE_FIELDS)


def _upsert_sql(table: str, columns: tuple[str, ...], key: tuple[str, ...], rows: int = 1) -> str:
    # Identifiers are constants of this module; values are parameters.
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([one] * rows)} "  # noqa: S608
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
        + ", ".join(f"{m} = {table}.{m} + EXCLUDED.{m}" for m in MEASURE_FIELDS)
    )


_UPSERT_SQL = _upsert_sql(TABLE, _COLUMNS, KEY_FIELDS)
_D_UPSERT_SQL = _upsert_sql(DISTRICT_TABLE, _D_COLUMNS, DISTRICT_KEY_FIELDS)


def _one_upsert_sql() -> str:
    """One request in or out of its buckets (a new request: the common case) in one fixed
    statement: the school row (the main statement, so it is written first, as on every other
    path: the same lock order) and then the three district rows of the ``WITH`` (PostgreSQL
    runs a data-modifying ``WITH`` that nobody reads after the main statement). Named
    parameters: each value once (33, where four rows' columns are 122; psycopg caches the
    conversion of a statement of at most 50 parameters and 4,096 bytes, measured: the
    conversion was most of the rollup's CPU)."""

    def row(columns: tuple[str, ...], **instead: str) -> str:
        return "(" + ", ".join(f"%({_ONE_NAMES[instead.get(c, c)]})s" for c in columns) + ")"

    d_rows = ", ".join(  # in _lock_order's order: ALL sorts before every kind and ground
        row(_D_COLUMNS, **instead)
        for instead in (
            {"aid_kind": "all", "ground": "all"},
            {"aid_kind": "all"},
            {"ground": "all"},
        )
    )
    updates = ", ".join(f"{m} = t.{m} + EXCLUDED.{m}" for m in MEASURE_FIELDS)
    # identifiers are constants of this module; values are parameters
    return (
        f"WITH d AS (INSERT INTO {DISTRICT_TABLE} AS t ({', '.join(_D_COLUMNS)}) "  # noqa: S608
        f"VALUES {d_rows} ON CONFLICT ({', '.join(DISTRICT_KEY_FIELDS)}) DO UPDATE SET {updates}) "
        f"INSERT INTO {TABLE} AS t ({', '.join(_COLUMNS)}) VALUES {row(_COLUMNS)} "
        f"ON CONFLICT ({', '.join(KEY_FIELDS)}) DO UPDATE SET {updates}"
    )


#: Short parameter names (psycopg caches a statement's conversion up to 4,096 bytes).
_ONE_NAMES = {c: f"p{i}" for i, c in enumerate((*_COLUMNS, "all"))}


_ONE_UPSERT_SQL = _one_upsert_sql()


def _one_upsert_params(row: StatsRow, sign: int) -> dict[str, Any] | None:
    """The parameters of :data:`_ONE_UPSERT_SQL`; None when the fixed lock order of its
    district rows would not be :func:`_lock_order`'s (a kind or ground sorting before ALL)."""
    if not (str(row.aid_kind) > ALL and str(row.ground) > ALL):
        return None
    values = [row.district_id, row.region_id, *row.key(), *row.measures(sign), ALL]
    return dict(zip(_ONE_NAMES.values(), values, strict=True))


_SQL_CACHE: dict[tuple[str, int], str] = {}


def _merged(rows: list[tuple[tuple, list[int]]]) -> list[list]:
    """Rows with the same key summed (one INSERT … ON CONFLICT may touch a row only once)."""
    out: dict[tuple, list[int]] = {}
    for key, measures in rows:
        if key in out:
            out[key] = [a + b for a, b in zip(out[key], measures, strict=True)]
        else:
            out[key] = list(measures)
    return [[*key, *measures] for key, measures in out.items()]


def _lock_order(rows: list[list]) -> list[list]:
    """Rows in one order for every writer (by their key columns): concurrent transactions
    that move requests between the same buckets take the row locks in the same order and never
    deadlock."""
    n = len(MEASURE_FIELDS)
    return sorted(rows, key=lambda row: tuple(str(v) for v in row[:-n]))


def _upsert(cur: Any, table: str, columns: tuple, key: tuple, rows: list[list]) -> None:
    if not rows:
        return
    rows = _lock_order(rows)
    sql = _SQL_CACHE.get((table, len(rows)))
    if sql is None:
        sql = _SQL_CACHE[(table, len(rows))] = _upsert_sql(table, columns, key, len(rows))
    cur.execute(sql, [value for row in rows for value in row])


def stats_apply(old: StatsRow | None, new: StatsRow | None) -> None:
    """Move one request from bucket `old` to bucket `new` (either may be None): decrement the
    old buckets, increment the new ones, in the school rollup and the district rollup.

    Fixed statements, which psycopg prepares once per connection (a multi-row VALUES of
    varying length defeats that: measured 2× the CPU per transition). One request coming or
    going (a new one) is one statement for all four rows (:data:`_ONE_UPSERT_SQL`); a move
    between buckets is one statement per row; the batch path (many requests at once) uses
    :func:`_upsert` with rows merged per key."""
    if old == new:
        return
    rows, d_rows = [], []
    for row, sign in ((old, -1), (new, 1)):
        if row is not None:
            measures = row.measures(sign)
            rows.append([row.district_id, row.region_id, *row.key(), *measures])
            d_rows += [[row.region_id, *key, *measures] for key in row.district_keys()]
    one = None
    if len(rows) == 1:  # the three district keys of one row differ (kind, ground, both)
        one = _one_upsert_params(*((old, -1) if new is None else (new, 1)))
    with connection.cursor() as cur:
        if one is not None:
            cur.execute(_ONE_UPSERT_SQL, one)
        else:
            cur.executemany(_UPSERT_SQL, _lock_order(rows))
            cur.executemany(_D_UPSERT_SQL, _lock_order(d_rows))
    _changed()


def _changed() -> None:
    """Suppressed dashboards are cached per rollup generation: a new one when this change is
    committed (once per transaction). Until then this transaction's own reads bypass the cache
    (``stats_changed_uncommitted``): nothing uncommitted is ever cached, and a submission pays
    one Redis round trip for it, not two."""
    from portal.stats.selectors import stats_generation_bump, stats_generation_bump_on_commit

    if not connection.in_atomic_block:
        stats_generation_bump()  # autocommit: the change is everyone's already
    else:
        stats_generation_bump_on_commit()


class StatsTracker:
    """Remembers where a request was counted at the start of a transition.

    ``tracker = StatsTracker(req.pk)`` after locking the row, ``tracker.done()`` after the
    change: both in the same transaction.
    """

    def __init__(self, request_id: int | None) -> None:
        self.request_id = request_id
        self.before = stats_row_for(request_id) if request_id is not None else None

    def done(self, request_id: int | None = None, *, after: StatsRow | None = None) -> None:
        """``after``: where the request is counted now, when the caller knows it without a
        read (:func:`stats_row_of_new`)."""
        if request_id is not None:
            self.request_id = request_id
        stats_apply(self.before, after if after is not None else stats_row_for(self.request_id))


class StatsTrackerMany:
    """:class:`StatsTracker` for a set of requests moved together (a scoring batch): one read
    before, one after, and every change merged per bucket into one upsert per rollup table."""

    def __init__(self, request_ids: list[int]) -> None:
        self.request_ids = list(request_ids)
        self.before = stats_rows_for(self.request_ids)

    def done(self) -> None:
        after = stats_rows_for(self.request_ids)
        rows: list[tuple[tuple, list[int]]] = []
        d_rows: list[tuple[tuple, list[int]]] = []
        for pk in self.request_ids:
            old, new = self.before.get(pk), after.get(pk)
            if old == new:
                continue
            for row, sign in ((old, -1), (new, 1)):
                if row is not None:
                    measures = row.measures(sign)
                    rows.append(((row.district_id, row.region_id, *row.key()), measures))
                    d_rows += [((row.region_id, *key), measures) for key in row.district_keys()]
        n = len(MEASURE_FIELDS)
        merged = [r for r in _merged(rows) if any(r[-n:])]
        d_merged = [r for r in _merged(d_rows) if any(r[-n:])]
        if not merged and not d_merged:
            return
        with connection.cursor() as cur:
            _upsert(cur, TABLE, _COLUMNS, KEY_FIELDS, merged)
            _upsert(cur, DISTRICT_TABLE, _D_COLUMNS, DISTRICT_KEY_FIELDS, d_merged)
        _changed()


# --------------------------------------------------------------------------- rebuild

_BOUNDS_SQL = "ARRAY[" + ",".join(str(b) for b in DURATION_BOUNDS) + "]::float8[]"
# Constants only; the time zone is a parameter.
REBUILD_SQL = f"""
WITH last_sc AS (
    SELECT DISTINCT ON (sc.request_id) sc.request_id, a.category
      FROM portal_aidrequestscoring sc JOIN scoring_assessment a ON a.id = sc.assessment_id
     ORDER BY sc.request_id, sc.attempt DESC
), first_sc AS (
    SELECT DISTINCT ON (sc.request_id) sc.request_id, sc.created_at
      FROM portal_aidrequestscoring sc
     ORDER BY sc.request_id, sc.attempt ASC
), last_dec AS (
    SELECT DISTINCT ON (dd.request_id) dd.request_id, dd.outcome, dd.amount_kzt,
           dd.against_recommendation
      FROM portal_decision dd
     WHERE dd.superseded_at IS NULL
     ORDER BY dd.request_id, dd.id DESC
), r AS (
    SELECT r.school_id, s.district_id, d.region_id,
           date_trunc('month', r.created_at AT TIME ZONE %(tz)s)::date AS month,
           r.academic_year, r.aid_kind, r.ground, r.status, r.amount_kzt,
           COALESCE(l.category, 0) AS category,
           CASE WHEN r.status = 'decided' THEN ld.outcome ELSE '' END AS outcome,
           CASE WHEN r.status = 'decided' AND ld.outcome = 'approve'
                THEN ld.amount_kzt ELSE 0 END AS approved,
           (r.status = 'decided' AND ld.against_recommendation) AS against,
           width_bucket(EXTRACT(EPOCH FROM f.created_at - r.created_at)::float8,
                        {_BOUNDS_SQL}) AS bucket
      FROM portal_aidrequest r
      JOIN schools_school s ON s.id = r.school_id
      JOIN schools_district d ON d.id = s.district_id
      LEFT JOIN last_sc l ON l.request_id = r.id
      LEFT JOIN first_sc f ON f.request_id = r.id
      LEFT JOIN last_dec ld ON ld.request_id = r.id
)
INSERT INTO {TABLE} ({", ".join(_COLUMNS)})
SELECT district_id, region_id, school_id, month, academic_year, aid_kind, ground, category,
       status, COALESCE(outcome, ''), count(*), sum(amount_kzt), sum(approved),
       count(*) FILTER (WHERE against),
       {", ".join(f"count(*) FILTER (WHERE bucket = {i})" for i in range(len(HIST_FIELDS)))}
  FROM r
 GROUP BY district_id, region_id, school_id, month, academic_year, aid_kind, ground, category,
          status, COALESCE(outcome, '')
"""  # noqa: S608


_SUMS = ", ".join(f"sum({m})" for m in MEASURE_FIELDS)
_GROUP = "district_id, region_id, month, academic_year, category, status, outcome"
DISTRICT_REBUILD_SQL = f"""
INSERT INTO {DISTRICT_TABLE} ({", ".join(_D_COLUMNS)})
SELECT region_id, district_id, month, academic_year,
       CASE WHEN GROUPING(aid_kind) = 1 THEN '{ALL}' ELSE aid_kind END,
       CASE WHEN GROUPING(ground) = 1 THEN '{ALL}' ELSE ground END,
       category, status, outcome, {_SUMS}
  FROM {TABLE}
 GROUP BY {_GROUP}, GROUPING SETS ((), (aid_kind), (ground))
"""  # noqa: S608


@transaction.atomic
def stats_rebuild() -> int:
    """Recompute the rollup from scratch. Concurrent transitions wait for it, then apply their
    delta on top of the rebuilt table. Returns the number of rollup rows."""
    with connection.cursor() as cur:
        cur.execute(f"LOCK TABLE {TABLE}, {DISTRICT_TABLE} IN EXCLUSIVE MODE")
        cur.execute(f"DELETE FROM {TABLE}")  # noqa: S608
        cur.execute(f"DELETE FROM {DISTRICT_TABLE}")  # noqa: S608
        cur.execute(REBUILD_SQL, {"tz": settings.TIME_ZONE})
        cur.execute(DISTRICT_REBUILD_SQL)
        cur.execute(f"SELECT count(*) FROM {TABLE}")  # noqa: S608
        count = cur.fetchone()[0]
    _changed()
    return count
