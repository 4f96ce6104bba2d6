"""In a real browser: the dashboards draw their charts (Chart.js from static/), each chart's
table view toggles, hidden figures show as •, drill-down keeps the filters, the decision
colours mean what they say, numbers follow the language, and a phone (390 px) does not scroll
sideways. Screenshots go to var/screenshots/stats/ (look at them)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils.formats import get_format

from portal.stats.services import DISTRICT_REBUILD_SQL, TABLE
from tests.auth import login_with_mfa
from tests.browser import chromium_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "stats"
LANGS = {"ru": "ru-RU", "kk": "kk-KZ", "en": "en-US"}


def _bulk(school, month, kind, ground, category, status, outcome, n, amount=30_000):  # noqa: ANN001, PLR0913
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {TABLE} (school_id, district_id, region_id, month, academic_year, "  # noqa: S608
            "aid_kind, ground, category, status, outcome, requests, amount_requested, "
            "amount_approved, against, d00, d01, d02, d03, d04, d05, d06, d07, d08, d09, d10, "
            "d11, d12, d13, d14, d15, d16, d17) VALUES (%s, %s, %s, %s, '2026-2027', %s, %s, "
            "%s, %s, %s, %s, %s, %s, 0, 0, 0, %s, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)",
            [
                school.pk,
                school.district_id,
                school.district.region_id,
                month,
                kind,
                ground,
                category,
                status,
                outcome,
                n,
                n * amount,
                n * amount if outcome == "approve" else 0,
                n if category else 0,
            ],
        )


@pytest.fixture
def figures(world):
    sep, octo = dt.date(2026, 9, 1), dt.date(2026, 10, 1)
    a, b, c = world.school_a, world.school_b, world.school_c
    for month in (sep, octo):
        _bulk(a, month, "uniform", "asp", 3, "decided", "approve", 1234)
        _bulk(a, month, "uniform", "asp", 4, "decided", "reject", 310)
        _bulk(a, month, "meals", "asp", 5, "scored", "", 420)
        _bulk(a, month, "meals", "asp", 6, "decided", "reject", 7)
        _bulk(b, month, "uniform", "asp", 2, "decided", "approve", 560)
        _bulk(b, month, "uniform", "orphan", 6, "scored", "", 2)  # small: hidden above school
        _bulk(c, month, "supplies", "asp", 1, "decided", "approve", 980)
    with connection.cursor() as cur:
        cur.execute(DISTRICT_REBUILD_SQL)
    return world


def _session(world, persona: str) -> str:  # noqa: ANN001
    c = Client()
    login_with_mfa(c, world.user(persona))
    return c.cookies[settings.SESSION_COOKIE_NAME].value


PERSONAS = {
    "district_analyst": "/stats/",
    "region_analyst": "/stats/",
    "ministry_analyst": "/stats/?level=national",
    "pedagogue_a": "/stats/",
}


@pytest.mark.parametrize("lang", list(LANGS))
def test_it_draws_every_dashboard_for_every_role_language_and_a_phone(figures, live_server, lang):
    SHOTS.mkdir(parents=True, exist_ok=True)
    sessions = {p: _session(figures, p) for p in PERSONAS}
    with chromium_page(LANGS[lang]) as page:
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        for persona, path in PERSONAS.items():
            page.context.clear_cookies()
            page.context.add_cookies(
                [
                    {
                        "name": settings.SESSION_COOKIE_NAME,
                        "value": sessions[persona],
                        "url": live_server.url,
                    }
                ]
            )
            for width in (1280, 390):
                page.set_viewport_size({"width": width, "height": 900})
                page.goto(f"{live_server.url}{path}")
                page.wait_for_selector("canvas[data-chart='categories'][data-drawn='1']")
                assert page.locator("html").get_attribute("lang") == lang
                colours = page.evaluate(
                    "document.querySelector(\"canvas[data-chart='decisions']\")"
                    ".chart.data.datasets[0].backgroundColor"
                )
                assert colours == ["#198754", "#d9480f", "#6c757d"]  # green, orange-red, grey
                assert page.locator("canvas[data-chart='months_high_welfare']").count() == 1
                overflow = page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                assert overflow <= 1, (persona, lang, width, overflow)
                page.screenshot(path=str(SHOTS / f"{persona}-{lang}-{width}.png"), full_page=True)
            total = page.get_by_test_id("total-requests").inner_text()
            if persona == "pedagogue_a":
                # 2 × (1234 + 310 + 420 + 7) = 3942, grouped the way the language groups
                # (Django's localization; the Kazakh formats come with FORMAT_MODULE_PATH).
                if get_format("NUMBER_GROUPING", lang):
                    expected = {"en": "3,942"}.get(lang, "3 942")
                    assert total.replace("\xa0", " ").replace("\u202f", " ") == expected, total
                assert page.locator(".stat-hidden").count() == 0
            if persona == "region_analyst":
                assert page.locator(".stat-hidden").count() > 0  # school b's two category-6
        assert not errors, errors


def test_drill_down_keeps_the_filters_and_tables_toggle(figures, live_server):
    with chromium_page() as page:
        page.context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": _session(figures, "region_analyst"),
                    "url": live_server.url,
                }
            ]
        )
        page.goto(f"{live_server.url}/stats/?level=region&code=KAR")
        page.wait_for_selector("canvas[data-chart='categories'][data-drawn='1']")
        table = page.get_by_test_id("table-categories")
        assert not table.is_visible()
        page.locator("[data-toggle-table='categories']").click()
        assert table.is_visible()
        page.select_option("#id_aid_kind", "uniform")
        page.get_by_test_id("stats-filters").locator("button[type=submit]").click()
        page.wait_for_url("**aid_kind=uniform**")
        page.get_by_test_id("drill-KAR-KAZ").click()
        page.wait_for_url("**level=district**")
        assert "aid_kind=uniform" in page.url
        assert page.locator("#id_aid_kind").input_value() == "uniform"
        href = page.get_by_test_id("export-csv").get_attribute("href")
        assert "aid_kind=uniform" in href and "code=KAR-KAZ" in href
        page.get_by_test_id("crumb-region").click()
        page.wait_for_url("**level=region**")
        assert "aid_kind=uniform" in page.url
