"""Reads for the privacy pages (first keyword argument: the scope)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from portal.privacy.models import RetentionHold
from portal.privacy.register import PersonalData, personal_data_register


def register_for_scope(*, scope: Any) -> list[PersonalData]:
    """The register of processing: auditors and administrators (rules, network, superuser)."""
    if scope is None or not (scope.can_audit or scope.can_admin_rules or scope.can_admin_network):
        raise PermissionDenied(_("Реестр обработки данных доступен аудиторам и администраторам."))
    return personal_data_register()


def retention_holds_for_scope(*, scope: Any) -> QuerySet[RetentionHold]:
    if scope is None or not scope.can_audit:
        raise PermissionDenied(_("Удержания данных доступны только аудиторам."))
    return RetentionHold.objects.select_related("request", "placed_by", "released_by")
