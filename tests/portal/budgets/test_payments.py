"""The payment register and the bank's reconciliation: matched by reference, idempotent."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from portal.budgets.models import Budget
from portal.payments.models import Payment
from portal.requests import services
from portal.requests.models import AidRequest, Status
from schools.scope import scope_for
from tests.portal.factories import score, student_iin, submit

pytestmark = pytest.mark.django_db
YEAR = "2026-2027"


def _api(world, persona: str) -> APIClient:
    c = APIClient()
    c.force_authenticate(world.user(persona))
    return c


def _approved(world, serial: int, amount: int) -> AidRequest:
    req = submit(world, student_iin=student_iin(serial))
    assert score(req) == Status.SCORED
    user = world.user("pedagogue_a")
    services.aid_request_decide(
        scope=scope_for(user),
        actor=user,
        aid_request=AidRequest.objects.get(pk=req.pk),
        outcome="approve",
        amount_kzt=amount,
        reason="основание подтверждено",
    )
    return req


def _register(world) -> list[dict[str, str]]:
    r = _api(world, "principal_a").get(f"/api/v1/payments/register/?academic_year={YEAR}")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))


def _reconcile(world, text: str) -> list[dict]:
    f = SimpleUploadedFile("bank.csv", text.encode(), content_type="text/csv")
    r = _api(world, "principal_a").post(
        "/api/v1/payments/reconciliation/", {"file": f}, format="multipart"
    )
    assert r.status_code == 200, r.content
    return r.json()["results"]


def test_register_then_reconciliation_twice_changes_nothing(world, no_enqueue):
    Budget.objects.create(school=world.school_a, academic_year=YEAR, amount_kzt=100_000)
    _approved(world, 1, 20_000)
    _approved(world, 2, 30_000)
    rows = _register(world)
    assert [r["amount_kzt"] for r in rows] == ["20000", "30000"]
    assert {"payment_reference", "recipient_full_name", "amount_kzt", "purpose"} <= set(rows[0])
    paid, failed = rows[0]["payment_reference"], rows[1]["payment_reference"]
    bank = (
        "payment_reference,status,reason\n"
        f"{paid},paid,\n{failed},failed,счёт закрыт\nKMK-NOPE,paid,\n"
    )
    first = _reconcile(world, bank)
    assert [r["result"] for r in first] == ["paid", "failed", "error"]
    assert Budget.objects.get().paid_kzt == 20_000
    again = _reconcile(world, bank)
    assert [r["result"] for r in again] == ["unchanged", "unchanged", "error"]
    assert Budget.objects.get().paid_kzt == 20_000
    p = Payment.objects.get(reference=failed)
    assert p.status == "failed" and p.failure_reason == "счёт закрыт"
    # the failed one goes out again in the next register; the paid one does not
    assert [r["payment_reference"] for r in _register(world)] == [failed]


def test_district_finance_and_analysts_get_no_register(world):
    for persona in ("district_finance", "district_analyst", "auditor"):
        assert _api(world, persona).get("/api/v1/payments/register/").status_code == 403
