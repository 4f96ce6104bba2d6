"""Reads of payments. The first keyword argument is always `scope`."""

from __future__ import annotations

from django.db.models import QuerySet

from portal.payments.models import Payment
from schools.scope import Scope, require


def payments_for_scope(*, scope: Scope, academic_year: str) -> QuerySet[Payment]:
    """The payments of the scope's schools for the year (the school's own staff), newest
    first, with their request."""
    require(scope, "can_act_on_requests")
    return (
        Payment.objects.filter(
            decision__request__school_id__in=scope.school_ids,
            decision__request__academic_year=academic_year,
        )
        .select_related("decision__request")
        .order_by("-created_at", "-id")
    )
