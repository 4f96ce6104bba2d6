"""Every /stats route and the stats API answer malformed parameters with 400 (or 404 for a unit
that does not exist, or the page with the message) and a message — never 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

ROUTES = ("stats:dashboard", "stats:export-csv", "stats:export-xlsx", "api")

CASES = [
    ("year without the second half", "academic_year=2026"),
    ("year that does not follow", "academic_year=2026-2028"),
    ("year in letters", "academic_year=abcd-efgh"),
    ("year far away", "academic_year=9999-10000"),
    ("year with a NUL", "academic_year=2026-2027%00"),
    ("unknown level", "level=galaxy"),
    ("unknown region", "level=region&code=ZZZ"),
    ("unknown district", "level=district&code=NOPE"),
    ("school id not a uuid", "level=school&code=not-a-uuid"),
    ("numeric school id", "level=school&code=12345"),
    ("school id with a NUL", "level=school&code=%00"),
    ("huge code", "level=district&code=" + "A" * 5000),
    ("month 13", "month_from=2026-13"),
    ("month with a long year", "month_from=99999-01"),
    ("month in words", "month_to=september"),
    ("period backwards", "month_from=2026-10&month_to=2026-09"),
    ("unknown aid kind", "aid_kind=bogus"),
    ("unknown ground", "ground=bogus"),
    ("category 7", "category=7"),
    ("category in words", "category=abc"),
    ("negative category", "category=-1"),
    ("unknown decision", "decision=maybe"),
    ("huge page", "page=99999999999999999999999999"),
    ("page in words", "page=abc"),
    ("repeated level", "level=region&level=district"),
    ("repeated year", "academic_year=2026-2027&academic_year=2025-2026"),
    ("repeated kind", "aid_kind=meals&aid_kind=uniform"),
    ("unicode digits", "category=%D9%A3"),
    ("huge value", "aid_kind=" + "x" * 100_000),
]


def _get(client, route: str, query: str):  # noqa: ANN001
    url = "/api/v1/stats/" if route == "api" else reverse(route)
    return client.get(f"{url}?{query}")


def _problem(r, route: str, what: str, query: str) -> str | None:  # noqa: ANN001
    if r.status_code not in (200, 400, 404):
        return f"{what}: {r.status_code}"
    xlsx = route.endswith("xlsx") and r.status_code == 200
    body = "" if xlsx else r.content.decode("utf-8-sig", "replace")
    if r.status_code in (400, 404) and (not body.strip() or "Traceback" in body):
        return f"{what}: no message"
    page = r.status_code == 200 and route == "stats:dashboard" and "page" not in query
    if page and 'data-testid="stats-errors"' not in body:
        return f"{what}: page without the message"
    return None


@pytest.mark.parametrize("route", ROUTES)
def test_it_answers_malformed_parameters_with_a_message(client_for, route):
    client = client_for("ministry_analyst")
    problems = [_problem(_get(client, route, query), route, what, query) for what, query in CASES]
    assert not [p for p in problems if p], problems
