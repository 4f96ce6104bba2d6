"""Statistics figures in templates: a number in the reader's locale, a hidden one as the mark."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext as _

from portal.stats.suppression import HIDDEN_MARK

register = template.Library()


@register.filter
def stat(value: Any) -> str:
    """``{{ value|stat }}``: 12 345 (grouped as the locale groups), or • when hidden."""
    if value is None:
        return format_html(
            '<span class="stat-hidden" title="{}">{}</span>', _("скрыто"), HIDDEN_MARK
        )
    if isinstance(value, int | float):
        return number_format(value, use_l10n=True, force_grouping=True)
    return str(value)
