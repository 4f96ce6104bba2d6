from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from schools import selectors as school_selectors


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: database, broker, card service and sweeper, each on its own (portal/health)."""
    from portal.health import readiness

    ready, body = readiness()
    response = JsonResponse(body, status=200 if ready else 503)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics (portal/metrics.py): a superuser's session, or
    ``Authorization: Bearer <METRICS_TOKEN>`` for the scraper. Anonymous → sign-in."""
    from django.contrib.auth.views import redirect_to_login
    from prometheus_client import CONTENT_TYPE_LATEST

    from portal import metrics as portal_metrics

    if not portal_metrics.token_ok(request.headers.get("Authorization", "")):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_superuser:
            raise PermissionDenied
    response = HttpResponse(portal_metrics.render(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response


@login_required
def home(request: HttpRequest) -> HttpResponse:
    scope = request.scope
    ctx: dict = {"scope": scope}
    if scope.is_school_staff:
        ctx["school"] = school_selectors.school_of_scope(scope=scope)
        ctx["colleagues"] = school_selectors.staff_of_school(scope=scope, school=ctx["school"])
        template = "portal/home_school.html"
    elif scope.is_analyst:
        ctx["summary"] = school_selectors.network_summary(scope=scope)
        page = Paginator(school_selectors.schools_for_scope(scope=scope), 25).get_page(
            request.GET.get("page")
        )
        ctx["page"] = page
        template = "portal/home_analyst.html"
    elif scope.level == "none":
        template = "portal/home_norole.html"
    else:
        template = "portal/home_admin.html"
    return render(request, template, ctx)
