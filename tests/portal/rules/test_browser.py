"""In a real browser, two rules administrators take a change from draft to a scheduled
version: admin 1 drafts KZ-2027.1 from KZ-2026.1 (a 2027 ПМ/МЗП, a changed threshold), sees the
golden cases and runs the impact preview; admin 2 approves and publishes with a future date; a
card scored with the rules in force on that date uses the new version."""

from __future__ import annotations

import datetime as dt
import importlib
import json
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.test import Client
from django.utils import timezone

from portal.rules import services, tasks
from scoring.models import RuleSet
from scoring.selectors import ruleset_in_force
from scoring.services import assessment_create
from tests.auth import login_with_mfa
from tests.browser import chromium_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXAMPLES = Path(__file__).resolve().parents[3] / "scoring" / "data" / "examples"


def _session(user) -> str:  # noqa: ANN001
    c = Client()
    login_with_mfa(c, user)
    return c.cookies[settings.SESSION_COOKIE_NAME].value


def _sign_in(page, live_server, user) -> None:  # noqa: ANN001
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": _session(user), "url": live_server.url}]
    )


@pytest.fixture
def golden_cases(transactional_db):
    """The flush of transactional tests removes data-migration rows: load them again."""
    migration = importlib.import_module("scoring.migrations.0005_golden_cases_from_examples")
    migration.load_golden_cases(django_apps, None)


def test_it_takes_a_rule_change_from_draft_to_scheduled_version(
    world, live_server, golden_cases, monkeypatch
):
    # Run the preview task eagerly (in the web process) instead of through the broker.
    monkeypatch.setattr(
        tasks.rules_impact_preview,
        "delay",
        lambda preview_id: services.impact_preview_run(preview_id=preview_id),
    )
    card = json.loads((EXAMPLES / "03-need.json").read_text(encoding="utf-8"))
    assessment_create(card_doc=card)  # one stored assessment for the preview
    admin1, admin2 = world.user("rules_admin"), world.user("rules_admin2")
    publish_on = timezone.localdate() + dt.timedelta(days=10)

    with chromium_page() as page:
        page.on("dialog", lambda dialog: dialog.accept())
        _sign_in(page, live_server, admin1)
        page.goto(f"{live_server.url}/rules/")
        page.fill("[data-testid='new-version-KZ-2026.1']", "KZ-2027.1")
        page.click("[data-testid='create-from-KZ-2026.1']")
        page.wait_for_selector("[data-testid='editor']")
        # A 2027 ПМ/МЗП in the empty row of the years table, and a changed threshold.
        page.fill("[name='years-3-year']", "2027")
        page.fill("[name='years-3-subsistence_minimum']", "55000")
        page.fill("[name='years-3-minimum_wage']", "90000")
        page.fill("[name='wealth-1-value']", "3")
        page.click("[data-testid='save-draft']")
        page.wait_for_selector("[data-testid='golden-table']")
        assert "все пройдены" in page.inner_text("[data-testid='golden-summary']")
        assert "06-two-homes" in page.inner_text("[data-testid='golden-table']")
        assert "Нет одобрения второго администратора" in page.inner_text(
            "[data-testid='publish-gates']"
        )
        page.click("[data-testid='run-preview']")
        page.wait_for_selector("[data-testid='preview-matrix']")
        assert page.inner_text("[data-testid='preview-total']").strip() == "1"

        _sign_in(page, live_server, admin2)
        draft = RuleSet.objects.get(version="KZ-2027.1")
        page.goto(f"{live_server.url}/rules/{draft.public_id}/")
        page.click("[data-testid='approve']")
        page.wait_for_selector("text=Черновик одобрен.")
        assert "Все условия публикации выполнены" in page.inner_text(
            "[data-testid='publish-gates']"
        )
        page.fill("[name='effective_from']", publish_on.isoformat())
        page.click("[data-testid='publish']")
        page.wait_for_selector("[data-testid='effective-from']")
        assert page.inner_text("[data-testid='effective-from']").strip() == publish_on.isoformat()
        page.goto(f"{live_server.url}/rules/")
        assert page.inner_text("[data-testid='status-KZ-2027.1']").strip() == "запланирован"

    published = RuleSet.objects.get(version="KZ-2027.1")
    assert published.status == "published" and published.published_by == admin2
    assert published.created_by == admin1
    assert published.document["parameters"]["subsistence_minimum"]["2027"] == 55000
    assert ruleset_in_force().version == "KZ-2026.1"
    assert ruleset_in_force(on=publish_on) == published
    scored = assessment_create(card_doc=card, on=publish_on)
    assert scored.ruleset_version == "KZ-2027.1"
