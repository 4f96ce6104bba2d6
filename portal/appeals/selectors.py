"""Reads of appeals, scoped: the school's staff see their school's, the district's reviewer the
district's, the auditor every one. A reviewer sees family-level data only through an appeal of
the district (the request's own pages stay closed to the role)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.appeals import corrections
from portal.appeals.models import Appeal, AppealAttachment
from schools.scope import Scope

FILTERS = ("open", "overdue", "decided", "all")


def require_appeal_reader(scope: Scope) -> None:
    if not (scope.can_review_appeals or scope.sees_family_data):
        raise PermissionDenied(_("Жалобы видят школа, отдел образования района и аудитор."))


def appeals_for_scope(
    *, scope: Scope, state: str = "open", today: dt.date | None = None
) -> QuerySet[Appeal]:
    """The appeals the scope may read, newest first; ``state``: open (default), overdue,
    decided or all. Overdue first among open ones (the oldest deadline first)."""
    require_appeal_reader(scope)
    qs = Appeal.objects.for_scope(scope).select_related("request", "school", "decision")
    today = today or timezone.localdate()
    if state == "open":
        return qs.open().order_by("answer_due", "filed_at", "id")
    if state == "overdue":
        return qs.overdue(today).order_by("answer_due", "filed_at", "id")
    if state == "decided":
        return qs.filter(status=Appeal.Status.DECIDED).order_by("-decided_at", "-id")
    return qs.order_by("-filed_at", "-id")


def appeal_get(*, scope: Scope, public_id: Any) -> Appeal:
    """One appeal in scope; any other is indistinguishable from a missing one (404)."""
    require_appeal_reader(scope)
    try:
        return (
            Appeal.objects.for_scope(scope)
            .select_related("request", "request__school", "school", "decision", "new_decision")
            .get(public_id=public_id)
        )
    except (Appeal.DoesNotExist, ValidationError, ValueError) as exc:
        raise Http404 from exc


def appeals_of_request(*, request: Any) -> list[Appeal]:
    """The appeals of a request its reader already reached through the scope."""
    return list(
        Appeal.objects.filter(request=request)
        .select_related("decision", "new_decision")
        .prefetch_related("attachments")
        .order_by("-filed_at", "-id")
    )


def attachment_get(*, scope: Scope, public_id: Any) -> AppealAttachment:
    require_appeal_reader(scope)
    try:
        return (
            AppealAttachment.objects.select_related("appeal")
            .filter(appeal__in=Appeal.objects.for_scope(scope))
            .get(public_id=public_id)
        )
    except (AppealAttachment.DoesNotExist, ValidationError, ValueError) as exc:
        raise Http404 from exc


@dataclass
class AppealView:
    appeal: Appeal
    assessment: Any
    explanation: Any  # portal.requests.selectors.AssessmentExplanation | None
    disputed: list[dict[str, Any]]
    attachments: list[AppealAttachment]
    overdue: bool
    category_label: str


def appeal_view(*, scope: Scope, appeal: Appeal, language: str | None = None) -> AppealView:
    """The appeal page's data: the decision, its assessment explained, what is disputed."""
    from portal.requests.selectors import assessment_explanation, category_label

    require_appeal_reader(scope)
    assessment = appeal.decision.assessment
    disputed = [{**e, "label": _label(e["path"])} for e in (appeal.disputed or []) if "path" in e]
    return AppealView(
        appeal=appeal,
        assessment=assessment,
        explanation=assessment_explanation(assessment=assessment, language=language),
        disputed=disputed,
        attachments=list(appeal.attachments.all()),
        overdue=appeal.is_overdue(),
        category_label=category_label(assessment) if assessment else "",
    )


def _label(path: str) -> str:
    try:
        return corrections.label(corrections.parse_path(path))
    except corrections.PathError:
        return path


def disputable_fields(*, scope: Scope, request: Any) -> list[tuple[str, str, Any]]:
    """The card fields of the decision in force that an appeal may dispute."""
    from portal.appeals.rules import decision_in_force

    decision = decision_in_force(request)
    if decision is None or decision.assessment is None:
        return []
    return corrections.leaves(decision.assessment.card or {})
