"""Read-only admin for rule sets.

Rule sets change only through ``manage.py rules import`` and the publishing service.
Assessments hold family data: their (audited, unsearchable) admin lives in ``portal/admin.py``,
next to the audit log it writes to.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from scoring.models import RuleSet


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RuleSet)
class RuleSetAdmin(ReadOnlyAdmin):
    list_display = ("version", "status", "effective_from", "published_at")
    list_filter = ("status",)
    search_fields = ("version",)
    ordering = ("-effective_from", "version")
    fields = (
        "version",
        "status",
        "effective_from",
        "document_sha256",
        "created_at",
        "created_by",
        "published_at",
        "published_by",
        "document",
    )
    readonly_fields = fields
