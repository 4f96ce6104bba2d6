"""In a real browser: a pedagogue decides, downloads the letter in Kazakh, anyone checks its
code on the public verification page; the family appeals through the school and the district's
reviewer revises the decision — a new letter supersedes the old one (real Celery worker, card
and SMS simulators)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from portal.letters.models import Letter
from portal.notices.simulator.models import SimulatedSms
from tests.auth import login_with_mfa
from tests.browser import chromium_page
from tests.portal.factories import iin_with_category, submit
from tests.portal.letters.helpers import STUDENT, flat, pdf_text
from tests.portal.pipeline import wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


def test_it_takes_a_request_from_decision_to_letter_to_verification(world, live_server, sms_worker):
    req = submit(
        world, student_iin=iin_with_category(1, 2), student_full_name=STUDENT, family_language="kk"
    )
    c = Client()
    login_with_mfa(c, world.user("pedagogue_a"))
    session = c.cookies[settings.SESSION_COOKIE_NAME].value
    with chromium_page(locale="kk-KZ") as page:
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(f"{live_server.url}/requests/{req.public_id}/")
        page.get_by_test_id("category").wait_for(timeout=40_000)
        page.select_option("[name=outcome]", "approve")
        page.fill("[name=amount_kzt]", "30000")
        page.get_by_test_id("decide").click()
        page.get_by_test_id("letter").wait_for()
        code = page.get_by_test_id("letter-code").inner_text()
        with page.expect_download() as download:
            page.get_by_test_id("letter-kk").click()
        text = flat(pdf_text(Path(download.value.path()).read_bytes()))
        assert STUDENT in text and code in text and "Шешім" in text

        page.context.clear_cookies()
        page.goto(f"{live_server.url}/verify/")
        page.fill("[name=code]", code.lower())
        page.get_by_test_id("verify-submit").click()
        result = page.get_by_test_id("verify-result").inner_text()
        assert "Бұл коды бар хатты" in result and STUDENT not in result
        assert Letter.objects.get(request=req).code_grouped == code
        wait_for(
            lambda: SimulatedSms.objects.filter(to=req.guardian_phone).count() == 2, 40, "two SMS"
        )

        # the family appeals through the school (the page in Kazakh) …
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )
        page.goto(f"{live_server.url}/requests/{req.public_id}/")
        page.get_by_test_id("appeal").click()
        page.fill("[name=reason]", "Сумма формаға жетпейді.")
        page.get_by_test_id("appeal-submit").click()
        page.get_by_test_id("request-appeal").wait_for()
        # … and the district's reviewer revises the decision
        reviewer = Client()
        login_with_mfa(reviewer, world.user("district_reviewer"))
        page.context.clear_cookies()
        page.context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": reviewer.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
        page.goto(f"{live_server.url}/appeals/")
        page.get_by_test_id("appeal-row").get_by_role("link").click()
        page.select_option("[name=outcome]", "revised")
        page.fill("[name=note]", "Құжаттар тексерілді.")
        page.select_option("[name=new_outcome]", "approve")
        page.fill("[name=amount_kzt]", "50851")
        page.get_by_test_id("appeal-decide").click()
        page.get_by_test_id("appeal-outcome").wait_for()

        page.context.clear_cookies()
        page.goto(f"{live_server.url}/verify/{code}/")
        assert STUDENT not in page.get_by_test_id("verify-result").inner_text()
    wait_for(
        lambda: Letter.objects.filter(request=req, status="issued")
        .exclude(code=code.replace("-", ""))
        .exists(),
        20,
        "the new letter",
    )
    old = Letter.objects.get(request=req, status="superseded")
    assert old.code_grouped == code and old.superseded_by.decision.amount_kzt == 50851
    wait_for(
        lambda: SimulatedSms.objects.filter(to=req.guardian_phone).count() == 3, 40, "three SMS"
    )
