"""Parameter-by-parameter comparison of two rule-set documents."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scoring.card import format_path

__all__ = ["DiffRow", "flatten", "ruleset_diff"]

_MISSING = object()


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One parameter path: ``change`` is ``changed``, ``added``, ``removed`` or ``same``."""

    path: str
    change: str
    old: Any
    new: Any


def flatten(doc: Any, parts: tuple[str | int, ...] = ()) -> dict[str, Any]:
    """``{"a": {"b": [1]}}`` → ``{"a.b[0]": 1}``. Empty containers are kept as leaves."""
    out: dict[str, Any] = {}
    if isinstance(doc, Mapping) and doc:
        for key, value in doc.items():
            out.update(flatten(value, (*parts, str(key))))
    elif isinstance(doc, list) and doc:
        for i, value in enumerate(doc):
            out.update(flatten(value, (*parts, i)))
    else:
        out[format_path(parts)] = doc
    return out


def ruleset_diff(
    old: Mapping[str, Any], new: Mapping[str, Any], *, include_same: bool = False
) -> list[DiffRow]:
    """Rows for every path whose value differs (or every path when ``include_same``)."""
    a, b = flatten(old), flatten(new)
    rows = []
    for path in sorted(a.keys() | b.keys()):
        va, vb = a.get(path, _MISSING), b.get(path, _MISSING)
        if va is _MISSING:
            rows.append(DiffRow(path, "added", None, vb))
        elif vb is _MISSING:
            rows.append(DiffRow(path, "removed", va, None))
        elif va != vb or type(va) is not type(vb):
            rows.append(DiffRow(path, "changed", va, vb))
        elif include_same:
            rows.append(DiffRow(path, "same", va, vb))
    return rows
