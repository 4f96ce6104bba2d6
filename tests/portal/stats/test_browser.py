"""In a real browser: the region dashboard draws its charts (Chart.js from static/) and each
chart's table view toggles."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.auth import login_with_mfa
from tests.browser import chromium_page
from tests.portal.factories import FakeSource, score, student_iin, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_draws_the_region_dashboard_with_table_views(world, live_server, monkeypatch):
    from portal.requests import services

    monkeypatch.setattr(services, "_enqueue_on_commit", lambda req: None)
    for i, persona in enumerate(["pedagogue_a", "pedagogue_a", "pedagogue_b"]):
        score(submit(world, persona, student_iin=student_iin(300 + i)), FakeSource())
    c = Client()
    login_with_mfa(c, world.user("region_analyst"))
    session = c.cookies[settings.SESSION_COOKIE_NAME].value
    with chromium_page() as page:
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{live_server.url}/stats/?level=region&code=KAR")
        assert page.get_by_test_id("total-requests").inner_text() == "3"
        page.wait_for_selector("canvas[data-chart='categories'][data-drawn='1']")
        for key in ("categories", "decisions", "months", "durations", "children"):
            assert page.locator(f"canvas[data-chart='{key}']").count() == 1
        table = page.get_by_test_id("table-categories")
        assert not table.is_visible()
        page.locator("[data-toggle-table='categories']").click()
        assert table.is_visible()
        assert (
            page.locator("[data-toggle-table='categories']").get_attribute("aria-expanded")
            == "true"
        )
        page.locator("[data-toggle-table='categories']").click()
        assert not table.is_visible()
        page.get_by_test_id("drill-KAR-KAZ").click()
        page.wait_for_url("**level=district**")
        assert page.get_by_test_id("total-requests").inner_text() == "2"
        assert not errors, errors
