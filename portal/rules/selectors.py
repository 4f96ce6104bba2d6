"""Reads of rules administration. The first argument is always the scope.

Rule sets, golden cases and previews are national reference data for rules administrators; the
affected aid requests of a preview are family-level data and are read only through the aid
requests' own scoping (:func:`impact_affected_requests`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.requests.models import AidRequest
from portal.rules.models import ImpactPreview, ImpactPreviewStatus, RescoreBatch
from schools.scope import Scope, require
from scoring.models import (
    GoldenCase,
    RuleSet,
    RuleSetApproval,
    RuleSetEvent,
    RuleSetStatus,
)

__all__ = [
    "golden_cases_for_scope",
    "impact_affected_requests",
    "impact_preview_for_scope",
    "rescore_batch_for_scope",
    "rescore_batches_for_scope",
    "ruleset_display_status",
    "ruleset_for_scope",
    "ruleset_history",
    "rulesets_for_scope",
]


def _require(scope: Scope) -> None:
    require(scope, "can_admin_rules")


def ruleset_display_status(ruleset: RuleSet, today: dt.date | None = None) -> tuple[str, Any]:
    """``(code, label)``: draft, scheduled (published, not yet in force), in_force, superseded,
    retired."""
    today = today or timezone.localdate()
    if ruleset.status == RuleSetStatus.DRAFT:
        return "draft", _("черновик")
    if ruleset.status == RuleSetStatus.RETIRED:
        return "retired", _("выведен из действия")
    if ruleset.effective_from > today:
        return "scheduled", _("запланирован")
    current = (
        RuleSet.objects.filter(status=RuleSetStatus.PUBLISHED, effective_from__lte=today)
        .order_by("-effective_from", "-published_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if current == ruleset.pk:
        return "in_force", _("действует")
    return "superseded", _("заменён более новым")


def rulesets_for_scope(scope: Scope) -> list[tuple[RuleSet, str, Any]]:
    _require(scope)
    today = timezone.localdate()
    rows = list(
        RuleSet.objects.select_related("created_by", "published_by").order_by(
            "-effective_from", "-created_at"
        )
    )
    return [(r, *ruleset_display_status(r, today)) for r in rows]


def ruleset_for_scope(scope: Scope, *, public_id: Any) -> RuleSet:
    _require(scope)
    try:
        return RuleSet.objects.select_related("created_by", "published_by").get(public_id=public_id)
    except (RuleSet.DoesNotExist, ValueError):
        raise Http404 from None


def ruleset_history(scope: Scope, *, ruleset: RuleSet) -> QuerySet[RuleSetEvent]:
    _require(scope)
    return ruleset.events.select_related("actor").order_by("-created_at", "-pk")


def ruleset_approvals(scope: Scope, *, ruleset: RuleSet) -> QuerySet[RuleSetApproval]:
    _require(scope)
    return ruleset.approvals.select_related("approved_by")


def golden_cases_for_scope(scope: Scope) -> QuerySet[GoldenCase]:
    _require(scope)
    return GoldenCase.objects.order_by("name", "pk")


def impact_previews_for_scope(scope: Scope, *, ruleset: RuleSet) -> QuerySet[ImpactPreview]:
    _require(scope)
    return (
        ImpactPreview.objects.filter(ruleset=ruleset)
        .select_related("started_by")
        .order_by("-created_at", "-pk")
    )


def impact_preview_for_scope(scope: Scope, *, public_id: Any) -> ImpactPreview:
    """A preview for a rules administrator, or for school staff/auditors (their schools only
    are ever shown to them)."""
    if not (scope.is_rules_admin or scope.sees_family_data):
        raise PermissionDenied
    try:
        return ImpactPreview.objects.select_related("ruleset").get(public_id=public_id)
    except (ImpactPreview.DoesNotExist, ValueError):
        raise Http404 from None


def rescore_batches_for_scope(scope: Scope, *, ruleset: RuleSet) -> QuerySet[RescoreBatch]:
    _require(scope)
    return (
        RescoreBatch.objects.filter(ruleset=ruleset)
        .select_related("started_by")
        .order_by("-created_at", "-pk")
    )


def rescore_batch_for_scope(scope: Scope, *, public_id: Any) -> RescoreBatch:
    _require(scope)
    try:
        return RescoreBatch.objects.select_related("ruleset").get(public_id=public_id)
    except (RescoreBatch.DoesNotExist, ValueError):
        raise Http404 from None


def impact_affected_requests(scope: Scope, *, preview: ImpactPreview) -> QuerySet[AidRequest]:
    """The aid requests whose category or high-welfare flag the draft would change, limited to
    the schools whose family data the scope may see (none for a rules administrator)."""
    if not scope.sees_family_data or preview.status != ImpactPreviewStatus.DONE:
        return AidRequest.objects.none()
    ids: list[str] = []
    for school_id, row in (preview.result.get("schools") or {}).items():
        if scope.contains_school(int(school_id)):
            ids.extend(row.get("affected", []))
    return (
        AidRequest.objects.for_scope(scope)
        .filter(public_id__in=ids)
        .select_related("school")
        .order_by("school_id", "-created_at")
    )


def impact_rows_localized(result: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    """The per-school and per-region rows of a stored preview, named in the active language
    (the stored result keeps ids; names are looked up now)."""
    from schools.models import Region, School

    school_rows = dict(result.get("schools") or {})
    region_rows = dict(result.get("regions") or {})
    schools = School.objects.select_related("district").in_bulk(
        [int(k) for k in school_rows if str(k).isdigit()]
    )
    regions = Region.objects.in_bulk([int(k) for k in region_rows if str(k).isdigit()])
    out_schools = []
    for key, row in school_rows.items():
        school = schools.get(int(key)) if str(key).isdigit() else None
        if school is not None:
            row = {**row, "name": school.name, "district": school.district.name}
        out_schools.append(row)
    out_regions = []
    for key, row in region_rows.items():
        region = regions.get(int(key)) if str(key).isdigit() else None
        out_regions.append({**row, "name": region.name} if region is not None else row)
    return out_schools, out_regions
