"""``{% money_panel req %}``: on the request page, what is left of the school's budget and
other schools' requests for the same child (one child, one grant: school and code only)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("budgets/partials/_money_panel.html", takes_context=True)
def money_panel(context: Any, req: Any) -> dict[str, Any]:
    from portal.budgets.duplicates import aid_request_duplicates
    from portal.budgets.selectors import budget_left

    scope = context["request"].scope
    return {
        "left": budget_left(scope=scope, school_id=req.school_id, academic_year=req.academic_year),
        "year": req.academic_year,
        "duplicates": aid_request_duplicates(aid_request=req),
    }
