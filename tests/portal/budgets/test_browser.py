"""In a real browser, in ru/kk/en: district finance sets a school's budget on the budgets
page; the page is accessible (axe-core); the pedagogue sees what is left on the request."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from portal.budgets.models import Budget
from tests.auth import login_with_mfa
from tests.browser import assert_accessible, chromium_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
YEAR = "2026-2027"


@pytest.mark.parametrize(
    ("lang", "word"), [("ru", "Бюджеты"), ("kk", "Бюджеттер"), ("en", "Budgets")]
)
def test_district_finance_sets_a_budget_in_the_browser(world, live_server, lang, word):
    c = Client()
    login_with_mfa(c, world.user("district_finance"))
    session = c.cookies[settings.SESSION_COOKIE_NAME].value
    bin_ = world.school_a.bin
    with chromium_page(locale={"ru": "ru-RU", "kk": "kk-KZ", "en": "en-US"}[lang]) as page:
        page.context.add_cookies(
            [
                {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url},
                {"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": live_server.url},
            ]
        )
        page.goto(f"{live_server.url}/budgets/?year={YEAR}")
        assert word in page.content()
        page.fill(f"[data-testid=amount-{bin_}]", "2500000")
        page.get_by_test_id(f"save-{bin_}").click()
        page.get_by_test_id("budget-table").wait_for()
        assert_accessible(page, f"budgets {lang}")
    assert Budget.objects.get(school=world.school_a, academic_year=YEAR).amount_kzt == 2_500_000
