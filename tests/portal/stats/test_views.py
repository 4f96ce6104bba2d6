"""Dashboards: each level sees exactly its scope's figures; drill-down stays inside the scope;
bad input gives a message, not a 500; exports carry the page's numbers."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from portal.requests import services
from schools.scope import scope_for
from tests.portal.factories import (
    score,
    student_iin,
    submit,
)

pytestmark = pytest.mark.django_db
API = "/api/v1/stats/"


@pytest.fixture(autouse=True)
def _no_suppression(settings):
    """These tests check scoping on tiny figures; suppression has its own tests."""
    settings.STATS_MIN_CELL = 1


@pytest.fixture
def data(world, no_enqueue):
    """school_a: 3 requests (2 scored, 1 approved); school_b: 2 (1 scored); school_c: 1."""
    made = {}
    for persona, n in (("pedagogue_a", 3), ("pedagogue_b", 2), ("pedagogue_c", 1)):
        made[persona] = [
            submit(world, persona, student_iin=student_iin(200 + 10 * len(made) + i))
            for i in range(n)
        ]
    for req in made["pedagogue_a"][:2] + made["pedagogue_b"][:1] + made["pedagogue_c"]:
        score(req)
    user = world.user("pedagogue_a")
    services.aid_request_decide(
        scope=scope_for(user),
        actor=user,
        aid_request=made["pedagogue_a"][0],
        outcome="approve",
        amount_kzt=40_000,
        reason="Комиссия одобрила",
    )
    return made


def api(client_for, persona: str, **params):
    return client_for(persona).get(API, params)


@pytest.mark.parametrize(
    ("persona", "requests", "scored"),
    [
        ("pedagogue_a", 3, 2),
        ("pedagogue_c", 1, 1),
        ("district_analyst", 3, 2),
        ("region_analyst", 5, 3),
        ("region_analyst_shy", 1, 1),
        ("ministry_analyst", 6, 4),
    ],
)
def test_it_shows_each_level_exactly_its_scope(data, client_for, persona, requests, scored):
    r = api(client_for, persona)
    assert r.status_code == 200
    totals = r.json()["totals"]
    assert (totals["requests"], totals["scored"], totals["pending"]) == (
        requests,
        scored,
        requests - scored,
    )


def test_it_counts_decisions_and_amounts(data, client_for):
    totals = api(client_for, "district_analyst").json()["totals"]
    assert (totals["approved"], totals["rejected"], totals["amount_approved"]) == (1, 0, 40_000)
    assert totals["median_seconds"] is not None


def test_it_drills_down_region_district_school_for_analysts(data, world, client_for):
    body = api(client_for, "region_analyst", level="region", code="KAR").json()
    kids = {c["code"]: c["requests"] for c in body["children"]}
    assert kids["KAR-KAZ"] == 3 and kids["KAR-TEM"] == 2
    body = api(client_for, "region_analyst", level="district", code="KAR-KAZ").json()
    assert {c["code"]: c["requests"] for c in body["children"]} == {
        str(world.school_a.public_id): 3
    }
    body = api(client_for, "region_analyst", level="school", code=str(world.school_a.public_id))
    assert body.json()["totals"]["requests"] == 3


@pytest.mark.parametrize(
    ("persona", "params"),
    [
        ("district_analyst", {"level": "district", "code": "KAR-TEM"}),
        ("district_analyst", {"level": "region", "code": "KAR"}),
        ("district_analyst", {"level": "national"}),
        ("region_analyst", {"level": "region", "code": "SHY"}),
        ("region_analyst", {"level": "district", "code": "SHY-ALF"}),
        ("region_analyst", {"level": "region", "code": "ZZZ"}),
        ("pedagogue_a", {"level": "district", "code": "KAR-KAZ"}),
        ("ministry_analyst", {"level": "district", "code": "NOPE"}),
        ("ministry_analyst", {"level": "galaxy"}),
    ],
)
def test_it_refuses_units_outside_the_scope_with_404(data, client_for, persona, params):
    assert api(client_for, persona, **params).status_code == 404
    page = client_for(persona).get(reverse("stats:dashboard"), params)
    assert page.status_code == 404
    assert 'data-testid="stats-not-found"' in page.content.decode()


def test_it_refuses_a_school_of_another_district(data, world, client_for):
    code = str(world.school_b.public_id)
    assert api(client_for, "district_analyst", level="school", code=code).status_code == 404
    assert api(client_for, "pedagogue_a", level="school", code=code).status_code == 404


def test_it_refuses_roles_without_dashboards(data, client_for):
    for persona in ("rules_admin", "auditor", "norole"):
        assert api(client_for, persona).status_code == 403
        assert client_for(persona).get(reverse("stats:dashboard")).status_code == 403


def test_it_explains_a_period_that_ends_before_it_starts(data, client_for):
    params = {"month_from": "2026-10", "month_to": "2026-09"}
    page = client_for("region_analyst").get(reverse("stats:dashboard"), params)
    assert page.status_code == 200
    assert "Конец периода раньше его начала." in page.content.decode()
    assert api(client_for, "region_analyst", **params).status_code == 400
    bad = client_for("region_analyst").get(reverse("stats:dashboard"), {"month_from": "13-2026"})
    assert bad.status_code == 200 and "ГГГГ-ММ" in bad.content.decode()


def test_it_shows_an_empty_state_for_a_year_without_data(data, client_for):
    page = client_for("region_analyst").get(
        reverse("stats:dashboard"), {"academic_year": "2020-2021"}
    )
    assert page.status_code == 200
    assert 'data-testid="stats-empty"' in page.content.decode()
    body = api(client_for, "region_analyst", academic_year="2020-2021").json()
    assert body["empty"] and body["totals"]["requests"] == 0


def test_it_filters_by_kind_ground_and_period(data, world, client_for, no_enqueue):
    submit(world, "pedagogue_a", student_iin=student_iin(999), aid_kind="meals", ground="asp")
    body = api(client_for, "district_analyst", aid_kind="meals").json()
    assert body["totals"]["requests"] == 1
    body = api(client_for, "district_analyst", ground="asp", aid_kind="uniform").json()
    assert body["totals"]["requests"] == 0
    # Region pages: the district rollup (one filter) and the school rollup (both filters).
    for params, n in (
        ({"aid_kind": "meals"}, 1),
        ({"ground": "asp"}, 1),
        ({"aid_kind": "meals", "ground": "asp"}, 1),
        ({"aid_kind": "uniform", "ground": "asp"}, 0),
        ({"aid_kind": "uniform"}, 5),
    ):
        assert api(client_for, "region_analyst", **params).json()["totals"]["requests"] == n
    month = body["filters"]["month_from"]
    assert month is None
    months = api(client_for, "district_analyst").json()["months"]
    m = months[0]["month"]
    body = api(client_for, "district_analyst", month_from=m, month_to=m).json()
    assert body["totals"]["requests"] == 4


def test_it_shows_no_family_data_to_analysts(data, client_for):
    page = client_for("region_analyst").get(reverse("stats:dashboard")).content.decode()
    assert "Ахметов" not in page and student_iin(200) not in page
    assert 'id="dashboard-data"' in page and 'data-chart="categories"' in page


def test_it_exports_the_same_numbers_as_the_page(data, client_for):
    c = client_for("region_analyst")
    body = c.get(API).json()
    xlsx = c.get(reverse("stats:export-xlsx"))
    assert xlsx.status_code == 200
    wb = load_workbook(io.BytesIO(xlsx.content))
    summary = {row[0]: row[1] for row in wb["Сводка"].iter_rows(min_row=2, values_only=True)}
    assert summary["Заявок получено"] == body["totals"]["requests"] == 5
    assert summary["Оценено"] == body["totals"]["scored"]
    assert summary["Одобрено, ₸"] == body["totals"]["amount_approved"]
    cats = {row[0]: row[1] for row in wb["Категории"].iter_rows(min_row=2, values_only=True)}
    assert cats == {c["category"]: c["requests"] for c in body["categories"]}
    units = {row[0]: row[2] for row in wb["Подразделения"].iter_rows(min_row=2, values_only=True)}
    assert units == {k["code"]: k["requests"] for k in body["children"]}
    text = c.get(reverse("stats:export-csv")).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert ["Заявок получено", "5"] in rows
    page = c.get(reverse("stats:dashboard")).content.decode()
    assert 'data-testid="total-requests">5<' in page


def test_it_links_the_dashboard_from_home_and_nav(data, client_for):
    for persona in ("pedagogue_a", "region_analyst"):
        page = client_for(persona).get(reverse("portal:home")).content.decode()
        assert 'data-testid="stats-link"' in page
        assert f'href="{reverse("stats:dashboard")}"' in page


def test_exports_state_the_unit_the_filters_and_the_time(data, client_for):
    c = client_for("region_analyst")
    params = {"level": "district", "code": "KAR-KAZ", "aid_kind": "meals", "decision": "none"}
    text = c.get(reverse("stats:export-csv"), params).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    head = {r[0]: r[1] for r in rows[:12] if len(r) == 2}
    assert head["Территория"] == "Район: г. Караганда, район имени Казыбек би (KAR-KAZ)"
    assert head["Фильтр: Вид помощи"] == "горячее питание"
    assert head["Фильтр: Решение"] == "без решения"
    assert head["Фильтр: Основание"] == "все"
    assert re.search(r"\d{1,2}:\d{2}", head["Время выгрузки"]), head["Время выгрузки"]
    wb = load_workbook(io.BytesIO(c.get(reverse("stats:export-xlsx"), params).content))
    info = {r[0]: r[1] for r in wb.worksheets[0].iter_rows(values_only=True) if r[0]}
    assert wb.worksheets[0].title == "Сведения"
    assert info["Территория"] == head["Территория"]
    assert info["Фильтр: Вид помощи"] == "горячее питание"
    assert re.search(r"\d{1,2}:\d{2}", info["Время выгрузки"])


def test_drill_down_and_breadcrumbs_keep_the_filters(data, client_for):
    c = client_for("region_analyst")
    page = c.get(reverse("stats:dashboard"), {"aid_kind": "uniform", "category": "3"})
    html = page.content.decode()
    assert "level=district&amp;code=KAR-KAZ&amp;aid_kind=uniform&amp;category=3" in html
    assert "export.csv?level=region&amp;code=KAR&amp;aid_kind=uniform&amp;category=3" in html
    page = c.get(
        reverse("stats:dashboard"),
        {"level": "district", "code": "KAR-KAZ", "aid_kind": "uniform", "category": "3"},
    ).content.decode()
    assert "?level=region&amp;code=KAR&amp;aid_kind=uniform&amp;category=3" in page
