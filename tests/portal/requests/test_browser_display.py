"""In a real browser, in three languages, on a desktop and at 390 px: the request list with
its result columns and filters, and the result page with its explanation and history. The
page never scrolls sideways; wide tables scroll inside their container.

Screenshots go to ``$KOMEK_SCREENSHOTS`` when it is set (to look at them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from portal.requests import services
from schools.scope import scope_for
from tests.auth import mfa_session_key
from tests.browser import chromium_page
from tests.portal.factories import ExampleSource, example_child_iin, score, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("KOMEK_SCREENSHOTS")
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
TEXT = {
    "ru": ("Почему эта категория", "История заявки", "Высокое благосостояние"),
    "kk": ("Неге бұл санат", "Өтінім тарихы", "Жоғары әл-ауқат"),
    "en": ("Why this category", "Application history", "High welfare"),
}


@pytest.fixture
def requests_made(world, monkeypatch):
    monkeypatch.setattr(services, "_enqueue_on_commit", lambda req: None)
    user = world.user("pedagogue_a")
    made = []
    for i, example in enumerate(("09-vulnerable-shift", "06-two-homes", "08-hidden-income")):
        req = submit(
            world,
            student_iin=example_child_iin(example),
            student_full_name=f"Тестова Айгерим Бауыржанқызы {i + 1}",
        )
        score(req, ExampleSource(example))
        req.refresh_from_db()
        made.append(req)
    services.aid_request_decide(
        scope=scope_for(user), actor=user, aid_request=made[0], outcome="approve", amount_kzt=45000
    )
    return made


_WIDE = """() => {
  const w = document.documentElement.clientWidth;
  return [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > w + 1 && !e.closest('.table-responsive'))
    .slice(0, 5).map(e => e.tagName + '.' + e.className + ': ' + (e.textContent || '').slice(0, 40));
}"""


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.clientWidth")
    wide = page.evaluate(_WIDE)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, wide


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("language", ["ru", "kk", "en"])
def test_list_and_result_page_in_a_browser(world, live_server, requests_made, language):
    session = mfa_session_key(world.user("pedagogue_a"))
    with chromium_page() as page:
        page.context.add_cookies(
            [
                {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url},
                {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url},
            ]
        )
        why, history, flag = TEXT[language]
        for label, (w, h) in WIDTHS.items():
            page.set_viewport_size({"width": w, "height": h})
            page.goto(f"{live_server.url}/requests/")
            assert page.locator("[data-testid=request-row]").count() == 3
            assert flag in page.inner_text("table")
            _no_sideways_scroll(page)
            scroller = page.get_by_test_id("request-table-scroll")
            if label == "phone":  # the table is wider than the phone and scrolls by itself
                assert scroller.evaluate("e => e.scrollWidth > e.clientWidth")
            _shot(page, f"list-{language}-{label}")
            # A filter through HTMX: only the category-6 families remain.
            if label == "phone":  # the filters fold away on a phone
                assert not page.locator("[name=high_welfare]").is_visible()
                page.get_by_test_id("filters-toggle").click()
            page.select_option("[name=high_welfare]", "yes")
            expect(page.locator("[data-testid=request-row]")).to_have_count(2)
            assert "high_welfare=yes" in page.url
            page.locator("[data-testid=request-row] a").first.click()
            page.wait_for_url("**/requests/*/")
            page.get_by_test_id("explanation").wait_for()
            assert why in page.inner_text("[data-testid=explanation]")
            assert history in page.inner_text("[data-testid=history]")
            page.get_by_test_id("criteria").locator("summary").click()
            _no_sideways_scroll(page)
            _shot(page, f"detail-{language}-{label}")
        page.goto(f"{live_server.url}/requests/{requests_made[0].public_id}/")
        text = page.inner_text("[data-testid=explanation]")
        assert {"ru": "52\xa0000", "kk": "52\xa0000", "en": "52,000"}[language] in text
        entries = page.locator("[data-testid=history-entry]")
        assert entries.count() == 3
