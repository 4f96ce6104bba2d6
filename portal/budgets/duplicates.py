"""One child, one grant: other schools' open or approved requests for the same student, kind
of help and academic year — a national lookup over the keyed hash of the ИИН
(``AidRequest.student_iin_hmac``, ``schools.iinkey.iin_digest``).

Only the other school's name and the request's code come out, nothing of that family's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal.db_scope import cross_school
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


# One statement, composed once (the ORM's query for the same rows cost more CPU to build than
# the database spent on it; it runs on every submission's answer): other schools' requests for
# the same child, kind and year, neither withdrawn nor decided with a refusal.
_DUPLICATES_SQL = """
SELECT r.public_id, s.name_ru, s.name_kk
  FROM {requests} r JOIN {schools} s ON s.id = r.school_id
 WHERE r.student_iin_hmac = %s AND r.aid_kind = %s AND r.academic_year = %s
   AND r.school_id <> %s AND r.status <> %s
   AND NOT (r.status = %s AND EXISTS (
        SELECT 1 FROM {decisions} d WHERE d.request_id = r.id AND d.outcome = %s))
 ORDER BY r.created_at, r.id
"""


def _duplicates_sql() -> str:
    from schools.models import School

    return _DUPLICATES_SQL.format(
        requests=AidRequest._meta.db_table,
        schools=School._meta.db_table,
        decisions=Decision._meta.db_table,
    )


def aid_request_duplicates(*, aid_request: AidRequest) -> list[Duplicate]:
    """Open or approved requests of other schools for the same child, kind and year.

    The caller reached `aid_request` through its scope; the lookup itself crosses schools
    deliberately (row-level security would hide them) and returns no family data."""
    from django.db import connection

    from schools.models import School

    if not aid_request.student_iin_hmac:
        return []
    with cross_school("one child, one grant: duplicate lookup"), connection.cursor() as cur:
        cur.execute(
            _duplicates_sql(),
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
