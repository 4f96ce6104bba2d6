"""Reads for aid requests. The first keyword argument is always `scope`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from portal.requests.models import AidRequest, AidRequestScoring, Decision
from portal.requests.recommendation import Recommendation, recommend
from schools.identifiers import is_twelve_digits
from schools.iinkey import iin_digest
from schools.scope import Scope, require

SORTS = {
    "created": "created_at",
    "-created": "-created_at",
    "name": "student_full_name",
    "-name": "-student_full_name",
    "amount": "amount_kzt",
    "-amount": "-amount_kzt",
    "status": "status",
    "-status": "-status",
}
FILTERS = ("status", "ground", "aid_kind", "academic_year")


def require_family_access(scope: Scope) -> None:
    """Family-level data: the school's own staff, auditors and superusers only (else 403)."""
    require(scope, "sees_family_data", _("Данные семей видят только сотрудники школы и аудиторы."))


def aid_requests_for_scope(
    *,
    scope: Scope,
    filters: dict[str, Any] | None = None,
    search: str = "",
    sort: str = "-created",
) -> QuerySet[AidRequest]:
    require_family_access(scope)
    qs = AidRequest.objects.for_scope(scope).select_related("school")
    filters = filters or {}
    for name in FILTERS:
        if filters.get(name):
            qs = qs.filter(**{name: filters[name]})
    if filters.get("category"):
        qs = qs.filter(
            scorings__attempt=F("attempt"), scorings__assessment__category=filters["category"]
        )
    search = (search or "").strip()
    if search:
        if is_twelve_digits(search):
            # a whole ИИН: looked up through its keyed hash (never in a query's text)
            digest = iin_digest(search)
            qs = qs.filter(Q(student_iin_hmac=digest) | Q(guardian_iin_hmac=digest))
        elif search.isascii() and search.isdigit():
            qs = qs.filter(Q(student_iin__startswith=search) | Q(guardian_iin__startswith=search))
        else:
            qs = qs.filter(
                Q(student_full_name__icontains=search) | Q(guardian_full_name__icontains=search)
            )
    return qs.order_by(SORTS.get(sort, "-created_at"), "-id")


def aid_request_get(*, scope: Scope, public_id: Any) -> AidRequest:
    """One request in scope; missing and out-of-scope are the same 404."""
    require_family_access(scope)
    try:
        return AidRequest.objects.for_scope(scope).select_related("school").get(public_id=public_id)
    except (AidRequest.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


@dataclass
class AidRequestView:
    """Everything the detail page / API shows about one request."""

    aid_request: AidRequest
    assessment: Any
    recommendation: Recommendation | None
    decision: Decision | None
    decisions: list[Decision]
    category_label: str
    marker_labels: list[str]
    criteria: list[dict[str, Any]]
    history: list[Any]


def _compiled(assessment: Any) -> Any:
    """The assessment's rule set, compiled (cached per process): it owns the labels."""
    from scoring.selectors import compiled_ruleset

    return compiled_ruleset(assessment.ruleset)


def _lang(lang: str | None) -> str:
    code = (lang or get_language() or "ru")[:2]
    return code if code in {"ru", "kk", "en"} else "ru"


def category_label(assessment: Any, lang: str | None = None) -> str:
    return _compiled(assessment).category_label(assessment.category, _lang(lang))


def marker_labels(assessment: Any, lang: str | None = None) -> list[str]:
    """The markers that fired, named in the user's language (the reason for category 6)."""
    compiled = _compiled(assessment)
    return [compiled.criterion_label(code, _lang(lang)) for code in assessment.markers or []]


def criteria_rows(assessment: Any, lang: str | None = None) -> list[dict[str, Any]]:
    """Per criterion: label, value, and each comparison (effect, op, threshold, fired)."""
    compiled, language = _compiled(assessment), _lang(lang)
    rows = []
    for entry in (assessment.trace or {}).get("criteria", []):
        value = entry.get("value")
        if isinstance(value, dict):
            value = value.get("decimal")
        rows.append(
            {
                "code": entry["code"],
                "label": compiled.criterion_label(entry["code"], language),
                "value": value,
                "checks": entry.get("checks", []),
                "fired": any(c.get("fired") for c in entry.get("checks", [])),
            }
        )
    return rows


def aid_request_view(*, scope: Scope, aid_request: AidRequest) -> AidRequestView:
    require_family_access(scope)
    scoring_rows = list(
        AidRequestScoring.objects.select_related("assessment", "assessment__ruleset")
        .filter(request=aid_request)
        .order_by("-attempt")
    )
    assessment = scoring_rows[0].assessment if scoring_rows else None
    rec = recommend(assessment.category, assessment.markers) if assessment else None
    decisions = list(Decision.objects.filter(request=aid_request).order_by("-created_at"))
    return AidRequestView(
        aid_request=aid_request,
        assessment=assessment,
        recommendation=rec,
        decision=decisions[0] if decisions else None,
        decisions=decisions,
        category_label=category_label(assessment) if assessment else "",
        marker_labels=marker_labels(assessment) if assessment else [],
        criteria=criteria_rows(assessment) if assessment else [],
        history=[s.assessment for s in scoring_rows[1:]],
    )
