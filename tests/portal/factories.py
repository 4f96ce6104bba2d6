"""Factories of the portal tests: request data, a fake card source, submit and score.

Fixtures live in ``tests/portal/conftest.py``; test modules import helpers from here only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

from django.utils import timezone

from portal.requests import services
from portal.requests.models import AidRequest
from portal.stats.models import (
    DISTRICT_KEY_FIELDS,
    KEY_FIELDS,
    MEASURE_FIELDS,
    StatsBucket,
    StatsDistrictBucket,
)
from schools.demo import demo_totp_secret
from schools.scope import scope_for
from scoring.engine import assess
from scoring.ruleset import load_default_ruleset
from scoring.simulator.generator import generate_card
from scoring.sources import validate_fetched
from tests.scoring.conftest import make_iin

AS_OF = dt.date(2026, 9, 15)
GUARDIAN_IIN = make_iin(dt.date(1985, 3, 4), "F", 7)


def student_iin(serial: int = 1) -> str:
    return make_iin(dt.date(2014, 5, 12), "M", serial)


def iin_with_category(*categories: int) -> str:
    """A student ИИН whose synthetic card scores in one of `categories`."""
    rs = load_default_ruleset()
    for serial in range(1, 400):
        iin = student_iin(serial)
        f = validate_fetched(generate_card(iin, as_of=AS_OF), iin, source="t")
        if assess(f.card, rs).category in categories:
            return iin
    raise AssertionError("no such card")


def request_data(**overrides: Any) -> dict[str, Any]:
    today = timezone.localdate()
    data = {
        "student_iin": student_iin(1),
        "student_full_name": "Ахметов Ерлан",
        "grade": 5,
        "guardian_iin": GUARDIAN_IIN,
        "guardian_full_name": "Ахметова Гульнара",
        "guardian_phone": "+77011234567",
        "ground": "below_subsistence",
        "aid_kind": "uniform",
        "amount_kzt": 50851,
        "academic_year": "2026-2027",
        "comment": "",
        "consent_method": "egov_sms",
        "consent_reference": "SMS-123",
        "consent_given_on": today - dt.timedelta(days=1),
        "consent_valid_until": today + dt.timedelta(days=365),
    }
    data.update(overrides)
    return data


def api_payload(**overrides: Any) -> dict[str, Any]:
    d = request_data()
    payload = {k: d[k] for k in d if not k.startswith("consent_")}
    payload["consent"] = {
        "method": d["consent_method"],
        "reference": d["consent_reference"],
        "given_on": d["consent_given_on"].isoformat(),
        "valid_until": d["consent_valid_until"].isoformat(),
    }
    payload.update(overrides)
    return payload


class FakeSource:
    """A card source that serves the simulator's synthetic cards (or raises `exc`)."""

    def __init__(self, exc: Exception | None = None) -> None:
        self.exc = exc
        self.calls = 0

    def fetch(self, iin: str):  # noqa: ANN201
        self.calls += 1
        if self.exc is not None:
            raise self.exc
        return validate_fetched(generate_card(iin, as_of=AS_OF), iin, source="fake")

    def close(self) -> None:
        pass


def submit(world, persona: str = "pedagogue_a", **overrides: Any) -> AidRequest:
    user = world.user(persona)
    return services.aid_request_submit(
        scope=scope_for(user), actor=user, data=request_data(**overrides)
    )


def score(req: AidRequest, source: FakeSource | None = None, **kw: Any) -> str:
    return services.aid_request_score(request_id=req.pk, source=source or FakeSource(), **kw)


def stats_rollup() -> dict[tuple, tuple]:
    """Both rollups (school and district level), non-empty rows only."""
    out = {}
    for model, key in ((StatsBucket, KEY_FIELDS), (StatsDistrictBucket, DISTRICT_KEY_FIELDS)):
        rows = model.objects.filter(requests__gt=0).values_list(*key, *MEASURE_FIELDS)
        out |= {(model.__name__, *r[: len(key)]): tuple(r[len(key) :]) for r in rows}
    return out


def totp_now(username: str) -> str:
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(demo_totp_secret(username), int(time.time()) // 30))


EXAMPLES = __import__("pathlib").Path(__file__).resolve().parents[2] / "scoring/data/examples"
EXAMPLE_NAMES = tuple(sorted(p.stem for p in EXAMPLES.glob("0*.json")))


def example_card(name: str) -> dict[str, Any]:
    """One of the nine worked examples (``scoring/data/examples/<name>.json``), decoded."""
    import json

    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def example_child_iin(name: str) -> str:
    """The ИИН of the example family's youngest member (the student of a request)."""
    members = example_card(name)["members"]
    return max(members, key=lambda m: m["birth_date"])["iin"]


class ExampleSource(FakeSource):
    """A card source that answers with one worked example's card."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def fetch(self, iin: str):  # noqa: ANN201
        self.calls += 1
        return validate_fetched(example_card(self.name), iin, source="example")


@contextlib.contextmanager
def recorded_statements() -> Iterator[list[str]]:
    """The SQL the default connection runs inside the block, in order (the test client's
    ``request_started`` resets Django's own query log; an execute wrapper sees every one)."""
    from django.db import connection

    statements: list[str] = []

    def record(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield statements
