"""Reads of the audit log (auditors only). The first keyword argument is always `scope`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from portal.audit.models import AuditEvent


def audit_events_for_scope(
    *,
    scope: Any,
    action: str = "",
    user: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    if not scope.is_auditor:
        raise PermissionDenied(_("Журнал аудита доступен только аудиторам."))
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


def audit_actions(*, scope: Any) -> list[str]:
    if not scope.is_auditor:
        raise PermissionDenied
    return list(AuditEvent.objects.values_list("action", flat=True).distinct().order_by("action"))
