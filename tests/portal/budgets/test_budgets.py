"""Budgets: set by district finance (service, API, import), reserved by approvals, 409 over it."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from portal.audit.models import AuditEvent
from portal.budgets import services as budgets
from portal.budgets.models import Budget
from portal.requests import services
from portal.requests.models import AidRequest, Decision, Status
from schools.scope import scope_for
from tests.portal.factories import score, student_iin, submit

pytestmark = pytest.mark.django_db
YEAR = "2026-2027"


@pytest.fixture
def api_for(world):
    def make(persona: str) -> APIClient:
        c = APIClient()
        c.force_authenticate(world.user(persona))
        return c

    return make


def url(school, year: str = YEAR) -> str:
    return f"/api/v1/budgets/{school.bin}/{year}/"


def _scored(world, serial: int) -> AidRequest:
    req = submit(world, student_iin=student_iin(serial))
    assert score(req) == Status.SCORED
    return AidRequest.objects.get(pk=req.pk)


def _set(world, amount: int, school=None) -> Budget:
    user = world.user("district_finance")
    return budgets.budget_set(
        scope=scope_for(user),
        actor=user,
        school=school or world.school_a,
        academic_year=YEAR,
        amount_kzt=amount,
    )


def _approve(world, req: AidRequest, amount: int, persona: str = "pedagogue_a") -> Decision:
    user = world.user(persona)
    return services.aid_request_decide(
        scope=scope_for(user),
        actor=user,
        aid_request=req,
        outcome="approve",
        amount_kzt=amount,
        reason="основание подтверждено",
    )


def test_district_finance_puts_and_gets_a_budget(api_for, world):
    c = api_for("district_finance")
    r = c.put(url(world.school_a), {"amount_kzt": 1_000_000}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["amount_kzt"] == 1_000_000 and r.json()["left_kzt"] == 1_000_000
    assert c.get(url(world.school_a)).json()["amount_kzt"] == 1_000_000
    assert api_for("pedagogue_a").get(url(world.school_a)).json()["amount_kzt"] == 1_000_000
    assert AuditEvent.objects.filter(action="budget.set").count() == 1


def test_only_district_finance_of_the_district_sets_it(api_for, world):
    for persona in ("pedagogue_a", "principal_a", "district_analyst", "auditor"):
        r = api_for(persona).put(url(world.school_a), {"amount_kzt": 5}, format="json")
        assert r.status_code == 403, persona
    # school_b is in another district (Temirtau): out of scope, like a missing school
    r = api_for("district_finance").put(url(world.school_b), {"amount_kzt": 5}, format="json")
    assert r.status_code == 404
    assert not Budget.objects.exists()


def test_district_finance_never_sees_family_data(api_for, world, no_enqueue):
    submit(world)
    c = api_for("district_finance")
    assert c.get("/api/v1/aid-requests/").status_code == 403


def test_bad_amount_names_the_field(api_for, world):
    c = api_for("district_finance")
    for bad in ("много", -5, 10**13, True, None):
        r = c.put(url(world.school_a), {"amount_kzt": bad}, format="json")
        assert r.status_code == 400 and "amount_kzt" in r.json(), bad
    assert c.put(url(world.school_a), {}, format="json").status_code == 400
    assert (
        c.put(url(world.school_a, "2026-2030"), {"amount_kzt": 1}, format="json").status_code == 404
    )
    assert not Budget.objects.exists()


def test_an_approval_reserves_and_one_over_the_budget_is_409(api_for, world, no_enqueue):
    _set(world, 60_000)
    first, second = _scored(world, 1), _scored(world, 2)
    _approve(world, first, 40_000)
    assert Budget.objects.get().committed_kzt == 40_000
    r = api_for("pedagogue_a").post(
        f"/api/v1/aid-requests/{second.public_id}/decision/",
        {"outcome": "approve", "amount_kzt": 30_000, "reason": "основание подтверждено"},
        format="json",
    )
    assert r.status_code == 409
    assert "20\u00a0000" in r.json()["detail"]  # what is left
    assert AidRequest.objects.get(pk=second.pk).status == Status.SCORED
    assert Budget.objects.get().committed_kzt == 40_000
    # a rejection needs no money; the remaining 20 000 can still be approved
    _approve(world, second, 20_000)
    assert Budget.objects.get().left_kzt == 0


def test_budget_never_below_what_is_committed(world, no_enqueue):
    _set(world, 60_000)
    _approve(world, _scored(world, 1), 40_000)
    with pytest.raises(budgets.ValidationError) as exc:
        _set(world, 30_000)
    assert "amount_kzt" in exc.value.message_dict
    assert Budget.objects.get().amount_kzt == 60_000


def test_without_a_budget_approvals_are_not_limited(world, no_enqueue):
    _approve(world, _scored(world, 1), 40_000)
    assert not Budget.objects.exists()


def test_import_is_all_or_nothing(world):
    user = world.user("district_finance")
    scope = scope_for(user)
    bad = (
        "school_bin,academic_year,amount_kzt\n"
        f"{world.school_a.bin},{YEAR},100000\n"
        f"{world.school_b.bin},{YEAR},5\n"  # another district
        f"{world.school_a.bin},2026-2026,x\n"
    )
    result = budgets.budgets_import_csv(scope=scope, actor=user, text=bad)
    assert not result.ok
    assert {(e.line, e.field) for e in result.errors} == {
        (3, "school_bin"),
        (4, "academic_year"),
        (4, "amount_kzt"),
    }
    assert not Budget.objects.exists()
    good = f"school_bin,academic_year,amount_kzt\n{world.school_a.bin},{YEAR},100000\n"
    result = budgets.budgets_import_csv(scope=scope, actor=user, text=good)
    assert result.ok and result.created == 1
    assert Budget.objects.get().amount_kzt == 100_000
    assert AuditEvent.objects.filter(action="budget.import").count() == 1
