"""Template tags of the request pages: thin calls into :mod:`portal.requests.selectors`.

They let the detail page's partials fetch what they show with the page's own scope, so the
page includes each partial with one line::

    {% load aid_requests %}{% aid_request_explanation v.assessment as ex %}
    {% aid_request_history req as history %}
"""

from __future__ import annotations

from typing import Any

from django import template

from portal.requests import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def aid_request_explanation(
    context: template.Context, assessment: Any
) -> selectors.AssessmentExplanation | None:
    return selectors.aid_request_explanation(scope=context["request"].scope, assessment=assessment)


@register.simple_tag(takes_context=True)
def aid_request_history(
    context: template.Context, aid_request: Any
) -> list[selectors.HistoryEntry]:
    return selectors.aid_request_history(scope=context["request"].scope, request=aid_request)
