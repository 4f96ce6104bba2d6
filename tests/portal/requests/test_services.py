"""Services of aid requests: submit, score, decide, contest, withdraw, sweep; audit rows."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from portal.audit.models import AuditEvent
from portal.requests import services
from portal.requests.models import AidRequest, AidRequestScoring, Status
from schools.scope import scope_for
from scoring.card import Problem
from scoring.sources import CardMalformed, CardNotFound, CardServiceUnavailable
from tests.portal.factories import (
    FakeSource,
    iin_with_category,
    request_data,
    score,
    student_iin,
    submit,
)

pytestmark = pytest.mark.django_db


def _as(world, persona):
    user = world.user(persona)
    return {"scope": scope_for(user), "actor": user}


def test_it_enqueues_scoring_on_commit(world, django_capture_on_commit_callbacks):
    from portal.coalesce import SUBMITTED, OnCommit

    with mock.patch.object(OnCommit, "__call__", autospec=True) as flush:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            req = submit(world)
        assert not flush.called
        for cb in callbacks:
            cb()
    # gathered for the next drain (portal.coalesce), in the transaction's one Redis batch
    assert [c.args[0].ids.get(SUBMITTED) for c in flush.call_args_list] == [[req.pk]]
    assert req.status == Status.QUEUED
    assert AuditEvent.objects.filter(
        action="aid_request.submit", object_id=str(req.public_id)
    ).exists()


@pytest.mark.parametrize(
    "overrides",
    [
        {"consent_method": "", "consent_given_on": None, "consent_valid_until": None},
        {
            "consent_given_on": dt.date(2024, 1, 1),
            "consent_valid_until": dt.date(2024, 12, 31),
        },
    ],
)
def test_it_never_fetches_without_valid_consent(
    world, overrides, django_capture_on_commit_callbacks
):
    with (
        mock.patch("portal.coalesce.Coalescer.add", autospec=True) as add,
        django_capture_on_commit_callbacks(execute=True),
    ):
        req = submit(world, **overrides)
    assert not [c for c in add.call_args_list if c.args[0].name == "scoring"]
    assert req.status == Status.NEEDS_REVIEW
    assert "огласи" in req.status_reason
    source = FakeSource()
    assert score(req, source) == "skipped"
    assert source.calls == 0


def test_it_refuses_a_duplicate_open_request_and_links_to_it(world, no_enqueue):
    first = submit(world)
    with pytest.raises(services.DuplicateAidRequest) as exc:
        submit(world)
    assert exc.value.existing == first
    submit(world, aid_kind="meals")  # another kind is fine
    services.aid_request_withdraw(**_as(world, "pedagogue_a"), aid_request=first)
    assert submit(world).pk != first.pk  # withdrawn is not open any more


def test_it_lets_only_school_staff_submit(world, no_enqueue):
    for persona in ("region_analyst", "auditor", "ministry_analyst", "norole"):
        with pytest.raises(PermissionDenied):
            submit(world, persona)


def test_it_validates_fields(world, no_enqueue):
    with pytest.raises(ValidationError) as exc:
        submit(
            world,
            student_iin="123456789012",
            grade=12,
            academic_year="2026-2028",
            amount_kzt=2_000_000,
        )
    assert {"student_iin", "grade", "academic_year", "amount_kzt"} <= set(exc.value.message_dict)


def test_it_scores_once_even_when_run_twice(world, no_enqueue):
    req = submit(world)
    assert no_enqueue == [req.pk]
    assert score(req) == Status.SCORED
    second = FakeSource()
    assert score(req, second) == "skipped"
    assert second.calls == 0
    req.refresh_from_db()
    assert req.status == Status.SCORED
    assert AidRequestScoring.objects.filter(request=req).count() == 1
    event = AuditEvent.objects.get(action="aid_request.scored")
    assert req.student_iin not in str(event.detail)


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (CardNotFound(), "не найдена"),
        (CardMalformed([Problem("members", "x", "bad")]), "некорректную карту"),
    ],
)
def test_it_sends_card_problems_to_review(world, no_enqueue, exc, words):
    req = submit(world)
    assert score(req, FakeSource(exc)) == Status.NEEDS_REVIEW
    req.refresh_from_db()
    assert req.status == Status.NEEDS_REVIEW
    assert words in req.status_reason


def test_it_raises_transient_errors_until_the_final_try(world, no_enqueue):
    req = submit(world)
    down = CardServiceUnavailable("http_5xx", retry_after=1.0, attempts=3)
    with pytest.raises(CardServiceUnavailable):
        score(req, FakeSource(down), final_try=False)
    req.refresh_from_db()
    assert req.status == Status.SCORING
    assert score(req, FakeSource(down), final_try=True) == Status.NEEDS_REVIEW
    req.refresh_from_db()
    assert "недоступен" in req.status_reason


def test_it_recommends_exclusion_for_category_6_and_needs_a_reason_to_approve(world, no_enqueue):
    req = submit(world, student_iin=iin_with_category(6))
    score(req)
    who = _as(world, "pedagogue_a")
    with pytest.raises(ValidationError) as exc:
        services.aid_request_decide(**who, aid_request=req, outcome="approve", amount_kzt=50000)
    assert "reason" in exc.value.message_dict
    d = services.aid_request_decide(
        **who, aid_request=req, outcome="approve", amount_kzt=50000, reason="Пожар в доме"
    )
    assert d.against_recommendation and d.recommendation == "exclude"
    assert d.reason == "Пожар в доме"
    req.refresh_from_db()
    assert req.status == Status.DECIDED


def test_it_lets_reject_follow_an_exclusion_without_reason(world, no_enqueue):
    req = submit(world, student_iin=iin_with_category(6))
    score(req)
    d = services.aid_request_decide(**_as(world, "pedagogue_a"), aid_request=req, outcome="reject")
    assert not d.against_recommendation and d.amount_kzt is None


def test_it_needs_a_reason_to_reject_a_supported_request(world, no_enqueue):
    req = submit(world, student_iin=iin_with_category(1, 2))
    score(req)
    who = _as(world, "principal_a")
    with pytest.raises(ValidationError):
        services.aid_request_decide(**who, aid_request=req, outcome="reject")
    services.aid_request_decide(**who, aid_request=req, outcome="reject", reason="Уже получили")


def test_it_refuses_decisions_from_another_school_or_role(world, no_enqueue):
    req = submit(world)
    score(req)
    for persona in ("pedagogue_b", "pedagogue_c", "region_analyst", "auditor"):
        with pytest.raises(PermissionDenied):
            services.aid_request_decide(
                **_as(world, persona), aid_request=req, outcome="approve", amount_kzt=1
            )


def test_it_contests_with_a_new_assessment_linked_to_the_old(world, no_enqueue):
    req = submit(world)
    score(req)
    old = AidRequestScoring.objects.get(request=req).assessment
    services.aid_request_contest(**_as(world, "pedagogue_a"), aid_request=req)
    req.refresh_from_db()
    assert (req.status, req.attempt) == (Status.QUEUED, 2)
    assert no_enqueue == [req.pk, req.pk]
    assert score(req) == Status.SCORED
    new = AidRequestScoring.objects.get(request=req, attempt=2).assessment
    assert new.previous_id == old.pk


def test_it_withdraws_and_refuses_to_withdraw_twice(world, no_enqueue):
    req = submit(world)
    services.aid_request_withdraw(**_as(world, "pedagogue_a"), aid_request=req)
    with pytest.raises(services.InvalidTransition):
        services.aid_request_withdraw(**_as(world, "pedagogue_a"), aid_request=req)
    assert score(req) == "skipped"


def test_it_requeues_stuck_requests(world, no_enqueue):
    stuck = submit(world)
    fresh = submit(world, student_iin=student_iin(2))
    AidRequest.objects.filter(pk=stuck.pk).update(
        status=Status.SCORING, status_changed_at=timezone.now() - dt.timedelta(hours=1)
    )
    no_enqueue.clear()
    n = services.aid_requests_requeue_stuck(older_than=dt.timedelta(minutes=10))
    assert n == 1 and no_enqueue == [stuck.pk]
    stuck.refresh_from_db()
    assert stuck.status == Status.QUEUED
    assert fresh.pk not in no_enqueue


def test_it_keeps_the_audit_log_append_only(world, no_enqueue):
    submit(world)
    event = AuditEvent.objects.first()
    for statement in (
        "UPDATE portal_auditevent SET action = 'x' WHERE id = %s",
        "DELETE FROM portal_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(statement, [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk, action="aid_request.submit").exists()


def test_request_data_is_valid():
    assert request_data()["grade"] == 5
