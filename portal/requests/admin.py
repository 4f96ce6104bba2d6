"""Admin: a read-only view of aid requests (writes go through services)."""

from __future__ import annotations

from django.contrib import admin

from portal.requests.models import AidRequest
from scoring.admin import ReadOnlyAdmin


@admin.register(AidRequest)
class AidRequestAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "school", "aid_kind", "academic_year", "status", "created_at")
    list_filter = ("status", "aid_kind", "ground")
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
