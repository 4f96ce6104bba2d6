"""The register of processing (auditors and administrators) and the retention holds
(auditors): thin views over :mod:`portal.privacy.selectors` and :mod:`portal.privacy.services`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.accounts.throttle import client_ip
from portal.audit.services import AuditAction, audit_record
from portal.privacy import selectors, services
from portal.privacy.forms import HoldPlaceForm, HoldReleaseForm
from portal.requests.models import AidRequest


@login_required
@require_GET
def privacy_register(request: HttpRequest) -> HttpResponse:
    entries = selectors.register_for_scope(scope=request.scope)
    audit_record(
        action=AuditAction.PRIVACY_REGISTER_VIEW,
        scope=request.scope,
        actor=request.user,
        object_type="privacy_register",
        ip=client_ip(request),
    )
    return render(request, "privacy/register.html", {"entries": entries})


def _errors_into(form: HoldPlaceForm | HoldReleaseForm, exc: ValidationError) -> None:
    for name, errors in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)


@login_required
@require_http_methods(["GET", "POST"])
def retention_holds(request: HttpRequest) -> HttpResponse:
    holds = selectors.retention_holds_for_scope(scope=request.scope)
    form = HoldPlaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        aid_request = (
            AidRequest.objects.for_scope(request.scope)
            .filter(public_id=form.cleaned_data["request"])
            .first()
        )
        if aid_request is None:
            form.add_error("request", _("Заявка не найдена."))
        else:
            try:
                services.retention_hold_place(
                    scope=request.scope,
                    actor=request.user,
                    request=aid_request,
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                _errors_into(form, exc)
            else:
                messages.success(request, _("Данные заявки удержаны от удаления."))
                return redirect("privacy:retention-holds")
    return render(
        request,
        "privacy/holds.html",
        {"form": form, "holds": holds[:200], "release_form": HoldReleaseForm()},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def retention_hold_release(request: HttpRequest) -> HttpResponse:
    holds = selectors.retention_holds_for_scope(scope=request.scope)
    form = HoldReleaseForm(request.POST)
    if form.is_valid():
        hold = holds.filter(pk=form.cleaned_data["hold"]).first()
        if hold is None:
            form.add_error(None, _("Удержание не найдено."))
        else:
            try:
                services.retention_hold_release(
                    scope=request.scope,
                    actor=request.user,
                    hold=hold,
                    reason=form.cleaned_data["release_reason"],
                )
            except ValidationError as exc:
                _errors_into(form, exc)
            else:
                messages.success(request, _("Удержание снято."))
                return redirect("privacy:retention-holds")
    for error in form.errors.get("release_reason", []) + form.non_field_errors():
        messages.error(request, error)
    return redirect("privacy:retention-holds")


@login_required
@require_http_methods(["GET", "POST"])
def person_record(request: HttpRequest) -> HttpResponse:
    """An auditor produces a person's own record: the ИИН is posted, never in a URL."""
    from django.core.exceptions import PermissionDenied

    from portal.audit.forms import PersonViewsForm
    from portal.privacy.record import person_record_produce

    if not request.scope.can_audit:
        raise PermissionDenied(_("Личную выписку составляют только аудиторы."))
    form = PersonViewsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _record, pdf = person_record_produce(
                scope=request.scope,
                actor=request.user,
                iin=form.cleaned_data["iin"],
                ip=client_ip(request),
            )
        except ValidationError as exc:
            _errors_into(form, exc)
        else:
            response = HttpResponse(pdf, content_type="application/pdf")
            response["Content-Disposition"] = 'attachment; filename="person-record.pdf"'
            response["Cache-Control"] = "no-store"
            return response
    return render(
        request,
        "privacy/person_record_form.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )
