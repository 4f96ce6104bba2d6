"""Reads of the audit log (auditors only). The first keyword argument is always `scope`."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from portal.audit.models import AuditEvent
from portal.audit.services import AuditAction
from schools.scope import Scope

PEOPLE = "people"
SYSTEM = "system"
ALL = "all"
#: Actions that are a person looking at family-level data of one request.
REQUEST_VIEW_ACTIONS = (AuditAction.AID_REQUEST_VIEW.value, AuditAction.ADMIN_VIEW.value)
#: At most this many rows on the "all views of this person" page (newest first).
PERSON_VIEWS_LIMIT = 1000


def _require_auditor(scope: Any) -> None:
    if not scope.is_auditor:
        raise PermissionDenied(_("Журнал аудита доступен только аудиторам."))


def _actor_ids_matching(person: str) -> QuerySet:
    """Users whose login, e-mail or full name matches ``person``."""
    person = person.strip()
    return (
        get_user_model()
        .objects.filter(
            Q(username__iexact=person)
            | Q(email__iexact=person)
            | Q(membership__full_name__icontains=person)
        )
        .values("pk")
    )


def _school_ids_matching(school: str) -> QuerySet:
    from schools.models import School

    school = school.strip()
    return School.objects.filter(
        Q(bin=school) | Q(name_ru__icontains=school) | Q(name_kk__icontains=school)
    ).values("pk")


def audit_events_for_scope(
    *,
    scope: Scope,
    action: str = "",
    user: str = "",
    person: str = "",
    school: str = "",
    request_id: uuid.UUID | None = None,
    kind: str = ALL,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    """Events newest first. ``kind``: ``people`` (a signed-in person acted), ``system``
    (background jobs: scoring, sweeper, re-score batches) or ``all``."""
    _require_auditor(scope)
    qs = AuditEvent.objects.all()
    if action:
        qs = qs.filter(action=action)
    if user:
        qs = qs.filter(actor_username__iexact=user.strip())
    if person:
        qs = qs.filter(
            Q(actor_id__in=_actor_ids_matching(person)) | Q(actor_username__iexact=person.strip())
        )
    if school:
        qs = qs.filter(school_id__in=_school_ids_matching(school))
    if request_id:
        qs = qs.filter(object_type="aid_request", object_id=str(request_id))
    if kind == PEOPLE:
        qs = qs.filter(actor_id__isnull=False)
    elif kind == SYSTEM:
        qs = qs.filter(actor_id__isnull=True)
    if date_from:
        qs = qs.filter(created_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(created_at__date__lte=date_to)
    return qs.order_by("-created_at", "-id")


def _request_public_ids_for_iin(iin: str) -> list[str]:
    """The requests in which this person is the student or the guardian (every school).

    The one place that looks a person up by ИИН for the audit log."""
    from portal.requests.models import AidRequest
    from schools.iinkey import iin_digest

    digest = iin_digest(iin)  # the keyed hash: no ИИН in any SQL statement or log line
    return [
        str(pk)
        for pk in AidRequest.objects.unscoped()
        .filter(Q(student_iin_hmac=digest) | Q(guardian_iin_hmac=digest))
        .values_list("public_id", flat=True)
    ]


def audit_person_views_for_scope(*, scope: Any, iin: str) -> tuple[int, QuerySet[AuditEvent]]:
    """Every view of the requests about the person with this ИИН: (number of requests, events).

    The ИИН is never stored or returned; callers audit the search itself."""
    _require_auditor(scope)
    ids = _request_public_ids_for_iin(iin)
    qs = AuditEvent.objects.filter(
        object_type="aid_request", object_id__in=ids, action__in=REQUEST_VIEW_ACTIONS
    ).order_by("-created_at", "-id")
    return len(ids), qs


def audit_actions(*, scope: Any) -> list[tuple[str, str]]:
    """Every action the log can hold, as (value, label in the reader's language), by label."""
    _require_auditor(scope)
    return sorted(((a.value, str(a.label)) for a in AuditAction), key=lambda p: p[1].lower())
