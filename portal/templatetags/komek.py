from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

register = template.Library()


@register.filter
def localized(value: Any) -> str:
    """{"ru": …, "kk": …, "en": …} → the text in the active language (Russian as fallback)."""
    if not isinstance(value, dict):
        return "" if value is None else str(value)
    lang = (get_language() or "ru")[:2]
    return str(value.get(lang) or value.get("ru") or "")


@register.filter(is_safe=True)
def page_title(value: str) -> str:
    """The <title>: "Заявка — Көмек", or the portal's name alone on a page without a title.

    Used as ``{% filter page_title %}{% block title %}{% endblock %}{% endfilter %}``: the
    rendered block is already escaped."""
    from django.utils.html import escape
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext

    text = " ".join(str(value).split())
    if not text:
        return escape(gettext("Көмек — помощь учащимся"))
    return mark_safe(f"{text} — Көмек")  # noqa: S308 - `text` is rendered, escaped template output
