"""Writes for aid requests: submit, score (the task body), decide, contest, resubmit,
withdraw, re-score, re-queue.

Every state change goes through :func:`portal.requests.lifecycle.transition` (the transition
table, the statistics delta and the audit row, in the same transaction, on a locked row).
Every write is atomic and validated in this layer (:func:`aid_request_validate` checks all the
form checks and more), and enqueues Celery work with ``transaction.on_commit``. Nothing here
logs an ИИН, a name or an income.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit.models import AuditEvent
from portal.audit.services import audit_record
from portal.budgets.duplicates import school_with_duplicates
from portal.budgets.services import budget_release, budget_reserve, one_child_one_grant_error
from portal.letters.services import letters_on_decision
from portal.notices.services import notices_on_submit
from portal.requests import lifecycle
from portal.requests.lifecycle import Action, InvalidTransition
from portal.requests.models import (
    ACTIVE_STATUSES,
    CONSENT_MAX_DAYS,
    AidRequest,
    AidRequestScoring,
    Decision,
    Status,
)
from portal.requests.reasons import Reason, ReasonCode
from portal.requests.recommendation import recommend
from schools.iinkey import iin_digest
from schools.scope import Scope, require

logger = logging.getLogger(__name__)

__all__ = [
    "DuplicateAidRequest",
    "InvalidTransition",
    "aid_request_contest",
    "aid_request_decide",
    "aid_request_refuse_signature",
    "aid_request_rescore",
    "aid_request_resubmit",
    "aid_request_score",
    "aid_request_sign",
    "aid_request_submit",
    "aid_request_validate",
    "aid_request_withdraw",
    "aid_requests_requeue_card_unavailable",
    "aid_requests_requeue_stuck",
]

SUBMIT_FIELDS = (
    "student_iin",
    "student_full_name",
    "grade",
    "guardian_iin",
    "guardian_full_name",
    "guardian_phone",
    "ground",
    "aid_kind",
    "amount_kzt",
    "academic_year",
    "comment",
    "consent_method",
    "consent_reference",
    "consent_given_on",
    "consent_valid_until",
    "guardian_email",
    "family_language",
    "notices_opt_out",
)
CONSENT_FIELDS = ("consent_method", "consent_reference", "consent_given_on", "consent_valid_until")


class DuplicateAidRequest(Exception):
    """An open request for the same student, kind of help and academic year exists."""

    def __init__(self, existing: AidRequest) -> None:
        super().__init__(
            _("Открытая заявка на этого учащегося, вид помощи и учебный год уже есть.")
        )
        self.existing = existing


# --------------------------------------------------------------------------- helpers


def _enqueue(request_id: int) -> None:
    """One submitted request to score: gathered with whatever else arrives at the same time
    into one drain task (``portal.coalesce``; the drain scores them set-based)."""
    from portal.coalesce import SUBMITTED

    SUBMITTED.add([request_id])


def _enqueue_on_commit(req: AidRequest) -> None:
    """:func:`_enqueue` once committed, in the transaction's one Redis round trip
    (``portal.coalesce.redis_on_commit``). Robust: a broker that is down must not turn a
    saved request into a 500; the request stays queued and the sweeper enqueues it when the
    broker is back."""
    from portal.coalesce import SUBMITTED

    SUBMITTED.add_on_commit([req.pk])


def _enqueue_many_on_commit(ids: list[int]) -> None:
    """Several requests to score, in chunks (``tasks.enqueue_scoring``), once committed."""
    from portal.requests import tasks

    if ids:
        transaction.on_commit(lambda: tasks.enqueue_scoring(ids), robust=True)


def latest_scoring(req: AidRequest) -> AidRequestScoring | None:
    return (
        AidRequestScoring.objects.select_related("assessment", "assessment__ruleset")
        .filter(request=req)
        .order_by("-attempt")
        .first()
    )


def _lock_in_scope(scope: Scope, aid_request: AidRequest) -> AidRequest:
    require(scope, "can_act_on_requests", _("Заявки подают и решают только сотрудники школы."))
    if not scope.contains_school(aid_request.school_id):
        raise PermissionDenied(_("Заявка другой школы."))
    return lifecycle.lock(aid_request.pk)


# --------------------------------------------------------------------------- validation


def current_academic_year_start(today: dt.date) -> int:
    """The first calendar year of the academic year running on `today` (it starts 1 September)."""
    return today.year if today.month >= 9 else today.year - 1


def aid_request_validate(req: AidRequest, *, today: dt.date | None = None) -> None:
    """Everything the form checks, and the rules of the service: raise ``ValidationError``
    keyed by field (every problem at once). Runs before anything is saved."""
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    try:
        req.full_clean(
            exclude=["school", "created_by"], validate_unique=False, validate_constraints=False
        )
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(str(message))

    if (
        req.student_iin
        and req.student_iin == req.guardian_iin
        and not ({"student_iin", "guardian_iin"} & set(errors))
    ):
        add(
            "guardian_iin",
            _(
                "ИИН родителя / законного представителя совпадает с ИИН учащегося: "
                "укажите ИИН взрослого."
            ),
        )
    if req.consent_method:
        if not req.consent_reference:
            add("consent_reference", _("Укажите номер или ссылку согласия."))
        if not req.consent_given_on:
            add("consent_given_on", _("Укажите дату согласия."))
        if not req.consent_valid_until:
            add("consent_valid_until", _("Укажите, до какой даты действует согласие."))
    given, until = req.consent_given_on, req.consent_valid_until
    if given and given > today:
        add(
            "consent_given_on",
            _("Дата согласия не может быть позже сегодняшней (%(today)s).")
            % {"today": today.strftime("%d.%m.%Y")},
        )
    if given and until and until >= given and (until - given).days > CONSENT_MAX_DAYS:
        add(
            "consent_valid_until",
            _("Согласие действует не дольше года: укажите дату не позже %(max)s.")
            % {"max": (given + dt.timedelta(days=CONSENT_MAX_DAYS)).strftime("%d.%m.%Y")},
        )
    if "academic_year" not in errors and req.academic_year:
        start = int(req.academic_year[:4])
        current = current_academic_year_start(today)
        if start < current:
            add(
                "academic_year",
                _("Учебный год %(year)s уже прошёл: укажите текущий (%(current)s) или следующий.")
                % {"year": req.academic_year, "current": f"{current}-{current + 1}"},
            )
        elif start > current + 1:
            add(
                "academic_year",
                _("Заявку можно подать на текущий (%(current)s) или следующий учебный год.")
                % {"current": f"{current}-{current + 1}"},
            )
    if errors:
        raise ValidationError(errors)


def _normalise_consent(req: AidRequest) -> None:
    """ "No consent" chosen: the other consent fields mean nothing and are not kept."""
    if not req.consent_method:
        req.consent_reference = ""
        req.consent_given_on = None
        req.consent_valid_until = None


def _open_duplicate(req: AidRequest) -> AidRequest | None:
    return (
        AidRequest.objects.unscoped()
        .open()
        .filter(
            school_id=req.school_id,
            student_iin_hmac=iin_digest(req.student_iin),
            aid_kind=req.aid_kind,
            academic_year=req.academic_year,
        )
        .exclude(pk=req.pk)
        .first()
    )


# --------------------------------------------------------------------------- submit


def aid_request_submit(
    *,
    scope: Scope,
    actor: Any,
    data: dict[str, Any],
    ip: str | None = None,
    enqueue: bool = True,
) -> AidRequest:
    """Create a request for the scope's school. No valid consent → needs_review, no card fetch.

    ``enqueue=False`` leaves a queued request for the caller to score (demo seeding in local
    processes); it is still picked up by the stuck-request sweeper.

    An open request for the same student, kind and year is refused by the unique index
    (aidrequest_one_open_per_student_kind_year, the same rule as ``.open()``): no SELECT before
    every submission that is not a duplicate. The failed INSERT rolls this transaction back
    (a savepoint of the caller's, when there is one: the caller's transaction survives) and
    the existing request is looked up afterwards — no savepoint of its own around the INSERT
    (two statements on every submission).
    """
    require(scope, "can_act_on_requests", _("Заявки подают только сотрудники школы."))
    if scope.school_id is None:
        raise PermissionDenied(_("Заявки подают только сотрудники школы."))
    req = AidRequest(
        school_id=scope.school_id,
        created_by=actor,
        **{k: data[k] for k in SUBMIT_FIELDS if k in data and data[k] is not None},
    )
    try:
        with transaction.atomic():
            _submit(req, scope=scope, actor=actor, ip=ip, enqueue=enqueue)
    except IntegrityError:
        if req.pk is not None:
            raise  # the request itself was written: not a refused duplicate
        existing = _open_duplicate(req)
        if existing is None:
            raise
        raise DuplicateAidRequest(existing) from None
    return req


def _submit(req: AidRequest, *, scope: Scope, actor: Any, ip: str | None, enqueue: bool) -> None:
    # the letters' language and the SMS's name; the answer's duplicates in the same statement
    school = school_with_duplicates(req)
    if school is not None:
        req.school = school
    _normalise_consent(req)
    aid_request_validate(req)
    problem = req.consent_problem()
    target = Status.NEEDS_REVIEW if problem else Status.QUEUED
    lifecycle.transition(
        req,
        Action.SUBMIT,
        target=target,
        reason=problem,
        scope=scope,
        actor=actor,
        ip=ip,
        detail={"status": target, "ground": req.ground, "aid_kind": req.aid_kind},
    )
    if req.status == Status.QUEUED and enqueue:
        _enqueue_on_commit(req)
    notices_on_submit(req)  # the guardian's "request received" (outbox, delivered on commit)


@transaction.atomic
def aid_request_resubmit(
    *,
    scope: Scope,
    actor: Any,
    aid_request: AidRequest,
    data: dict[str, Any],
    ip: str | None = None,
) -> AidRequest:
    """A request held for review, corrected (fields, consent) and sent back to the queue.

    The corrections are validated like a new request; the consent must now be valid (that
    is what review usually asks for). A new scoring attempt is queued.
    """
    req = _lock_in_scope(scope, aid_request)
    lifecycle.check(req, Action.RESUBMIT, scope)  # a conflict before any validation
    changed = []
    for k in SUBMIT_FIELDS:
        if k in data:
            value = data[k]
            if value is None and k not in ("consent_given_on", "consent_valid_until"):
                continue
            if getattr(req, k) != value:
                setattr(req, k, value)
                changed.append(k)
    _normalise_consent(req)
    changed = sorted(set(changed) | ({*CONSENT_FIELDS} if not req.consent_method else set()))
    aid_request_validate(req)
    problem = req.consent_problem()
    if problem is not None:
        message = problem.render()
        raise ValidationError(
            {
                "consent_given_on" if req.consent_method else "consent_method": [
                    _("Чтобы подать заявку снова, нужно действующее согласие: %(problem)s")
                    % {"problem": message}
                ]
            }
        )
    existing = _open_duplicate(req)
    if existing is not None:
        raise DuplicateAidRequest(existing)
    req.attempt += 1
    try:
        with transaction.atomic():
            lifecycle.transition(
                req,
                Action.RESUBMIT,
                scope=scope,
                actor=actor,
                ip=ip,
                extra_fields=changed,
                detail={"changed": sorted(changed)},
            )
    except IntegrityError:
        existing = _open_duplicate(req)
        if existing is None:
            raise
        raise DuplicateAidRequest(existing) from None
    _enqueue_on_commit(req)
    aid_request.refresh_from_db()
    return req


# --------------------------------------------------------------------------- scoring


def _needs_review_if_current(request_id: int, attempt: int, reason: Reason) -> str:
    with transaction.atomic():
        req = lifecycle.lock(request_id)
        if req.status not in ACTIVE_STATUSES or req.attempt != attempt:
            return "skipped"
        lifecycle.transition(req, Action.NEEDS_REVIEW, reason=reason)
    return Status.NEEDS_REVIEW


def _card_error_reason(exc: Exception) -> Reason:
    from scoring.sources import (
        CardMalformed,
        CardNotFound,
        CardRequestRejected,
        CardServiceUnavailable,
    )

    if isinstance(exc, CardServiceUnavailable):
        return Reason(ReasonCode.CARD_UNAVAILABLE, {"cause": exc.reason})
    if isinstance(exc, CardNotFound):
        return Reason(ReasonCode.CARD_NOT_FOUND)
    if isinstance(exc, CardMalformed):
        return Reason(ReasonCode.CARD_MALFORMED, {"count": len(exc.problems)})
    if isinstance(exc, CardRequestRejected):
        return Reason(ReasonCode.CARD_REJECTED, {"http_status": exc.status} if exc.status else {})
    return Reason(ReasonCode.CARD_ERROR, {"code": str(getattr(exc, "code", "error"))})


@dataclass
class ScoringBatchResult:
    """What :func:`aid_requests_score_many` did: the outcome of every request ("scored",
    "needs_review", "skipped" or "retry"), and for each "retry" the card-service error that
    held it back (its reason and ``retry_after`` set the retry's countdown)."""

    outcomes: dict[int, str] = field(default_factory=dict)
    unavailable: dict[int, Exception] = field(default_factory=dict)

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes.values() if o == outcome)


RETRY = "retry"


def aid_request_score(
    *, request_id: int, final_try: bool = True, source: Any = None, on: dt.date | None = None
) -> str:
    """Score one request (the body of the Celery task): :func:`aid_requests_score_many` for a
    set of one. Idempotent and safe concurrently.

    Returns the outcome: "scored", "needs_review" or "skipped". Raises
    ``scoring.sources.CardServiceUnavailable`` when the card service is unavailable and this is
    not the final try (the task retries it).
    """
    result = aid_requests_score_many(
        request_ids=[request_id], final_try=final_try, source=source, on=on
    )
    if request_id in result.unavailable:
        raise result.unavailable[request_id]
    return result.outcomes[request_id]


def _claim_for_scoring(
    request_ids: list[int], result: ScoringBatchResult, on: dt.date | None
) -> list[AidRequest]:
    """Lock the requests, skip those not active or already scored in their attempt, hold back
    those without a valid consent, move the queued ones to ``scoring`` (one short
    transaction). Returns the claimed requests."""
    with transaction.atomic():
        reqs = list(
            AidRequest.objects.unscoped()
            .select_for_update(of=("self",))
            .select_related("school")
            .filter(pk__in=request_ids, status__in=ACTIVE_STATUSES)
            .order_by("pk")
        )
        done = set(
            AidRequestScoring.objects.filter(request_id__in=[r.pk for r in reqs]).values_list(
                "request_id", "attempt"
            )
        )
        claimed = []
        for req in reqs:
            if (req.pk, req.attempt) in done:
                continue
            problem = req.consent_problem(on)
            if problem:
                lifecycle.transition(req, Action.NEEDS_REVIEW, reason=problem)
                result.outcomes[req.pk] = Status.NEEDS_REVIEW
                continue
            claimed.append(req)
        lifecycle.transition_many(
            [r for r in claimed if r.status == Status.QUEUED], Action.START_SCORING
        )
    return claimed


def aid_requests_score_many(
    *,
    request_ids: list[int],
    final_try: bool = True,
    source: Any = None,
    on: dt.date | None = None,
) -> ScoringBatchResult:
    """Score a set of requests together (a chunk of the queue): claim them in one short
    transaction, fetch their cards in one call of the card service
    (:meth:`~scoring.sources.FamilyCardSource.fetch_many`) outside any lock, then write every
    assessment, scoring row, state, audit row and statistics change set-based in a second short
    transaction. Idempotent and safe concurrently, like one request at a time: a request no
    longer active, or already scored in its attempt, is skipped.

    A request whose card service was unavailable is "retry" (its error in
    ``result.unavailable``) unless ``final_try``: then, like every other card error, it goes to
    ``needs_review`` with the reason.
    """
    from scoring.card import CardError
    from scoring.models import Assessment, RuleSet
    from scoring.ruleset import MissingParameterError
    from scoring.selectors import ruleset_in_force
    from scoring.services import assessment_build
    from scoring.sources import (
        CardServiceUnavailable,
        CardSourceError,
        fetch_cards,
        get_card_source,
    )

    result = ScoringBatchResult(outcomes=dict.fromkeys(request_ids, "skipped"))
    # 1. Claim.
    claimed = _claim_for_scoring(list(request_ids), result, on)
    if not claimed:
        return result
    attempts = {r.pk: r.attempt for r in claimed}

    # 2. Fetch the cards outside any lock.
    card_source = source or get_card_source()
    try:
        fetched = fetch_cards(card_source, [r.student_iin for r in claimed])
    finally:
        if source is None:
            card_source.close()
    ready = {}
    for req, got in zip(claimed, fetched, strict=True):
        if isinstance(got, CardServiceUnavailable) and not final_try:
            result.outcomes[req.pk] = RETRY
            result.unavailable[req.pk] = got
        elif isinstance(got, CardSourceError):
            result.outcomes[req.pk] = _needs_review_if_current(
                req.pk, req.attempt, _card_error_reason(got)
            )
        else:
            ready[req.pk] = got
    if not ready:
        return result

    # 3. Write the assessments and the new states in one short transaction.
    with transaction.atomic():
        current = [
            req
            for req in AidRequest.objects.unscoped()
            .select_for_update(of=("self",))
            .select_related("school")
            .filter(pk__in=list(ready), status=Status.SCORING)
            .order_by("pk")
            if req.attempt == attempts[req.pk]
        ]
        done = set(
            AidRequestScoring.objects.filter(request_id__in=[r.pk for r in current]).values_list(
                "request_id", "attempt"
            )
        )
        current = [r for r in current if (r.pk, r.attempt) not in done]
        previous = dict(
            AidRequestScoring.objects.filter(request_id__in=[r.pk for r in current])
            .order_by("request_id", "-attempt")
            .distinct("request_id")
            .values_list("request_id", "assessment_id")
        )
        try:
            ruleset = ruleset_in_force(on=on)
        except RuleSet.DoesNotExist:
            ruleset = None
        scored: list[tuple[AidRequest, Assessment]] = []
        for req in current:
            reason = None
            try:
                if ruleset is None:
                    raise RuleSet.DoesNotExist
                assessment = assessment_build(card=ready[req.pk].parsed, ruleset=ruleset, on=on)
            except CardError as exc:
                reason = Reason(
                    ReasonCode.CARD_INVALID,
                    {"count": len(exc.problems), "paths": [p.path for p in exc.problems[:5]]},
                )
            except RuleSet.DoesNotExist:
                reason = Reason(ReasonCode.NO_RULESET)
            except MissingParameterError:
                reason = Reason(ReasonCode.RULESET_PARAMETER)
            if reason is not None:
                lifecycle.transition(req, Action.NEEDS_REVIEW, reason=reason)
                result.outcomes[req.pk] = Status.NEEDS_REVIEW
                continue
            assessment.previous_id = previous.get(req.pk)
            scored.append((req, assessment))

        def effects() -> None:
            Assessment.objects.bulk_create([a for _r, a in scored])
            AidRequestScoring.objects.bulk_create(
                [AidRequestScoring(request=r, attempt=r.attempt, assessment=a) for r, a in scored]
            )

        lifecycle.transition_many(
            [r for r, _a in scored],
            Action.SCORE,
            effects=effects,
            details={
                r.pk: {"assessment": str(a.public_id), "category": a.category} for r, a in scored
            },
        )
        for req, _a in scored:
            result.outcomes[req.pk] = Status.SCORED
    return result


@transaction.atomic
def aid_requests_requeue_stuck(
    *,
    older_than: dt.timedelta,
    now: dt.datetime | None = None,
    statuses: tuple[str, ...] | None = None,
    limit: int = 500,
) -> int:
    """Re-enqueue requests stuck in queued/scoring (or only ``statuses``) for longer than
    `older_than`."""
    cutoff = (now or timezone.now()) - older_than
    stuck = list(
        AidRequest.objects.unscoped()
        .select_for_update(skip_locked=True)
        .filter(status__in=statuses or ACTIVE_STATUSES, status_changed_at__lt=cutoff)
        .order_by("status_changed_at")[:limit]
    )
    for req in stuck:
        lifecycle.transition(req, Action.REQUEUE)
    _enqueue_many_on_commit([req.pk for req in stuck])
    return len(stuck)


@transaction.atomic
def aid_requests_requeue_card_unavailable(
    *, older_than: dt.timedelta | None = None, now: dt.datetime | None = None, limit: int = 500
) -> int:
    """Send requests held because the card service was unavailable back to the queue (a new
    scoring attempt each). For the pipeline's schedule, once the card service answers again.

    ``older_than``: only requests held at least that long. Returns how many were re-queued.
    """
    qs = (
        AidRequest.objects.unscoped()
        .select_for_update(skip_locked=True)
        .filter(status=Status.NEEDS_REVIEW, status_reason_code=ReasonCode.CARD_UNAVAILABLE)
    )
    if older_than is not None:
        qs = qs.filter(status_changed_at__lt=(now or timezone.now()) - older_than)
    held = list(qs.order_by("status_changed_at")[:limit])
    for req in held:
        req.attempt += 1
        lifecycle.transition(req, Action.REQUEUE, detail={"after": ReasonCode.CARD_UNAVAILABLE})
    _enqueue_many_on_commit([req.pk for req in held])
    return len(held)


def aid_request_rescore(
    *, request_id: int, ruleset: Any, actor: Any = None, batch: str = ""
) -> tuple[str, bool]:
    """Re-score one open (``scored``) request with a published ``ruleset`` (a rescore batch).

    Uses the FROZEN card of the latest assessment (no card-service call) and stores a new
    assessment linked to it (``previous``) as a new scoring attempt; the status stays
    ``scored``. Idempotent per (request, rule set): a request whose latest assessment already
    uses ``ruleset`` is skipped. One short transaction with the request row locked.

    Returns ``(outcome, category_changed)``; outcome is "rescored", "skipped" or "failed".
    """
    from scoring.card import CardError
    from scoring.ruleset import MissingParameterError
    from scoring.services import assessment_create

    with transaction.atomic():
        req = lifecycle.lock(request_id)
        if lifecycle.rule_for(req.status, Action.RESCORE) is None:
            return "skipped", False
        previous = latest_scoring(req)
        if previous is None or previous.assessment.ruleset_id == ruleset.pk:
            return "skipped", False
        old = previous.assessment
        attempt = req.attempt + 1
        if AidRequestScoring.objects.filter(request=req, attempt=attempt).exists():
            return "skipped", False
        try:
            with transaction.atomic():
                assessment = assessment_create(card_doc=old.card, ruleset=ruleset, previous=old)
        except (CardError, MissingParameterError) as exc:
            audit_record(
                action="aid_request.rescore_failed",
                actor=actor,
                object_type="aid_request",
                object_id=str(req.public_id),
                school_id=req.school_id,
                outcome=AuditEvent.Outcome.ERROR,
                detail={
                    "batch": batch,
                    "ruleset_version": ruleset.version,
                    "reason_code": type(exc).__name__,
                },
            )
            return "failed", False
        req.attempt = attempt
        lifecycle.transition(
            req,
            Action.RESCORE,
            reason=req.reason,
            actor=actor,
            effects=lambda: AidRequestScoring.objects.create(
                request=req, attempt=attempt, assessment=assessment
            ),
            detail={
                "batch": batch,
                "assessment": str(assessment.public_id),
                "previous_assessment": str(old.public_id),
                "ruleset_version": ruleset.version,
                "previous_category": old.category,
                "category": assessment.category,
            },
        )
        changed = assessment.category != old.category
    return "rescored", changed


# --------------------------------------------------------------------------- decisions


@transaction.atomic
def aid_request_decide(
    *,
    scope: Scope,
    actor: Any,
    aid_request: AidRequest,
    outcome: str,
    amount_kzt: int | None = None,
    reason: str = "",
    ip: str | None = None,
) -> Decision:
    """Approve (an amount of at most the requested one) or reject a scored request. Against
    the recommendation only with a reason. Decided is final in this flow."""
    req = _lock_in_scope(scope, aid_request)
    lifecycle.check(req, Action.DECIDE, scope)
    scoring_row = latest_scoring(req)
    assessment = scoring_row.assessment if scoring_row else None
    rec = recommend(assessment.category, assessment.markers) if assessment else None
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if outcome not in Decision.Outcome.values:
        errors["outcome"] = [_("Выберите: одобрить или отказать.")]
    against = bool(rec and outcome in Decision.Outcome.values and rec.is_against(outcome))
    if outcome == Decision.Outcome.APPROVE:
        if not amount_kzt:
            errors["amount_kzt"] = [_("Укажите сумму помощи.")]
        elif amount_kzt > req.amount_kzt:
            errors["amount_kzt"] = [
                _("Одобренная сумма не может быть больше запрошенной (%(max)s ₸).")
                % {"max": req.amount_kzt}
            ]
    if outcome == Decision.Outcome.REJECT:
        amount_kzt = None
    if against and not reason:
        errors["reason"] = [_("Решение расходится с рекомендацией: напишите обоснование.")]
    if outcome == Decision.Outcome.APPROVE and not reason:
        duplicate_error = one_child_one_grant_error(req)  # another school's request
        if duplicate_error:
            errors["reason"] = [duplicate_error]
    if errors:
        raise ValidationError(errors)
    needs_signature = signature_required(outcome=outcome, amount_kzt=amount_kzt, against=against)
    decision = Decision(
        request=req,
        assessment=assessment,
        outcome=outcome,
        amount_kzt=amount_kzt,
        requested_amount_kzt=req.amount_kzt,
        recommendation=rec.code if rec else "",
        against_recommendation=against,
        reason=reason,
        decided_by=actor,
        signature_required=needs_signature,
        signature=Decision.Signature.PENDING if needs_signature else Decision.Signature.NONE,
    )
    decision.full_clean(validate_unique=False, validate_constraints=False)
    if outcome == Decision.Outcome.APPROVE:  # the school's budget, locked (409 when exceeded)
        budget_reserve(
            school_id=req.school_id, academic_year=req.academic_year, amount_kzt=amount_kzt
        )
    lifecycle.transition(
        req,
        Action.DECIDE,
        scope=scope,
        actor=actor,
        ip=ip,
        effects=decision.save,
        detail={
            "decision": str(decision.public_id),
            "outcome": outcome,
            "recommendation": decision.recommendation,
            "against_recommendation": against,
            "signature_required": needs_signature,
        },
    )
    if not needs_signature:  # else the principal's signature sends them
        letters_on_decision(decision)  # the letter on commit; the guardian's notice (outbox)
    aid_request.refresh_from_db()
    return decision


def signature_required(*, outcome: str, amount_kzt: int | None, against: bool) -> bool:
    """A decision needs a principal's second signature: an approval above
    ``KOMEK_SIGNATURE_ABOVE_KZT`` or any decision against the recommendation."""
    if against:
        return True
    limit = int(settings.KOMEK_SIGNATURE_ABOVE_KZT)
    return outcome == Decision.Outcome.APPROVE and (amount_kzt or 0) > limit


def _lock_for_signature(scope: Scope, aid_request: AidRequest) -> AidRequest:
    require(scope, "can_sign_decisions", _("Решения подписывает только директор школы."))
    if not scope.contains_school(aid_request.school_id):
        raise PermissionDenied(_("Заявка другой школы."))
    return lifecycle.lock(aid_request.pk)


def _pending_decision_locked(req: AidRequest) -> Decision:
    decision = lifecycle.pending_signature(req)
    if decision is None:  # check() has refused it already; a race lost in between
        raise InvalidTransition(_("Решение по этой заявке не ждёт подписи директора."))
    return Decision.objects.select_for_update().get(pk=decision.pk)


@transaction.atomic
def aid_request_sign(
    *, scope: Scope, actor: Any, aid_request: AidRequest, ip: str | None = None
) -> Decision:
    """A principal of the school (not the decider) signs a decision that needs it: it takes
    effect now (the letter on commit, the guardian's notice in the outbox)."""
    req = _lock_for_signature(scope, aid_request)
    lifecycle.check(req, Action.SIGN, scope)
    decision = _pending_decision_locked(req)
    decision.signature = Decision.Signature.SIGNED
    decision.signed_by = actor
    decision.signed_at = timezone.now()

    def effects() -> None:
        decision.full_clean(validate_unique=False, validate_constraints=False)
        decision.save(update_fields=["signature", "signed_by", "signed_at"])

    lifecycle.transition(
        req,
        Action.SIGN,
        scope=scope,
        actor=actor,
        ip=ip,
        effects=effects,
        detail={"decision": str(decision.public_id), "outcome": decision.outcome},
    )
    letters_on_decision(decision)
    aid_request.refresh_from_db()
    return decision


@transaction.atomic
def aid_request_refuse_signature(
    *,
    scope: Scope,
    actor: Any,
    aid_request: AidRequest,
    reason: str = "",
    ip: str | None = None,
) -> Decision:
    """A principal refuses to sign (with a reason): the decision is void, an approval's
    reservation goes back to the budget, and the request is scored again, waiting for a new
    decision. No letter and no notice went out for it."""
    req = _lock_for_signature(scope, aid_request)
    lifecycle.check(req, Action.REFUSE_SIGNATURE, scope)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Напишите, почему вы не подписываете решение.")]})
    decision = _pending_decision_locked(req)
    decision.signature = Decision.Signature.REFUSED
    decision.signed_by = actor
    decision.signed_at = timezone.now()
    decision.signature_reason = reason

    def effects() -> None:
        decision.full_clean(validate_unique=False, validate_constraints=False)
        decision.save(update_fields=["signature", "signed_by", "signed_at", "signature_reason"])
        if decision.outcome == Decision.Outcome.APPROVE and decision.amount_kzt:
            budget_release(
                school_id=req.school_id,
                academic_year=req.academic_year,
                amount_kzt=decision.amount_kzt,
            )

    lifecycle.transition(
        req,
        Action.REFUSE_SIGNATURE,
        reason=Reason(ReasonCode.SIGNATURE_REFUSED),
        scope=scope,
        actor=actor,
        ip=ip,
        effects=effects,
        detail={
            "decision": str(decision.public_id),
            "outcome": decision.outcome,
            "released_kzt": decision.amount_kzt or 0,
        },
    )
    aid_request.refresh_from_db()
    return decision


@transaction.atomic
def aid_request_contest(
    *, scope: Scope, actor: Any, aid_request: AidRequest, ip: str | None = None
) -> AidRequest:
    """Challenge a scoring before a decision: re-fetch the card and re-score (a new attempt
    whose assessment links to the old one). Without a valid consent → needs review."""
    req = _lock_in_scope(scope, aid_request)
    lifecycle.check(req, Action.CONTEST, scope)
    req.attempt += 1
    problem = req.consent_problem()
    lifecycle.transition(
        req,
        Action.CONTEST,
        target=Status.NEEDS_REVIEW if problem else Status.QUEUED,
        reason=problem,
        scope=scope,
        actor=actor,
        ip=ip,
    )
    if not problem:
        _enqueue_on_commit(req)
    aid_request.refresh_from_db()
    return req


@transaction.atomic
def aid_request_withdraw(
    *, scope: Scope, actor: Any, aid_request: AidRequest, ip: str | None = None
) -> AidRequest:
    """Withdraw an open request, or a decided one whose help has not been paid (the table's
    guard): an approval's reservation goes back to the school's budget in this transaction."""
    req = _lock_in_scope(scope, aid_request)
    released = 0
    if req.status == Status.DECIDED:
        decision = Decision.objects.filter(request=req).not_void().order_by("-id").first()
        if decision is not None and decision.outcome == Decision.Outcome.APPROVE:
            released = decision.amount_kzt or 0

    def effects() -> None:
        if released:
            budget_release(
                school_id=req.school_id, academic_year=req.academic_year, amount_kzt=released
            )

    lifecycle.transition(
        req,
        Action.WITHDRAW,
        reason=Reason(ReasonCode.WITHDRAWN_BY_SCHOOL),
        scope=scope,
        actor=actor,
        ip=ip,
        effects=effects,
        detail={"released_kzt": released} if released else None,
    )
    aid_request.refresh_from_db()
    return req
