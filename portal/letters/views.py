"""Pages of decision letters: the download (school staff, auditors) and the public verification.

Views only parse input and render; the audited reads and writes are in
``portal.letters.services``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from portal.accounts.throttle import client_ip
from portal.letters import codes, services
from portal.letters.throttle import verify_allowed
from portal.requests import selectors


def pdf_response(pdf: bytes, letter: Any, language: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="komek-letter-{letter.code_grouped}-{language}.pdf"'
    )
    return response


@login_required
@require_GET
def letter_download(request: HttpRequest, public_id: Any) -> HttpResponse:
    req = selectors.aid_request_get(scope=request.scope, public_id=public_id)
    language = request.GET.get("lang") or req.letter_language
    if language not in services.LANGUAGES:
        return HttpResponse(
            _("Параметр lang: укажите kk, ru или en."),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    try:
        letter, pdf = services.letter_download(
            scope=request.scope,
            actor=request.user,
            aid_request=req,
            language=language,
            ip=client_ip(request),
            via="web",
        )
    except services.LetterNotAvailable:
        raise Http404 from None
    return pdf_response(pdf, letter, language)


@require_GET
def verify_form(request: HttpRequest) -> HttpResponse:
    """``/verify/``: a form; ``?code=…`` goes to the code's page."""
    code = (request.GET.get("code") or "").strip()
    if code:
        normalized = codes.normalize(code)
        return redirect("letters:verify", code=codes.grouped(normalized) if normalized else "-")
    return render(request, "letters/verify.html", {"form_only": True})


@require_GET
def verify(request: HttpRequest, code: str) -> HttpResponse:
    """Whether a letter with this code was issued: when, by which school, which decision."""
    if not verify_allowed(request):
        return render(
            request,
            "letters/verify.html",
            {"throttled": True, "code": code[:40]},
            status=429,
        )
    result = services.letter_verify(code_text=code, ip=client_ip(request))
    amount = ""
    if result.amount_kzt:
        from scoring.counterfactual_text import format_money

        language = (get_language() or "ru")[:2]
        amount = format_money(result.amount_kzt, language if language in ("kk", "en") else "ru")
    return render(
        request,
        "letters/verify.html",
        {"result": result, "amount": amount, "code": code[:40]},
        status=200,
    )
