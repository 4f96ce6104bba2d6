"""Admin: a read-only view of the audit log (writes go through `audit_record`)."""

from __future__ import annotations

from django.contrib import admin

from portal.audit.models import AuditEvent
from scoring.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_username", "role", "action", "object_type", "outcome")
    list_filter = ("action", "outcome")
    search_fields = ("actor_username", "object_id")
