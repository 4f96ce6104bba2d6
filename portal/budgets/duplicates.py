"""One child, one grant: other schools' open or approved requests for the same student, kind
of help and academic year — a national lookup over the keyed hash of the ИИН
(``AidRequest.student_iin_hmac``, ``schools.iinkey.iin_digest``).

Only the other school's name and the request's code come out, nothing of that family's data.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.db_scope import cross_school
from portal.requests.models import AidRequest, Decision, Status


@dataclass(frozen=True)
class Duplicate:
    school_name: str
    request_code: str


def request_code(req: AidRequest) -> str:
    """The short code a school quotes for one of its requests (the first 8 of its id)."""
    return req.public_id.hex[:8].upper()


def aid_request_duplicates(*, aid_request: AidRequest) -> list[Duplicate]:
    """Open or approved requests of other schools for the same child, kind and year.

    The caller reached `aid_request` through its scope; the lookup itself crosses schools
    deliberately (row-level security would hide them) and returns no family data."""
    if not aid_request.student_iin_hmac:
        return []
    with cross_school("one child, one grant: duplicate lookup"):
        rows = list(
            AidRequest.objects.unscoped()
            .filter(
                student_iin_hmac=aid_request.student_iin_hmac,
                aid_kind=aid_request.aid_kind,
                academic_year=aid_request.academic_year,
            )
            .exclude(school_id=aid_request.school_id)
            .exclude(status=Status.WITHDRAWN)
            .exclude(status=Status.DECIDED, decisions__outcome=Decision.Outcome.REJECT)
            .select_related("school")
            .order_by("created_at")
        )
        return [Duplicate(r.school.name, request_code(r)) for r in rows]
