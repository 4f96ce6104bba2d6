"""``GET /api/v1/stats/?level=…&code=…&academic_year=…&month_from=…&month_to=…&aid_kind=…&ground=…``

The same figures as the dashboard page, with the same scope rules (404 for a unit outside the
scope or unknown, 403 for a role without dashboards, 400 for bad filters).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api.views import ScopedAPIView
from portal.stats.forms import StatsFilterForm, stats_query_problems
from portal.stats.selectors import UnknownUnit, stats_dashboard, stats_unit_resolve


class StatsView(ScopedAPIView):
    family_level = False  # aggregates only

    @extend_schema(
        parameters=[
            OpenApiParameter(n, str, required=False)
            for n in (
                "level",
                "code",
                "academic_year",
                "month_from",
                "month_to",
                "aid_kind",
                "ground",
                "category",
                "decision",
            )
        ],
        responses={200: dict},
    )
    def get(self, request: Request) -> Response:
        problems = stats_query_problems(request.query_params)
        if problems:
            raise ValidationError({"detail": problems})
        try:
            unit = stats_unit_resolve(
                scope=self.scope,
                level=request.query_params.get("level") or None,
                code=request.query_params.get("code") or None,
            )
        except UnknownUnit as exc:
            raise NotFound(str(exc)) from None
        form = StatsFilterForm(request.query_params)
        if not form.is_valid():
            raise ValidationError(form.errors)
        data = stats_dashboard(scope=self.scope, unit=unit, filters=form.filters())
        return Response(data)
