"""Twenty approvals racing at the edge of a budget never commit more than the budget.

Real threads, each with its own database connection. A holder thread keeps the budget row
locked until all twenty approvals wait (seen in ``pg_stat_activity``), then lets them go.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from portal.budgets import services as budgets
from portal.budgets.models import Budget
from portal.requests import services
from portal.requests.models import AidRequest, Decision, Status
from schools.scope import scope_for
from tests.portal.factories import score, student_iin, submit

pytestmark = pytest.mark.django_db(transaction=True)
YEAR = "2026-2027"
RACERS = 20
AMOUNT = 10_000
FITS = 7


def _waiting_for_locks() -> int:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cur.fetchone()[0]


def test_twenty_racing_approvals_never_overspend(world, no_enqueue):
    fin = world.user("district_finance")
    budget = budgets.budget_set(
        scope=scope_for(fin),
        actor=fin,
        school=world.school_a,
        academic_year=YEAR,
        amount_kzt=FITS * AMOUNT + AMOUNT // 2,  # the edge: seven fit, the eighth does not
    )
    reqs = []
    for serial in range(1, RACERS + 1):
        req = submit(world, student_iin=student_iin(serial))
        assert score(req) == Status.SCORED
        reqs.append(AidRequest.objects.get(pk=req.pk))
    user = world.user("pedagogue_a")
    results: list[tuple[str, Any]] = []
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                Budget.objects.select_for_update().get(pk=budget.pk)
                locked.set()
                release.wait(timeout=60)
        finally:
            connection.close()

    def approve(req: AidRequest) -> None:
        try:
            services.aid_request_decide(
                scope=scope_for(user),
                actor=user,
                aid_request=req,
                outcome="approve",
                amount_kzt=AMOUNT,
                reason="основание подтверждено",
            )
            results.append(("ok", req.pk))
        except budgets.BudgetExceeded as exc:
            results.append(("exceeded", exc))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            results.append(("error", exc))
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(timeout=30)
    threads = [threading.Thread(target=approve, args=(r,)) for r in reqs]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while _waiting_for_locks() < RACERS and time.monotonic() < deadline:
        time.sleep(0.05)
    release.set()
    holder.join(timeout=60)
    for t in threads:
        t.join(timeout=60)
    assert not [r for r in results if r[0] == "error"], results
    assert sorted(r[0] for r in results).count("ok") == FITS
    assert len(results) == RACERS
    budget.refresh_from_db()
    approved = Decision.objects.filter(outcome="approve").aggregate(s=Sum("amount_kzt"))["s"]
    assert budget.committed_kzt == approved == FITS * AMOUNT <= budget.amount_kzt
    assert AidRequest.objects.filter(status=Status.DECIDED).count() == FITS
    assert all(
        str(AMOUNT // 2) in r[1].message.replace("\u00a0", "")
        for r in results
        if r[0] == "exceeded"
    )
