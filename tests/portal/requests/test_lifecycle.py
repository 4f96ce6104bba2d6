"""The transition table: every action from every state, allowed_actions, the one choke point."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction

from portal.audit.models import AuditEvent
from portal.requests import lifecycle
from portal.requests.lifecycle import NEW, PRINCIPAL, SYSTEM, TABLE, Action, InvalidTransition
from portal.requests.models import AidRequest, Status
from portal.requests.reasons import Reason, ReasonCode
from portal.stats.services import stats_rebuild
from schools.scope import scope_for
from tests.portal.factories import request_data, stats_rollup, student_iin

pytestmark = pytest.mark.django_db


def _request_in(world, state: str, reason: str = "", serial: int = 1) -> AidRequest:
    """A request of school_a put straight into `state` (the test's set-up, not a transition)."""
    req = AidRequest(
        school=world.school_a,
        created_by=world.user("pedagogue_a"),
        status=state,
        status_reason_code=reason,
        **request_data(student_iin=student_iin(serial)),
    )
    req.save()
    return req


def _take(world, req: AidRequest, action: str) -> AidRequest:
    rule = TABLE.get((None if req._state.adding else req.status, action))
    persona = {PRINCIPAL: "principal_a", lifecycle.REVIEWER: "district_reviewer"}.get(
        rule.by if rule is not None else lifecycle.STAFF, "pedagogue_a"
    )
    scope = scope_for(world.user(persona)) if rule is None or rule.by != SYSTEM else None
    with transaction.atomic():
        locked = req if req._state.adding else lifecycle.lock(req.pk)
        return lifecycle.transition(locked, action, scope=scope, actor=world.user(persona))


@pytest.mark.parametrize("state", Status.values)
@pytest.mark.parametrize("action", Action.values)
def test_it_allows_exactly_the_table_from_every_state(world, state, action):
    req = _request_in(world, state)
    events = AuditEvent.objects.count()
    rule = TABLE.get((state, action))
    if rule is None or (rule.guard is not None and rule.guard(req)):
        with pytest.raises(InvalidTransition):
            _take(world, req, action)
        req.refresh_from_db()
        assert req.status == state
        assert AuditEvent.objects.count() == events
        return
    _take(world, req, action)
    req.refresh_from_db()
    assert req.status == rule.targets[0]
    event = AuditEvent.objects.latest("id")
    assert event.action == lifecycle.AUDIT_ACTIONS[action].value
    assert event.detail["from"] == state and event.detail["to"] == req.status
    assert event.object_id == str(req.public_id)


@pytest.mark.parametrize("action", Action.values)
def test_it_allows_only_submit_for_a_new_request(world, action):
    req = AidRequest(school=world.school_a, created_by=world.user("pedagogue_a"), **request_data())
    if (NEW, action) in TABLE:
        _take(world, req, action)
        assert AidRequest.objects.get().status == Status.QUEUED
    else:
        with pytest.raises(InvalidTransition):
            _take(world, req, action)
        assert not AidRequest.objects.exists()


def test_it_requeues_from_review_only_after_a_card_outage(world):
    held = _request_in(world, Status.NEEDS_REVIEW, ReasonCode.CARD_UNAVAILABLE)
    other = _request_in(world, Status.NEEDS_REVIEW, ReasonCode.NO_CONSENT, serial=2)
    _take(world, held, Action.REQUEUE)
    held.refresh_from_db()
    assert held.status == Status.QUEUED and held.status_reason_code == ""
    with pytest.raises(InvalidTransition):
        _take(world, other, Action.REQUEUE)


def test_it_keeps_the_rollup_equal_to_a_rebuild_through_every_transition(world):
    req = AidRequest(school=world.school_a, created_by=world.user("pedagogue_a"), **request_data())
    for action in (Action.SUBMIT, Action.START_SCORING, Action.NEEDS_REVIEW, Action.RESUBMIT,
                   Action.WITHDRAW):  # fmt: skip
        req = _take(world, req, action)
        incremental = stats_rollup()
        stats_rebuild()
        assert stats_rollup() == incremental, action


def test_it_refuses_staff_actions_to_others(world):
    req = _request_in(world, Status.SCORED)
    for persona in ("pedagogue_c", "auditor", "region_analyst", "rules_admin"):
        with transaction.atomic(), pytest.raises(PermissionDenied):
            lifecycle.transition(
                lifecycle.lock(req.pk), Action.WITHDRAW, scope=scope_for(world.user(persona))
            )
    with transaction.atomic(), pytest.raises(PermissionDenied):
        lifecycle.transition(lifecycle.lock(req.pk), Action.DECIDE)  # the system may not decide


@pytest.mark.django_db(transaction=True)
def test_it_refuses_a_transition_outside_a_transaction(world):
    req = _request_in(world, Status.QUEUED)
    with pytest.raises(RuntimeError):
        lifecycle.transition(req, Action.START_SCORING)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (Status.QUEUED, ["withdraw"]),
        (Status.SCORING, ["withdraw"]),
        (Status.SCORED, ["decide", "contest", "withdraw"]),
        (Status.NEEDS_REVIEW, ["resubmit", "withdraw"]),
        (Status.DECIDED, ["withdraw"]),  # no decision awaits a signature: no sign / refuse
        (Status.WITHDRAWN, []),
    ],
)
def test_it_derives_the_allowed_actions_from_the_table(world, state, expected):
    req = _request_in(world, state)
    assert lifecycle.allowed_actions(req, scope_for(world.user("pedagogue_a"))) == expected
    assert lifecycle.allowed_actions(req, scope_for(world.user("principal_a"))) == expected
    for persona in ("pedagogue_c", "auditor", "superuser", "district_analyst"):
        assert lifecycle.allowed_actions(req, scope_for(world.user(persona))) == []
    assert lifecycle.allowed_actions(req, None) == []


def test_it_leaves_decided_only_by_signature_an_unpaid_withdrawal_or_an_appeal():
    from_decided = {key[1]: rule for key, rule in TABLE.items() if key[0] == Status.DECIDED}
    assert set(from_decided) == {
        Action.SIGN,
        Action.REFUSE_SIGNATURE,
        Action.WITHDRAW,
        Action.APPEAL,
        Action.APPEAL_UPHOLD,
        Action.APPEAL_REVISE,
        Action.APPEAL_RESCORE,
    }
    assert from_decided[Action.SIGN].targets == (Status.DECIDED,)
    assert from_decided[Action.REFUSE_SIGNATURE].targets == (Status.SCORED,)
    assert {from_decided[Action.SIGN].by, from_decided[Action.REFUSE_SIGNATURE].by} == {PRINCIPAL}
    assert all(rule.guard is not None for rule in from_decided.values())
    assert not [key for key in TABLE if key[0] == Status.WITHDRAWN]
    assert (Status.NEEDS_REVIEW, Action.CONTEST) not in TABLE


def test_it_reaches_every_state_and_names_every_target():
    targets = {t for rule in TABLE.values() for t in rule.targets}
    assert targets == set(Status.values)
    assert set(lifecycle.AUDIT_ACTIONS) == set(Action.values)


def test_it_renders_a_conflict_in_words(world):
    req = _request_in(world, Status.DECIDED)
    with pytest.raises(InvalidTransition) as exc:
        _take(world, req, Action.CONTEST)
    assert "решение принято" in exc.value.message and exc.value.state == Status.DECIDED


def test_it_writes_states_only_through_transition():
    """No module but lifecycle.py assigns a request's status; no template compares states."""
    root = Path(settings.BASE_DIR)
    writes = re.compile(r"\b(req|aid_request|request_obj|obj)\.status\s*=[^=]|_set_status\(")
    offenders = [
        str(path.relative_to(root))
        for path in (root / "portal").rglob("*.py")
        if "migrations" not in path.parts
        and path.name != "lifecycle.py"
        and writes.search(path.read_text())
    ]
    assert offenders == []
    compares = re.compile(r"\bstatus\s*(==|!=)|status\s+in\s")
    templates = [
        str(p.relative_to(root))
        for p in (root / "templates" / "requests").rglob("*.html")
        if p.name != "_status_badge.html" and compares.search(p.read_text())
    ]
    assert templates == []


def test_it_records_a_reason_code_in_the_audit_row(world):
    req = _request_in(world, Status.QUEUED)
    with transaction.atomic():
        lifecycle.transition(
            lifecycle.lock(req.pk),
            Action.NEEDS_REVIEW,
            reason=Reason(ReasonCode.CARD_UNAVAILABLE, {"cause": "timeout"}),
        )
    event = AuditEvent.objects.latest("id")
    assert event.detail["reason_code"] == "card_unavailable"
    req.refresh_from_db()
    assert req.status_reason_params == {"cause": "timeout"}
