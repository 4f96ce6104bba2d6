from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def navigation(request: HttpRequest) -> dict:
    """Navigation by role, built from the scope."""
    user = getattr(request, "user", None)
    scope = getattr(request, "scope", None)  # absent on errors raised before ScopeMiddleware
    if user is None or scope is None or not user.is_authenticated:
        return {"nav_items": []}
    items = [(_("Главная"), reverse("portal:home"))]
    if scope.is_analyst or scope.is_superuser:
        items.append((_("Школы"), reverse("schools:school-list")))
    if scope.is_school_staff or scope.is_auditor:
        items.append((_("Заявки"), reverse("requests:aid-request-list")))
    if scope.is_analyst or scope.is_school_staff or scope.is_superuser:
        items.append((_("Статистика"), reverse("stats:dashboard")))
    if scope.is_auditor:
        items.append((_("Журнал аудита"), reverse("audit:audit-event-list")))
    if scope.is_rules_admin:
        items.append((_("Правила оценки"), reverse("rules:ruleset-list")))
    if scope.is_rules_admin or scope.is_auditor:
        items.append((_("Администрирование"), reverse("admin:index")))
    return {"nav_items": items}
