"""The audit log for the auditor role: filters (action, user, dates), pagination, CSV export."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.accounts.throttle import client_ip
from portal.audit import selectors
from portal.audit.forms import AuditFilterForm
from portal.audit.services import audit_record
from portal.exports import csv_writer

PAGE_SIZE = 50
CSV_COLUMNS = (
    "created_at",
    "actor_username",
    "role",
    "school_id",
    "action",
    "object_type",
    "object_id",
    "ip",
    "outcome",
    "detail",
)


def _events(request: HttpRequest) -> tuple[AuditFilterForm, object]:
    form = AuditFilterForm(request.GET or None)
    params = form.cleaned_data if form.is_valid() else {}
    qs = selectors.audit_events_for_scope(
        scope=request.scope,
        action=params.get("action") or "",
        user=params.get("user") or "",
        date_from=params.get("date_from"),
        date_to=params.get("date_to"),
    )
    return form, qs


def _audit_access(request: HttpRequest, action: str) -> None:
    audit_record(
        action=action,
        scope=request.scope,
        actor=request.user,
        object_type="audit_log",
        ip=client_ip(request),
        detail={"filters": {k: v for k, v in request.GET.items() if k != "page"}},
    )


@login_required
@require_GET
def audit_event_list(request: HttpRequest) -> HttpResponse:
    form, qs = _events(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    _audit_access(request, "audit_log.view")
    query = request.GET.copy()
    query.pop("page", None)
    for field in form.fields.values():
        field.widget.attrs.setdefault("class", "form-control")
    return render(
        request,
        "audit/list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "actions": selectors.audit_actions(scope=request.scope),
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
@require_GET
def audit_event_export(request: HttpRequest) -> StreamingHttpResponse:
    _form, qs = _events(request)
    _audit_access(request, "audit_log.export")
    writer = csv_writer(_Echo())

    def rows():  # noqa: ANN202
        yield writer.writerow(CSV_COLUMNS)
        for e in qs.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    e.created_at.isoformat(),
                    e.actor_username,
                    e.role,
                    e.school_id or "",
                    e.action,
                    e.object_type,
                    e.object_id,
                    e.ip or "",
                    e.outcome,
                    services_json(e.detail),
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response


def services_json(value: object) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, sort_keys=True)
