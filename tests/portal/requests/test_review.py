"""Needs review leads somewhere: correct and resubmit (service, page, API); a card outage
goes back to the queue through `aid_requests_requeue_card_unavailable`."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from portal.audit.models import AuditEvent
from portal.requests import services
from portal.requests.models import AidRequest, Status
from portal.requests.reasons import ReasonCode
from schools.scope import scope_for
from scoring.sources import CardServiceUnavailable
from tests.portal.factories import FakeSource, request_data, score, student_iin, submit

pytestmark = pytest.mark.django_db


def _who(world, persona: str = "pedagogue_a") -> dict:
    user = world.user(persona)
    return {"scope": scope_for(user), "actor": user}


def _consent() -> dict:
    today = timezone.localdate()
    return {
        "consent_method": "written",
        "consent_reference": "З-42",
        "consent_given_on": today,
        "consent_valid_until": today + dt.timedelta(days=300),
    }


def _no_consent(world) -> AidRequest:
    req = submit(world, consent_method="")
    assert req.status == Status.NEEDS_REVIEW
    assert req.status_reason_code == ReasonCode.NO_CONSENT
    return req


def test_it_resubmits_a_corrected_request_to_the_queue(world, no_enqueue):
    req = _no_consent(world)
    assert no_enqueue == []
    services.aid_request_resubmit(
        **_who(world), aid_request=req, data={**_consent(), "amount_kzt": 30_000}
    )
    req.refresh_from_db()
    assert (req.status, req.attempt, req.amount_kzt) == (Status.QUEUED, 2, 30_000)
    assert req.status_reason_code == "" and req.consent_reference == "З-42"
    assert no_enqueue == [req.pk]
    event = AuditEvent.objects.get(action="aid_request.resubmit")
    assert "amount_kzt" in event.detail["changed"] and event.detail["to"] == "queued"
    assert score(req) == Status.SCORED


def test_it_refuses_a_resubmission_still_without_consent_and_saves_nothing(world, no_enqueue):
    req = _no_consent(world)
    with pytest.raises(ValidationError) as exc:
        services.aid_request_resubmit(**_who(world), aid_request=req, data={"grade": 7})
    assert "consent_method" in exc.value.message_dict
    req.refresh_from_db()
    assert (req.status, req.grade, req.attempt) == (Status.NEEDS_REVIEW, 5, 1)
    with pytest.raises(ValidationError) as exc:
        services.aid_request_resubmit(
            **_who(world), aid_request=req, data={**_consent(), "student_full_name": "x" * 101}
        )
    assert "student_full_name" in exc.value.message_dict
    req.refresh_from_db()
    assert req.consent_method == "" and no_enqueue == []


def test_it_resubmits_only_from_review(world, no_enqueue):
    req = submit(world)
    with pytest.raises(services.InvalidTransition):
        services.aid_request_resubmit(**_who(world), aid_request=req, data=_consent())
    with pytest.raises(services.InvalidTransition):
        services.aid_request_contest(**_who(world), aid_request=_no_consent_other(world))


def _no_consent_other(world) -> AidRequest:
    return submit(world, consent_method="", student_iin=student_iin(3))


def test_it_refuses_a_resubmission_that_duplicates_an_open_request(world, no_enqueue):
    submit(world, student_iin=student_iin(2))
    req = _no_consent(world)
    with pytest.raises(services.DuplicateAidRequest):
        services.aid_request_resubmit(
            **_who(world), aid_request=req, data={**_consent(), "student_iin": student_iin(2)}
        )
    req.refresh_from_db()
    assert req.status == Status.NEEDS_REVIEW


def test_the_page_corrects_and_resubmits(world, client_for, no_enqueue):
    req = _no_consent(world)
    c = client_for("pedagogue_a")
    detail = reverse("requests:aid-request-detail", args=[req.public_id])
    page = c.get(detail).content.decode()
    assert 'data-testid="resubmit"' in page and 'data-testid="contest"' not in page
    url = reverse("requests:aid-request-resubmit", args=[req.public_id])
    form = c.get(url)
    assert form.status_code == 200 and "Ахметов Ерлан" in form.content.decode()
    data = {k: ("" if v is None else str(v)) for k, v in request_data(**_consent()).items()}
    bad = c.post(url, {**data, "consent_given_on": str(timezone.localdate() + dt.timedelta(1))})
    assert bad.status_code == 400 and "Дата согласия" in bad.content.decode()
    r = c.post(url, data)
    assert r.status_code == 302 and r["Location"] == detail
    req.refresh_from_db()
    assert req.status == Status.QUEUED and no_enqueue == [req.pk]
    again = c.get(url)
    assert again.status_code == 302
    assert client_for("pedagogue_c").get(url).status_code == 404
    assert client_for("auditor").get(url).status_code == 403


def test_the_api_resubmits(world, no_enqueue):
    req = _no_consent(world)
    c = APIClient()
    c.force_authenticate(world.user("pedagogue_a"))
    url = f"/api/v1/aid-requests/{req.public_id}/resubmit/"
    assert c.get(f"/api/v1/aid-requests/{req.public_id}/").json()["actions"] == [
        "resubmit",
        "withdraw",
    ]
    r = c.post(url, {"grade": 6}, format="json")
    assert r.status_code == 400 and "method" in r.json()["consent"]
    today = timezone.localdate()
    consent = {
        "method": "egov_sms",
        "reference": "SMS-9",
        "given_on": today.isoformat(),
        "valid_until": (today + dt.timedelta(days=200)).isoformat(),
    }
    r = c.post(url, {"consent": consent, "grade": 6}, format="json")
    assert r.status_code == 202, r.json()
    assert r.json()["status"] == "queued" and r.json()["grade"] == 6
    assert c.post(url, {"consent": consent}, format="json").status_code == 409


def test_a_card_outage_goes_back_to_the_queue(world, no_enqueue):
    held = submit(world)
    consent = _no_consent_other(world)
    down = CardServiceUnavailable("circuit_open", retry_after=37.0, attempts=3)
    assert score(held, FakeSource(down)) == Status.NEEDS_REVIEW
    held.refresh_from_db()
    assert held.status_reason_code == ReasonCode.CARD_UNAVAILABLE
    assert held.status_reason_params == {"cause": "circuit_open"}  # no per-delay sentence
    assert "37" not in held.status_reason
    no_enqueue.clear()
    assert services.aid_requests_requeue_card_unavailable(older_than=dt.timedelta(hours=1)) == 0
    assert services.aid_requests_requeue_card_unavailable() == 1
    held.refresh_from_db()
    consent.refresh_from_db()
    assert (held.status, held.attempt) == (Status.QUEUED, 2)
    assert consent.status == Status.NEEDS_REVIEW
    assert no_enqueue == [held.pk]
    assert score(held) == Status.SCORED
    assert AuditEvent.objects.filter(
        action="aid_request.requeue", object_id=str(held.public_id)
    ).exists()
