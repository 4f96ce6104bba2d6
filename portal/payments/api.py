"""``GET /api/v1/payments/register/?academic_year=…`` (CSV) and
``POST /api/v1/payments/reconciliation/`` (CSV upload, a result per row)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import FileUploadParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api.views import ScopedAPIView, client_ip
from portal.payments import services
from portal.requests.models import validate_academic_year
from portal.requests.services import current_academic_year_start


class PaymentRegisterView(ScopedAPIView):
    @extend_schema(responses={(200, "text/csv"): str})
    def get(self, request: Request) -> Any:
        self.require_school_staff()
        year = (request.query_params.get("academic_year") or "").strip()
        if not year:
            start = current_academic_year_start(timezone.localdate())
            year = f"{start}-{start + 1}"
        try:
            validate_academic_year(year)
        except ValidationError as exc:
            raise ValidationError({"academic_year": exc.messages}) from exc
        payments = services.payment_register(
            scope=self.scope, actor=request.user, academic_year=year, ip=client_ip(request)
        )
        response = HttpResponse(
            services.register_csv(payments), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="payments-{year}.csv"'
        return response


class PaymentReconciliationView(ScopedAPIView):
    parser_classes = [MultiPartParser, FileUploadParser]

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Response:
        self.require_school_staff()
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": [_("Приложите файл сверки (CSV или XLSX).")]})
        results = services.reconciliation_import(
            scope=self.scope,
            actor=request.user,
            data=upload.read(),
            filename=upload.name or "reconciliation.csv",
            ip=client_ip(request),
        )
        return Response({"results": [asdict(r) for r in results]})
