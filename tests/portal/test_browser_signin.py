"""A person signs in with password and TOTP in a real browser and sees their home page."""

from __future__ import annotations

import pytest

from tests.browser import chromium_page
from tests.conftest import PASSWORD
from tests.portal.factories import totp_now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("persona", "expect_testid", "expect_text"),
    [
        ("pedagogue_a", "school-name", "Общеобразовательная школа №1"),
        ("region_analyst", "schools-total", "2"),
    ],
)
def test_it_signs_in_with_mfa_and_shows_the_home_page(
    world, live_server, persona, expect_testid, expect_text
):
    with chromium_page() as page:
        page.goto(f"{live_server.url}/home/")
        assert "/accounts/login/" in page.url
        page.get_by_label("Логин или электронная почта").fill(persona)
        page.get_by_label("Пароль").fill(PASSWORD)
        page.get_by_role("button", name="Войти").click()
        page.wait_for_url("**/2fa/authenticate/**")
        page.locator("input[name=code]").fill(totp_now(persona))
        page.locator("form button[type=submit]").first.click()
        page.wait_for_url("**/home/")
        assert expect_text in page.get_by_test_id(expect_testid).inner_text()
        assert persona not in page.url
