"""The audit log for the auditor role, in words: filters (who, school, action, period, people
or system), "all views of this request" and "all views of this person" (by ИИН, posted, never
in a URL; the search is audited), pagination and a CSV export with the same columns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_GET, require_POST

from portal.accounts.throttle import client_ip
from portal.audit import presentation, selectors
from portal.audit.forms import AuditFilterForm, PersonViewsForm
from portal.audit.services import AuditAction, audit_record
from portal.exports import csv_writer

PAGE_SIZE = 50
EXPORT_CHUNK = 1000


def _events(request: HttpRequest) -> tuple[AuditFilterForm, object]:
    form = AuditFilterForm(request.GET or None)
    qs = selectors.audit_events_for_scope(scope=request.scope, **form.params())
    return form, qs


def _audit_access(request: HttpRequest, action: str, **detail: object) -> None:
    audit_record(
        action=action,
        scope=request.scope,
        actor=request.user,
        object_type="audit_log",
        ip=client_ip(request),
        detail=detail
        or {"filters": {k: v for k, v in request.GET.items() if k not in {"page", "user"}}},
    )


@login_required
@require_GET
def audit_event_list(request: HttpRequest) -> HttpResponse:
    form, qs = _events(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = presentation.describe(page.object_list)  # read before this view is recorded
    _audit_access(request, AuditAction.AUDIT_LOG_VIEW)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/list.html",
        {
            "form": form,
            "person_form": PersonViewsForm(),
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "request_filter": form.params()["request_id"],
            "request_code": presentation.request_code(form.params()["request_id"] or ""),
        },
    )


# --------------------------------------------------------------------------- CSV


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: str) -> str:
    """A cell a spreadsheet never runs as a formula."""
    return "'" + value if value[:1] in {"=", "+", "-", "@", "\t", "\r"} else value


def _csv_response(events: object, name: str) -> StreamingHttpResponse:
    # The one call site of the CSV writer: formula-safe (portal.exports, defusedcsv).
    writer = csv_writer(_Echo())
    language = translation.get_language()

    def rows() -> Iterator[str]:
        with translation.override(language):
            yield "\ufeff" + writer.writerow(presentation.csv_header())
            chunk: list = []
            for event in events.iterator(chunk_size=EXPORT_CHUNK):
                chunk.append(event)
                if len(chunk) == EXPORT_CHUNK:
                    for row in presentation.describe(chunk):
                        yield writer.writerow([_cell(v) for v in row.csv_values()])
                    chunk = []
            for row in presentation.describe(chunk):
                yield writer.writerow([_cell(v) for v in row.csv_values()])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response


@login_required
@require_GET
def audit_event_export(request: HttpRequest) -> StreamingHttpResponse:
    _form, qs = _events(request)
    _audit_access(request, AuditAction.AUDIT_LOG_EXPORT)
    return _csv_response(qs, "audit")


# --------------------------------------------------------------------------- one person


def _iin_from_request(request: HttpRequest) -> str | None:
    """The student's ИИН of the request posted as ``request`` (the row's "views of the
    student" button): never put into the page or a URL."""
    from portal.requests.models import AidRequest

    form = AuditFilterForm({"request": request.POST.get("request", "")})
    public_id = form.params()["request_id"] if form.is_valid() else None
    if public_id is None:
        return None
    row = AidRequest.objects.unscoped().filter(public_id=public_id).values("student_iin").first()
    return row["student_iin"] if row else None


@login_required
@require_POST
def audit_person_views(request: HttpRequest) -> HttpResponse:
    """Every view of the requests about one person (student or guardian), by ИИН."""
    if not request.scope.is_auditor:
        raise PermissionDenied
    form = PersonViewsForm(request.POST)
    iin = None
    repost: dict[str, str] = {}
    if request.POST.get("request") and not request.POST.get("iin"):
        form = PersonViewsForm()
        iin = _iin_from_request(request)
        if iin is None:
            form.add_error(None, PersonViewsForm.NOT_FOUND)
        repost = {"request": request.POST["request"]}
    elif form.is_valid():
        iin = form.cleaned_data["iin"]
        repost = {"iin": iin}
    if iin is None:
        return render(request, "audit/person_views.html", {"person_form": form}, status=400)
    count, qs = selectors.audit_person_views_for_scope(scope=request.scope, iin=iin)
    export = request.POST.get("export") == "csv"
    _audit_access(
        request,
        AuditAction.AUDIT_LOG_EXPORT if export else AuditAction.AUDIT_LOG_PERSON_VIEWS,
        requests=count,
        person=True,
    )
    if export:
        return _csv_response(qs, "audit-person")
    events = list(qs[: selectors.PERSON_VIEWS_LIMIT + 1])
    return render(
        request,
        "audit/person_views.html",
        {
            "person_form": PersonViewsForm(),
            "searched": True,
            "repost": repost,
            "request_count": count,
            "rows": presentation.describe(events[: selectors.PERSON_VIEWS_LIMIT]),
            "truncated": len(events) > selectors.PERSON_VIEWS_LIMIT,
            "limit": selectors.PERSON_VIEWS_LIMIT,
        },
    )
