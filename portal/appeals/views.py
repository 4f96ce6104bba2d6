"""Appeal pages: the school files (from the request page), the district's reviewer decides.
Views only parse input and render: reads through ``selectors``, writes through ``services``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.appeals import selectors, services
from portal.appeals.forms import AppealDecisionForm, AppealForm
from portal.appeals.rules import answer_due, appeal_until, decision_in_force, why_not_appealable
from portal.audit.services import AuditAction, audit_record
from portal.requests import lifecycle
from portal.requests import selectors as request_selectors
from portal.requests.lifecycle import InvalidTransition
from portal.requests.views import _bootstrap, client_ip
from schools.scope import require

PAGE_SIZE = 20


def _errors_on_form(form: Any, exc: ValidationError) -> None:
    """A service's field errors on the form's fields (a disputed row's on its row)."""
    for name, errs in exc.message_dict.items():
        field = None
        if name in form.fields:
            field = name
        elif name.startswith("disputed["):
            index = name[len("disputed[") :].split("]", 1)[0]
            part = "claimed" if name.endswith(".claimed") else "path"
            field = f"{part}_{index}" if f"{part}_{index}" in form.fields else None
        for e in errs:
            form.add_error(field, e)


@login_required
@require_http_methods(["GET", "POST"])
def appeal_create(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The school files the family's appeal against the request's decision."""
    require(request.scope, "can_act_on_requests")
    req = request_selectors.aid_request_get(scope=request.scope, public_id=public_id)
    if lifecycle.Action.APPEAL not in lifecycle.allowed_actions(req, request.scope):
        messages.error(request, why_not_appealable(req) or _("Жалобу сейчас подать нельзя."))
        return redirect("requests:aid-request-detail", public_id=req.public_id)
    fields = selectors.disputable_fields(scope=request.scope, request=req)
    form = AppealForm(request.POST or None, request.FILES or None, fields=fields)
    if request.method == "POST" and form.is_valid():
        try:
            services.appeal_file(
                scope=request.scope,
                actor=request.user,
                aid_request=req,
                reason=form.cleaned_data["reason"],
                disputed=form.disputed(),
                files=form.cleaned_data.get("attachments") or [],
                ip=client_ip(request),
            )
        except InvalidTransition as exc:
            messages.error(request, exc.message)
            return redirect("requests:aid-request-detail", public_id=req.public_id)
        except ValidationError as exc:
            _errors_on_form(form, exc)
        else:
            messages.success(
                request,
                _("Жалоба подана. Её рассмотрит отдел образования района, семье придёт SMS."),
            )
            return redirect("requests:aid-request-detail", public_id=req.public_id)
    decision = decision_in_force(req)
    return render(
        request,
        "appeals/create.html",
        {
            "form": _bootstrap(form),
            "req": req,
            "decision": decision,
            "appeal_until": appeal_until(decision) if decision else None,
            "answer_due": answer_due(timezone.localdate()),
            "answer_days": settings.APPEAL_ANSWER_WORKING_DAYS,
            "max_files": settings.APPEAL_ATTACHMENTS_MAX,
            "max_mb": f"{settings.APPEAL_ATTACHMENT_MAX_BYTES / (1024 * 1024):g}",
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def appeal_list(request: HttpRequest) -> HttpResponse:
    selectors.require_appeal_reader(request.scope)
    state = request.GET.get("state") or "open"
    if state not in selectors.FILTERS:
        state = "open"
    qs = selectors.appeals_for_scope(scope=request.scope, state=state)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    audit_record(
        action=AuditAction.APPEAL_LIST_VIEW,
        scope=request.scope,
        actor=request.user,
        object_type="appeal",
        school_id=request.scope.school_id,
        ip=client_ip(request),
        detail={"via": "web", "state": state, "count": len(page.object_list)},
    )
    return render(
        request,
        "appeals/list.html",
        {
            "page": page,
            "state": state,
            "states": [
                ("open", _("На рассмотрении")),
                ("overdue", _("Просрочены")),
                ("decided", _("Рассмотрены")),
                ("all", _("Все")),
            ],
            "is_reviewer": request.scope.can_review_appeals,
        },
    )


@login_required
@require_GET
def appeal_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    appeal = selectors.appeal_get(scope=request.scope, public_id=public_id)
    view = selectors.appeal_view(scope=request.scope, appeal=appeal)
    services.appeal_audit_view(
        scope=request.scope, actor=request.user, appeal=appeal, ip=client_ip(request)
    )
    actions = lifecycle.allowed_actions(appeal.request, request.scope) if appeal.is_open else []
    return render(
        request,
        "appeals/detail.html",
        {
            "v": view,
            "appeal": appeal,
            "req": appeal.request,
            "can_decide": bool(actions) and request.scope.can_review_appeals,
            "form": _bootstrap(AppealDecisionForm()),
        },
    )


@login_required
@require_POST
def appeal_decide(request: HttpRequest, public_id: Any) -> HttpResponse:
    appeal = selectors.appeal_get(scope=request.scope, public_id=public_id)
    require(request.scope, "can_review_appeals")
    form = AppealDecisionForm(request.POST)
    if not form.is_valid():
        for errs in form.errors.values():
            for e in errs:
                messages.error(request, e)
        return redirect("appeals:appeal-detail", public_id=appeal.public_id)
    try:
        services.appeal_decide(
            scope=request.scope,
            actor=request.user,
            appeal=appeal,
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"],
            new_outcome=form.cleaned_data.get("new_outcome") or "",
            amount_kzt=form.cleaned_data.get("amount_kzt"),
            ip=client_ip(request),
        )
    except InvalidTransition as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        for e in exc.messages:
            messages.error(request, e)
    else:
        messages.success(request, _("Итог жалобы записан, семье отправлено уведомление."))
    return redirect("appeals:appeal-detail", public_id=appeal.public_id)


@login_required
@require_GET
def appeal_attachment(request: HttpRequest, public_id: Any) -> HttpResponse:
    att = selectors.attachment_get(scope=request.scope, public_id=public_id)
    handle = services.appeal_attachment_open(
        scope=request.scope, actor=request.user, attachment=att, ip=client_ip(request)
    )
    response = FileResponse(
        handle,
        content_type=att.content_type,
        as_attachment=True,
        filename=f"appeal-{att.public_id.hex[:8]}.{att.extension}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
