"""Admin: read-only views of requests, assessments and the audit log (writes go through
services). Family data never gets a search, a filter or a sortable column in the admin, and
no lookup through the URL (``?student_iin=…``, ``?card__members__0__iin=…``); every view of one
object with family data writes an audit event. Family-level data itself (names, ИИН, card,
criteria) is shown, audited, in the portal's own pages only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from portal.accounts.throttle import client_ip
from portal.audit.models import AuditEvent
from portal.audit.services import audit_record
from portal.requests.models import AidRequest
from scoring.admin import ReadOnlyAdmin
from scoring.models import Assessment


class LockedLookupsAdmin(ReadOnlyAdmin):
    """No search and no filtering beyond the declared ``list_filter`` (Django otherwise accepts
    any lookup on a local field from the query string, e.g. ``?card__icontains=…``)."""

    search_fields: tuple[str, ...] = ()
    list_filter: tuple[str, ...] = ()
    date_hierarchy = None

    def lookup_allowed(self, lookup: str, value: Any, request: HttpRequest | None = None) -> bool:
        return lookup in set(self.list_filter) or any(
            lookup.startswith(f"{name}__") and lookup.count("__") == 1 for name in self.list_filter
        )

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        from django.contrib.admin.views.main import SEARCH_VAR
        from django.shortcuts import redirect

        if not self.search_fields and SEARCH_VAR in request.GET:
            params = request.GET.copy()
            del params[SEARCH_VAR]
            return redirect(f"{request.path}?{params.urlencode()}")  # no search: not even echoed
        return super().changelist_view(request, extra_context)

    def get_sortable_by(self, request: HttpRequest) -> tuple[str, ...]:
        return ("created_at",) if "created_at" in self.list_display else ()


class FamilyDataAdmin(LockedLookupsAdmin):
    """A model with family data: an unsearchable, unfiltered list of non-family columns, and an
    audit event for every object view."""

    audit_object_type = ""

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = getattr(response, "context_data", {}).get("original") if response else None
        if response.status_code == 200 and obj is not None:
            audit_record(
                action="admin.view",
                scope=request.scope,
                actor=request.user,
                object_type=self.audit_object_type,
                object_id=str(getattr(obj, "public_id", obj.pk)),
                school_id=self.school_id_of(obj),
                ip=client_ip(request),
                detail={"via": "admin"},
            )
        return response

    def school_id_of(self, obj: Any) -> int | None:
        return None

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied  # read-only models: nothing to show, nothing to enumerate


@admin.register(AuditEvent)
class AuditEventAdmin(LockedLookupsAdmin):
    list_display = ("created_at", "actor_username", "role", "action", "object_type", "outcome")
    list_filter = ("action", "outcome")
    search_fields = ("actor_username", "object_id")


@admin.register(AidRequest)
class AidRequestAdmin(FamilyDataAdmin):
    list_display = ("public_id", "school", "academic_year", "created_at")
    list_select_related = ("school",)
    ordering = ("-created_at",)
    audit_object_type = "aid_request"
    # Family-level data is shown, with an audit event, in the portal's own pages only.
    exclude = (
        "student_iin",
        "student_full_name",
        "guardian_iin",
        "guardian_full_name",
        "guardian_phone",
        "comment",
        "consent_reference",
    )

    def school_id_of(self, obj: AidRequest) -> int | None:
        return obj.school_id


@admin.register(Assessment)
class AssessmentAdmin(FamilyDataAdmin):
    """An assessment's result and provenance (never the card or the trace), one at a time."""

    list_display = ("public_id", "ruleset_version", "created_at")
    ordering = ("-created_at",)
    audit_object_type = "assessment"
    fields = (
        "public_id",
        "category",
        "high_welfare",
        "markers",
        "ruleset",
        "ruleset_version",
        "card_sha256",
        "previous_public_id",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description=_("предыдущая оценка"))
    def previous_public_id(self, obj: Assessment) -> str:
        return str(obj.previous.public_id) if obj.previous_id else "—"
