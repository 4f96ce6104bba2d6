"""Account pages: the user's API tokens, replacing the TOTP device, and the admin's login door."""

from __future__ import annotations

import base64
from typing import Any

from allauth.account.decorators import reauthentication_required
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.totp.internal import auth as totp_auth
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portal.accounts import selectors, services
from portal.accounts.forms import ApiTokenCreateForm, TotpReplaceForm
from portal.accounts.mfa import mfa_next_step, mfa_passed, user_has_totp
from portal.accounts.throttle import client_ip

_REPLACE_SECRET_KEY = "komek_totp_replace_secret"  # noqa: S105 - a session key name


def admin_login(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """``/admin/login/`` takes no password: the sign-in is allauth's (password, then TOTP)."""
    target = request.GET.get("next") or reverse("admin:index")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("admin:index")
    user = request.user
    if not user.is_authenticated:
        return redirect(f"{reverse('account_login')}?{urlencode({'next': target})}")
    if not mfa_passed(request):
        return mfa_next_step(request)
    raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's own API tokens: list, create (the token is shown once), revoke."""
    user = request.user
    enrolled = user_has_totp(user)
    form = ApiTokenCreateForm(request.POST or None)
    new_token = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                row, new_token = services.api_token_issue(
                    actor=user, name=form.cleaned_data["name"], via="web", ip=client_ip(request)
                )
            except ValidationError as exc:
                for field, errs in exc.message_dict.items():
                    for err in errs:
                        form.add_error(field if field in form.fields else None, err)
                status = 400
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
                status = 403
            else:
                form = ApiTokenCreateForm()
        else:
            status = 400
    tokens = selectors.api_tokens_of_user(scope=request.scope)
    response = render(
        request,
        "accounts/tokens.html",
        {
            "tokens": tokens,
            "form": form,
            "new_token": new_token,
            "enrolled": enrolled,
            "token_ttl_days": settings.API_TOKEN_TTL_DAYS,
        },
        status=status,
    )
    return response


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, public_id: Any) -> HttpResponse:
    token = selectors.api_token_of_user(scope=request.scope, public_id=public_id)
    if token is None:
        raise Http404
    services.api_token_revoke(actor=request.user, token=token, via="web", ip=client_ip(request))
    messages.success(request, _("Токен «%(name)s» отозван.") % {"name": token.name})
    return redirect("accounts:api-tokens")


@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def totp_replace(request: HttpRequest) -> HttpResponse:
    """Replace the TOTP device (TOTP itself cannot be switched off)."""
    user = request.user
    if not user_has_totp(user):
        return redirect("mfa_activate_totp")
    secret = request.session.get(_REPLACE_SECRET_KEY)
    if request.method == "GET" or not secret:
        secret = totp_auth.generate_totp_secret()
        request.session[_REPLACE_SECRET_KEY] = secret
    form = TotpReplaceForm(request.POST or None, user=user, secret=secret)
    if request.method == "POST" and form.is_valid():
        services.totp_replace(actor=user, secret=secret, ip=client_ip(request))
        request.session.pop(_REPLACE_SECRET_KEY, None)
        messages.success(
            request, _("Приложение для кодов заменено. Старые коды больше не действуют.")
        )
        return redirect("mfa_index")
    adapter = get_mfa_adapter()
    url = adapter.build_totp_url(user, secret)
    svg = adapter.build_totp_svg(url)
    return render(
        request,
        "accounts/totp_replace.html",
        {
            "form": form,
            "secret": secret,
            "totp_url": url,
            "totp_svg_data_uri": "data:image/svg+xml;base64,"
            + base64.b64encode(svg.encode("utf-8")).decode("ascii"),
        },
        status=400 if request.method == "POST" else 200,
    )
