from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def navigation(request: HttpRequest) -> dict:
    """Navigation built from the scope's capabilities (`schools.scope.Scope.can_*`)."""
    user = getattr(request, "user", None)
    scope = getattr(request, "scope", None)  # absent on errors raised before ScopeMiddleware
    if user is None or scope is None or not user.is_authenticated:
        return {"nav_items": []}
    items = [(_("Главная"), reverse("portal:home"))]
    if scope.can_view_schools:
        items.append((_("Школы"), reverse("schools:school-list")))
    if scope.can_act_on_requests or scope.can_audit:
        items.append((_("Заявки"), reverse("requests:aid-request-list")))
    if scope.can_act_on_requests or scope.can_review_appeals or scope.can_audit:
        items.append((_("Жалобы"), reverse("appeals:appeal-list")))
    if scope.can_sign_decisions:
        items.append((_("Подписи"), reverse("requests:signature-list")))
    if scope.can_act_on_requests:
        items.append((_("Платежи"), reverse("payments:payment-list")))
    if scope.can_view_stats:
        items.append((_("Статистика"), reverse("stats:dashboard")))
    if scope.can_view_budgets:
        items.append((_("Бюджеты"), reverse("budgets:budget-list")))
    if scope.can_audit:
        items.append((_("Журнал аудита"), reverse("audit:audit-event-list")))
    if scope.can_admin_rules:
        items.append((_("Правила оценки"), reverse("rules:ruleset-list")))
    if scope.can_admin_network:
        items.append((_("Школы и сотрудники"), reverse("administration:home")))
    if scope.can_use_admin:
        items.append((_("Администрирование"), reverse("admin:index")))
    return {"nav_items": items}
