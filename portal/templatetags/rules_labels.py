"""Template filters of the rules pages: words for criterion codes, operators and paths."""

from __future__ import annotations

from typing import Any

from django import template

from portal.rules import labels

register = template.Library()


@register.filter
def criterion_name(code: str, document: Any = None) -> str:
    return labels.criterion_name(str(code), document if isinstance(document, dict) else None)


@register.filter
def effect_name(effect: str) -> str:
    name = labels.EFFECT_NAMES.get(str(effect))
    return str(name) if name is not None else ""


@register.filter
def op_name(op: Any) -> str:
    return labels.OP_NAMES.get(str(op), "") if op else ""


@register.filter
def path_label(path: str, document: Any = None) -> str:
    return labels.path_label(str(path), document if isinstance(document, dict) else None)


@register.filter
def path_labels(paths: Any, document: Any = None) -> list[str]:
    doc = document if isinstance(document, dict) else None
    out: list[str] = []
    for p in paths or []:
        text = labels.path_label(str(p), doc)
        if text not in out:
            out.append(text)
    return out


@register.filter
def threshold(value: Any) -> str:
    """A threshold as a person writes it: да/нет for booleans, the number otherwise."""
    from django.utils.translation import gettext as _

    if isinstance(value, bool):
        return _("да") if value else _("нет")
    if isinstance(value, dict) and "decimal" in value:
        return str(value["decimal"])
    return "" if value is None else str(value)


@register.filter
def criterion_names(codes: Any, document: Any = None) -> list[str]:
    doc = document if isinstance(document, dict) else None
    return [labels.criterion_name(str(c), doc) for c in codes or []]
