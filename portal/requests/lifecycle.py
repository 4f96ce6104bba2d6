"""The lifecycle of an aid request: **one transition table** and **one choke point**.

``TABLE`` maps (state, action) to the states the action may lead to, who may take it (school
staff or the system) and an optional guard. :func:`transition` is the only code that changes
``AidRequest.status``: it checks the table, runs the caller's database effects, sets the state
and the reason, applies the statistics delta and writes the audit row — all in the caller's
transaction, on a row the caller locked with :func:`lock` (``SELECT … FOR UPDATE``), so that
concurrent writes on one request serialize: the first wins, the others find the new state and
get :class:`InvalidTransition` (409 in the API, a message on the page).

:func:`allowed_actions` derives the buttons of the request page and the ``actions`` of the API
from the same table; no template compares states.

States: ``queued → scoring → scored → decided``, plus ``needs_review`` and ``withdrawn``.
A contest challenges a *scoring* before a decision; a challenge to a decision is an appeal
(``portal.appeals``): the school files it (``decided --appeal--> decided``), the district's
reviewer decides it — upheld or revised stay ``decided``, re-scored from the corrected card goes
back to ``scored`` for the school to decide again.
From ``decided`` also: a principal of the school
(never the decider) signs a decision that needs the second signature (it stays decided) or
refuses to sign it (the decision is void, the request is scored again and waits for a new
decision); staff withdraw a decided request while no payment of it has succeeded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.audit.models import AuditEvent
from portal.audit.services import AuditAction, audit_record
from portal.requests.models import AidRequest, Decision, Status
from portal.requests.reasons import Reason, ReasonCode
from portal.stats.services import StatsTracker, stats_row_of_new
from schools.scope import Scope, require


class Action(models.TextChoices):
    SUBMIT = "submit", gettext_lazy("подать")
    START_SCORING = "start_scoring", gettext_lazy("начать оценку")
    SCORE = "score", gettext_lazy("записать оценку")
    NEEDS_REVIEW = "needs_review", gettext_lazy("отправить на проверку")
    REQUEUE = "requeue", gettext_lazy("вернуть в очередь")
    RESCORE = "rescore", gettext_lazy("пересчитать по новым правилам")
    DECIDE = "decide", gettext_lazy("принять решение")
    CONTEST = "contest", gettext_lazy("оспорить оценку")
    RESUBMIT = "resubmit", gettext_lazy("исправить и подать снова")
    WITHDRAW = "withdraw", gettext_lazy("отозвать")
    APPEAL = "appeal", gettext_lazy("подать жалобу")
    APPEAL_UPHOLD = "appeal_uphold", gettext_lazy("оставить решение в силе")
    APPEAL_REVISE = "appeal_revise", gettext_lazy("изменить решение по жалобе")
    APPEAL_RESCORE = "appeal_rescore", gettext_lazy("пересчитать по исправленной карте")
    SIGN = "sign", gettext_lazy("подписать решение")
    REFUSE_SIGNATURE = "refuse_signature", gettext_lazy("отказать в подписи")


STAFF = "staff"  # a person of the request's school (Scope.can_act_on_requests)
PRINCIPAL = "principal"  # a principal of the request's school (Scope.can_sign_decisions)
SYSTEM = "system"  # the scoring task, the sweeper, a re-score batch
REVIEWER = "reviewer"  # the district's appeal reviewer (Scope.can_review_appeals)

NEW = None  # the "state" of a request not saved yet


def _card_unavailable(req: AidRequest) -> str | None:
    if req.status_reason_code == ReasonCode.CARD_UNAVAILABLE:
        return None
    return _("В очередь возвращаются сами только заявки, задержанные недоступностью сервиса карт.")


def _appeal_guard(req: AidRequest) -> str | None:
    from portal.appeals.rules import why_not_appealable

    return why_not_appealable(req)


def _open_appeal_guard(req: AidRequest) -> str | None:
    from portal.appeals.models import Appeal

    if Appeal.objects.filter(request=req, status=Appeal.Status.OPEN).exists():
        return None
    return _("У заявки нет жалобы на рассмотрении.")


def pending_signature(req: AidRequest) -> Decision | None:
    """The request's latest decision when it waits for the principal's signature."""
    if req.pk is None:
        return None
    return Decision.objects.filter(request_id=req.pk).awaiting_signature().order_by("-id").first()


def _awaits_signature(req: AidRequest) -> str | None:
    if pending_signature(req) is not None:
        return None
    return _("Решение по этой заявке не ждёт подписи директора.")


def _not_paid(req: AidRequest) -> str | None:
    from portal.appeals.models import Appeal
    from portal.payments.models import Payment

    if req.pk is not None and Appeal.objects.filter(request_id=req.pk, status="open").exists():
        return _("По заявке рассматривается жалоба: отозвать её сейчас нельзя.")

    if req.pk is None:
        return None
    states = set(
        Payment.objects.filter(
            decision__request_id=req.pk, status__in=[Payment.Status.PAID, Payment.Status.PENDING]
        ).values_list("status", flat=True)
    )
    if Payment.Status.PAID in states:
        return _("Помощь по этой заявке уже выплачена: отозвать её нельзя.")
    if Payment.Status.PENDING in states:  # the bank may still pay it: the money is on its way
        return _(
            "Платёж по этой заявке в реестре банка: отозвать её можно, когда банк ответит, "
            "что платёж не прошёл."
        )
    return None


@dataclass(frozen=True)
class Rule:
    targets: tuple[str, ...]  # the first is the usual outcome
    by: str  # STAFF | PRINCIPAL | REVIEWER | SYSTEM
    guard: Callable[[AidRequest], str | None] | None = None  # None: allowed; else why not


Q, SC, SD, D, NR, W = (
    Status.QUEUED,
    Status.SCORING,
    Status.SCORED,
    Status.DECIDED,
    Status.NEEDS_REVIEW,
    Status.WITHDRAWN,
)

TABLE: dict[tuple[str | None, str], Rule] = {
    # submit: queued, or held for review when there is no valid consent (no card fetch)
    (NEW, Action.SUBMIT): Rule((Q, NR), STAFF),
    # the scoring task
    (Q, Action.START_SCORING): Rule((SC,), SYSTEM),
    (SC, Action.SCORE): Rule((SD,), SYSTEM),
    (Q, Action.NEEDS_REVIEW): Rule((NR,), SYSTEM),
    (SC, Action.NEEDS_REVIEW): Rule((NR,), SYSTEM),
    # the stuck-request sweeper; a card-service outage goes back to the queue by itself
    (Q, Action.REQUEUE): Rule((Q,), SYSTEM),
    (SC, Action.REQUEUE): Rule((Q,), SYSTEM),
    (NR, Action.REQUEUE): Rule((Q,), SYSTEM, _card_unavailable),
    # a re-score batch with a newly published rule set (a new attempt, still scored)
    (SD, Action.RESCORE): Rule((SD,), SYSTEM),
    # people
    (SD, Action.DECIDE): Rule((D,), STAFF),
    (SD, Action.CONTEST): Rule((Q, NR), STAFF),
    (NR, Action.RESUBMIT): Rule((Q,), STAFF),
    (Q, Action.WITHDRAW): Rule((W,), STAFF),
    (SC, Action.WITHDRAW): Rule((W,), STAFF),
    (SD, Action.WITHDRAW): Rule((W,), STAFF),
    (NR, Action.WITHDRAW): Rule((W,), STAFF),
    # appeals (portal.appeals): the school files, the district's reviewer decides
    (D, Action.APPEAL): Rule((D,), STAFF, _appeal_guard),
    (D, Action.APPEAL_UPHOLD): Rule((D,), REVIEWER, _open_appeal_guard),
    (D, Action.APPEAL_REVISE): Rule((D,), REVIEWER, _open_appeal_guard),
    (D, Action.APPEAL_RESCORE): Rule((SD,), REVIEWER, _open_appeal_guard),
    # an approval not paid yet: withdrawn, its reservation goes back to the budget
    (D, Action.WITHDRAW): Rule((W,), STAFF, _not_paid),
    # the second signature of a principal (never the decider; checked in check())
    (D, Action.SIGN): Rule((D,), PRINCIPAL, _awaits_signature),
    (D, Action.REFUSE_SIGNATURE): Rule((SD,), PRINCIPAL, _awaits_signature),
    # withdrawn is final
}

STATES: tuple[str | None, ...] = (NEW, *Status.values)

# The order of the buttons on the request page.
STAFF_ACTIONS: tuple[str, ...] = (
    Action.SIGN,
    Action.REFUSE_SIGNATURE,
    Action.DECIDE,
    Action.RESUBMIT,
    Action.CONTEST,
    Action.APPEAL,
    Action.WITHDRAW,
)
REVIEWER_ACTIONS: tuple[str, ...] = (
    Action.APPEAL_UPHOLD,
    Action.APPEAL_REVISE,
    Action.APPEAL_RESCORE,
)

AUDIT_ACTIONS: dict[str, AuditAction] = {
    Action.SUBMIT: AuditAction.AID_REQUEST_SUBMIT,
    Action.START_SCORING: AuditAction.AID_REQUEST_SCORING_START,
    Action.SCORE: AuditAction.AID_REQUEST_SCORED,
    Action.NEEDS_REVIEW: AuditAction.AID_REQUEST_NEEDS_REVIEW,
    Action.REQUEUE: AuditAction.AID_REQUEST_REQUEUE,
    Action.RESCORE: AuditAction.AID_REQUEST_RESCORE,
    Action.DECIDE: AuditAction.AID_REQUEST_DECIDE,
    Action.CONTEST: AuditAction.AID_REQUEST_CONTEST,
    Action.RESUBMIT: AuditAction.AID_REQUEST_RESUBMIT,
    Action.WITHDRAW: AuditAction.AID_REQUEST_WITHDRAW,
    Action.APPEAL: AuditAction.APPEAL_FILE,
    Action.APPEAL_UPHOLD: AuditAction.APPEAL_UPHOLD,
    Action.APPEAL_REVISE: AuditAction.APPEAL_REVISE,
    Action.APPEAL_RESCORE: AuditAction.APPEAL_RESCORE,
    Action.SIGN: AuditAction.AID_REQUEST_SIGN,
    Action.REFUSE_SIGNATURE: AuditAction.AID_REQUEST_SIGNATURE_REFUSE,
}


class InvalidTransition(Exception):
    """The action is not allowed from the request's current state (a conflict: 409)."""

    def __init__(self, message: str, *, state: str | None = None, action: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.state = state
        self.action = action


def _state_of(req: AidRequest) -> str | None:
    return NEW if req._state.adding else req.status


def _staff_may(scope: Scope | None, req: AidRequest) -> bool:
    return bool(
        scope is not None
        and scope.can_act_on_requests
        and req.school_id is not None
        and scope.contains_school(req.school_id)
    )


def _reviewer_may(scope: Scope | None, req: AidRequest) -> bool:
    return bool(
        scope is not None
        and scope.can_review_appeals
        and req.school_id is not None
        and scope.contains_school(req.school_id)
    )


def _principal_may(scope: Scope | None, req: AidRequest) -> bool:
    return bool(
        scope is not None
        and scope.can_sign_decisions
        and req.school_id is not None
        and scope.contains_school(req.school_id)
    )


def _signer_is_decider(scope: Scope | None, req: AidRequest) -> bool:
    decision = pending_signature(req)
    return bool(scope is not None and decision and decision.decided_by_id == scope.user_id)


def rule_for(state: str | None, action: str) -> Rule | None:
    return TABLE.get((state, action))


def check(req: AidRequest, action: str, scope: Scope | None = None) -> Rule:
    """The table's rule for `action` from the request's state, or raise.

    ``PermissionDenied`` when a staff action is taken by someone who may not act on this
    school's requests; :class:`InvalidTransition` when the state does not allow it.
    """
    action = Action(action)
    state = _state_of(req)
    rule = TABLE.get((state, action))
    if rule is not None and rule.by == STAFF:
        require(scope, "can_act_on_requests", _("Заявки подают и решают только сотрудники школы."))
        if not _staff_may(scope, req):
            raise PermissionDenied(_("Заявка другой школы."))
    if rule is not None and rule.by == REVIEWER:
        require(scope, "can_review_appeals", _("Жалобы рассматривает отдел образования района."))
        if not _reviewer_may(scope, req):
            raise PermissionDenied(_("Заявка школы другого района."))
    if rule is not None and rule.by == PRINCIPAL:
        require(scope, "can_sign_decisions", _("Решения подписывает только директор школы."))
        if not _principal_may(scope, req):
            raise PermissionDenied(_("Заявка другой школы."))
        if _signer_is_decider(scope, req):
            raise PermissionDenied(
                _("Вы сами приняли это решение: его подписывает другой директор (второй подписью).")
            )
    if rule is None:
        label = Status(state).label if state else _("новая")
        raise InvalidTransition(
            _(
                "Действие «%(action)s» недоступно: заявка сейчас в состоянии «%(state)s». "
                "Обновите страницу: её могли изменить."
            )
            % {"action": action.label, "state": label},
            state=state,
            action=action,
        )
    if rule.guard is not None:
        why = rule.guard(req)
        if why:
            raise InvalidTransition(why, state=state, action=action)
    return rule


def allowed_actions(req: AidRequest, scope: Scope | None) -> list[str]:
    """The actions `scope` may take on `req` now, in page order (empty for readers): the
    school staff's, or the district reviewer's (an appeal's outcomes)."""
    if _staff_may(scope, req):
        actions = STAFF_ACTIONS
    elif _reviewer_may(scope, req):
        actions = REVIEWER_ACTIONS
    else:
        return []
    state = _state_of(req)
    out = []
    for action in actions:
        rule = TABLE.get((state, action))
        if rule is None or (rule.guard is not None and rule.guard(req)):
            continue
        if rule.by == PRINCIPAL and (
            not _principal_may(scope, req) or _signer_is_decider(scope, req)
        ):
            continue
        out.append(action)
    return out


def lock(pk: int) -> AidRequest:
    """The request row, locked until the end of the transaction (concurrent writers wait).
    Only the request's row (``of=("self",)``): the joined school row stays unlocked, or every
    request of a school would queue behind one another and deadlock against inserts that
    check the school's key."""
    return (
        AidRequest.objects.unscoped()
        .select_for_update(of=("self",))
        .select_related("school")
        .get(pk=pk)
    )


def submit_state_for_bulk(req: AidRequest, reason: Reason | None) -> None:
    """The first state of a request that a set-based submission (a class list) inserts with
    ``bulk_create``: the table's ``(new, submit)`` rule decides it, as in ``transition()``; the
    caller writes the audit rows and the statistics for the whole set."""
    target = Status.NEEDS_REVIEW if reason is not None else Status.QUEUED
    rule = rule_for(NEW, Action.SUBMIT)
    if rule is None or target not in rule.targets:
        raise InvalidTransition(_("Это действие с заявкой сейчас недоступно."), action="submit")
    req.status = target
    if reason is not None:
        req.status_reason_code, req.status_reason_params = reason.code, dict(reason.params)


STATE_FIELDS = [
    "status",
    "status_reason_code",
    "status_reason_params",
    "status_changed_at",
    "attempt",
    "updated_at",
]


def transition(
    req: AidRequest,
    action: str,
    *,
    target: str | None = None,
    reason: Reason | None = None,
    scope: Scope | None = None,
    actor: Any = None,
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
    effects: Callable[[], None] | None = None,
    extra_fields: Iterable[str] = (),
    outcome: str = AuditEvent.Outcome.OK,
) -> AidRequest:
    """Move `req` by `action` (to `target`, default: the rule's first target).

    Must run inside a transaction on a row locked by :func:`lock` (or a new request).
    `effects` runs after the statistics snapshot and before the state is written (create the
    decision or the scoring row there). `extra_fields` are other fields the caller changed in
    memory (a resubmission's corrections). Returns `req`, saved.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("transition() must run inside transaction.atomic()")
    state = _state_of(req)
    rule = check(req, action, scope)
    target = target or rule.targets[0]
    if target not in rule.targets:
        raise ValueError(f"{state} --{action}--> {target} is not in the transition table")
    stats = StatsTracker(None if state is NEW else req.pk)
    if effects is not None:
        effects()
    req.status = target
    req.status_reason_code = reason.code if reason else ""
    req.status_reason_params = dict(reason.params) if reason else {}
    req.status_changed_at = timezone.now()
    if state is NEW:
        # Unique keys are the database's job (an IntegrityError; the submit service turns a
        # duplicate into its answer): no SELECT per unique field.
        # The school and the submitter come from the caller's scope and session: no SELECT
        # to prove they exist (the foreign keys do).
        req.full_clean(
            exclude=["school", "created_by"], validate_unique=False, validate_constraints=False
        )
        req.insert()
    else:
        # Keys and constraints are the database's job; validate the fields that changed.
        req.full_clean(
            exclude=["school", "created_by"], validate_unique=False, validate_constraints=False
        )
        req.save(update_fields=[*STATE_FIELDS, *extra_fields])
    if (
        state is NEW
        and scope is not None
        and scope.school_id == req.school_id
        and scope.district_id is not None
        and scope.region_id is not None
    ):  # a new request of the submitter's own school: its bucket is known without a read
        row = stats_row_of_new(req, district_id=scope.district_id, region_id=scope.region_id)
        stats.done(req.pk, after=row)
    else:
        stats.done(req.pk)
    audit_detail: dict[str, Any] = {"from": state, "to": target, "attempt": req.attempt}
    if reason is not None:
        audit_detail["reason_code"] = reason.code
    audit_detail.update(detail or {})
    audit_record(
        action=AUDIT_ACTIONS[action],
        scope=scope,
        actor=actor,
        object_type="aid_request",
        object_id=str(req.public_id),
        school_id=req.school_id,
        ip=ip,
        outcome=outcome,
        detail=audit_detail,
    )
    return req


def transition_many(
    reqs: list[AidRequest],
    action: str,
    *,
    details: dict[int, dict[str, Any]] | None = None,
    effects: Callable[[], None] | None = None,
) -> list[AidRequest]:
    """:func:`transition` for a set of requests the system moves together by one action
    (the scoring batch: ``start_scoring``, ``score``): every request checked against the table,
    to the rule's first target with no reason, one statistics read before and after, one
    UPDATE, one INSERT of the audit rows. Rows locked by the caller, in its transaction.
    ``details``: the audit detail of each request by primary key. Returns ``reqs``.
    """
    from portal.audit.services import audit_build, audit_record_many
    from portal.stats.services import StatsTrackerMany

    if not connection.in_atomic_block:
        raise RuntimeError("transition_many() must run inside transaction.atomic()")
    if not reqs:
        return reqs
    states: dict[int, str] = {}
    targets = set()
    for req in reqs:
        if _state_of(req) is NEW:
            raise ValueError("transition_many() moves saved requests only")
        rule = check(req, action)
        if rule.by != SYSTEM:
            raise ValueError(f"{action} is not a system action")
        states[req.pk] = req.status
        targets.add(rule.targets[0])
    if len(targets) != 1:
        raise ValueError(f"{action}: the requests would go to different states")
    (target,) = targets
    pks = [req.pk for req in reqs]
    stats = StatsTrackerMany(pks)
    if effects is not None:
        effects()
    now = timezone.now()
    AidRequest.objects.unscoped().filter(pk__in=pks).update(
        status=target,
        status_reason_code="",
        status_reason_params={},
        status_changed_at=now,
        updated_at=now,
    )
    for req in reqs:
        req.status, req.status_reason_code, req.status_reason_params = target, "", {}
        req.status_changed_at = req.updated_at = now
    stats.done()
    audit_action = AUDIT_ACTIONS[action]
    audit_record_many(
        [
            audit_build(
                action=audit_action,
                object_type="aid_request",
                object_id=str(req.public_id),
                school_id=req.school_id,
                detail={
                    "from": states[req.pk],
                    "to": target,
                    "attempt": req.attempt,
                    **((details or {}).get(req.pk) or {}),
                },
            )
            for req in reqs
        ]
    )
    return reqs
