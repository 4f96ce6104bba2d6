"""``GET``/``PUT /api/v1/budgets/{school_bin}/{academic_year}/`` with ``{"amount_kzt": …}``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api.views import ScopedAPIView, client_ip
from portal.budgets import selectors, services
from portal.budgets.models import Budget
from portal.requests.models import validate_academic_year
from schools.scope import require, school_for_scope_or_404


class BudgetSerializer(serializers.Serializer):
    school_bin = serializers.CharField(read_only=True)
    academic_year = serializers.CharField(read_only=True)
    amount_kzt = serializers.IntegerField()
    committed_kzt = serializers.IntegerField(read_only=True)
    paid_kzt = serializers.IntegerField(read_only=True)
    left_kzt = serializers.IntegerField(read_only=True)


def _data(b: Budget) -> dict[str, Any]:
    return {
        "school_bin": b.school.bin,
        "academic_year": b.academic_year,
        "amount_kzt": b.amount_kzt,
        "committed_kzt": b.committed_kzt,
        "paid_kzt": b.paid_kzt,
        "left_kzt": b.left_kzt,
    }


class BudgetView(ScopedAPIView):
    """Money, never family data: district finance sets it; the school and analysts read it."""

    family_level = False

    def _school_year(self, school_bin: str, academic_year: str) -> Any:
        try:
            validate_academic_year(academic_year)
        except ValidationError as exc:
            raise Http404 from exc
        return school_for_scope_or_404(self.scope, bin=school_bin)

    @extend_schema(responses=BudgetSerializer)
    def get(self, request: Request, school_bin: str, academic_year: str) -> Response:
        require(self.scope, "can_view_budgets")
        school = self._school_year(school_bin, academic_year)
        budget = selectors.budget_get(scope=self.scope, school=school, academic_year=academic_year)
        if budget is None:  # not set yet: no limit on approvals
            return Response(
                {
                    "school_bin": school.bin,
                    "academic_year": academic_year,
                    "amount_kzt": None,
                    "committed_kzt": 0,
                    "paid_kzt": 0,
                    "left_kzt": None,
                }
            )
        return Response(_data(budget))

    @extend_schema(request=BudgetSerializer, responses=BudgetSerializer)
    def put(self, request: Request, school_bin: str, academic_year: str) -> Response:
        require(self.scope, "can_manage_budgets")
        school = self._school_year(school_bin, academic_year)
        data = request.data if isinstance(request.data, dict) else {}
        if "amount_kzt" not in data:
            raise ValidationError({"amount_kzt": [_("Обязательное поле.")]})
        budget = services.budget_set(
            scope=self.scope,
            actor=request.user,
            school=school,
            academic_year=academic_year,
            amount_kzt=data["amount_kzt"],
            ip=client_ip(request),
            via="api",
        )
        return Response(_data(budget))
