"""Reads of the audit log (auditors only). The first keyword argument is always `scope`."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from portal.audit.models import AuditEvent
from schools.scope import Scope, require


def audit_events_for_scope(
    *,
    scope: Scope,
    action: str = "",
    user: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    require(scope, "can_audit", _("Журнал аудита доступен только аудиторам."))
    qs = AuditEvent.objects.all()
    if action:
        qs = qs.filter(action=action)
    if user:
        qs = qs.filter(actor_username__iexact=user.strip())
    if date_from:
        qs = qs.filter(created_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(created_at__date__lte=date_to)
    return qs.order_by("-created_at", "-id")


def audit_actions(*, scope: Scope) -> list[str]:
    require(scope, "can_audit")
    return list(AuditEvent.objects.values_list("action", flat=True).distinct().order_by("action"))
