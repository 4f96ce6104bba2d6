"""One child, one grant: other schools' open or approved requests for the same student, kind
of help and academic year — a national lookup over the keyed hash of the ИИН
(``AidRequest.student_iin_hmac``, ``schools.iinkey.iin_digest``).

Only the other school's name and the request's code come out, nothing of that family's data.
"""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass
from typing import Any

from portal.dbrows import from_row, select_list
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


#: Attribute of a new request: its duplicates as looked up with its school
#: (:func:`school_with_duplicates`), for the submission's answer (:func:`submitted_duplicates`).
_KNOWN = "_komek_duplicates"


def _params(aid_request: AidRequest) -> list[Any]:
    return [
        aid_request.student_iin_hmac,
        aid_request.aid_kind,
        aid_request.academic_year,
        aid_request.school_id,
        Status.WITHDRAWN,
        Status.DECIDED,
        Decision.Outcome.REJECT,
    ]


def _duplicates(rows: list[Any]) -> list[Duplicate]:
    from schools.models import School

    return [
        Duplicate(School(name_ru=name_ru, name_kk=name_kk).name, _code(public_id))
        for public_id, name_ru, name_kk in rows
    ]


def aid_request_duplicates(*, aid_request: AidRequest) -> list[Duplicate]:
    """Open or approved requests of other schools for the same child, kind and year.

    The caller reached `aid_request` through its scope; the lookup itself crosses schools
    deliberately (a function that runs as its owner, whom row-level security does not hide
    rows from) and returns no family data."""
    from django.db import connection

    if not aid_request.student_iin_hmac:
        return []
    with connection.cursor() as cur:
        cur.execute(_DUPLICATES_SQL, _params(aid_request))
        return _duplicates(cur.fetchall())


@functools.cache
def _school_sql() -> str:
    from django.db import connection

    from schools.models import School

    meta, q = School._meta, connection.ops.quote_name
    return (
        f"SELECT {select_list(School, 't')}, (SELECT coalesce(json_agg(json_build_array("  # noqa: S608
        "d.public_id, d.name_ru, d.name_kk)), '[]') FROM komek_open_duplicates"
        "(%s, %s, %s, %s, %s, %s, %s) d) "
        f"FROM {q(meta.db_table)} t WHERE t.{q(meta.pk.column)} = %s"
    )


def submitted_duplicates(aid_request: AidRequest) -> list[Duplicate] | None:
    """The duplicates :func:`school_with_duplicates` found when ``aid_request`` was submitted
    (taken: a later look at the same object reads them anew); None when that lookup was not
    made for this object (then :func:`aid_request_duplicates` reads them)."""
    return aid_request.__dict__.pop(_KNOWN, None)


def school_with_duplicates(aid_request: AidRequest) -> Any:
    """A new request's school (None when there is none) and, in the same statement, its
    duplicates (remembered on ``aid_request`` for the submission's answer,
    :func:`submitted_duplicates`): one round trip instead of two on every submission."""
    from django.db import connection

    from schools.models import School

    aid_request.set_iin_digests()
    with connection.cursor() as cur:
        cur.execute(_school_sql(), [*_params(aid_request), aid_request.school_id])
        row = cur.fetchone()
    if row is None:
        return None
    found = row[-1] if isinstance(row[-1], list) else json.loads(row[-1])
    setattr(aid_request, _KNOWN, _duplicates([(uuid.UUID(p), ru, kk) for p, ru, kk in found]))
    return from_row(School, row[:-1])
