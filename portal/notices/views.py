"""The guardian's opt-out, recorded by the school on the request page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.accounts.throttle import client_ip
from portal.notices import services
from portal.requests import selectors


@login_required
@require_POST
def notices_opt_out(request: HttpRequest, public_id: Any) -> HttpResponse:
    if not request.scope.is_school_staff:
        raise PermissionDenied
    req = selectors.aid_request_get(scope=request.scope, public_id=public_id)
    opted_out = request.POST.get("opt_out") == "1"
    services.notices_opt_out_set(
        scope=request.scope,
        actor=request.user,
        aid_request=req,
        opted_out=opted_out,
        ip=client_ip(request),
    )
    messages.success(
        request,
        _("Записано: семья отказалась от уведомлений.")
        if opted_out
        else _("Записано: семья снова получает уведомления."),
    )
    return redirect("requests:aid-request-detail", public_id=req.public_id)
