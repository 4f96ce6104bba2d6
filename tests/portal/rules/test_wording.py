"""Issue 16, rules editor: the administrator's language with no internal names, "Publish"
disabled with the reason while a gate fails, publishing in force today asks to confirm (on the
server) with the number of requests it affects, and a golden case is switched off only with a
reason that is audited and shown."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from portal.audit.models import AuditEvent
from portal.rules import services
from portal.rules.labels import path_label, problem_text
from schools.scope import scope_for
from scoring.models import GoldenCase, RuleSet
from tests.portal.factories import submit
from tests.portal.rules.test_views import post_edit
from tests.scoring.test_governance import ready_to_publish


@pytest.fixture
def admins(world):
    a1, a2 = world.user("rules_admin"), world.user("rules_admin2")
    return (a1, scope_for(a1)), (a2, scope_for(a2))


@pytest.fixture
def draft(admins):
    (a1, s1), _ = admins
    source = RuleSet.objects.get(version="KZ-2026.1")
    return services.ruleset_draft_create(scope=s1, actor=a1, source=source, version="KZ-2027.1")


INTERNAL = re.compile(
    r"housing_units|income_ratio_below|net_at_least|vulnerability_points|\bbands\[|\bversion:"
)


def visible_text(html: str) -> str:
    """What a person reads: the text between tags (attributes and hidden values dropped)."""
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ru", "Интервал дохода 1: доход на человека к ПМ ниже"),
        ("en", "Income band 1: income per person to the SM below"),
        ("kk", "Табыс аралығы 1: бір адамға табыстың КМ-ге қатынасы төмен"),
    ],
)
def test_it_names_a_path_in_the_readers_language(language, expected):
    with translation.override(language):
        assert path_label("bands[0].income_ratio_below") == expected


def test_it_names_every_kind_of_path_without_internal_names(db):
    doc = RuleSet.objects.get(version="KZ-2026.1").document
    paths = [
        "version",
        "parameters.subsistence_minimum.2027",
        "parameters.informal_work_age.max",
        "high_welfare.markers[0].value",
        "vulnerability_points[1].points",
        "wealth_points[0].criterion",
        "shift[2].net_at_least",
        "labels.criteria.housing_units.kk",
        "labels.categories.3.en",
        "something.unknown[4]",
    ]
    for path in paths:
        text = path_label(path, doc)
        assert not INTERNAL.search(text) and "_" not in text and "[" not in text, text
    assert path_label("high_welfare.markers[0].value", doc).startswith("Маркер 1 (")
    assert problem_text("version", "занято") == "Имя версии: занято"


def test_it_shows_the_editor_without_internal_names(client_for, draft):
    body = client_for("rules_admin").get(
        reverse("rules:ruleset-edit", kwargs={"public_id": draft.public_id})
    )
    text = visible_text(body.content.decode())
    assert not INTERNAL.search(text)
    assert "legal_entities" not in text and "income_ratio" not in text
    assert "(any)" not in text and "true/false" not in text


def test_it_reports_a_bad_band_in_words(client_for, draft):
    r = post_edit(client_for("rules_admin"), draft, **{"bands-4-income_ratio_below": "9"})
    assert r.status_code == 400
    text = visible_text(r.content.decode())
    assert not INTERNAL.search(text)
    assert "без верхней границы" in text


def test_it_reports_a_taken_version_name_without_the_path(client_for, world, draft):
    r = client_for("rules_admin").post(
        reverse("rules:ruleset-create"),
        {"source": RuleSet.objects.get(version="KZ-2026.1").public_id, "version": "KZ-2027.1"},
        follow=True,
    )
    text = visible_text(r.content.decode())
    assert "Имя версии:" in text and "version:" not in text


def test_it_diffs_in_words(client_for, draft):
    r = client_for("rules_admin").get(
        reverse("rules:ruleset-diff"), {"old": "KZ-2026.1", "new": "KZ-2027.1"}
    )
    text = visible_text(r.content.decode())
    assert "Имя версии" in text and not INTERNAL.search(text)


def test_it_disables_publish_with_the_reason_while_a_gate_fails(client_for, draft):
    body = (
        client_for("rules_admin")
        .get(reverse("rules:ruleset-detail", kwargs={"public_id": draft.public_id}))
        .content.decode()
    )
    button = re.search(r'<button[^>]*data-testid="publish"[^>]*>', body).group(0)
    assert "disabled" in button and 'aria-describedby="publish-gates publish-disabled"' in button
    assert 'data-testid="publish-disabled"' in body and "Кнопка недоступна" in body


def test_it_asks_to_confirm_publishing_today_with_the_affected_counts(
    client_for, world, admins, draft, no_enqueue
):
    draft = ready_to_publish(draft, admins)
    submit(world)  # one request in the queue
    submit(world, "pedagogue_c")
    c = client_for("rules_admin2")
    detail = c.get(reverse("rules:ruleset-detail", kwargs={"public_id": draft.public_id}))
    body = detail.content.decode()
    button = re.search(r'<button[^>]*data-testid="publish"[^>]*>', body).group(0)
    assert "disabled" not in button
    assert 'data-testid="publish-affected"' in body and "в очереди — 2" in body

    url = reverse("rules:ruleset-publish", kwargs={"public_id": draft.public_id})
    today = timezone.localdate().isoformat()
    r = c.post(url, {"effective_from": today})  # a dialog can be bypassed: the server asks
    assert r.status_code == 409
    text = visible_text(r.content.decode())
    assert "2 заявки в очереди будут оценены" in text and "0 открытых заявок" in text
    draft.refresh_from_db()
    assert draft.status == "draft"

    r = c.post(url, {"effective_from": today, "confirmed": "1"})
    assert r.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "published"
    event = AuditEvent.objects.get(action="rules.publish")
    assert event.detail["queued_affected"] == 2 and event.detail["applies_now"] is True


def test_it_publishes_a_future_date_without_asking(client_for, world, admins, draft, no_enqueue):
    import datetime as dt

    draft = ready_to_publish(draft, admins)
    submit(world)
    later = timezone.localdate() + dt.timedelta(days=3)
    r = client_for("rules_admin2").post(
        reverse("rules:ruleset-publish", kwargs={"public_id": draft.public_id}),
        {"effective_from": later.isoformat()},
    )
    assert r.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "published"


def test_it_switches_a_golden_case_off_only_with_a_reason(client_for, world):
    case = GoldenCase.objects.filter(active=True).order_by("name").first()
    c = client_for("rules_admin")
    url = reverse("rules:golden-toggle", kwargs={"public_id": case.public_id})
    r = c.post(url, {"reason": "   "}, follow=True)
    assert "Укажите, почему эталонный случай выключается" in r.content.decode()
    case.refresh_from_db()
    assert case.active is True
    assert not AuditEvent.objects.filter(action="rules.golden_deactivate").exists()

    r = c.post(url, {"reason": "Ожидание устарело после изменения ПМ"}, follow=True)
    case.refresh_from_db()
    assert case.active is False
    event = AuditEvent.objects.get(action="rules.golden_deactivate")
    assert event.detail == {"active": False, "reason": "Ожидание устарело после изменения ПМ"}
    assert event.object_id == str(case.public_id) and event.actor_username == "rules_admin"
    body = r.content.decode()
    assert 'data-testid="golden-off-reason"' in body
    assert "Ожидание устарело после изменения ПМ" in body and "rules_admin" in body

    c.post(url)  # switching on again needs no reason
    case.refresh_from_db()
    assert case.active is True
    assert AuditEvent.objects.filter(action="rules.golden_toggle", object_id=str(case.public_id))


def test_the_service_refuses_switching_off_without_a_reason(world):
    from django.core.exceptions import ValidationError

    admin = world.user("rules_admin")
    case = GoldenCase.objects.filter(active=True).first()
    with pytest.raises(ValidationError):
        services.golden_case_set_active(
            scope=scope_for(admin), actor=admin, case=case, active=False
        )
