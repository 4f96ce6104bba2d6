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
