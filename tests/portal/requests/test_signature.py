"""The principal's second signature: above the threshold or against the recommendation, a
decision takes effect (letter, guardian's notice, payment register) only once a principal of
the school who did not decide signs it; a refusal voids it and gives the budget back."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from portal.audit.models import AuditEvent
from portal.budgets.models import Budget
from portal.letters.models import Letter
from portal.notices.models import Notice
from portal.requests import services
from portal.requests.lifecycle import InvalidTransition
from portal.requests.models import AidRequest, Decision, Status
from schools.models import Role
from schools.scope import scope_for
from schools.services import staff_member_create
from tests.portal.factories import score, student_iin, submit

pytestmark = pytest.mark.django_db
YEAR = "2026-2027"
LIMIT = 40_000


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.KOMEK_SIGNATURE_ABOVE_KZT = LIMIT


@pytest.fixture
def principal_2(world):
    """A second principal of school_a (signs what principal_a decided)."""
    m = staff_member_create(
        username="principal_a2",
        full_name="Тестов principal_a2",
        email="principal_a2@test.kz",
        role=Role.PRINCIPAL,
        unit_kwargs={"school": world.school_a},
        password="Correct-Horse-42",
    )
    world.users["principal_a2"] = m.user
    return m.user


def _api(world, persona: str) -> APIClient:
    c = APIClient()
    c.force_authenticate(world.user(persona))
    return c


def _iins(categories: tuple[int, ...]) -> list[str]:
    """Student ИИН whose synthetic cards score in `categories` (first found first)."""
    from scoring.engine import assess
    from scoring.ruleset import load_default_ruleset
    from scoring.simulator.generator import generate_card
    from scoring.sources import validate_fetched
    from tests.portal.factories import AS_OF

    if categories not in _IIN_CACHE:
        rs, found = load_default_ruleset(), []
        for serial in range(1, 600):
            iin = student_iin(serial)
            f = validate_fetched(generate_card(iin, as_of=AS_OF), iin, source="t")
            if assess(f.card, rs).category in categories:
                found.append(iin)
        _IIN_CACHE[categories] = found
    return _IIN_CACHE[categories]


_IIN_CACHE: dict[tuple[int, ...], list[str]] = {}


def _scored(world, serial: int = 0, categories=(3, 4, 5)) -> AidRequest:
    """A scored request (the `serial`-th of its categories); by default its recommendation
    raises no objection, so an approval is never "against" it."""
    req = submit(world, student_iin=_iins(tuple(categories))[serial])
    assert score(req) == Status.SCORED
    return AidRequest.objects.get(pk=req.pk)


def _approve(world, req: AidRequest, amount: int, persona: str = "pedagogue_a") -> Decision:
    user = world.user(persona)
    return services.aid_request_decide(
        scope=scope_for(user), actor=user, aid_request=req, outcome="approve", amount_kzt=amount
    )


def _sign(world, req: AidRequest, persona: str = "principal_a") -> Decision:
    user = world.user(persona)
    return services.aid_request_sign(scope=scope_for(user), actor=user, aid_request=req)


def _refuse(world, req: AidRequest, persona: str = "principal_a", reason: str = "нет акта"):
    user = world.user(persona)
    return services.aid_request_refuse_signature(
        scope=scope_for(user), actor=user, aid_request=req, reason=reason
    )


def _budget(amount: int, world) -> Budget:
    return Budget.objects.create(school=world.school_a, academic_year=YEAR, amount_kzt=amount)


def test_an_approval_at_the_threshold_needs_no_signature(world, django_capture_on_commit_callbacks):
    req = _scored(world)
    with django_capture_on_commit_callbacks(execute=True):
        d = _approve(world, req, LIMIT)
    assert not d.signature_required and d.signature == Decision.Signature.NONE
    assert Letter.objects.filter(decision=d).exists()
    assert Notice.objects.filter(request=req, event="decided").exists()


def test_above_the_threshold_nothing_goes_out_before_the_signature(
    world, django_capture_on_commit_callbacks
):
    req = _scored(world)
    with django_capture_on_commit_callbacks(execute=True):
        d = _approve(world, req, LIMIT + 1)
    assert d.signature_required and d.signature == Decision.Signature.PENDING
    req.refresh_from_db()
    assert req.status == Status.DECIDED
    assert not Letter.objects.exists()
    assert not Notice.objects.filter(request=req, event="decided").exists()
    with django_capture_on_commit_callbacks(execute=True):
        _sign(world, req)
    d.refresh_from_db()
    assert d.signature == Decision.Signature.SIGNED and d.signed_by == world.user("principal_a")
    assert d.signed_at is not None
    assert Letter.objects.filter(decision=d, status="issued").exists()
    assert Notice.objects.filter(request=req, event="decided").count() == 1
    event = AuditEvent.objects.filter(action="aid_request.sign").get()
    assert event.detail["decision"] == str(d.public_id) and event.actor_id == d.signed_by_id
    req.refresh_from_db()
    assert req.status == Status.DECIDED


def test_a_decision_against_the_recommendation_needs_a_signature(world):
    req = _scored(world, categories=(1, 2))  # supports the ground: a rejection is against it
    user = world.user("pedagogue_a")
    d = services.aid_request_decide(
        scope=scope_for(user), actor=user, aid_request=req, outcome="reject", reason="доход скрыт"
    )
    assert d.against_recommendation and d.signature == Decision.Signature.PENDING
    assert not Notice.objects.filter(request=req, event="decided").exists()


def test_the_decider_cannot_sign_their_own_decision(world, principal_2):
    req = _scored(world)
    d = _approve(world, req, LIMIT + 1, persona="principal_a")
    with pytest.raises(PermissionDenied) as exc:
        _sign(world, req, "principal_a")
    assert "сами" in str(exc.value)
    with pytest.raises(PermissionDenied):
        _refuse(world, req, "principal_a")
    r = _api(world, "principal_a").post(
        f"/api/v1/aid-requests/{req.public_id}/sign/", {"action": "sign"}, format="json"
    )
    assert r.status_code == 403 and "сами" in r.json()["detail"]
    _sign(world, req, "principal_a2")
    d.refresh_from_db()
    assert d.signature == Decision.Signature.SIGNED and d.signed_by == principal_2


def test_the_database_refuses_the_decider_as_signer(world):
    req = _scored(world)
    d = _approve(world, req, LIMIT + 1, persona="principal_a")
    with transaction.atomic(), pytest.raises(IntegrityError):
        Decision.objects.filter(pk=d.pk).update(
            signature="signed", signed_by=d.decided_by, signed_at=d.created_at
        )
    with transaction.atomic(), pytest.raises(IntegrityError):  # signed needs a signer
        Decision.objects.filter(pk=d.pk).update(signature="signed")


def test_only_principals_sign(world):
    req = _scored(world)
    _approve(world, req, LIMIT + 1)
    for persona in ("pedagogue_a", "auditor", "pedagogue_c"):
        user = world.user(persona)
        with pytest.raises(PermissionDenied):
            services.aid_request_sign(scope=scope_for(user), actor=user, aid_request=req)
    assert (
        _api(world, "pedagogue_a")
        .post(f"/api/v1/aid-requests/{req.public_id}/sign/", {"action": "sign"}, format="json")
        .status_code
        == 403
    )
    assert Decision.objects.get().signature == Decision.Signature.PENDING


def test_a_refusal_releases_the_budget_and_the_request_is_decided_anew(
    world, django_capture_on_commit_callbacks
):
    _budget(200_000, world)
    req = _scored(world)
    d = _approve(world, req, LIMIT + 5_000)
    assert Budget.objects.get().committed_kzt == LIMIT + 5_000
    with pytest.raises(Exception) as exc:  # a refusal needs a reason
        _refuse(world, req, reason="  ")
    assert "reason" in exc.value.message_dict
    with django_capture_on_commit_callbacks(execute=True):
        _refuse(world, req)
    d.refresh_from_db()
    assert d.is_void and d.signature_reason == "нет акта" and d.signed_by_id
    assert Budget.objects.get().committed_kzt == 0
    req.refresh_from_db()
    assert req.status == Status.SCORED and req.status_reason_code == "signature_refused"
    assert not Letter.objects.exists()
    assert not Notice.objects.filter(event="decided").exists()
    assert AuditEvent.objects.filter(action="aid_request.signature_refuse").count() == 1
    # decided anew on the same assessment (the void decision leaves room)
    with django_capture_on_commit_callbacks(execute=True):
        d2 = _approve(world, req, 30_000)
    assert d2.assessment_id == d.assessment_id and d2.signature == Decision.Signature.NONE
    assert Budget.objects.get().committed_kzt == 30_000
    assert Letter.objects.filter(decision=d2).exists()


def test_signing_a_request_without_a_pending_signature_is_a_conflict(world):
    req = _scored(world)
    with pytest.raises(InvalidTransition):
        _sign(world, req)
    _approve(world, req, 10_000)  # no signature needed
    r = _api(world, "principal_a").post(
        f"/api/v1/aid-requests/{req.public_id}/sign/", {"action": "sign"}, format="json"
    )
    assert r.status_code == 409 and r.json()["code"] == "conflict"


def test_the_api_lists_signs_and_refuses(world):
    a, b = _scored(world), _scored(world, serial=1)
    _approve(world, a, LIMIT + 1)
    _approve(world, b, LIMIT + 2)
    r = _api(world, "principal_a").get("/api/v1/signatures/")
    assert r.status_code == 200
    assert [x["aid_request"] for x in r.json()["results"]] == [str(a.public_id), str(b.public_id)]
    assert _api(world, "pedagogue_a").get("/api/v1/signatures/").status_code == 403
    detail = _api(world, "pedagogue_a").get(f"/api/v1/aid-requests/{a.public_id}/").json()
    assert detail["decision"]["signature"]["status"] == "pending"
    assert detail["decision"]["signature"]["required"] is True
    assert "sign" not in detail["actions"]  # a pedagogue does not sign
    r = _api(world, "principal_a").get(f"/api/v1/aid-requests/{a.public_id}/")
    assert r.json()["actions"][:2] == ["sign", "refuse_signature"]
    r = _api(world, "principal_a").post(
        f"/api/v1/aid-requests/{a.public_id}/sign/", {"action": "sign"}, format="json"
    )
    assert r.status_code == 200 and r.json()["decision"]["signature"]["status"] == "signed"
    r = _api(world, "principal_a").post(
        f"/api/v1/aid-requests/{b.public_id}/sign/", {"action": "refuse"}, format="json"
    )
    assert r.status_code == 400 and "reason" in r.json()
    r = _api(world, "principal_a").post(
        f"/api/v1/aid-requests/{b.public_id}/sign/",
        {"action": "refuse", "reason": "нет справки"},
        format="json",
    )
    assert r.status_code == 200 and r.json()["status"] == "scored"
    assert r.json()["decision"] is None  # the void decision is not the request's decision
    assert _api(world, "principal_a").get("/api/v1/signatures/").json()["results"] == []


def test_the_register_lists_only_decisions_in_effect(world):
    _budget(500_000, world)
    signed, pending, refused, plain = (_scored(world, serial=s) for s in (1, 2, 3, 4))
    for req in (signed, pending, refused):
        _approve(world, req, LIMIT + 10)
    _approve(world, plain, 20_000)
    _sign(world, signed)
    _refuse(world, refused)

    def register() -> list[str]:
        r = _api(world, "principal_a").get(f"/api/v1/payments/register/?academic_year={YEAR}")
        rows = csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")))
        return sorted(row["amount_kzt"] for row in rows)

    # the signed and the plain approval only; none for the pending or the refused one
    assert register() == sorted([str(LIMIT + 10), "20000"])
    _sign(world, pending)
    assert len(register()) == 3


def test_withdrawing_an_unpaid_approval_releases_the_budget(world, client_for):
    _budget(100_000, world)
    req = _scored(world)
    _approve(world, req, 30_000)
    assert Budget.objects.get().committed_kzt == 30_000
    user = world.user("pedagogue_a")
    services.aid_request_withdraw(scope=scope_for(user), actor=user, aid_request=req)
    req.refresh_from_db()
    assert req.status == Status.WITHDRAWN
    assert Budget.objects.get().committed_kzt == 0
    event = AuditEvent.objects.filter(action="aid_request.withdraw").get()
    assert event.detail["from"] == Status.DECIDED and event.detail["released_kzt"] == 30_000
    r = _api(world, "principal_a").get(f"/api/v1/payments/register/?academic_year={YEAR}")
    assert r.content.decode("utf-8-sig").strip().count("\n") == 0  # the header only


def _approved_with_payment(world, state: str):  # noqa: ANN001, ANN202
    """A 30,000 ₸ approval of school A (budget 100,000) with a payment in ``state``."""
    from portal.payments.models import Payment
    from portal.payments.services import payment_reference

    _budget(100_000, world)
    req = _scored(world)
    d = _approve(world, req, 30_000)
    Payment.objects.create(
        decision=d, reference=payment_reference(d), amount_kzt=30_000, status=state
    )
    return req, world.user("pedagogue_a")


@pytest.mark.parametrize(
    ("state", "why"),
    [
        ("paid", "выплачена"),
        # in the bank's register the payment may still go out: the bank's answer first
        ("pending", "реестре банка"),
    ],
)
def test_a_paid_or_registered_approval_cannot_be_withdrawn(world, state, why):
    req, user = _approved_with_payment(world, state)
    with pytest.raises(InvalidTransition) as exc:
        services.aid_request_withdraw(scope=scope_for(user), actor=user, aid_request=req)
    assert why in exc.value.message
    assert Budget.objects.get().committed_kzt == 30_000
    r = _api(world, "pedagogue_a").post(f"/api/v1/aid-requests/{req.public_id}/withdraw/")
    assert r.status_code == 409


def test_an_approval_whose_payment_failed_can_be_withdrawn(world):
    req, user = _approved_with_payment(world, "failed")
    services.aid_request_withdraw(scope=scope_for(user), actor=user, aid_request=req)
    req.refresh_from_db()
    assert req.status == Status.WITHDRAWN
    assert Budget.objects.get().committed_kzt == 0


# --------------------------------------------------------------------------- pages


def test_the_signatures_page_lists_signs_and_shows_the_empty_state(world, client_for):
    c = client_for("principal_a")
    r = c.get("/signatures/")
    assert r.status_code == 200 and 'data-testid="signatures-empty"' in r.content.decode()
    assert "/signatures/" in r.content.decode()  # the nav link of a principal
    assert "/signatures/" not in client_for("pedagogue_a").get("/requests/").content.decode()
    req = _scored(world)
    _approve(world, req, LIMIT + 1)
    page = c.get("/signatures/").content.decode()
    assert 'data-testid="signature-row"' in page and req.student_full_name in page
    detail = client_for("pedagogue_a").get(f"/requests/{req.public_id}/").content.decode()
    assert 'data-testid="signature-pending"' in detail and 'data-testid="sign"' not in detail
    detail = c.get(f"/requests/{req.public_id}/").content.decode()
    assert 'data-testid="sign"' in detail and 'data-testid="refuse"' in detail
    r = c.post(f"/requests/{req.public_id}/sign/", {"action": "refuse", "next": "signatures"})
    assert r.status_code == 302 and r["Location"] == "/signatures/"
    assert Decision.objects.get().signature == Decision.Signature.PENDING  # no reason: refused
    r = c.post(f"/requests/{req.public_id}/sign/", {"action": "sign"})
    assert r.status_code == 302 and r["Location"] == f"/requests/{req.public_id}/"
    assert Decision.objects.get().signature == Decision.Signature.SIGNED
    assert 'data-testid="signed"' in c.get(r["Location"]).content.decode()
    assert (
        client_for("pedagogue_a")
        .post(f"/requests/{req.public_id}/sign/", {"action": "sign"})
        .status_code
        == 403
    )


def test_the_signatures_page_paginates(world, client_for):
    from portal.requests import views

    reqs = [_scored(world, serial=s) for s in range(views.PAGE_SIZE + 1)]
    for req in reqs:
        _approve(world, req, LIMIT + 1)
    c = client_for("principal_a")
    first = c.get("/signatures/").content.decode()
    assert first.count('data-testid="signature-row"') == views.PAGE_SIZE
    second = c.get("/signatures/?page=2").content.decode()
    assert second.count('data-testid="signature-row"') == 1


def test_the_decider_sees_no_sign_button_on_their_own_decision(world, client_for):
    req = _scored(world)
    _approve(world, req, LIMIT + 1, persona="principal_a")
    c = client_for("principal_a")
    assert 'data-testid="own-decision"' in c.get("/signatures/").content.decode()
    detail = c.get(f"/requests/{req.public_id}/").content.decode()
    assert 'data-testid="sign"' not in detail
    c.post(f"/requests/{req.public_id}/sign/", {"action": "sign"})
    assert Decision.objects.get().signature == Decision.Signature.PENDING


def test_the_rollup_equals_a_rebuild_through_refusal_signature_and_withdrawal(world):
    from portal.stats.services import stats_rebuild
    from tests.portal.factories import stats_rollup

    _budget(500_000, world)
    a, b = _scored(world), _scored(world, serial=1)
    steps = [
        lambda: _approve(world, a, LIMIT + 1),
        lambda: _refuse(world, a),
        lambda: _approve(world, a, LIMIT + 2),
        lambda: _sign(world, a),
        lambda: _approve(world, b, 10_000),
        lambda: services.aid_request_withdraw(
            scope=scope_for(world.user("pedagogue_a")),
            actor=world.user("pedagogue_a"),
            aid_request=b,
        ),
    ]
    for i, step in enumerate(steps):
        step()
        incremental = stats_rollup()
        stats_rebuild()
        assert stats_rollup() == incremental, i
    assert Budget.objects.get().committed_kzt == LIMIT + 2


def test_the_appeal_period_runs_from_the_signature(world, django_capture_on_commit_callbacks):
    import datetime as dt

    from django.utils import timezone

    req = _scored(world)
    d = _approve(world, req, LIMIT + 1)
    Decision.objects.filter(pk=d.pk).update(created_at=timezone.now() - dt.timedelta(days=10))
    with django_capture_on_commit_callbacks(execute=True):
        _sign(world, req)
    letter = Letter.objects.get(decision=d)
    assert letter.appeal_until == timezone.localdate() + dt.timedelta(days=30)


def test_the_request_list_says_a_decision_awaits_the_signature(world, client_for):
    req = _scored(world)
    _approve(world, req, LIMIT + 1)
    html = client_for("pedagogue_a").get("/requests/").content.decode()
    assert "одобрено, ждёт подписи директора" in html
    _sign(world, req)
    html = client_for("pedagogue_a").get("/requests/").content.decode()
    assert "ждёт подписи директора" not in html and "одобрено" in html
