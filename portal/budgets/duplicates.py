"""One child, one grant: other schools' open or approved requests for the same student, kind
of help and academic year — a national lookup over the keyed hash of the ИИН
(``AidRequest.student_iin_hmac``, ``schools.iinkey.iin_digest``).

Only the other school's name and the request's code come out, nothing of that family's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal.requests.models import AidRequest, Decision, Status


@dataclass(frozen=True)
class Duplicate:
    school_name: str
    request_code: str


def request_code(req: AidRequest) -> str:
    """The short code a school quotes for one of its requests (the first 8 of its id)."""
    return _code(req.public_id)


def _code(public_id: Any) -> str:
    return public_id.hex[:8].upper()


# One function call (migration 0020): other schools' requests for the same child, kind and
# year, neither withdrawn nor decided with a refusal. The function is SECURITY DEFINER: it sees
# every school and returns no family data; the connection's own settings stay as they are.
_DUPLICATES_SQL = (
    "SELECT public_id, name_ru, name_kk FROM komek_open_duplicates(%s, %s, %s, %s, %s, %s, %s)"
)


def aid_request_duplicates(*, aid_request: AidRequest) -> list[Duplicate]:
    """Open or approved requests of other schools for the same child, kind and year.

    The caller reached `aid_request` through its scope; the lookup itself crosses schools
    deliberately (a function that runs as its owner, whom row-level security does not hide
    rows from) and returns no family data."""
    from django.db import connection

    from schools.models import School

    if not aid_request.student_iin_hmac:
        return []
    with connection.cursor() as cur:
        cur.execute(
            _DUPLICATES_SQL,
            [
                aid_request.student_iin_hmac,
                aid_request.aid_kind,
                aid_request.academic_year,
                aid_request.school_id,
                Status.WITHDRAWN,
                Status.DECIDED,
                Decision.Outcome.REJECT,
            ],
        )
        rows = cur.fetchall()
    return [
        Duplicate(School(name_ru=name_ru, name_kk=name_kk).name, _code(public_id))
        for public_id, name_ru, name_kk in rows
    ]
