"""Reads of the statistics rollup. Dashboards read ONLY the rollup, never the requests.

``stats_unit_resolve`` turns ``level``/``code`` into a unit inside the scope (404 outside it or
unknown, 403 for a role without dashboards); ``stats_dashboard`` gives every figure of one unit
in one pass over its rollup rows (GROUPING SETS). Aggregates only: no family data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.utils.translation import gettext as _

from portal.stats.models import ALL, DURATION_BOUNDS, HIST_FIELDS
from schools.models import District, Region, School
from schools.scope import Scope, school_for_scope_or_404

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

    def as_dict(self) -> dict[str, str | None]:
        return {
            "academic_year": self.academic_year,
            "month_from": self.month_from.strftime("%Y-%m") if self.month_from else None,
            "month_to": self.month_to.strftime("%Y-%m") if self.month_to else None,
            "aid_kind": self.aid_kind,
            "ground": self.ground,
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
            school = school_for_scope_or_404(scope, public_id=code)
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


def _where(unit: Unit, filters: StatsFilters) -> tuple[str, str, list[Any]]:
    """(table, WHERE clause, parameters) of a unit's rollup rows under the filters."""
    district_rollup = _uses_district_rollup(unit, filters)
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


def _figures(values: tuple) -> dict[str, int]:
    return {name: int(v or 0) for (name, _e), v in zip(_MEASURES, values, strict=True)}


def _children(unit: Unit, rows: dict[int, dict]) -> list[dict[str, Any]]:
    level = CHILD_LEVEL[unit.level]
    if level is None:
        return []
    if level == "region":
        objs = Region.objects.filter(pk__in=rows) if rows else Region.objects.all()
        names = {o.pk: (o.code, o.name) for o in objs}
    elif level == "district":
        objs = District.objects.filter(region_id=unit.pk)
        names = {o.pk: (o.code, o.name) for o in objs}
    else:
        objs = School.objects.filter(district_id=unit.pk)
        names = {o.pk: (str(o.public_id), o.name) for o in objs}
    empty = dict.fromkeys((n for n, _e in _MEASURES), 0)
    out = []
    for pk, (code, name) in names.items():
        fig = rows.get(pk, empty)
        out.append(
            {
                "level": level,
                "code": code,
                "name": name,
                **{k: fig[k] for k in CHILD_FIGURES},
            }
        )
    out.sort(key=lambda r: (-r["requests"], r["name"]))
    return out


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


def stats_dashboard(*, scope: Scope, unit: Unit, filters: StatsFilters) -> dict[str, Any]:
    """Every figure of the dashboard of `unit` (already resolved inside `scope`)."""
    sql, params = stats_query_sql(unit, filters)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        result = cur.fetchall()
    totals = dict.fromkeys((n for n, _e in _MEASURES), 0)
    categories = dict.fromkeys(CATEGORIES, 0)
    months: list[dict[str, Any]] = []
    child_rows: dict[int, dict] = {}
    for g_cat, g_month, g_child, category, month, child, *values in result:
        fig = _figures(tuple(values))
        if g_cat and g_month and g_child:
            totals = fig
        elif not g_cat:
            if category in categories:
                categories[category] = fig["requests"]
        elif not g_month:
            months.append(
                {
                    "month": month.strftime("%Y-%m"),
                    **{k: fig[k] for k in ("requests", "scored", "high_welfare", "approved")},
                    "amount_approved": fig["amount_approved"],
                }
            )
        elif child is not None:
            child_rows[child] = fig
    months.sort(key=lambda m: m["month"])
    hist = [totals.pop(h) for h in HIST_FIELDS]
    median = median_seconds(hist)
    totals["median_seconds"] = round(median, 1) if median is not None else None
    return {
        "unit": unit.as_dict(),
        "breadcrumbs": [u.as_dict() for u in stats_breadcrumbs(scope=scope, unit=unit)],
        "filters": filters.as_dict(),
        "totals": totals,
        "median_human": human_duration(median),
        "categories": [{"category": c, "requests": n} for c, n in categories.items()],
        "months": months,
        "children": _children(unit, child_rows),
        "child_level": CHILD_LEVEL[unit.level],
        "durations": [{"bucket": _duration_label(i), "requests": n} for i, n in enumerate(hist)],
        "empty": totals["requests"] == 0,
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
