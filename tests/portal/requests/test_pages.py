"""Pedagogue pages: submit (with live ИИН check), list with filters, detail, actions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.audit.models import AuditEvent
from portal.requests.models import AidRequest, Decision, Status
from tests.portal.factories import (
    iin_with_category,
    request_data,
    score,
    student_iin,
    submit,
)

pytestmark = pytest.mark.django_db


def _form(**overrides):
    data = request_data(**overrides)
    return {k: ("" if v is None else str(v)) for k, v in data.items()}


def test_it_submits_once_and_refuses_the_double_click(client_for, no_enqueue):
    c = client_for("pedagogue_a")
    url = reverse("requests:aid-request-create")
    assert c.get(url).status_code == 200
    r = c.post(url, _form())
    req = AidRequest.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse(
        "requests:aid-request-detail", args=[req.public_id]
    )
    again = c.post(url, _form())
    assert again.status_code == 400
    assert AidRequest.objects.count() == 1
    assert reverse("requests:aid-request-detail", args=[req.public_id]).encode() in again.content


def test_it_shows_field_errors(client_for, no_enqueue):
    r = client_for("pedagogue_a").post(
        reverse("requests:aid-request-create"), _form(student_iin="12345", grade=14)
    )
    assert r.status_code == 400
    assert "ИИН должен состоять из 12 цифр" in r.content.decode()
    assert not AidRequest.objects.exists()


def test_it_validates_an_iin_live(client_for):
    c = client_for("pedagogue_a")
    url = reverse("requests:validate-iin")
    bad = c.post(
        url, {"field": "student_iin", "student_iin": "123456789012"}, HTTP_HX_REQUEST="true"
    )
    assert "text-danger" in bad.content.decode()
    good = c.post(url, {"field": "guardian_iin", "guardian_iin": student_iin(1)})
    assert (
        "text-success" in good.content.decode()
        and 'id="guardian_iin-feedback"' in good.content.decode()
    )
    assert client_for("region_analyst").post(url, {"student_iin": "1"}).status_code == 403


def test_it_lists_filters_searches_and_shows_an_empty_state(world, client_for, no_enqueue):
    submit(world, student_full_name="Иванов Пётр")
    submit(world, student_iin=student_iin(2), student_full_name="Сейтов Арман", aid_kind="meals")
    submit(world, "pedagogue_c", student_iin=student_iin(3), student_full_name="Чужой Ученик")
    c = client_for("pedagogue_a")
    url = reverse("requests:aid-request-list")
    page = c.get(url).content.decode()
    assert "Иванов Пётр" in page and "Сейтов Арман" in page and "Чужой Ученик" not in page
    assert "Сейтов" not in c.get(url, {"q": "Иванов"}, follow=True).content.decode()
    assert "Иванов" not in c.get(url, {"aid_kind": "meals"}).content.decode()
    assert "Иванов" in c.get(url, {"q": student_iin(1)[:6]}, follow=True).content.decode()
    partial = c.get(
        url, {"status": "decided"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="aid-request-table"
    )
    assert 'data-testid="empty-state"' in partial.content.decode()
    assert "<html" not in partial.content.decode()
    assert c.get(url, {"sort": "name", "page": "9"}).status_code == 200


def test_it_shows_the_assessment_and_records_a_decision(world, client_for, no_enqueue):
    req = submit(world, student_iin=iin_with_category(6))
    c = client_for("pedagogue_a")
    detail = reverse("requests:aid-request-detail", args=[req.public_id])
    page = c.get(detail).content.decode()
    assert 'hx-trigger="every 2s"' in page
    score(req)
    page = c.get(detail).content.decode()
    assert "Категория 6: Высокий уровень благосостояния" in page
    assert "не нуждается в дополнительной поддержке из местного бюджета" in page
    assert 'hx-trigger="every 2s"' not in page
    assert AuditEvent.objects.filter(action="aid_request.view").count() == 2
    decide = reverse("requests:aid-request-decide", args=[req.public_id])
    c.post(decide, {"outcome": "approve", "amount_kzt": "30000"})
    assert not Decision.objects.exists()  # against the recommendation without a reason
    c.post(decide, {"outcome": "approve", "amount_kzt": "30000", "reason": "Пожар"})
    d = Decision.objects.get()
    assert d.against_recommendation and d.reason == "Пожар"
    assert "вопреки рекомендации" in c.get(detail).content.decode()


def test_the_status_fragment_polls_then_refreshes(world, client_for, no_enqueue):
    req = submit(world)
    c = client_for("pedagogue_a")
    url = reverse("requests:aid-request-status", args=[req.public_id])
    r = c.get(url, HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 2s"' in r.content.decode() and "HX-Refresh" not in r
    score(req)
    r = c.get(url, HTTP_HX_REQUEST="true")
    assert r["HX-Refresh"] == "true"


def test_it_contests_and_withdraws(world, client_for, no_enqueue):
    req = submit(world)
    score(req)
    c = client_for("principal_a")
    c.post(reverse("requests:aid-request-contest", args=[req.public_id]))
    req.refresh_from_db()
    assert req.status == Status.QUEUED and req.attempt == 2
    c.post(reverse("requests:aid-request-withdraw", args=[req.public_id]))
    req.refresh_from_db()
    assert req.status == Status.WITHDRAWN


@pytest.mark.parametrize("action", ["decide", "contest", "withdraw"])
def test_actions_are_scoped(world, client_for, no_enqueue, action):
    req = submit(world)
    score(req)
    url = reverse(f"requests:aid-request-{action}", args=[req.public_id])
    data = {"outcome": "reject"}
    assert client_for("pedagogue_c").post(url, data).status_code == 404
    assert client_for("pedagogue_b").post(url, data).status_code == 404
    assert client_for("region_analyst").post(url, data).status_code == 403
    assert client_for("auditor").post(url, data).status_code == 403
    req.refresh_from_db()
    assert req.status == Status.SCORED


def test_region_analyst_sees_no_family_data(world, client_for, no_enqueue):
    req = submit(world, student_full_name="Секретов Ученик")
    for url in (
        reverse("requests:aid-request-list"),
        reverse("requests:aid-request-detail", args=[req.public_id]),
    ):
        r = client_for("region_analyst").get(url)
        assert r.status_code == 403 and "Секретов" not in r.content.decode()


def test_nav_links_for_pedagogues(client_for):
    page = client_for("pedagogue_a").get(reverse("portal:home")).content.decode()
    assert reverse("requests:aid-request-list") in page
    assert reverse("requests:aid-request-create") in page
