"""Reads of the school network. The first keyword argument is always the scope."""

from __future__ import annotations

from django.db.models import Count, QuerySet, Sum

from schools.models import District, Membership, Region, School
from schools.scope import Scope, school_for_scope_or_404


def schools_for_scope(*, scope: Scope, district_code: str | None = None) -> QuerySet[School]:
    qs = School.objects.for_scope(scope).select_related("district__region")
    if district_code:
        qs = qs.filter(district__code=district_code)
    return qs


def school_of_scope(*, scope: Scope) -> School:
    """The school of a school-level user (404 for any other scope)."""
    return school_for_scope_or_404(scope, pk=scope.school_id if scope.school_id else -1)


def school_detail(*, scope: Scope, public_id: str) -> School:
    return school_for_scope_or_404(scope, public_id=public_id)


def staff_of_school(*, scope: Scope, school: School) -> QuerySet[Membership]:
    if not scope.contains_school(school.pk):
        return Membership.objects.none()
    return Membership.objects.filter(school=school).select_related("user").order_by("full_name")


def districts_for_scope(*, scope: Scope) -> QuerySet[District]:
    ids = schools_for_scope(scope=scope).values("district_id")
    return District.objects.filter(pk__in=ids).select_related("region")


def network_summary(*, scope: Scope) -> dict:
    """Schools and students per region and per district inside the scope (aggregates only)."""
    qs = schools_for_scope(scope=scope).filter(connected=True)
    per_region = list(
        qs.values("district__region__code")
        .annotate(schools=Count("pk"), students=Sum("student_count"))
        .order_by("district__region__code")
    )
    regions = {
        r.code: r
        for r in Region.objects.filter(code__in=[p["district__region__code"] for p in per_region])
    }
    per_district = list(
        qs.values("district_id")
        .annotate(schools=Count("pk"), students=Sum("student_count"))
        .order_by("district_id")
    )
    districts = {
        d.pk: d for d in District.objects.filter(pk__in=[p["district_id"] for p in per_district])
    }
    return {
        "total_schools": sum(p["schools"] for p in per_region),
        "total_students": sum(p["students"] or 0 for p in per_region),
        "regions": [
            {
                "region": regions[p["district__region__code"]],
                "schools": p["schools"],
                "students": p["students"] or 0,
            }
            for p in per_region
        ],
        "districts": sorted(
            (
                {
                    "district": districts[p["district_id"]],
                    "schools": p["schools"],
                    "students": p["students"] or 0,
                }
                for p in per_district
            ),
            key=lambda row: (row["district"].region_id, row["district"].code),
        ),
    }
