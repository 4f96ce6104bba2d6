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
    """Approved, and signed by the principal when the decision needs it (against the
    recommendation or above the threshold)."""
    req = submit(world, student_iin=student_iin(serial))
    assert score(req) == Status.SCORED
    user = world.user("pedagogue_a")
    decision = services.aid_request_decide(
        scope=scope_for(user),
        actor=user,
        aid_request=AidRequest.objects.get(pk=req.pk),
        outcome="approve",
        amount_kzt=amount,
        reason="основание подтверждено",
    )
    if decision.awaits_signature:
        principal = world.user("principal_a")
        services.aid_request_sign(scope=scope_for(principal), actor=principal, aid_request=req)
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


def test_a_failed_payment_writes_the_guardian_a_notice_once(world, no_enqueue):
    from portal.notices.models import Notice
    from tests.portal.factories import GUARDIAN_IIN

    Budget.objects.create(school=world.school_a, academic_year=YEAR, amount_kzt=100_000)
    req = _approved(world, 1, 20_000)
    AidRequest.objects.filter(pk=req.pk).update(family_language="kk", guardian_email="g@test.kz")
    ref = _register(world)[0]["payment_reference"]
    bank = f"payment_reference,status,reason\n{ref},failed,счёт закрыт\n"
    assert [r["result"] for r in _reconcile(world, bank)] == ["failed"]
    _reconcile(world, bank)  # the same file again: unchanged, no second notice
    notices = Notice.objects.filter(request=req, event="payment_failed")
    assert sorted(n.channel for n in notices) == ["email", "sms"]
    sms = notices.get(channel="sms")
    assert sms.language == "kk" and sms.status == "pending"
    for secret in ("20000", "20 000", GUARDIAN_IIN, req.student_iin, "категор", "санат"):
        assert secret not in sms.body
    assert "Көмек" in sms.body and sms.body != notices.get(channel="email").body


def test_the_payments_page_downloads_uploads_and_lists(world, client_for, no_enqueue):
    Budget.objects.create(school=world.school_a, academic_year=YEAR, amount_kzt=100_000)
    c = client_for("pedagogue_a")
    page = c.get(f"/payments/?academic_year={YEAR}")
    assert page.status_code == 200 and 'data-testid="payments-empty"' in page.content.decode()
    _approved(world, 1, 20_000)
    _approved(world, 2, 30_000)
    r = c.get(f"/payments/register.csv?academic_year={YEAR}")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [row["amount_kzt"] for row in rows] == ["20000", "30000"]
    paid, failed = rows[0]["payment_reference"], rows[1]["payment_reference"]
    bank = f"payment_reference,status,reason\n{paid},paid,\n{failed},failed,счёт закрыт\nX,paid,\n"
    upload = SimpleUploadedFile("bank.csv", bank.encode(), content_type="text/csv")
    r = c.post("/payments/", {"file": upload, "academic_year": YEAR})
    html = r.content.decode()
    assert r.status_code == 200 and html.count('data-testid="reconcile-row"') == 3
    assert "платёж с таким номером не найден" in html
    assert html.count('data-testid="payment-row"') == 2 and "счёт закрыт" in html
    assert Payment.objects.get(reference=paid).status == "paid"
    assert Budget.objects.get().paid_kzt == 20_000
    r = c.post("/payments/", {"academic_year": YEAR})  # no file
    assert r.status_code == 400 and 'data-testid="reconcile-error"' in r.content.decode()
    other = client_for("pedagogue_c").get(f"/payments/?academic_year={YEAR}").content.decode()
    assert 'data-testid="payment-row"' not in other  # another school's payments: not listed
    assert client_for("auditor").get("/payments/").status_code == 403
