"""Payments in the browser for the school's staff: download the register for the bank (the
same CSV as ``GET /api/v1/payments/register/``), upload the bank's reconciliation (the same
service as ``POST /api/v1/payments/reconciliation/``) with a result per row, and the list of
the school's payments with their state."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from portal.audit.services import AuditAction, audit_record
from portal.payments import selectors, services
from portal.requests.models import validate_academic_year
from portal.requests.services import current_academic_year_start
from portal.requests.views import client_ip
from schools.scope import require

PAGE_SIZE = 50
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def _year(request: HttpRequest) -> str:
    year = (request.GET.get("academic_year") or request.POST.get("academic_year") or "").strip()
    try:
        validate_academic_year(year)
    except ValidationError:
        start = current_academic_year_start(timezone.localdate())
        year = f"{start}-{start + 1}"
    return year


def _page(request: HttpRequest, year: str, **extra: Any) -> dict[str, Any]:
    qs = selectors.payments_for_scope(scope=request.scope, academic_year=year)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    audit_record(
        action=AuditAction.PAYMENTS_VIEW,
        scope=request.scope,
        actor=request.user,
        object_type="payment",
        object_id=year,
        school_id=request.scope.school_id,
        ip=client_ip(request),
        detail={"via": "web", "count": len(page.object_list)},
    )
    return {"year": year, "page": page, **extra}


@login_required
@require_http_methods(["GET", "POST"])
def payment_list(request: HttpRequest) -> HttpResponse:
    """GET: the page. POST (a file): the reconciliation, its result per row on the page."""
    require(request.scope, "can_act_on_requests")
    year = _year(request)
    results = None
    error = ""
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error, status = _("Приложите файл сверки (CSV или XLSX)."), 400
        elif upload.size and upload.size > MAX_UPLOAD_BYTES:
            error, status = _("Файл сверки больше 5 МБ."), 400
        else:
            results = services.reconciliation_import(
                scope=request.scope,
                actor=request.user,
                data=upload.read(),
                filename=upload.name or "reconciliation.csv",
                ip=client_ip(request),
            )
    labels = {
        "paid": _("выплачено"),
        "failed": _("не выплачено"),
        "unchanged": _("без изменений"),
        "error": _("ошибка"),
    }
    rows = [
        {"r": r, "label": labels.get(r.result, r.result), "is_error": r.result == "error"}
        for r in results or []
    ]
    ctx = _page(request, year, results=rows, uploaded=results is not None, error=error)
    return render(request, "payments/payment_list.html", ctx, status=status)


@login_required
@require_GET
def payment_register_csv(request: HttpRequest) -> HttpResponse:
    require(request.scope, "can_act_on_requests")
    year = _year(request)
    payments = services.payment_register(
        scope=request.scope, actor=request.user, academic_year=year, ip=client_ip(request)
    )
    response = HttpResponse(services.register_csv(payments), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="payments-{year}.csv"'
    return response
