"""Validation in the service layer (not only the form), with the field named; nothing saved."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from portal.requests import services
from portal.requests.models import AidRequest
from tests.portal.factories import GUARDIAN_IIN, api_payload, request_data, submit

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def _cases() -> list[tuple[str, dict, str]]:
    return [
        ("student = guardian", {"student_iin": GUARDIAN_IIN}, "guardian_iin"),
        ("consent in the future", {"consent_given_on": TODAY + dt.timedelta(days=1)},
         "consent_given_on"),
        ("consent for years", {"consent_given_on": dt.date(2001, 1, 1),
                               "consent_valid_until": dt.date(9999, 12, 31)},
         "consent_valid_until"),
        ("consent over a year", {"consent_valid_until": TODAY + dt.timedelta(days=400)},
         "consent_valid_until"),
        ("consent without a reference", {"consent_reference": ""}, "consent_reference"),
        ("consent without a date", {"consent_given_on": None}, "consent_given_on"),
        ("a past academic year", {"academic_year": "2020-2021"}, "academic_year"),
        ("a far academic year", {"academic_year": "2035-2036"}, "academic_year"),
        ("a 300-character name", {"student_full_name": "А" * 300}, "student_full_name"),
        ("a long guardian name", {"guardian_full_name": "Б" * 101}, "guardian_full_name"),
        ("a 5,000-character comment", {"comment": "к" * 5000}, "comment"),
    ]  # fmt: skip


@pytest.mark.parametrize(("case", "overrides", "field"), _cases(), ids=[c[0] for c in _cases()])
def test_the_service_refuses_it_naming_the_field(world, no_enqueue, case, overrides, field):
    with pytest.raises(ValidationError) as exc:
        submit(world, **overrides)
    assert field in exc.value.message_dict, exc.value.message_dict
    assert exc.value.message_dict[field][0]
    assert not AidRequest.objects.exists() and no_enqueue == []


@pytest.mark.parametrize(("case", "overrides", "field"), _cases(), ids=[c[0] for c in _cases()])
def test_the_form_shows_it_on_the_field(client_for, no_enqueue, case, overrides, field):
    data = {k: ("" if v is None else str(v)) for k, v in request_data(**overrides).items()}
    r = client_for("pedagogue_a").post(reverse("requests:aid-request-create"), data)
    assert r.status_code == 400
    form = r.context["form"]
    assert field in form.errors, form.errors
    assert not AidRequest.objects.exists()


@pytest.mark.parametrize(("case", "overrides", "field"), _cases(), ids=[c[0] for c in _cases()])
def test_the_api_answers_400_with_the_field(world, no_enqueue, case, overrides, field):
    consent_fields = {
        "consent_method": "method",
        "consent_reference": "reference",
        "consent_given_on": "given_on",
        "consent_valid_until": "valid_until",
    }
    payload = api_payload()
    for key, value in overrides.items():
        if key in consent_fields:
            payload["consent"][consent_fields[key]] = (
                value.isoformat() if isinstance(value, dt.date) else value
            )
        else:
            payload[key] = value
    c = APIClient()
    c.force_authenticate(world.user("pedagogue_a"))
    r = c.post("/api/v1/aid-requests/", payload, format="json")
    assert r.status_code == 400, r.json()
    body = r.json()
    if field in consent_fields:
        assert consent_fields[field] in body["consent"], body
    else:
        assert field in body, body
    assert not AidRequest.objects.exists()


def test_it_accepts_a_consent_of_exactly_a_year_and_the_next_academic_year(world, no_enqueue):
    start = services.current_academic_year_start(TODAY)
    req = submit(
        world,
        consent_given_on=TODAY - dt.timedelta(days=1),
        consent_valid_until=TODAY + dt.timedelta(days=365),
        academic_year=f"{start + 1}-{start + 2}",
    )
    assert req.pk


def test_it_knows_when_an_academic_year_starts():
    assert services.current_academic_year_start(dt.date(2026, 8, 31)) == 2025
    assert services.current_academic_year_start(dt.date(2026, 9, 1)) == 2026


def test_the_database_refuses_a_student_who_is_their_own_guardian(world):
    req = AidRequest(
        school=world.school_a,
        created_by=world.user("pedagogue_a"),
        **request_data(student_iin=GUARDIAN_IIN),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        req.save()
