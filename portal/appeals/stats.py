"""Appeal figures of the statistics dashboards (district, region, republic): open, overdue,
decided and the outcomes, counts only, through the same small-cell suppression as every other
figure (``portal.stats.suppression``): one lattice over the republic, its regions and their
districts, with each parent equal to the sum of its children, so that no page — nor two pages
subtracted — shows a count below the threshold."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.appeals.models import Appeal
from portal.stats.suppression import Lattice, suppress

FIGURES: tuple[tuple[str, Any], ...] = (
    ("filed", _("Жалоб подано")),
    ("open", _("На рассмотрении")),
    ("overdue", _("Из них просрочено")),
    ("decided", _("Рассмотрено")),
    ("upheld", _("Решение оставлено в силе")),
    ("revised", _("Решение изменено")),
    ("rescored", _("Пересчитано по исправленной карте")),
)


def _counts(today: dt.date) -> dict[int, dict[str, int]]:
    from portal.db_scope import cross_school

    with cross_school("appeal figures of the dashboards (counts only, suppressed)"):
        rows = (
            Appeal.objects.values("school__district_id", "school__district__region_id")
            .annotate(
                filed=Count("id"),
                open=Count("id", filter=Q(status=Appeal.Status.OPEN)),
                overdue=Count("id", filter=Q(status=Appeal.Status.OPEN, answer_due__lt=today)),
                decided=Count("id", filter=Q(status=Appeal.Status.DECIDED)),
                upheld=Count("id", filter=Q(outcome=Appeal.Outcome.UPHELD)),
                revised=Count("id", filter=Q(outcome=Appeal.Outcome.REVISED)),
                rescored=Count("id", filter=Q(outcome=Appeal.Outcome.RESCORED)),
            )
            .order_by()
        )
        return {
            r["school__district_id"]: {**r, "region": r["school__district__region_id"]}
            for r in rows
        }


def appeal_figures(
    *, level: str, pk: int | None, today: dt.date | None = None
) -> list[tuple[str, Any, Any]] | None:
    """(key, label, value or None when hidden) of the unit's appeals; None below the district
    level (a school's staff read their appeals themselves, in the list)."""
    if level not in {"national", "region", "district"}:
        return None
    from schools.models import District

    today = today or timezone.localdate()
    by_district = _counts(today)
    districts = list(District.objects.values_list("pk", "region_id"))
    keys = [k for k, _label in FIGURES]
    lattice = Lattice()
    units: dict[tuple[str, int | None], list[tuple[str, int | None]]] = {("national", None): []}
    for district_id, region_id in districts:
        units.setdefault(("region", region_id), []).append(("district", district_id))
        row = by_district.get(district_id, {})
        for k in keys:
            lattice.add(("district", district_id, k), row.get(k, 0))
    for (lvl, unit_pk), children in list(units.items()):
        if lvl != "region":
            continue
        units[("national", None)].append((lvl, unit_pk))
        for k in keys:
            lattice.add((lvl, unit_pk, k), sum(lattice.values[(*c, k)] for c in children))
    for k in keys:
        lattice.add(
            ("national", None, k),
            sum(lattice.values[(*c, k)] for c in units[("national", None)]),
        )
    for (lvl, unit_pk), children in units.items():
        for k in keys:
            lattice.relate((lvl, unit_pk, k), [(*c, k) for c in children])
    for lvl, unit_pk in [*units, *[("district", d) for d, _r in districts]]:
        cell = (lvl, unit_pk)
        lattice.relate((*cell, "filed"), [(*cell, "open"), (*cell, "decided")])
        lattice.relate(
            (*cell, "decided"), [(*cell, "upheld"), (*cell, "revised"), (*cell, "rescored")]
        )
    hidden = suppress(lattice)
    unit = (level, None if level == "national" else pk)
    return [
        (k, label, None if (*unit, k) in hidden else lattice.values.get((*unit, k), 0))
        for k, label in FIGURES
    ]
