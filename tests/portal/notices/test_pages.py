"""The request page: notices with their delivery status; the opt-out recorded by the school."""

from __future__ import annotations

from django.urls import reverse

from portal.audit.models import AuditEvent
from portal.notices.models import Notice
from tests.portal.factories import submit


def test_it_shows_the_delivery_status_and_records_the_opt_out(world, no_enqueue, client_for):
    req = submit(world, guardian_email="parent@example.kz")
    client = client_for("pedagogue_a")
    detail = reverse("requests:aid-request-detail", args=[req.public_id])
    html = client.get(detail).content.decode()
    assert 'data-testid="notice-received-sms"' in html
    assert 'data-testid="notice-received-email"' in html
    assert "ожидает отправки" in html
    url = reverse("notices:notices-opt-out", args=[req.public_id])
    response = client.post(url, {"opt_out": "1"})
    assert response.status_code == 302
    html = client.get(detail).content.decode()
    assert 'data-testid="opted-out"' in html and 'data-testid="opt-in"' in html
    assert set(Notice.objects.filter(request=req).values_list("status", flat=True)) == {"skipped"}
    event = AuditEvent.objects.get(action="notices.opt_out", object_id=str(req.public_id))
    assert event.actor_username == "pedagogue_a" and event.ip == "127.0.0.1"


def test_it_lets_only_the_schools_staff_record_an_opt_out(world, no_enqueue, client_for):
    req = submit(world)
    url = reverse("notices:notices-opt-out", args=[req.public_id])
    assert client_for("pedagogue_c").post(url, {"opt_out": "1"}).status_code == 404
    assert client_for("auditor").post(url, {"opt_out": "1"}).status_code == 403
    assert client_for("district_analyst").post(url, {"opt_out": "1"}).status_code == 403
    req.refresh_from_db()
    assert not req.notices_opt_out


def test_it_takes_the_family_language_email_and_opt_out_on_the_form_and_api(
    world, no_enqueue, client_for
):
    from tests.portal.factories import api_payload, request_data, student_iin

    client = client_for("pedagogue_a")
    data = {
        k: ("" if v is None else v) for k, v in request_data(student_iin=student_iin(9)).items()
    }
    data.update(family_language="kk", guardian_email="p@example.kz", notices_opt_out="on")
    response = client.post(reverse("requests:aid-request-create"), data)
    assert response.status_code == 302, response.content.decode()[:500]
    from portal.requests.models import AidRequest

    req = AidRequest.objects.get(student_iin=student_iin(9))
    assert (req.family_language, req.guardian_email, req.notices_opt_out) == (
        "kk",
        "p@example.kz",
        True,
    )
    api = client.post(
        reverse("api:aid-request-list"),
        api_payload(student_iin=student_iin(10), family_language="ru"),
        content_type="application/json",
    )
    assert api.status_code == 201, api.json()
    assert api.json()["family_language"] == "ru" and api.json()["notices_opt_out"] is False
    bad = client.post(
        reverse("api:aid-request-list"),
        api_payload(student_iin=student_iin(11), family_language="de", guardian_email="x"),
        content_type="application/json",
    )
    assert bad.status_code == 400 and {"family_language", "guardian_email"} <= set(bad.json())
