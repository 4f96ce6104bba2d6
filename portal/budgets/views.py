"""Budgets in the browser: the allocated / committed / paid table of the scope (district
finance sets amounts here or uploads a CSV/XLSX), and its export."""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from portal.budgets import selectors, services
from portal.exports import csv_writer
from portal.requests.models import validate_academic_year
from portal.requests.services import current_academic_year_start
from schools.scope import require, school_for_scope_or_404


def _year(request: HttpRequest) -> str:
    year = (request.GET.get("year") or request.POST.get("year") or "").strip()
    try:
        validate_academic_year(year)
    except ValidationError:
        start = current_academic_year_start(timezone.localdate())
        year = f"{start}-{start + 1}"
    return year


@login_required
@require_GET
def budget_list(request: HttpRequest) -> HttpResponse:
    scope = request.scope
    require(scope, "can_view_budgets")
    year = _year(request)
    return render(
        request,
        "budgets/budget_list.html",
        {
            "year": year,
            "rows": selectors.budget_rollup(scope=scope, academic_year=year),
            "can_manage": scope.can_manage_budgets,
        },
    )


@login_required
@require_POST
def budget_set(request: HttpRequest) -> HttpResponse:
    scope = request.scope
    require(scope, "can_manage_budgets")
    year = _year(request)
    school = school_for_scope_or_404(scope, bin=(request.POST.get("school_bin") or "").strip())
    try:
        services.budget_set(
            scope=scope,
            actor=request.user,
            school=school,
            academic_year=year,
            amount_kzt=(request.POST.get("amount_kzt") or "")
            .replace(" ", "")
            .replace("\u00a0", ""),
            ip=request.META.get("REMOTE_ADDR"),
        )
        messages.success(request, _("Бюджет школы «%(s)s» сохранён.") % {"s": school.name})
    except ValidationError as exc:
        for msgs in exc.message_dict.values():
            for m in msgs:
                messages.error(request, f"{school.name}: {m}")
    return redirect(f"{reverse('budgets:budget-list')}?year={year}")


@login_required
@require_POST
def budget_import(request: HttpRequest) -> HttpResponse:
    scope = request.scope
    require(scope, "can_manage_budgets")
    year = _year(request)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Выберите файл CSV или XLSX."))
    else:
        result = services.budgets_import_file(
            scope=scope,
            actor=request.user,
            data=upload.read(),
            filename=upload.name,
            ip=request.META.get("REMOTE_ADDR"),
        )
        if result.ok:
            messages.success(
                request,
                _("Импортировано: новых %(c)s, изменено %(u)s.")
                % {"c": result.created, "u": result.updated},
            )
        else:
            messages.error(request, _("Ничего не импортировано. Исправьте ошибки:"))
            for e in result.errors[:50]:
                messages.error(request, str(e))
    return redirect(f"{reverse('budgets:budget-list')}?year={year}")


@login_required
@require_GET
def budget_export_csv(request: HttpRequest) -> HttpResponse:
    scope = request.scope
    require(scope, "can_view_budgets")
    year = _year(request)
    buf = io.StringIO()
    w = csv_writer(buf)
    w.writerow(
        [
            _("уровень"),
            _("название"),
            _("БИН"),
            _("выделено, ₸"),
            _("зарезервировано, ₸"),
            _("выплачено, ₸"),
            _("осталось, ₸"),
        ]
    )
    levels = {
        "school": _("школа"),
        "district": _("район"),
        "region": _("регион"),
        "total": _("итого"),
    }
    for r in selectors.budget_rollup(scope=scope, academic_year=year):
        w.writerow(
            [
                levels[r.level],
                r.name,
                r.school_bin,
                r.allocated_kzt,
                r.committed_kzt,
                r.paid_kzt,
                r.left_kzt,
            ]
        )
    response = HttpResponse("\ufeff" + buf.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="budgets-{year}.csv"'
    return response
