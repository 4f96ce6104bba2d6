"""The register of processing: generated from the models' declarations, complete, on a page."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.db import models
from django.utils import translation
from django.utils.html import escape

from portal.audit.models import AuditEvent
from portal.privacy.models import RetentionHold
from portal.privacy.register import declared_fields, personal_data_register
from tests.portal.factories import submit

# A field whose name says it may hold personal data (ИИН, names, phone, e-mail, card,
# attachments, free text about a family, message recipients and bodies) …
PERSONAL_NAME = re.compile(
    r"(iin|name|phone|e?mail|card|recipient|body|subject|comment|consent_reference|attachment)",
    re.I,
)
# … and is not, for a reason given here.
NOT_PERSONAL = {
    ("schools.region", "name_ru"): "a region's name",
    ("schools.region", "name_kk"): "a region's name",
    ("schools.region", "name_en"): "a region's name",
    ("schools.district", "name_ru"): "a district's name",
    ("schools.district", "name_kk"): "a district's name",
    ("schools.district", "name_en"): "a district's name",
    ("schools.school", "name_ru"): "a school's name",
    ("schools.school", "name_kk"): "a school's name",
    ("schools.school", "name_en"): "a school's name",
    ("scoring.goldencase", "name"): "a synthetic test case's title",
    ("scoring.goldencase", "card"): "a synthetic card of the rules' test suite",
    ("scoring.goldencase", "card_sha256"): "a hash of a synthetic card",
    ("scoring.assessment", "card_sha256"): "a hash; kept by design as the result's proof",
    ("auth.group", "name"): "a role's name",
    ("auth.permission", "name"): "a permission's name",
    ("auth.permission", "codename"): "a permission's code",
    ("contenttypes.contenttype", "app_label"): "framework",
    ("auth.user", "password"): "a password hash",
    ("accounts.apitoken", "name"): "a token's label chosen by its owner",
}
OWN_APPS = {"portal", "schools", "scoring", "auth", "accounts", "account", "mfa"}


def _personal_looking_fields() -> set[tuple[str, str]]:
    found = set()
    for model in apps.get_models():
        label = model._meta.label_lower
        if model._meta.app_label not in OWN_APPS:
            continue
        for f in model._meta.get_fields():
            if not getattr(f, "concrete", False) or f.is_relation:
                continue
            if isinstance(f, models.FileField) or PERSONAL_NAME.search(f.name):
                found.add((label, f.name))
    return found


def test_every_field_that_holds_personal_data_is_declared():
    undeclared = _personal_looking_fields() - declared_fields() - set(NOT_PERSONAL)
    assert not undeclared, f"personal data without a PERSONAL_DATA declaration: {undeclared}"


def test_the_register_names_the_family_data_and_its_settings():
    by_label = {d.model_label: d for d in personal_data_register()}
    req = by_label["portal.aidrequest"]
    assert {"student_iin", "guardian_phone", "guardian_email"} <= set(req.fields)
    assert req.retention == ("RETENTION_APPROVED_DAYS", "RETENTION_CLOSED_DAYS")
    assert "card" in by_label["scoring.assessment"].fields
    assert "recipient" in by_label["portal.notice"].fields
    assert "auth.user" in by_label


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_the_register_page_lists_every_kind_in_each_language(world, client_for, settings, lang):
    settings.RETENTION_CLOSED_DAYS = 123
    c = client_for("auditor")
    response = c.get("/privacy/register/", HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200
    html = response.content.decode()
    with translation.override(lang):
        for entry in personal_data_register():
            assert escape(str(entry.kind)) in html
            assert escape(str(entry.purpose)) in html
    assert "123" in html
    assert AuditEvent.objects.filter(action="privacy.register_view").exists()


def test_the_register_page_is_for_auditors_and_administrators(world, client_for):
    for persona, code in (
        ("auditor", 200),
        ("network_admin", 200),
        ("rules_admin", 200),
        ("pedagogue_a", 403),
        ("district_analyst", 403),
    ):
        assert client_for(persona).get("/privacy/register/").status_code == code, persona


@pytest.mark.django_db
def test_an_auditor_places_and_releases_a_hold_in_the_browser(world, client_for, no_enqueue):
    req = submit(world)
    c = client_for("auditor")
    bad = c.post("/privacy/holds/", {"request": "nonsense", "reason": "x"})
    assert bad.status_code == 400 and not RetentionHold.objects.exists()
    no_reason = c.post("/privacy/holds/", {"request": str(req.public_id), "reason": ""})
    assert no_reason.status_code == 400
    ok = c.post("/privacy/holds/", {"request": str(req.public_id), "reason": "проверка"})
    assert ok.status_code == 302
    hold = RetentionHold.objects.get()
    page = c.get("/privacy/holds/")
    assert "проверка" in page.content.decode()
    assert client_for("pedagogue_a").get("/privacy/holds/").status_code == 403
    c.post("/privacy/holds/release/", {"hold": hold.pk, "release_reason": "окончено"})
    hold.refresh_from_db()
    assert hold.released_at is not None and hold.release_reason == "окончено"
