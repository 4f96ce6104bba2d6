"""In a real browser: a pedagogue submits a request, watches it become scored (HTMX polling,
real Celery worker + simulator over HTTP) and records a decision."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from portal.requests.models import AidRequest, Decision, Status
from tests.auth import login_with_mfa
from tests.browser import chromium_page
from tests.portal.factories import GUARDIAN_IIN, student_iin

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


def test_it_submits_watches_scoring_and_decides(world, live_server, pipeline):
    c = Client()
    login_with_mfa(c, world.user("pedagogue_a"))
    session = c.cookies[settings.SESSION_COOKIE_NAME].value
    with chromium_page() as page:
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(f"{live_server.url}/requests/new/")
        page.fill("[name=student_iin]", "123456789012")
        page.locator("[name=student_iin]").blur()
        page.wait_for_selector("#student_iin-feedback.text-danger")
        page.fill("[name=student_iin]", student_iin(9))
        page.locator("[name=student_iin]").blur()
        page.wait_for_selector("#student_iin-feedback.text-success")
        page.fill("[name=student_full_name]", "Браузеров Тимур")
        page.fill("[name=grade]", "3")
        page.fill("[name=guardian_iin]", GUARDIAN_IIN)
        page.fill("[name=guardian_full_name]", "Браузерова Алия")
        page.fill("[name=guardian_phone]", "+77017654321")
        page.select_option("[name=ground]", "asp")
        page.select_option("[name=aid_kind]", "supplies")
        page.fill("[name=amount_kzt]", "50851")
        page.fill("[name=academic_year]", "2026-2027")
        page.select_option("[name=consent_method]", "written")
        page.fill("[name=consent_reference]", "З-17")
        page.fill("[name=consent_given_on]", "2026-09-01")
        page.fill("[name=consent_valid_until]", "2027-08-31")
        page.get_by_test_id("submit-request").dblclick()
        page.wait_for_url("**/requests/*/")
        page.get_by_test_id("category").wait_for(timeout=30_000)  # the polling page reloads
        assert AidRequest.objects.count() == 1
        assert AidRequest.objects.get().status == Status.SCORED
        page.select_option("[name=outcome]", "reject")
        page.fill("[name=reason]", "Семья отказалась от помощи")
        page.get_by_test_id("decide").click()
        page.get_by_test_id("decision").wait_for()
        assert "Семья отказалась от помощи" in page.get_by_test_id("decision").inner_text()
    assert Decision.objects.get().outcome == "reject"
    assert AidRequest.objects.get().status == Status.DECIDED
