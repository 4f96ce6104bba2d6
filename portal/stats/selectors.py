"""Reads of the statistics rollup. Dashboards read ONLY the rollup, never the requests.

``stats_unit_resolve`` turns ``level``/``code`` into a unit inside the scope (404 outside it or
unknown, 403 for a role without dashboards); ``stats_dashboard`` gives every figure of one unit
in one pass over its rollup rows (GROUPING SETS). Aggregates only: no family data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.http import Http404
from django.utils.translation import gettext as _

from portal.stats.models import ALL, DURATION_BOUNDS, HIST_FIELDS
from portal.stats.suppression import Lattice, min_cell, suppress
from schools.models import District, Region, School
from schools.scope import Scope, school_for_scope_or_404

logger = logging.getLogger(__name__)
LEVELS = ("national", "region", "district", "school")
CHILD_LEVEL = {"national": "region", "region": "district", "district": "school", "school": None}
CHILD_COLUMN = {"national": "region_id", "region": "district_id", "district": "school_id"}
UNIT_COLUMN = {"region": "region_id", "district": "district_id", "school": "school_id"}
CATEGORIES = (1, 2, 3, 4, 5, 6)


class UnknownUnit(Http404):
    """An unknown or out-of-scope unit: the same answer for both (404)."""


@dataclass(frozen=True)
class StatsFilters:
    academic_year: str | None = None
    month_from: dt.date | None = None
    month_to: dt.date | None = None
    aid_kind: str | None = None
    ground: str | None = None
    category: int | None = None  # 0 = not scored yet
    decision: str | None = None  # approve | reject | none

    def as_dict(self) -> dict[str, str | None]:
        return {
            "academic_year": self.academic_year,
            "month_from": self.month_from.strftime("%Y-%m") if self.month_from else None,
            "month_to": self.month_to.strftime("%Y-%m") if self.month_to else None,
            "aid_kind": self.aid_kind,
            "ground": self.ground,
            "category": None if self.category is None else str(self.category),
            "decision": self.decision,
        }


@dataclass(frozen=True)
class Unit:
    level: str
    code: str
    name: str
    pk: int | None

    def as_dict(self) -> dict[str, str]:
        return {"level": self.level, "code": self.code, "name": self.name}


def stats_allowed(scope: Scope) -> bool:
    """Dashboards: analysts (their unit), school staff (their school), superusers."""
    return scope.can_view_stats


def _region_of(scope: Scope, code: str) -> Region:
    region = Region.objects.filter(code=code).first()
    if region is None or not scope.contains_region(region.pk):
        raise UnknownUnit(_("Регион «%(code)s» не найден.") % {"code": code})
    return region


def _district_of(scope: Scope, code: str) -> District:
    district = District.objects.select_related("region").filter(code=code).first()
    if district is None or not scope.contains_district(district.pk, district.region_id):
        raise UnknownUnit(_("Район «%(code)s» не найден.") % {"code": code})
    return district


def stats_unit_resolve(*, scope: Scope, level: str | None = None, code: str | None = None) -> Unit:
    """The unit to show: by default the scope's own; otherwise one inside the scope."""
    if not stats_allowed(scope):
        raise PermissionDenied(_("Статистика доступна аналитикам и сотрудникам школ."))
    level = level or scope.level
    if level not in LEVELS:
        raise UnknownUnit(_("Неизвестный уровень «%(level)s».") % {"level": level})
    if level == "national":
        if not scope.sees_all_schools:
            raise UnknownUnit(_("Сводка по республике вам недоступна."))
        return Unit("national", "", _("Вся республика"), None)
    if level == "region":
        if not code:
            if scope.region_id is None or scope.level != "region":
                raise UnknownUnit(_("Укажите код региона."))
            code = Region.objects.get(pk=scope.region_id).code
        region = _region_of(scope, code)
        return Unit("region", region.code, region.name, region.pk)
    if level == "district":
        if not code:
            if scope.district_id is None or scope.level != "district":
                raise UnknownUnit(_("Укажите код района."))
            code = District.objects.get(pk=scope.district_id).code
        district = _district_of(scope, code)
        return Unit("district", district.code, district.name, district.pk)
    if code:
        try:
            public_id = uuid.UUID(code)
        except ValueError as exc:
            raise UnknownUnit(_("Школа не найдена.")) from exc
        try:
            school = school_for_scope_or_404(scope, public_id=public_id)
        except Http404 as exc:
            raise UnknownUnit(_("Школа не найдена.")) from exc
    elif scope.school_id is not None:
        school = School.objects.get(pk=scope.school_id)
    else:
        raise UnknownUnit(_("Укажите школу."))
    return Unit("school", str(school.public_id), school.name, school.pk)


def stats_breadcrumbs(*, scope: Scope, unit: Unit) -> list[Unit]:
    """The units above `unit` that the scope may open (analysts' drill-up path)."""
    chain: list[Unit] = []
    if unit.level == "school":
        school = School.objects.select_related("district__region").get(pk=unit.pk)
        district, region = school.district, school.district.region
    elif unit.level == "district":
        district = District.objects.select_related("region").get(pk=unit.pk)
        region = district.region
    elif unit.level == "region":
        district, region = None, Region.objects.get(pk=unit.pk)
    else:
        return chain
    if scope.sees_all_schools:
        chain.append(Unit("national", "", _("Вся республика"), None))
    if (scope.sees_all_schools or scope.level == "region") and unit.level != "region":
        chain.append(Unit("region", region.code, region.name, region.pk))
    if district is not None and unit.level == "school" and scope.level != "school":
        chain.append(Unit("district", district.code, district.name, district.pk))
    return chain


def _uses_district_rollup(unit: Unit, filters: StatsFilters) -> bool:
    """Region and national pages read the district rollup, unless filtered by both kind and
    ground (a combination only the school rollup holds)."""
    return unit.level in ("region", "national") and not (filters.aid_kind and filters.ground)


def _where(
    unit: Unit, filters: StatsFilters, *, school_rollup: bool = False
) -> tuple[str, str, list[Any]]:
    """(table, WHERE clause, parameters) of a unit's rollup rows under the filters."""
    district_rollup = not school_rollup and _uses_district_rollup(unit, filters)
    table = "portal_statsdistrictbucket" if district_rollup else "portal_statsbucket"
    clauses, params = ["requests <> 0"], []
    if unit.level != "national":
        clauses.append(f"{UNIT_COLUMN[unit.level]} = %s")
        params.append(unit.pk)
    if district_rollup:
        clauses += ["aid_kind = %s", "ground = %s"]
        params += [filters.aid_kind or ALL, filters.ground or ALL]
    else:
        if filters.aid_kind:
            clauses.append("aid_kind = %s")
            params.append(filters.aid_kind)
        if filters.ground:
            clauses.append("ground = %s")
            params.append(filters.ground)
    if filters.academic_year:
        clauses.append("academic_year = %s")
        params.append(filters.academic_year)
    if filters.month_from:
        clauses.append("month >= %s")
        params.append(filters.month_from)
    if filters.month_to:
        clauses.append("month <= %s")
        params.append(filters.month_to)
    if filters.category is not None:
        clauses.append("category = %s")
        params.append(filters.category)
    if filters.decision:
        clauses.append("outcome = %s")
        params.append("" if filters.decision == "none" else filters.decision)
    return table, " AND ".join(clauses), params


_MEASURES = (
    ("requests", "sum(requests)"),
    ("scored", "sum(requests) FILTER (WHERE category > 0)"),
    ("high_welfare", "sum(requests) FILTER (WHERE category = 6)"),
    ("pending", "sum(requests) FILTER (WHERE status IN ('queued', 'scoring'))"),
    ("needs_review", "sum(requests) FILTER (WHERE status = 'needs_review')"),
    ("withdrawn", "sum(requests) FILTER (WHERE status = 'withdrawn')"),
    ("approved", "sum(requests) FILTER (WHERE outcome = 'approve')"),
    ("rejected", "sum(requests) FILTER (WHERE outcome = 'reject')"),
    ("against", "sum(against)"),
    ("amount_requested", "sum(amount_requested)"),
    ("amount_approved", "sum(amount_approved)"),
    *((h, f"sum({h})") for h in HIST_FIELDS),
)


def stats_query_sql(unit: Unit, filters: StatsFilters) -> tuple[str, list[Any]]:
    """The one rollup query of a dashboard (also timed by bench/stats.py)."""
    table, where, params = _where(unit, filters)
    child = CHILD_COLUMN.get(unit.level)
    child_expr = child or "NULL::bigint"
    sets = "(), (category), (month)" + (f", ({child})" if child else "")
    sql = (
        "SELECT GROUPING(category), GROUPING(month), "  # noqa: S608 - fixed identifiers
        + (f"GROUPING({child}), " if child else "1, ")
        + f"category, month, {child_expr}, "
        + ", ".join(expr for _n, expr in _MEASURES)
        + f" FROM {table} WHERE {where} GROUP BY GROUPING SETS ({sets})"
    )
    return sql, params


def _duration_label(i: int) -> str:
    def fmt(sec: int) -> str:
        if sec < 60:
            return _("%(n)s с") % {"n": sec}
        if sec < 3600:
            return _("%(n)s мин") % {"n": sec // 60}
        if sec < 86400:
            return _("%(n)s ч") % {"n": sec // 3600}
        return _("%(n)s дн") % {"n": sec // 86400}

    if i == 0:
        return _("< %(b)s") % {"b": fmt(DURATION_BOUNDS[0])}
    if i == len(DURATION_BOUNDS):
        return _("≥ %(b)s") % {"b": fmt(DURATION_BOUNDS[-1])}
    return f"{fmt(DURATION_BOUNDS[i - 1])} – {fmt(DURATION_BOUNDS[i])}"


def median_seconds(hist: list[int]) -> float | None:
    """The median from the histogram, interpolated linearly inside its bucket."""
    total = sum(hist)
    if not total:
        return None
    half, seen = total / 2, 0
    for i, n in enumerate(hist):
        if n and seen + n >= half:
            lo = 0 if i == 0 else DURATION_BOUNDS[i - 1]
            if i == len(DURATION_BOUNDS):
                return float(lo)
            hi = DURATION_BOUNDS[i]
            return lo + (hi - lo) * (half - seen) / n
        seen += n
    return None


def human_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return _("%(n).1f с") % {"n": seconds}
    if seconds < 3600:
        return _("%(n).1f мин") % {"n": seconds / 60}
    if seconds < 86400:
        return _("%(n).1f ч") % {"n": seconds / 3600}
    return _("%(n).1f дн") % {"n": seconds / 86400}


CHILD_FIGURES = (
    "requests",
    "scored",
    "high_welfare",
    "pending",
    "needs_review",
    "approved",
    "rejected",
    "amount_approved",
)
TOTAL_FIGURES = (
    "requests",
    "scored",
    "high_welfare",
    "pending",
    "needs_review",
    "withdrawn",
    "approved",
    "rejected",
    "no_decision",
    "against",
    "amount_requested",
    "amount_approved",
)
MONTH_FIGURES = ("requests", "scored", "high_welfare", "approved", "amount_approved")
# amount figure -> the count whose requests it sums (hidden together)
AMOUNT_OF = {"amount_requested": "requests", "amount_approved": "approved"}
_ALIAS = {"high_welfare": "cat6"}  # the same cell under two names
_REST, _DUR = "_rest", "_dur"  # counts no page shows (a reader cannot subtract with them)


def _key(name: str) -> str:
    return _ALIAS.get(name, name)


_ROW_FIGURES = (
    ("requests", "sum(requests)"),
    *((f"cat{c}", f"sum(requests) FILTER (WHERE category = {c})") for c in range(7)),
    ("scored", "sum(requests) FILTER (WHERE category > 0)"),
    ("pending", "sum(requests) FILTER (WHERE status IN ('queued', 'scoring'))"),
    ("needs_review", "sum(requests) FILTER (WHERE status = 'needs_review')"),
    ("withdrawn", "sum(requests) FILTER (WHERE status = 'withdrawn')"),
    (
        "_rest",
        "sum(requests) FILTER (WHERE status NOT IN "
        "('queued', 'scoring', 'needs_review', 'withdrawn'))",
    ),
    ("approved", "sum(requests) FILTER (WHERE outcome = 'approve')"),
    ("rejected", "sum(requests) FILTER (WHERE outcome = 'reject')"),
    ("no_decision", "sum(requests) FILTER (WHERE outcome NOT IN ('approve', 'reject'))"),
    ("against", "sum(against)"),
    ("amount_requested", "sum(amount_requested)"),
    ("amount_approved", "sum(amount_approved)"),
    *((("h", i), f"sum({h})") for i, h in enumerate(HIST_FIELDS)),
)
_MONTHLY = {"requests": "requests", "scored": "scored", "cat6": "cat6", "approved": "approved",
            "amount_approved": "amount_approved"}  # fmt: skip


def _tree_sql(filters: StatsFilters, school_id: int | None) -> tuple[str, list[Any]]:
    """Every school's figures per month under the filters (one school's when `school_id`)."""
    unit = Unit("school", "", "", school_id) if school_id else Unit("national", "", "", None)
    _table, where, params = _where(unit, filters, school_rollup=True)
    sql = (
        "SELECT school_id, district_id, region_id, month, "  # noqa: S608 - fixed identifiers
        + ", ".join(expr for _n, expr in _ROW_FIGURES)
        + f" FROM portal_statsbucket WHERE {where} "
        "GROUP BY school_id, district_id, region_id, month"
    )
    return sql, params


@dataclass
class StatsTree:
    """Every unit's figures under one filter combination, and the cells hidden from readers
    above the school (empty when nothing is suppressed)."""

    lattice: Lattice
    hidden: set
    months: list[dt.date]
    parent: dict[tuple, tuple]
    children: dict[tuple, list[tuple]]

    def value(self, unit: tuple, key: Any) -> int | None:
        cell = (unit, key)
        if cell in self.hidden:
            return None
        return self.lattice.values.get(cell, 0)

    def true_value(self, unit: tuple, key: Any) -> int:
        return self.lattice.values.get((unit, key), 0)


def _unit_key(unit: Unit) -> tuple:
    return (unit.level, unit.pk)


_GENERATION_KEY = "stats:generation"
_TREE_TTL = 600  # seconds; a change of the rollup invalidates at once (the generation)


def stats_generation_bump() -> None:
    """The rollup changed: trees cached for earlier generations are no longer read."""
    try:
        if hasattr(cache, "incr_or_create"):
            cache.incr_or_create(_GENERATION_KEY)  # one INCR (portal.cache)
        else:
            try:
                cache.incr(_GENERATION_KEY)
            except ValueError:
                cache.add(_GENERATION_KEY, 1, None)
    except Exception:  # noqa: BLE001 - the cache is an optimisation; the trees expire anyway
        logger.warning("stats: could not bump the cache generation", exc_info=True)


def _generation_redis_key() -> str | None:
    """The generation's key in Redis when the cache is the portal's Redis (the one the
    coalescers use: its ``INCR`` then shares their round trip after a commit)."""
    from django.conf import settings
    from django.core.cache import caches

    from portal.cache import RedisCache

    backend = caches["default"]
    location = settings.CACHES.get("default", {}).get("LOCATION")
    if isinstance(backend, RedisCache) and location == settings.REDIS_URL:
        return backend.make_and_validate_key(_GENERATION_KEY)
    return None


def stats_generation_bump_on_commit() -> None:
    """:func:`stats_generation_bump` once this transaction commits (once per transaction),
    with the transaction's other Redis work (``portal.coalesce.redis_on_commit``)."""
    from portal.coalesce import redis_on_commit

    if stats_changed_uncommitted():
        return
    key = _generation_redis_key()
    if key is None:
        transaction.on_commit(stats_generation_bump)
    else:
        redis_on_commit(incr=(key,))


def stats_changed_uncommitted() -> bool:
    """This transaction changed the rollup and has not committed (its generation bump is
    waiting for the commit): its reads must not use, nor fill, the cache of trees."""
    from portal.coalesce import redis_on_commit_pending

    if not connection.in_atomic_block:
        return False
    if any(func is stats_generation_bump for _sids, func, _robust in connection.run_on_commit):
        return True
    key = _generation_redis_key()
    return key is not None and redis_on_commit_pending(key)


def _tree_cache_key(filters: StatsFilters) -> str | None:
    if stats_changed_uncommitted():
        return None
    try:
        generation = cache.get(_GENERATION_KEY, 0)
    except Exception:  # noqa: BLE001
        return None
    digest = hashlib.sha256(repr(sorted(filters.as_dict().items())).encode()).hexdigest()[:32]
    return f"stats:tree:{generation}:{min_cell()}:{digest}"


def stats_tree(
    *,
    filters: StatsFilters,
    school_id: int | None = None,
    suppressed: bool = True,
    use_cache: bool = True,
) -> StatsTree:
    """The lattice of `filters` over the whole country (or one school), suppressed or not.
    The suppressed national tree is cached per rollup generation (see `stats_apply`)."""
    key = _tree_cache_key(filters) if use_cache and suppressed and school_id is None else None
    if key is not None:
        try:
            cached = cache.get(key)
        except Exception:  # noqa: BLE001
            cached = None
        if cached is not None:
            return cached
    tree = _stats_tree(filters=filters, school_id=school_id, suppressed=suppressed)
    if key is not None:
        try:
            cache.set(key, tree, _TREE_TTL)
        except Exception:  # noqa: BLE001
            logger.warning("stats: could not cache a tree", exc_info=True)
    return tree


def _stats_tree(*, filters: StatsFilters, school_id: int | None, suppressed: bool) -> StatsTree:
    sql, params = _tree_sql(filters, school_id)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        result = cur.fetchall()
    lat = Lattice()
    values = lat.values
    parent: dict[tuple, tuple] = {}
    months: set[dt.date] = set()
    names = [n for n, _e in _ROW_FIGURES]
    for school, district, region, month, *figures in result:
        s_u, d_u, r_u = ("school", school), ("district", district), ("region", region)
        parent[s_u], parent[d_u], parent[r_u] = d_u, r_u, ("national", None)
        months.add(month)
        row = dict(zip(names, (int(v or 0) for v in figures), strict=True))
        for name, v in row.items():
            if v:
                values[(s_u, name)] = values.get((s_u, name), 0) + v
        values[(s_u, _DUR)] = values.get((s_u, _DUR), 0) + sum(
            row[("h", i)] for i in range(len(HIST_FIELDS))
        )
        for key, name in _MONTHLY.items():
            if row[name]:
                values[(s_u, ("m", month, key))] = row[name]
    # Districts, regions and the republic: the sums of their children, level by level.
    for level in ("school", "district", "region"):
        for cell, v in [(c, v) for c, v in values.items() if c[0][0] == level]:
            up = (parent[cell[0]], cell[1])
            values[up] = values.get(up, 0) + v
    children: dict[tuple, list[tuple]] = defaultdict(list)
    for child, par in parent.items():
        children[par].append(child)
    month_list = sorted(months)
    count_keys: list[Any] = [
        "requests", "scored", "pending", "needs_review", "withdrawn", _REST, "approved",
        "rejected", "no_decision", "against", _DUR,
        *(f"cat{c}" for c in range(7)),
        *(("m", m, f) for m in month_list for f in ("requests", "scored", "cat6", "approved")),
        *(("h", i) for i in range(len(HIST_FIELDS))),
    ]  # fmt: skip
    units = [("national", None), *parent]
    for u in units:
        if not values.get((u, "requests")):
            continue
        lat.unshown |= {(u, _REST), (u, _DUR)}
        lat.linked[(u, "amount_requested")] = (u, "requests")
        lat.linked[(u, "amount_approved")] = (u, "approved")
        for m in month_list:
            lat.linked[(u, ("m", m, "amount_approved"))] = (u, ("m", m, "approved"))
        rel = lat.relate
        rel((u, "requests"), [(u, "cat0"), (u, "scored")])
        rel((u, "scored"), [(u, f"cat{c}") for c in range(1, 7)])
        rel((u, "requests"), [(u, "pending"), (u, "needs_review"), (u, "withdrawn"), (u, _REST)])
        rel((u, "requests"), [(u, "approved"), (u, "rejected"), (u, "no_decision")])
        for f, total in (("requests", "requests"), ("scored", "scored"), ("cat6", "cat6"),
                         ("approved", "approved")):  # fmt: skip
            rel((u, total), [(u, ("m", m, f)) for m in month_list])
        rel((u, _DUR), [(u, ("h", i)) for i in range(len(HIST_FIELDS))])
        kids = children.get(u, [])
        if kids:
            for key in count_keys:
                rel((u, key), [(kid, key) for kid in kids])
    hidden = suppress(lat) if suppressed else set()
    lat.relations = []  # done with: a cached tree carries only figures and what is hidden
    return StatsTree(lat, hidden, month_list, parent, dict(children))


def _children(unit: Unit, tree: StatsTree) -> list[dict[str, Any]]:
    level = CHILD_LEVEL[unit.level]
    if level is None:
        return []
    if level == "region":
        objs = Region.objects.all()
        names = {o.pk: (o.code, o.name) for o in objs}
    elif level == "district":
        objs = District.objects.filter(region_id=unit.pk)
        names = {o.pk: (o.code, o.name) for o in objs}
    else:
        objs = School.objects.filter(district_id=unit.pk)
        names = {o.pk: (str(o.public_id), o.name) for o in objs}
    out = []
    for pk, (code, name) in names.items():
        u = (level, pk)
        out.append(
            {
                "level": level,
                "code": code,
                "name": name,
                **{k: tree.value(u, _key(k)) for k in CHILD_FIGURES},
            }
        )
    # By name, never by a figure: an order would tell how hidden figures compare.
    out.sort(key=lambda r: (r["name"], r["code"]))
    return out


def stats_years(*, scope: Scope, unit: Unit) -> list[str]:
    """Academic years that have data for the unit (for the filter)."""
    table, where, params = _where(unit, StatsFilters())
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT DISTINCT academic_year FROM {table} WHERE {where} "  # noqa: S608
            "ORDER BY 1 DESC",
            params,
        )
        return [r[0] for r in cur.fetchall()]


def stats_suppressed_for(*, scope: Scope, unit: Unit) -> bool:
    """Every figure above the school is suppressed; school staff see their school in full."""
    return not (scope.is_school_staff and unit.level == "school" and unit.pk == scope.school_id)


def stats_dashboard(
    *, scope: Scope, unit: Unit, filters: StatsFilters, tree: StatsTree | None = None
) -> dict[str, Any]:
    """Every figure of the dashboard of `unit` (already resolved inside `scope`), suppressed
    for readers above the school (``portal.stats.suppression``): a hidden figure is None."""
    suppressed = stats_suppressed_for(scope=scope, unit=unit)
    if tree is None:
        tree = stats_tree(
            filters=filters,
            school_id=None if suppressed else unit.pk,
            suppressed=suppressed,
        )
    u = _unit_key(unit)
    totals: dict[str, Any] = {k: tree.value(u, _key(k)) for k in TOTAL_FIGURES}
    hist = [tree.true_value(u, ("h", i)) for i in range(len(HIST_FIELDS))]
    shown_hist = [tree.value(u, ("h", i)) for i in range(len(HIST_FIELDS))]
    scored = totals["scored"]
    k = min_cell()
    median = median_seconds(hist)
    if suppressed and (scored is None or sum(hist) < k):
        median = None
    totals["median_seconds"] = round(median, 1) if median is not None else None
    months = []
    for m in tree.months:
        if not tree.true_value(u, ("m", m, "requests")):
            continue
        months.append(
            {
                "month": m.strftime("%Y-%m"),
                **{f: tree.value(u, ("m", m, _key(f))) for f in MONTH_FIGURES},
            }
        )
    return {
        "unit": unit.as_dict(),
        "breadcrumbs": [b.as_dict() for b in stats_breadcrumbs(scope=scope, unit=unit)],
        "filters": filters.as_dict(),
        "totals": totals,
        "median_human": human_duration(median),
        "categories": [{"category": c, "requests": tree.value(u, f"cat{c}")} for c in CATEGORIES],
        "months": months,
        "children": _children(unit, tree),
        "child_level": CHILD_LEVEL[unit.level],
        "durations": [
            {"bucket": _duration_label(i), "requests": n} for i, n in enumerate(shown_hist)
        ],
        "empty": tree.true_value(u, "requests") == 0,
        "suppression": {
            "applied": suppressed,
            "min_cell": k,
            "hidden": sum(
                1
                for c in tree.hidden - tree.lattice.unshown
                if c[0] == u or tree.parent.get(c[0]) == u
            ),
        },
    }


def stats_national_totals() -> dict[str, Any]:
    """Pilot-report figures straight from the rollup (a deliberate all-schools read)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT r.code, sum(b.requests) FILTER (WHERE b.category > 0 "
            "AND b.status <> 'withdrawn'), sum(b.requests) FILTER (WHERE b.category = 6 "
            "AND b.status <> 'withdrawn') FROM portal_statsbucket b "
            "JOIN schools_region r ON r.id = b.region_id GROUP BY r.code"
        )
        regions = {code: (int(rev or 0), int(hw or 0)) for code, rev, hw in cur.fetchall()}
        cur.execute(
            "SELECT category, sum(requests) FROM portal_statsbucket "
            "WHERE category > 0 AND status <> 'withdrawn' GROUP BY category"
        )
        categories = {int(c): int(n) for c, n in cur.fetchall()}
    return {"regions": regions, "categories": categories}
