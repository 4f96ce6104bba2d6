"""Dashboard pages and exports. Every figure comes from `portal.stats.selectors` (suppressed
there for readers above the school); views only arrange it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from portal.appeals.stats import appeal_figures
from portal.stats import exports
from portal.stats.forms import StatsFilterForm, stats_query_problems
from portal.stats.selectors import (
    StatsFilters,
    Unit,
    UnknownUnit,
    stats_dashboard,
    stats_unit_resolve,
    stats_years,
)

# What each colour means (dashboard.js draws with these): approved green, rejected orange-red,
# no decision neutral grey; category 6 has its own panel and scale.
COLOURS = {
    "requests": "#0d6efd",
    "scored": "#6f42c1",
    "high_welfare": "#b02a37",
    "approved": "#198754",
    "rejected": "#d9480f",
    "no_decision": "#6c757d",
    "categories": ["#0b5394", "#3d85c6", "#6fa8dc", "#9fc5e8", "#a4c2f4", "#b02a37"],
}


class BadQuery(Exception):
    """The query string itself is malformed (400 with the problems)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def dashboard_for_request(request: HttpRequest, scope: Any) -> tuple[dict | None, Any, Any]:
    """(figures or None when the filters are invalid, the form, the unit). Raises 404/403 and
    BadQuery."""
    problems = stats_query_problems(request.GET)
    if problems:
        raise BadQuery(problems)
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


def _bad_query(request: HttpRequest, exc: BadQuery, *, page: bool) -> HttpResponse:
    if page:
        return render(
            request, "stats/not_found.html", {"message": str(exc), "bad": True}, status=400
        )
    return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")


def level_label(level: str) -> str:
    return {
        "national": _("Республика"),
        "region": _("Регион"),
        "district": _("Район"),
        "school": _("Школа"),
    }[level]


def unit_label(unit: Unit) -> str:
    code = f" ({unit.code})" if unit.code and unit.level != "school" else ""
    return f"{level_label(unit.level)}: {unit.name}{code}"


def filter_lines(form: StatsFilterForm) -> list[tuple[str, str]]:
    """(label, value in words) of every filter, "все" where not set."""
    out = []
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    for name, field in form.fields.items():
        value = data.get(name)
        if value in (None, ""):
            shown = _("все")
        elif hasattr(value, "strftime"):
            shown = value.strftime("%Y-%m")
        else:
            choices = dict(getattr(field, "choices", []) or [])
            shown = str(choices.get(value, value))
        out.append((str(field.label), shown))
    return out


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    try:
        data, form, unit = dashboard_for_request(request, request.scope)
    except UnknownUnit as exc:
        return _not_found(request, exc)
    except BadQuery as exc:
        return _bad_query(request, exc, page=True)
    filter_query = form.filter_query()
    unit_query = urlencode({"level": unit.level, **({"code": unit.code} if unit.code else {})})
    query = unit_query + (f"&{filter_query}" if filter_query else "")
    return render(
        request,
        "stats/dashboard.html",
        {
            "data": data,
            "form": form,
            "unit": unit,
            "query": query,
            "filter_query": filter_query,
            "filter_lines": filter_lines(form),
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
                if key not in {"high_welfare", "median_seconds", "withdrawn", "no_decision"}
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
            "appeals": appeal_figures(level=unit.level, pk=unit.pk) if data else None,
        },
    )


def _chart_data(data: dict[str, Any]) -> dict[str, Any]:
    """What dashboard.js draws: labels, series and their colours (the tables carry the same
    numbers; a hidden figure is null: a gap in the chart, • in the table)."""
    t = data["totals"]
    return {
        "categories": {
            "labels": [str(c["category"]) for c in data["categories"]],
            "series": [
                {
                    "label": _("Заявок"),
                    "data": [c["requests"] for c in data["categories"]],
                    "colors": COLOURS["categories"],
                }
            ],
        },
        "months": {
            "labels": [m["month"] for m in data["months"]],
            "series": [
                {
                    "label": _("Заявок"),
                    "data": [m["requests"] for m in data["months"]],
                    "color": COLOURS["requests"],
                },
                {
                    "label": _("Оценено"),
                    "data": [m["scored"] for m in data["months"]],
                    "color": COLOURS["scored"],
                },
                {
                    "label": _("Одобрено"),
                    "data": [m["approved"] for m in data["months"]],
                    "color": COLOURS["approved"],
                },
            ],
        },
        # Category 6 is a few dozen among thousands: its own panel and its own scale.
        "months_high_welfare": {
            "labels": [m["month"] for m in data["months"]],
            "series": [
                {
                    "label": _("Категория 6"),
                    "data": [m["high_welfare"] for m in data["months"]],
                    "color": COLOURS["high_welfare"],
                }
            ],
        },
        "decisions": {
            "labels": [_("Одобрено"), _("Отказано"), _("Без решения")],
            "series": [
                {
                    "label": _("Заявок"),
                    "data": [t["approved"], t["rejected"], t["no_decision"]],
                    "colors": [
                        COLOURS["approved"],
                        COLOURS["rejected"],
                        COLOURS["no_decision"],
                    ],
                }
            ],
        },
        "children": {
            "labels": [c["name"] for c in data["children"]],
            "series": [
                {
                    "label": _("Заявок"),
                    "data": [c["requests"] for c in data["children"]],
                    "color": COLOURS["requests"],
                },
            ],
        },
        "children_high_welfare": {
            "labels": [c["name"] for c in data["children"]],
            "series": [
                {
                    "label": _("Категория 6"),
                    "data": [c["high_welfare"] for c in data["children"]],
                    "color": COLOURS["high_welfare"],
                },
            ],
        },
        "durations": {
            "labels": [d["bucket"] for d in data["durations"]],
            "series": [
                {
                    "label": _("Заявок"),
                    "data": [d["requests"] for d in data["durations"]],
                    "color": COLOURS["scored"],
                }
            ],
        },
    }


def _sections(data: dict[str, Any]) -> list[dict[str, Any]]:
    charts = _chart_data(data)
    spec = [
        ("categories", _("Распределение по категориям 1–6"), "bar", _("Категория")),
        ("decisions", _("Решения"), "doughnut", _("Решение")),
        ("months", _("По месяцам"), "line", _("Месяц")),
        (
            "months_high_welfare",
            _("Категория 6 по месяцам (своя шкала)"),
            "bar",
            _("Месяц"),
        ),
        ("durations", _("Время от подачи до оценки"), "bar", _("Интервал")),
    ]
    if data["children"]:
        spec.append(("children", _("Заявок по подразделениям"), "bar", _("Подразделение")))
        spec.append(
            (
                "children_high_welfare",
                _("Категория 6 по подразделениям (своя шкала)"),
                "bar",
                _("Подразделение"),
            )
        )
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
    except BadQuery as exc:
        return _bad_query(request, exc, page=False)
    if data is None:
        return HttpResponse(
            "; ".join(
                f"{form.fields[name].label if name in form.fields else name}: {e}"
                for name, errs in form.errors.items()
                for e in errs
            ),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    now = timezone.localtime()
    meta = {
        "unit_label": unit_label(unit),
        "filters": filter_lines(form),
        "exported_at": f"{date_format(now, 'DATETIME_FORMAT')} ({now.tzname()})",
    }
    name = f"komek-stats-{unit.level}{'-' + unit.code if unit.code else ''}"
    if fmt == "csv":
        response = HttpResponse(exports.to_csv(data, meta), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    else:
        response = HttpResponse(
            exports.to_xlsx(data, meta),
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
