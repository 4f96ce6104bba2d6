"""Concurrent writes on one request serialize: one wins, the others get a clear conflict.

Real threads, each with its own database connection. A holder thread keeps the request row
locked until every contender is waiting for the lock (seen in ``pg_stat_activity``), so the
contenders really race; then the lock is released and they go one after the other.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from portal.requests import lifecycle, services
from portal.requests.models import AidRequest, Decision, Status
from schools.scope import scope_for
from tests.portal.factories import score, student_iin, submit

pytestmark = pytest.mark.django_db(transaction=True)


def _waiting_for_locks() -> int:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cur.fetchone()[0]


def race(request_id: int, contenders: list[Callable[[], Any]]) -> list[tuple[str, Any]]:
    """Run `contenders` in threads while the row is locked; release once all of them wait."""
    locked, release = threading.Event(), threading.Event()
    results: list[tuple[str, Any]] = []

    def hold() -> None:
        try:
            with transaction.atomic():
                lifecycle.lock(request_id)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    def run(fn: Callable[[], Any]) -> None:
        try:
            results.append(("ok", fn()))
        except services.InvalidTransition as exc:
            results.append(("conflict", exc))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            results.append(("error", exc))
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(timeout=30)
    threads = [threading.Thread(target=run, args=(fn,)) for fn in contenders]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while _waiting_for_locks() < len(contenders) and time.monotonic() < deadline:
        time.sleep(0.05)
    release.set()
    holder.join(timeout=30)
    for t in threads:
        t.join(timeout=30)
    assert not [r for r in results if r[0] == "error"], results
    return results


def _scored(world, serial: int) -> AidRequest:
    req = submit(world, student_iin=student_iin(serial))
    assert score(req) == Status.SCORED
    return AidRequest.objects.get(pk=req.pk)


def test_a_decision_racing_a_contest_never_gives_two_outcomes(world, no_enqueue):
    user = world.user("pedagogue_a")
    scope = scope_for(user)
    for serial in range(1, 6):
        req = _scored(world, serial)

        def decide(req: AidRequest = req) -> Any:
            return services.aid_request_decide(
                scope=scope, actor=user, aid_request=req, outcome="reject", reason="нет"
            )

        def contest(req: AidRequest = req) -> Any:
            return services.aid_request_contest(scope=scope, actor=user, aid_request=req)

        results = race(req.pk, [decide, contest])
        assert sorted(r[0] for r in results) == ["conflict", "ok"]
        req.refresh_from_db()
        decisions = Decision.objects.filter(request=req).count()
        if isinstance(next(r[1] for r in results if r[0] == "ok"), Decision):
            assert (req.status, decisions, req.attempt) == (Status.DECIDED, 1, 1)
        else:
            assert (req.status, decisions, req.attempt) == (Status.QUEUED, 0, 2)
        conflict = next(r[1] for r in results if r[0] == "conflict")
        assert "Обновите страницу" in conflict.message


def test_two_approvals_never_both_land(world, no_enqueue):
    req = _scored(world, 1)
    people = [world.user("pedagogue_a"), world.user("principal_a"), world.user("pedagogue_a")]

    def approve(user: Any, amount: int) -> Any:
        return lambda: services.aid_request_decide(
            scope=scope_for(user),
            actor=user,
            aid_request=req,
            outcome="approve",
            amount_kzt=amount,
            reason="основание подтверждено",
        )

    results = race(req.pk, [approve(u, 20_000 + i) for i, u in enumerate(people)])
    assert sorted(r[0] for r in results) == ["conflict", "conflict", "ok"]
    assert Decision.objects.filter(request=req).count() == 1
    assert AidRequest.objects.get(pk=req.pk).status == Status.DECIDED


def test_locking_a_request_leaves_its_school_free_for_another_submission(world, no_enqueue):
    """Deadlocks seen under load: lock() took the joined school row FOR UPDATE, so a scoring
    chunk and a submission of the same school (whose insert checks the school's key) waited
    for each other. Only the request's row is locked now."""
    first = submit(world, student_iin=student_iin(31))
    done = threading.Event()
    outcome: list[Any] = []

    def submit_meanwhile() -> None:
        try:
            outcome.append(submit(world, student_iin=student_iin(45)).status)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            outcome.append(exc)
        finally:
            done.set()
            connection.close()

    with transaction.atomic():
        lifecycle.lock(first.pk)
        other = threading.Thread(target=submit_meanwhile)
        other.start()
        assert done.wait(timeout=10), "a submission of the same school waited for the lock"
    other.join(timeout=10)
    assert outcome == [Status.QUEUED]


def test_scoring_chunks_and_submissions_take_rollup_rows_in_one_order():
    from portal.stats.services import MEASURE_FIELDS, _lock_order

    n = len(MEASURE_FIELDS)
    a = [1, 2, 7, "2026-09-01", "queued", *([0] * n)]
    b = [1, 2, 7, "2026-09-01", "scoring", *([0] * n)]
    c = [1, 2, 3, "2026-09-01", "scored", *([0] * n)]
    assert _lock_order([a, b, c]) == _lock_order([c, b, a]) == _lock_order([b, a, c])
