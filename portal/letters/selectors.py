"""Reads of decision letters. The first keyword argument is always `scope`."""

from __future__ import annotations

from typing import Any

from portal.letters.models import Letter
from portal.requests.selectors import require_family_access


def letters_for_request(*, scope: Any, aid_request: Any) -> list[Letter]:
    """The request's letters, the one in force first."""
    require_family_access(scope)
    return list(
        Letter.objects.for_scope(scope)
        .filter(request=aid_request)
        .select_related("decision")
        .order_by("status", "-issued_at")
    )
