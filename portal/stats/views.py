"""Dashboard pages and exports. Every figure comes from `portal.stats.selectors`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from portal.stats import exports
from portal.stats.forms import StatsFilterForm
from portal.stats.selectors import (
    StatsFilters,
    UnknownUnit,
    stats_dashboard,
    stats_unit_resolve,
    stats_years,
)


def dashboard_for_request(request: HttpRequest, scope: Any) -> tuple[dict | None, Any, Any]:
    """(figures or None when the filters are invalid, the form, the unit). Raises 404/403."""
    unit = stats_unit_resolve(
        scope=scope, level=request.GET.get("level") or None, code=request.GET.get("code") or None
    )
    form = StatsFilterForm(request.GET or None, years=stats_years(scope=scope, unit=unit))
    if request.GET and not form.is_valid():
        return None, form, unit
    filters = form.filters() if form.is_bound else StatsFilters()
    return stats_dashboard(scope=scope, unit=unit, filters=filters), form, unit


def _not_found(request: HttpRequest, exc: UnknownUnit) -> HttpResponse:
    return render(request, "stats/not_found.html", {"message": str(exc)}, status=404)


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    try:
        data, form, unit = dashboard_for_request(request, request.scope)
    except UnknownUnit as exc:
        return _not_found(request, exc)
    query = request.GET.urlencode()
    return render(
        request,
        "stats/dashboard.html",
        {
            "data": data,
            "form": form,
            "unit": unit,
            "query": query,
            "labels": {
                "totals": dict(exports.total_labels()),
                "children": exports.child_labels(),
                "months": exports.month_labels(),
            },
            "chart_data": _chart_data(data) if data else None,
            "sections": _sections(data) if data else [],
            "totals": [
                (key, label, data["totals"][key])
                for key, label in exports.total_labels()
                if key not in {"high_welfare", "median_seconds", "withdrawn"}
            ]
            if data
            else [],
            "children": [
                {
                    "level": c["level"],
                    "code": c["code"],
                    "name": c["name"],
                    "values": [c[k] for k, _l in exports.child_labels()],
                }
                for c in data["children"]
            ]
            if data
            else [],
            "can_drill": request.scope.is_analyst or request.scope.is_superuser,
        },
    )


def _chart_data(data: dict[str, Any]) -> dict[str, Any]:
    """What dashboard.js draws: labels and series only (the tables carry the same numbers)."""
    return {
        "categories": {
            "labels": [str(c["category"]) for c in data["categories"]],
            "series": [{"label": _("Заявок"), "data": [c["requests"] for c in data["categories"]]}],
        },
        "months": {
            "labels": [m["month"] for m in data["months"]],
            "series": [
                {"label": _("Заявок"), "data": [m["requests"] for m in data["months"]]},
                {"label": _("Оценено"), "data": [m["scored"] for m in data["months"]]},
                {"label": _("Категория 6"), "data": [m["high_welfare"] for m in data["months"]]},
            ],
        },
        "decisions": {
            "labels": [_("Одобрено"), _("Отказано"), _("Без решения")],
            "series": [
                {
                    "label": _("Заявок"),
                    "data": [
                        data["totals"]["approved"],
                        data["totals"]["rejected"],
                        data["totals"]["requests"]
                        - data["totals"]["approved"]
                        - data["totals"]["rejected"],
                    ],
                }
            ],
        },
        "children": {
            "labels": [c["name"] for c in data["children"]],
            "series": [
                {"label": _("Заявок"), "data": [c["requests"] for c in data["children"]]},
                {"label": _("Категория 6"), "data": [c["high_welfare"] for c in data["children"]]},
            ],
        },
        "durations": {
            "labels": [d["bucket"] for d in data["durations"]],
            "series": [{"label": _("Заявок"), "data": [d["requests"] for d in data["durations"]]}],
        },
    }


def _sections(data: dict[str, Any]) -> list[dict[str, Any]]:
    charts = _chart_data(data)
    spec = [
        ("categories", _("Распределение по категориям 1–6"), "bar", _("Категория")),
        ("decisions", _("Решения"), "doughnut", _("Решение")),
        ("months", _("По месяцам"), "line", _("Месяц")),
        ("durations", _("Время от подачи до оценки"), "bar", _("Интервал")),
    ]
    if data["children"]:
        spec.append(("children", _("Подразделения"), "bar", _("Подразделение")))
    out = []
    for key, title, kind, first in spec:
        chart = charts[key]
        rows = [
            [label, *(s["data"][i] for s in chart["series"])]
            for i, label in enumerate(chart["labels"])
        ]
        out.append(
            {"key": key, "title": title, "kind": kind, "first": first, "chart": chart, "rows": rows}
        )
    return out


def _export(request: HttpRequest, fmt: str) -> HttpResponse:
    try:
        data, form, unit = dashboard_for_request(request, request.scope)
    except UnknownUnit as exc:
        return _not_found(request, exc)
    if data is None:
        return HttpResponse(
            "; ".join(str(e) for errs in form.errors.values() for e in errs),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    name = f"komek-stats-{unit.level}{'-' + unit.code if unit.code else ''}"
    if fmt == "csv":
        response = HttpResponse(exports.to_csv(data), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    else:
        response = HttpResponse(
            exports.to_xlsx(data),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


@login_required
@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    return _export(request, "csv")


@login_required
@require_GET
def export_xlsx(request: HttpRequest) -> HttpResponse:
    return _export(request, "xlsx")
