"""Reads of notices. The first keyword argument is always `scope`."""

from __future__ import annotations

from typing import Any

from portal.notices.models import Notice
from portal.requests.selectors import require_family_access


def notices_for_request(*, scope: Any, aid_request: Any) -> list[Notice]:
    require_family_access(scope)
    written = getattr(aid_request, "_prefetched_objects_cache", {}).get("notices")
    if written is not None:  # the submission wrote them a moment ago (notices_on_submit)
        return sorted(written, key=lambda n: (n.created_at, n.pk))
    return list(Notice.objects.for_scope(scope).filter(request=aid_request).order_by("created_at"))
