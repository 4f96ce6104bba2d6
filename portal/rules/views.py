"""Pages of rules administration (``/rules/``) for the ``rules_admin`` role.

Views parse input and render; reads go through :mod:`portal.rules.selectors`, writes through
:mod:`portal.rules.services`. Anonymous → sign-in; any other role → 403.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.accounts.throttle import client_ip
from portal.audit.services import audit_record
from portal.rules import selectors, services
from portal.rules.diff import ruleset_diff
from portal.rules.forms import (
    DiffForm,
    DraftCreateForm,
    GoldenCaseForm,
    PreviewForm,
    PublishForm,
    RuleSetEditor,
)
from portal.rules.models import ImpactPreviewStatus
from schools.scope import require
from scoring.card import CardError
from scoring.criteria import CRITERIA
from scoring.governance import golden_cases_run
from scoring.models import GoldenCase, RuleSet, RuleSetStatus
from scoring.ruleset import RuleSetError, compile_ruleset


def _admin(request: HttpRequest) -> None:
    require(request.scope, "can_admin_rules")


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [str(m) for msgs in exc.message_dict.values() for m in msgs]
    return [str(m) for m in exc.messages]


def _flash_errors(request: HttpRequest, exc: ValidationError | RuleSetError | CardError) -> None:
    if isinstance(exc, ValidationError):
        for m in _errors(exc):
            messages.error(request, m)
    else:
        for p in exc.problems:
            messages.error(request, f"{p.path}: {p.reason}" if p.path else str(p.reason))


# --------------------------------------------------------------------------- list, create


@login_required
@require_GET
def ruleset_list(request: HttpRequest) -> HttpResponse:
    rows = selectors.rulesets_for_scope(request.scope)
    versions = [r.version for r, _c, _l in rows]
    return render(
        request,
        "rules/list.html",
        {
            "rows": rows,
            "create_form": DraftCreateForm(),
            "diff_form": DiffForm(versions=versions),
        },
    )


@login_required
@require_POST
def ruleset_create(request: HttpRequest) -> HttpResponse:
    _admin(request)
    source = selectors.ruleset_for_scope(request.scope, public_id=request.POST.get("source"))
    form = DraftCreateForm(request.POST)
    if not form.is_valid():
        for errs in form.errors.values():
            for e in errs:
                messages.error(request, e)
        return redirect("rules:ruleset-list")
    try:
        draft = services.ruleset_draft_create(
            scope=request.scope,
            actor=request.user,
            source=source,
            version=form.cleaned_data["version"],
        )
    except RuleSetError as exc:
        _flash_errors(request, exc)
        return redirect("rules:ruleset-list")
    messages.success(request, _("Черновик «%(version)s» создан.") % {"version": draft.version})
    return redirect("rules:ruleset-edit", public_id=draft.public_id)


# --------------------------------------------------------------------------- detail


def _golden_rows(ruleset: RuleSet) -> list[Any]:
    try:
        compiled = compile_ruleset(ruleset.document)
    except RuleSetError:
        return []
    return golden_cases_run(compiled)


@login_required
@require_GET
def ruleset_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    scope = request.scope
    ruleset = selectors.ruleset_for_scope(scope, public_id=public_id)
    code, label = selectors.ruleset_display_status(ruleset)
    golden = _golden_rows(ruleset)
    approvals = list(selectors.ruleset_approvals(scope, ruleset=ruleset))
    for a in approvals:
        a.current = a.document_sha256 == ruleset.document_sha256
    previews = list(selectors.impact_previews_for_scope(scope, ruleset=ruleset)[:10])
    for p in previews:
        p.current = p.document_sha256 == ruleset.document_sha256
    is_draft = ruleset.status == RuleSetStatus.DRAFT
    rescores = list(selectors.rescore_batches_for_scope(scope, ruleset=ruleset)[:5])
    gates = services.ruleset_publish_problems(ruleset) if is_draft else []
    today = timezone.localdate()
    return render(
        request,
        "rules/detail.html",
        {
            "ruleset": ruleset,
            "status_code": code,
            "status_label": label,
            "is_draft": is_draft,
            "golden": golden,
            "golden_failed": sum(not r.passed for r in golden),
            "approvals": approvals,
            "previews": previews,
            "can_rescore": ruleset.status == RuleSetStatus.PUBLISHED,
            "rescores": rescores,
            "events": selectors.ruleset_history(scope, ruleset=ruleset)[:100],
            "gates": gates,
            "is_author": ruleset.created_by_id == request.user.pk,
            "preview_form": PreviewForm(
                initial={
                    "period_from": today.replace(year=today.year - 1)
                    if not (today.month == 2 and today.day == 29)
                    else today.replace(year=today.year - 1, day=28),
                    "period_to": today,
                }
            ),
            "publish_form": PublishForm(initial={"effective_from": today}),
        },
    )


@login_required
@require_GET
def ruleset_document(request: HttpRequest, public_id: Any) -> HttpResponse:
    ruleset = selectors.ruleset_for_scope(request.scope, public_id=public_id)
    response = JsonResponse(
        ruleset.document, json_dumps_params={"ensure_ascii": False, "indent": 2}
    )
    response["Content-Disposition"] = f'attachment; filename="{ruleset.version}.json"'
    return response


# --------------------------------------------------------------------------- editor


@login_required
@require_http_methods(["GET", "POST"])
def ruleset_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    ruleset = selectors.ruleset_for_scope(request.scope, public_id=public_id)
    if ruleset.status != RuleSetStatus.DRAFT:
        messages.warning(
            request,
            _("Опубликованный набор правил неизменяем: создайте из него новый черновик."),
        )
        return redirect("rules:ruleset-detail", public_id=ruleset.public_id)
    editor = RuleSetEditor(ruleset.document, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if editor.is_valid():
            try:
                saved, changed = services.ruleset_draft_save(
                    scope=request.scope,
                    actor=request.user,
                    ruleset=ruleset,
                    document=editor.document,
                )
            except (ValidationError, RuleSetError) as exc:
                _flash_errors(request, exc)
                return redirect("rules:ruleset-detail", public_id=ruleset.public_id)
            if changed:
                golden = _golden_rows(saved)
                failed = sum(not r.passed for r in golden)
                messages.success(
                    request,
                    _("Черновик сохранён. Эталонные случаи: пройдено %(ok)s, не пройдено %(bad)s.")
                    % {"ok": len(golden) - failed, "bad": failed},
                )
            else:
                messages.info(request, _("Изменений нет."))
            return redirect("rules:ruleset-detail", public_id=ruleset.public_id)
        messages.error(request, _("Черновик не сохранён: исправьте отмеченные поля."))
    return render(
        request,
        "rules/edit.html",
        {
            "ruleset": ruleset,
            "editor": editor,
            "criterion_kinds": {c.code: c.kind for c in CRITERIA},
        },
        status=200 if request.method == "GET" or not editor.has_errors else 400,
    )


# --------------------------------------------------------------------------- approve, publish


@login_required
@require_POST
def ruleset_approve(request: HttpRequest, public_id: Any) -> HttpResponse:
    ruleset = selectors.ruleset_for_scope(request.scope, public_id=public_id)
    try:
        services.ruleset_approve(scope=request.scope, actor=request.user, ruleset=ruleset)
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, _("Черновик одобрен."))
    return redirect("rules:ruleset-detail", public_id=ruleset.public_id)


@login_required
@require_POST
def ruleset_publish(request: HttpRequest, public_id: Any) -> HttpResponse:
    ruleset = selectors.ruleset_for_scope(request.scope, public_id=public_id)
    form = PublishForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Укажите дату начала действия."))
        return redirect("rules:ruleset-detail", public_id=ruleset.public_id)
    try:
        published = services.ruleset_publish_governed(
            scope=request.scope,
            actor=request.user,
            ruleset=ruleset,
            effective_from=form.cleaned_data["effective_from"],
        )
    except (ValidationError, RuleSetError) as exc:
        messages.error(request, _("Публикация отклонена."))
        _flash_errors(request, exc)
    else:
        messages.success(
            request,
            _("Набор правил «%(version)s» опубликован, действует с %(date)s.")
            % {"version": published.version, "date": published.effective_from.isoformat()},
        )
    return redirect("rules:ruleset-detail", public_id=ruleset.public_id)


# --------------------------------------------------------------------------- impact preview


@login_required
@require_POST
def preview_start(request: HttpRequest, public_id: Any) -> HttpResponse:
    ruleset = selectors.ruleset_for_scope(request.scope, public_id=public_id)
    form = PreviewForm(request.POST)
    if not form.is_valid():
        for errs in form.errors.values():
            for e in errs:
                messages.error(request, e)
        return redirect("rules:ruleset-detail", public_id=ruleset.public_id)
    try:
        preview = services.impact_preview_start(
            scope=request.scope,
            actor=request.user,
            ruleset=ruleset,
            period_from=form.cleaned_data["period_from"],
            period_to=form.cleaned_data["period_to"],
        )
    except ValidationError as exc:
        _flash_errors(request, exc)
        return redirect("rules:ruleset-detail", public_id=ruleset.public_id)
    return redirect("rules:preview-detail", public_id=preview.public_id)


@login_required
@require_GET
def preview_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    _admin(request)
    preview = selectors.impact_preview_for_scope(request.scope, public_id=public_id)
    return render(request, "rules/preview.html", _preview_context(preview))


def _preview_context(preview: Any) -> dict[str, Any]:
    result = preview.result or {}
    school_rows, region_rows = selectors.impact_rows_localized(result)
    schools = sorted(school_rows, key=lambda s: (-s.get("changed", 0), s.get("name", "")))
    regions = sorted(region_rows, key=lambda r: r.get("name", ""))
    return {
        "preview": preview,
        "result": result,
        "matrix_rows": list(enumerate(result.get("matrix") or [], start=1)),
        "categories": range(1, 7),
        "schools": schools,
        "regions": regions,
        "finished": preview.is_finished,
        "done": preview.status == ImpactPreviewStatus.DONE,
    }


@login_required
@require_GET
def preview_progress(request: HttpRequest, public_id: Any) -> HttpResponse:
    _admin(request)
    preview = selectors.impact_preview_for_scope(request.scope, public_id=public_id)
    response = render(request, "rules/partials/_preview_progress.html", {"preview": preview})
    if preview.is_finished and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_GET
def preview_affected(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Affected aid requests of the viewer's own school(s): school staff and auditors only."""
    scope = request.scope
    if not scope.sees_family_data:
        raise PermissionDenied
    preview = selectors.impact_preview_for_scope(scope, public_id=public_id)
    requests_ = list(selectors.impact_affected_requests(scope, preview=preview)[:500])
    audit_record(
        action="rules.preview_affected_view",
        scope=scope,
        actor=request.user,
        object_type="impact_preview",
        object_id=str(preview.public_id),
        school_id=scope.school_id,
        ip=client_ip(request),
        detail={"count": len(requests_)},
    )
    return render(
        request, "rules/preview_affected.html", {"preview": preview, "requests": requests_}
    )


# --------------------------------------------------------------------------- re-scoring


@login_required
@require_POST
def rescore_start(request: HttpRequest, public_id: Any) -> HttpResponse:
    ruleset = selectors.ruleset_for_scope(request.scope, public_id=public_id)
    try:
        services.rules_rescore_start(scope=request.scope, ruleset=ruleset, actor=request.user)
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(
            request,
            _("Пересчёт открытых заявок по версии «%(version)s» запущен.")
            % {"version": ruleset.version},
        )
    return redirect("rules:ruleset-detail", public_id=ruleset.public_id)


@login_required
@require_GET
def rescore_progress(request: HttpRequest, public_id: Any) -> HttpResponse:
    batch = selectors.rescore_batch_for_scope(request.scope, public_id=public_id)
    response = render(request, "rules/partials/_rescore_progress.html", {"batch": batch})
    if batch.is_finished and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


# --------------------------------------------------------------------------- golden cases


@login_required
@require_http_methods(["GET", "POST"])
def golden_list(request: HttpRequest) -> HttpResponse:
    scope = request.scope
    cases = selectors.golden_cases_for_scope(scope)
    form = GoldenCaseForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.golden_case_create(
                    scope=scope,
                    actor=request.user,
                    name=data["name"],
                    expected_category=data["expected_category"],
                    expected_high_welfare=data.get("expected_high_welfare"),
                    card=data.get("card"),
                    assessment_public_id=data.get("assessment_id"),
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, errs in exc.message_dict.items():
                        target = field if field in form.fields else None
                        for e in errs:
                            form.add_error(target, e)
                else:
                    for e in exc.messages:
                        form.add_error(None, e)
            except CardError as exc:
                shown = "; ".join(f"{p.path or '—'}: {p.reason}" for p in exc.problems[:5])
                form.add_error(None, _("Это не карта семьи family-card/1: %(p)s") % {"p": shown})
            else:
                if data.get("assessment_id"):
                    messages.success(
                        request,
                        _(
                            "Эталонный случай добавлен: сохранена обезличенная копия карты "
                            "(идентификаторы заменены, даты сдвинуты, категория та же)."
                        ),
                    )
                else:
                    messages.success(request, _("Эталонный случай добавлен."))
                return redirect("rules:golden-list")
        status = 400
    return render(request, "rules/golden.html", {"cases": cases, "form": form}, status=status)


@login_required
@require_POST
def golden_toggle(request: HttpRequest, public_id: Any) -> HttpResponse:
    _admin(request)
    try:
        case = selectors.golden_cases_for_scope(request.scope).get(public_id=public_id)
    except (GoldenCase.DoesNotExist, ValidationError):
        from django.http import Http404

        raise Http404 from None
    services.golden_case_set_active(
        scope=request.scope, actor=request.user, case=case, active=not case.active
    )
    return redirect("rules:golden-list")


# --------------------------------------------------------------------------- diff


@login_required
@require_GET
def ruleset_diff_view(request: HttpRequest) -> HttpResponse:
    rows_all = selectors.rulesets_for_scope(request.scope)
    by_version = {r.version: r for r, _c, _l in rows_all}
    form = DiffForm(request.GET or None, versions=list(by_version))
    rows = None
    old = new = None
    if form.is_valid():
        old = by_version[form.cleaned_data["old"]]
        new = by_version[form.cleaned_data["new"]]
        rows = [
            {
                "path": r.path,
                "change": r.change,
                "old": json.dumps(r.old, ensure_ascii=False),
                "new": json.dumps(r.new, ensure_ascii=False),
            }
            for r in ruleset_diff(old.document, new.document)
        ]
    return render(request, "rules/diff.html", {"form": form, "rows": rows, "old": old, "new": new})
