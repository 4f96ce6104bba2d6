from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from schools import selectors
from schools.scope import require


@login_required
def school_list(request: HttpRequest) -> HttpResponse:
    scope = request.scope
    require(scope, "can_view_schools")
    district = request.GET.get("district") or None
    qs = selectors.schools_for_scope(scope=scope, district_code=district)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "schools/school_list.html",
        {
            "page": page,
            "districts": selectors.districts_for_scope(scope=scope),
            "district": district,
        },
    )


@login_required
def school_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    scope = request.scope
    school = selectors.school_detail(scope=scope, public_id=public_id)
    return render(
        request,
        "schools/school_detail.html",
        {"school": school, "staff": selectors.staff_of_school(scope=scope, school=school)},
    )
