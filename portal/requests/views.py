"""Pedagogue pages for aid requests (HTMX + Bootstrap). Views only parse input and render:
reads go through `portal.requests.selectors`, writes through `portal.requests.services`."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.appeals.selectors import appeals_of_request
from portal.audit.services import audit_record
from portal.requests import lifecycle, selectors, services
from portal.requests.forms import AidRequestForm, DecisionForm, FilterForm, SignatureForm
from portal.requests.models import AidRequest, validate_iin
from schools.scope import require

PAGE_SIZE = 20


def client_ip(request: HttpRequest) -> str | None:
    from portal.accounts.throttle import client_ip as _client_ip  # trusted proxies

    return _client_ip(request)


def _require_staff(request: HttpRequest) -> None:
    require(request.scope, "can_act_on_requests")


def _audit_view(
    request: HttpRequest, action: str, req: AidRequest | None = None, **detail: Any
) -> None:
    audit_record(
        action=action,
        scope=request.scope,
        actor=request.user,
        object_type="aid_request",
        object_id=str(req.public_id) if req else "",
        school_id=req.school_id if req else request.scope.school_id,
        ip=client_ip(request),
        detail={"via": "web", **detail},
    )


def _bootstrap(form: forms.Form) -> forms.Form:
    for name, field in form.fields.items():
        css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
        if name in form.errors:
            css += " is-invalid"
        field.widget.attrs.setdefault("class", css)
    return form


# --------------------------------------------------------------------------- pages


SEARCH_REFS = "aid_request_search_refs"
SEARCH_REFS_KEPT = 20


def _search_ref(request: HttpRequest, q: str) -> str:
    """An opaque reference to a search (an ИИН, part of one, or a name), kept in the session:
    the URL, the browser's history and any access log then carry the reference only."""
    refs = dict(request.session.get(SEARCH_REFS, {}))
    for token, value in refs.items():
        if value == q:
            return token
    token = secrets.token_urlsafe(9)
    refs[token] = q
    request.session[SEARCH_REFS] = dict(list(refs.items())[-SEARCH_REFS_KEPT:])
    return token


def _list_query(request: HttpRequest, data: Any) -> str:
    """The list's query string for ``data`` with the search replaced by its reference."""
    query = QueryDict(mutable=True)
    for key, values in data.lists():
        if key in {"csrfmiddlewaretoken", "page", "qref"}:
            continue
        values = [v for v in values if v != ""]
        if key == "q" and values and values[0].strip():
            query["qref"] = _search_ref(request, values[0].strip())
        elif values:
            query.setlist(key, values)
    return query.urlencode()


def _list_data(request: HttpRequest) -> Any:
    """The filters of a list page: its query string, with a search reference resolved."""
    data = request.GET.copy()
    token = data.pop("qref", [None])[0]
    if token:
        q = request.session.get(SEARCH_REFS, {}).get(token)
        if q is None:
            messages.info(request, _("Поиск устарел: введите запрос ещё раз."))
        else:
            data["q"] = q
    return data


@login_required
@require_http_methods(["GET", "POST"])
def aid_request_list(request: HttpRequest) -> HttpResponse:
    selectors.require_family_access(request.scope)
    if request.method == "POST" or request.GET.get("q", "").strip():
        # The search form posts: an ИИН or a name never enters a URL; a link with one is
        # redirected to its reference.
        source = request.POST if request.method == "POST" else request.GET
        url = reverse("requests:aid-request-list")
        query = _list_query(request, source)
        target = f"{url}?{query}" if query else url
        if getattr(request, "htmx", False):
            request.GET = QueryDict(query)
            response = _aid_request_list_page(request)
            response["HX-Push-Url"] = target
            return response
        return redirect(target)
    return _aid_request_list_page(request)


def _aid_request_list_page(request: HttpRequest) -> HttpResponse:
    f = FilterForm(_list_data(request) or None, scope=request.scope)
    f.is_valid()  # an invalid field is shown with its error; the valid ones still filter
    params = getattr(f, "cleaned_data", {})
    qs = selectors.aid_requests_for_scope(
        scope=request.scope,
        filters={k: params.get(k) for k in (*selectors.FILTERS, *selectors.RESULT_FILTERS)},
        search=params.get("q", ""),
        sort=params.get("sort") or "-created",
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = selectors.aid_request_rows(scope=request.scope, requests=page.object_list)
    _audit_view(request, "aid_request.list_view", count=len(rows))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("q", None)  # a list URL never carries the search (its reference instead)
    ctx = {
        "page": page,
        "rows": rows,
        "filter_form": _bootstrap(f if f.is_bound else FilterForm(scope=request.scope)),
        "query": query.urlencode(),
        "can_submit": request.scope.can_act_on_requests,
        "show_school": request.scope.sees_all_schools,
    }
    template = (
        "requests/partials/_aid_request_table.html"
        if getattr(request, "htmx", False) and request.htmx.target == "aid-request-table"
        else "requests/list.html"
    )
    return render(request, template, ctx)


def _add_service_errors(form: forms.Form, exc: Exception) -> None:
    """A service's refusal on the form: field errors on their fields, the rest on top."""
    if isinstance(exc, services.DuplicateAidRequest):
        form.add_error(
            None,
            format_html(
                '{} <a href="{}">{}</a>',
                str(exc),
                reverse("requests:aid-request-detail", args=[exc.existing.public_id]),
                _("Открыть существующую заявку"),
            ),
        )
    elif isinstance(exc, services.InvalidTransition):
        form.add_error(None, exc.message)
    elif isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            for field, errs in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errs)
        else:
            form.add_error(None, exc.messages)


@login_required
@require_http_methods(["GET", "POST"])
def aid_request_create(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    form = AidRequestForm(request.POST or None)
    duplicate = None
    if request.method == "POST" and form.is_valid():
        try:
            req = services.aid_request_submit(
                scope=request.scope,
                actor=request.user,
                data=form.cleaned_data,
                ip=client_ip(request),
            )
        except (services.DuplicateAidRequest, ValidationError) as exc:
            duplicate = getattr(exc, "existing", None)
            _add_service_errors(form, exc)
        else:
            messages.success(request, _("Заявка подана."))
            return redirect("requests:aid-request-detail", public_id=req.public_id)
    return render(
        request,
        "requests/create.html",
        {"form": _bootstrap(form), "duplicate": duplicate},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def aid_request_resubmit(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Needs review → correct the request (consent, fields) and send it back to the queue."""
    _require_staff(request)
    req = selectors.aid_request_get(scope=request.scope, public_id=public_id)
    if lifecycle.Action.RESUBMIT not in lifecycle.allowed_actions(req, request.scope):
        messages.error(request, _("Эту заявку сейчас нельзя исправить и подать снова."))
        return redirect("requests:aid-request-detail", public_id=req.public_id)
    initial = {name: getattr(req, name) for name in services.SUBMIT_FIELDS}
    form = AidRequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.aid_request_resubmit(
                scope=request.scope,
                actor=request.user,
                aid_request=req,
                data=form.cleaned_data,
                ip=client_ip(request),
            )
        except (services.DuplicateAidRequest, services.InvalidTransition, ValidationError) as exc:
            _add_service_errors(form, exc)
        else:
            messages.success(request, _("Заявка исправлена и снова поставлена в очередь."))
            return redirect("requests:aid-request-detail", public_id=req.public_id)
    else:
        _audit_view(request, "aid_request.view", req, page="resubmit")
    return render(
        request,
        "requests/resubmit.html",
        {"form": _bootstrap(form), "req": req},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def validate_iin_field(request: HttpRequest) -> HttpResponse:
    """HTMX: validate one ИИН field as it changes (field name in `field`)."""
    _require_staff(request)
    field = request.POST.get("field", "student_iin")
    if field not in ("student_iin", "guardian_iin"):
        field = "student_iin"
    value = (request.POST.get(field) or "").strip()
    error = ""
    if value:
        try:
            validate_iin(value)
        except ValidationError as exc:
            error = " ".join(exc.messages)
    return render(
        request,
        "requests/partials/_iin_feedback.html",
        {"field": field, "error": error, "ok": bool(value) and not error},
    )


@login_required
@require_GET
def aid_request_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    req = selectors.aid_request_get(scope=request.scope, public_id=public_id)
    view = selectors.aid_request_view(scope=request.scope, aid_request=req)
    _audit_view(request, "aid_request.view", req)
    form = DecisionForm(requested_amount=req.amount_kzt)
    return render(
        request,
        "requests/detail.html",
        {
            "v": view,
            "req": req,
            "decision_form": _bootstrap(form),
            "actions": lifecycle.allowed_actions(req, request.scope),
            "appeals": appeals_of_request(request=req),
        },
    )


@login_required
@require_GET
def aid_request_status(request: HttpRequest, public_id: Any) -> HttpResponse:
    """HTMX polling fragment: the status badge; a full reload once scoring has finished."""
    req = selectors.aid_request_get(scope=request.scope, public_id=public_id)
    response = render(request, "requests/partials/_aid_request_status.html", {"req": req})
    if not req.is_active and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


def _act(request: HttpRequest, public_id: Any, fn: Any, ok: str, **kwargs: Any) -> HttpResponse:
    _require_staff(request)
    req = selectors.aid_request_get(scope=request.scope, public_id=public_id)
    try:
        fn(
            scope=request.scope,
            actor=request.user,
            aid_request=req,
            ip=client_ip(request),
            **kwargs,
        )
    except services.InvalidTransition as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        for e in exc.messages:
            messages.error(request, e)
    else:
        messages.success(request, ok)
    return redirect("requests:aid-request-detail", public_id=req.public_id)


@login_required
@require_POST
def aid_request_decide(request: HttpRequest, public_id: Any) -> HttpResponse:
    _require_staff(request)
    req = selectors.aid_request_get(scope=request.scope, public_id=public_id)
    form = DecisionForm(request.POST, requested_amount=req.amount_kzt)
    if not form.is_valid():
        for errs in form.errors.values():
            for e in errs:
                messages.error(request, e)
        return redirect("requests:aid-request-detail", public_id=public_id)
    return _act(
        request,
        public_id,
        services.aid_request_decide,
        _("Решение записано."),
        outcome=form.cleaned_data["outcome"],
        amount_kzt=form.cleaned_data.get("amount_kzt"),
        reason=form.cleaned_data.get("reason", ""),
    )


@login_required
@require_POST
def aid_request_contest(request: HttpRequest, public_id: Any) -> HttpResponse:
    return _act(
        request,
        public_id,
        services.aid_request_contest,
        _("Карта семьи будет запрошена заново, заявка оценивается повторно."),
    )


@login_required
@require_POST
def aid_request_withdraw(request: HttpRequest, public_id: Any) -> HttpResponse:
    return _act(request, public_id, services.aid_request_withdraw, _("Заявка отозвана."))


@login_required
@require_POST
def aid_request_sign(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The principal signs a decision, or refuses to sign it with a reason (from the request
    page or the signatures list: ``next=signatures`` goes back there)."""
    require(request.scope, "can_sign_decisions")
    req = selectors.aid_request_get(scope=request.scope, public_id=public_id)
    form = SignatureForm(request.POST)
    back = (
        redirect("requests:signature-list")
        if request.POST.get("next") == "signatures"
        else redirect("requests:aid-request-detail", public_id=req.public_id)
    )
    if not form.is_valid():
        for errs in form.errors.values():
            for e in errs:
                messages.error(request, e)
        return back
    try:
        if form.cleaned_data["action"] == "sign":
            services.aid_request_sign(
                scope=request.scope, actor=request.user, aid_request=req, ip=client_ip(request)
            )
            messages.success(request, _("Решение подписано: письмо и уведомление семье ушли."))
        else:
            services.aid_request_refuse_signature(
                scope=request.scope,
                actor=request.user,
                aid_request=req,
                reason=form.cleaned_data["reason"],
                ip=client_ip(request),
            )
            messages.success(
                request, _("В подписи отказано: решение не действует, нужно новое решение.")
            )
    except services.InvalidTransition as exc:
        messages.error(request, exc.message)
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("Недостаточно прав."))
    except ValidationError as exc:
        for e in exc.messages:
            messages.error(request, e)
    return back


@login_required
@require_GET
def signature_list(request: HttpRequest) -> HttpResponse:
    """The principal's list of decisions waiting for the second signature."""
    qs = selectors.decisions_awaiting_signature(scope=request.scope)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    audit_record(
        action="aid_request.list_view",
        scope=request.scope,
        actor=request.user,
        object_type="aid_request",
        school_id=request.scope.school_id,
        ip=client_ip(request),
        detail={"via": "web", "page": "signatures", "count": len(page.object_list)},
    )
    return render(
        request,
        "requests/signatures.html",
        {"page": page, "user_id": request.user.pk, "form": _bootstrap(SignatureForm())},
    )


# --------------------------------------------------------------------------- class lists


class ClassListForm(forms.Form):
    file = forms.FileField(label=_("Файл списка (CSV или XLSX)"))
    save_valid = forms.BooleanField(
        label=_("Сохранить правильные строки, даже если в других есть ошибки"), required=False
    )


@login_required
@require_http_methods(["GET", "POST"])
def class_list_upload(request: HttpRequest) -> HttpResponse:
    """A pedagogue uploads the school's list: every row is checked first; errors by line and
    field; nothing saved while any row is wrong unless the valid rows are saved on choice."""
    from portal.requests import batch
    from portal.requests.classlist import parse_class_list

    _require_staff(request)
    form = ClassListForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            rows = parse_class_list(upload.read(), upload.name)
            result = batch.aid_requests_submit_batch(
                scope=request.scope,
                actor=request.user,
                rows=rows,
                save_valid=form.cleaned_data["save_valid"],
                ip=client_ip(request),
            )
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            if result.saved:
                messages.success(
                    request,
                    _("Заявок создано: %(count)d.") % {"count": len(result.created)},
                )
                return redirect("requests:class-list-progress", batch_id=result.batch_id)
    labels = {
        f.name: f.verbose_name for f in AidRequest._meta.get_fields() if hasattr(f, "verbose_name")
    }
    errors = [
        {"line": e.line, "field": str(labels.get(e.field, e.field)), "message": e.message}
        for e in (result.errors if result else [])
    ]
    return render(
        request,
        "requests/class_list.html",
        {"form": _bootstrap(form), "result": result, "errors": errors},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def class_list_progress(request: HttpRequest, batch_id: str) -> HttpResponse:
    """The batch's progress; HTMX polls the partial until every request has left the queue."""
    from django.http import Http404

    from portal.requests import batch

    _require_staff(request)
    progress = batch.batch_progress(scope=request.scope, batch_id=batch_id)
    if progress is None:
        raise Http404
    template = (
        "requests/partials/_class_list_progress.html"
        if request.htmx
        else "requests/class_list_progress.html"
    )
    return render(request, template, {"progress": progress, "batch_id": batch_id})
