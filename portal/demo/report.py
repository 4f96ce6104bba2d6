"""The pilot's published figures side by side with what the portal's database says about the
seeded pilot cohort (``portal.demo.pilot.pilot_cohort``), whatever else is in the database:
requests typed by hand while the demo seeds are counted apart (``other_requests``).

Schools come from the school table; requests, flags and categories from the cohort's requests
and their current assessments (the latest scoring attempt's category, as the rollup counts).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, OuterRef, Q, Subquery
from django.utils.translation import gettext as _

from portal.demo.pilot import pilot_cohort
from portal.requests.models import AidRequest, AidRequestScoring, Status
from schools.models import School
from schools.reference import PILOT_SCHOOLS  # the published 202 + 115
from scoring.simulator.population import PILOT_HIGH_WELFARE, PILOT_REQUESTS


def _cohort_figures() -> tuple[dict[str, tuple[int, int]], dict[int, int], int]:
    """(region code → (reviewed, high welfare), category → count, cohort size)."""
    current = (
        AidRequestScoring.objects.filter(request=OuterRef("pk"))
        .order_by("-attempt")
        .values("assessment__category")[:1]
    )
    cohort = pilot_cohort()
    scored = (
        cohort.exclude(status=Status.WITHDRAWN)
        .annotate(category=Subquery(current))
        .filter(category__gt=0)
    )
    regions: dict[str, tuple[int, int]] = {}
    for row in scored.values(region=F("school__district__region__code")).annotate(
        reviewed=Count("pk"), high=Count("pk", filter=Q(category=6))
    ):
        regions[row["region"]] = (row["reviewed"], row["high"])
    categories = {
        row["category"]: row["n"]
        for row in scored.values("category").annotate(n=Count("pk")).order_by()
    }
    return regions, categories, cohort.count()


def pilot_report(
    *, requests: int = PILOT_REQUESTS, high_welfare: dict[str, int] | None = None
) -> dict[str, Any]:
    hw = dict(PILOT_HIGH_WELFARE if high_welfare is None else high_welfare)
    schools = School.objects.filter(connected=True)
    by_region = {
        code: schools.filter(district__region__code=code).count() for code in PILOT_SCHOOLS
    }
    regions, categories, cohort_size = _cohort_figures()
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
        "categories": {str(c): categories.get(c, 0) for c in range(1, 7)},
        "cohort_requests": cohort_size,
        "other_requests": AidRequest.objects.unscoped().count() - cohort_size,
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
