"""In a real browser, as a pedagogue: submit → (scored) → decide within the requested amount;
and needs review (no consent) → correct → resubmit, in Russian, Kazakh and English.

Scoring runs in the test (the fake card source) instead of a worker: the page's HTMX polling
picks the new state up by itself. Set KOMEK_SCREENSHOTS=/some/dir to keep screenshots.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from portal.requests.models import AidRequest, Decision, Status
from tests.auth import login_with_mfa
from tests.browser import chromium_page
from tests.portal.factories import GUARDIAN_IIN, score, student_iin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, name: str) -> None:
    folder = os.environ.get("KOMEK_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _open(world, live_server, page, lang: str) -> None:
    c = Client()
    login_with_mfa(c, world.user("pedagogue_a"))
    session = c.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [
            {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url},
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": live_server.url},
        ]
    )
    page.on("dialog", lambda dialog: dialog.accept())


def _fill_request(page, serial: int, *, consent: bool) -> None:
    page.fill("[name=student_iin]", student_iin(serial))
    page.fill("[name=student_full_name]", "Браузеров Тимур")
    page.fill("[name=grade]", "3")
    page.fill("[name=guardian_iin]", GUARDIAN_IIN)
    page.fill("[name=guardian_full_name]", "Браузерова Алия")
    page.fill("[name=guardian_phone]", "+77017654321")
    page.select_option("[name=ground]", "asp")
    page.select_option("[name=aid_kind]", "supplies")
    page.fill("[name=amount_kzt]", "20000")
    page.fill("[name=academic_year]", "2026-2027")
    if consent:
        _fill_consent(page)


def _fill_consent(page) -> None:
    today = timezone.localdate()
    page.select_option("[name=consent_method]", "written")
    page.fill("[name=consent_reference]", "З-17")
    page.fill("[name=consent_given_on]", today.isoformat())
    page.fill("[name=consent_valid_until]", (today + dt.timedelta(days=300)).isoformat())


def test_it_submits_and_decides_within_the_requested_amount(world, live_server, no_enqueue):
    with chromium_page() as page:
        _open(world, live_server, page, "ru")
        page.goto(f"{live_server.url}/requests/new/")
        _fill_request(page, 9, consent=True)
        page.get_by_test_id("submit-request").click()
        page.wait_for_url("**/requests/*/")
        req = AidRequest.objects.get()
        assert req.status == Status.QUEUED
        assert score(req) == Status.SCORED
        page.get_by_test_id("decision-form").wait_for(timeout=30_000)  # polling reloads
        assert page.locator("[name=outcome]").input_value() == ""
        _shot(page, "ru-scored")
        page.select_option("[name=outcome]", "approve")
        page.fill("[name=amount_kzt]", "900000")
        page.fill("[name=reason]", "Основание подтверждено")
        page.locator("[name=amount_kzt]").evaluate("el => el.removeAttribute('max')")
        page.get_by_test_id("decide").click()
        page.locator(".alert-danger").wait_for()
        error = page.locator(".alert-danger").inner_text()
        assert "20000" in "".join(ch for ch in error if ch.isalnum())
        assert not Decision.objects.exists()
        page.select_option("[name=outcome]", "approve")
        page.fill("[name=amount_kzt]", "20000")
        page.fill("[name=reason]", "Основание подтверждено")
        page.get_by_test_id("decide").click()
        page.get_by_test_id("decision").wait_for()
        _shot(page, "ru-decided")
        assert page.get_by_test_id("decision-form").count() == 0
        assert page.get_by_test_id("contest").count() == 0
        assert page.get_by_test_id("withdraw").count() == 1  # not paid yet: may be withdrawn
    d = Decision.objects.get()
    assert (d.outcome, d.amount_kzt) == ("approve", 20000)
    assert AidRequest.objects.get().status == Status.DECIDED


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_it_corrects_a_request_under_review_and_resubmits(world, live_server, no_enqueue, lang):
    with chromium_page() as page:
        _open(world, live_server, page, lang)
        page.goto(f"{live_server.url}/requests/new/")
        _fill_request(page, 10, consent=False)
        page.get_by_test_id("submit-request").click()
        page.wait_for_url("**/requests/*/")
        req = AidRequest.objects.get()
        assert req.status == Status.NEEDS_REVIEW
        reason = page.get_by_test_id("status-reason").inner_text()
        assert reason == req.status_reason_in(lang)
        assert page.get_by_test_id("contest").count() == 0
        _shot(page, f"{lang}-needs-review")
        page.get_by_test_id("resubmit").click()
        page.wait_for_url("**/resubmit/")
        assert page.get_by_test_id("review-reason").count() == 1
        # A consent from the future is refused, on its field.
        _fill_consent(page)
        tomorrow = timezone.localdate() + dt.timedelta(days=1)
        page.fill("[name=consent_given_on]", tomorrow.isoformat())
        page.get_by_test_id("resubmit-request").click()
        page.locator(".invalid-feedback").first.wait_for()
        _shot(page, f"{lang}-resubmit-error")
        assert AidRequest.objects.get().status == Status.NEEDS_REVIEW
        page.fill("[name=consent_given_on]", timezone.localdate().isoformat())
        page.get_by_test_id("resubmit-request").click()
        page.wait_for_url(f"**/requests/{req.public_id}/")
        _shot(page, f"{lang}-resubmitted")
        req.refresh_from_db()
        assert (req.status, req.attempt) == (Status.QUEUED, 2)
        assert no_enqueue == [req.pk]
        assert score(req) == Status.SCORED
        page.get_by_test_id("decision-form").wait_for(timeout=30_000)
        _shot(page, f"{lang}-scored")
