"""Admin: read-only views of requests and the audit log (writes go through services)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from portal.models import AidRequest, AuditEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_username", "role", "action", "object_type", "outcome")
    list_filter = ("action", "outcome")
    search_fields = ("actor_username", "object_id")


@admin.register(AidRequest)
class AidRequestAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "school", "aid_kind", "academic_year", "status", "created_at")
    list_filter = ("status", "aid_kind", "ground")
    exclude = ("student_iin", "student_full_name", "guardian_iin", "guardian_full_name")
