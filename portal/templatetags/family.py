"""``{% family_panel req %}``: the request page's panel of the family's side (the decision
letter with its downloads and code; the notices sent to the guardian and the opt-out)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("letters/partials/_family_panel.html", takes_context=True)
def family_panel(context: Any, req: Any) -> dict[str, Any]:
    from portal.letters.selectors import letters_for_request
    from portal.notices.selectors import notices_for_request

    request = context["request"]
    scope = request.scope
    return {
        "req": req,
        "letters": letters_for_request(scope=scope, aid_request=req),
        "notices": notices_for_request(scope=scope, aid_request=req),
        "can_act": scope.is_school_staff,
        "csrf_token": context.get("csrf_token"),
    }
