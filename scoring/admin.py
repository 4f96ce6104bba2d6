"""Read-only admin for rule sets and assessments.

Rule sets change only through ``manage.py rules import`` and the publishing service.
Assessments hold family data: the admin shows their result and provenance, never the card or
the trace (family-level data is shown, with an audit event, in the portal's own pages).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from scoring.models import Assessment, RuleSet


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


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "category", "ruleset", "created_at")
    list_filter = ("category", "ruleset")
    list_select_related = ("ruleset",)
    ordering = ("-created_at",)
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
