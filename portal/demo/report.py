"""The pilot's published figures side by side with what the portal's database says.

Schools come from the school table; requests, flags and categories from the statistics rollup
(the same figures the dashboards show).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from portal.stats.selectors import stats_national_totals
from schools.models import School
from schools.reference import PILOT_SCHOOLS  # the published 202 + 115
from scoring.simulator.population import PILOT_HIGH_WELFARE, PILOT_REQUESTS


def pilot_report(
    *, requests: int = PILOT_REQUESTS, high_welfare: dict[str, int] | None = None
) -> dict[str, Any]:
    hw = dict(PILOT_HIGH_WELFARE if high_welfare is None else high_welfare)
    schools = School.objects.filter(connected=True)
    by_region = {
        code: schools.filter(district__region__code=code).count() for code in PILOT_SCHOOLS
    }
    rollup = stats_national_totals()
    regions = rollup["regions"]
    rows = [
        ("schools_total", sum(PILOT_SCHOOLS.values()), schools.count()),
        ("schools_kar", PILOT_SCHOOLS["KAR"], by_region["KAR"]),
        ("schools_shy", PILOT_SCHOOLS["SHY"], by_region["SHY"]),
        ("requests_reviewed", requests, sum(v[0] for v in regions.values())),
        ("high_welfare_total", sum(hw.values()), sum(v[1] for v in regions.values())),
        ("high_welfare_kar", hw.get("KAR", 0), regions.get("KAR", (0, 0))[1]),
        ("high_welfare_shy", hw.get("SHY", 0), regions.get("SHY", (0, 0))[1]),
    ]
    return {
        "metrics": [{"name": n, "published": p, "portal": v, "match": p == v} for n, p, v in rows],
        "categories": {str(c): rollup["categories"].get(c, 0) for c in range(1, 7)},
    }


def labels() -> dict[str, str]:
    return {
        "schools_total": _("Подключено школ"),
        "schools_kar": _("  Карагандинская область"),
        "schools_shy": _("  Шымкент"),
        "requests_reviewed": _("Рассмотрено заявок"),
        "high_welfare_total": _("Высокий уровень благосостояния"),
        "high_welfare_kar": _("  Карагандинская область"),
        "high_welfare_shy": _("  Шымкент"),
    }
