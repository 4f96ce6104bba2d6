"""Writes for aid requests: submit, score (the task body), decide, contest, withdraw; audit.

Every write is atomic, validated with ``full_clean()``, audited in the same transaction, and
enqueues Celery work with ``transaction.on_commit``. Nothing here logs an ИИН, a name or an
income.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit.models import AuditEvent
from portal.audit.services import audit_record
from portal.requests.models import (
    ACTIVE_STATUSES,
    AidRequest,
    AidRequestScoring,
    Decision,
    Status,
)
from portal.requests.recommendation import recommend
from portal.stats.services import StatsTracker

logger = logging.getLogger(__name__)

#: The reason code of a request held back because the card service did not answer; such
#: requests are re-queued by :func:`aid_requests_requeue_held` once it answers again.
CARD_UNAVAILABLE = "card_unavailable"

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
)


class DuplicateAidRequest(Exception):
    """An open request for the same student, kind of help and academic year exists."""

    def __init__(self, existing: AidRequest) -> None:
        super().__init__(
            _("Открытая заявка на этого учащегося, вид помощи и учебный год уже есть.")
        )
        self.existing = existing


class InvalidTransition(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --------------------------------------------------------------------------- audit


def _audit_request(req: AidRequest, action: str, **kwargs: Any) -> AuditEvent:
    return audit_record(
        action=action,
        object_type="aid_request",
        object_id=str(req.public_id),
        school_id=req.school_id,
        **kwargs,
    )


# --------------------------------------------------------------------------- helpers


def _require_staff_of(scope: Any, school_id: int) -> None:
    if not scope.is_school_staff:
        raise PermissionDenied(_("Заявки подают и решают только сотрудники школы."))
    if not scope.contains_school(school_id):
        raise PermissionDenied(_("Заявка другой школы."))


def _set_status(req: AidRequest, status: str, reason: str = "") -> None:
    req.status = status
    req.status_reason = reason
    req.status_changed_at = timezone.now()
    # Only the state fields change: validate them; keys and constraints are the database's job.
    req.full_clean(
        exclude=["school", "created_by"], validate_unique=False, validate_constraints=False
    )
    req.save(
        update_fields=["status", "status_reason", "status_changed_at", "attempt", "updated_at"]
    )


def _enqueue(request_id: int) -> None:
    from portal.requests import tasks

    tasks.aid_request_score.delay(request_id)


def _enqueue_on_commit(req: AidRequest) -> None:
    pk = req.pk
    # robust: a broker that is down must not turn a saved request into a 500; the request
    # stays queued and the sweeper enqueues it when the broker is back.
    transaction.on_commit(lambda: _enqueue(pk), robust=True)


def latest_scoring(req: AidRequest) -> AidRequestScoring | None:
    return (
        AidRequestScoring.objects.select_related("assessment", "assessment__ruleset")
        .filter(request=req)
        .order_by("-attempt")
        .first()
    )


# --------------------------------------------------------------------------- submit


@transaction.atomic
def aid_request_submit(
    *,
    scope: Any,
    actor: Any,
    data: dict[str, Any],
    ip: str | None = None,
    enqueue: bool = True,
) -> AidRequest:
    """Create a request for the scope's school. No valid consent → needs_review, no card fetch.

    ``enqueue=False`` leaves a queued request for the caller to score (demo seeding in local
    processes); it is still picked up by the stuck-request sweeper.
    """
    if not scope.is_school_staff or scope.school_id is None:
        raise PermissionDenied(_("Заявки подают только сотрудники школы."))
    req = AidRequest(
        school_id=scope.school_id,
        created_by=actor,
        **{k: data[k] for k in SUBMIT_FIELDS if k in data and data[k] is not None},
    )
    existing = (
        AidRequest.objects.open()
        .filter(
            school_id=req.school_id,
            student_iin=req.student_iin,
            aid_kind=req.aid_kind,
            academic_year=req.academic_year,
        )
        .first()
    )
    if existing is not None:
        raise DuplicateAidRequest(existing)
    req.full_clean(validate_constraints=False)
    problem = req.consent_problem()
    if problem:
        req.status, req.status_reason = Status.NEEDS_REVIEW, problem
    try:
        with transaction.atomic():
            req.save()
    except IntegrityError:
        existing = (
            AidRequest.objects.open()
            .filter(
                school_id=req.school_id,
                student_iin=req.student_iin,
                aid_kind=req.aid_kind,
                academic_year=req.academic_year,
            )
            .first()
        )
        if existing is None:
            raise
        raise DuplicateAidRequest(existing) from None
    StatsTracker(None).done(req.pk)
    _audit_request(
        req,
        "aid_request.submit",
        scope=scope,
        actor=actor,
        ip=ip,
        detail={"status": req.status, "ground": req.ground, "aid_kind": req.aid_kind},
    )
    if req.status == Status.QUEUED and enqueue:
        _enqueue_on_commit(req)
    return req


# --------------------------------------------------------------------------- scoring


def _needs_review_locked(
    req: AidRequest, reason: str, code: str, stats: StatsTracker | None = None
) -> str:
    stats = stats or StatsTracker(req.pk)
    _set_status(req, Status.NEEDS_REVIEW, reason)
    stats.done()
    _audit_request(
        req, "aid_request.needs_review", detail={"attempt": req.attempt, "reason_code": code}
    )
    return Status.NEEDS_REVIEW


def _needs_review_if_current(request_id: int, attempt: int, reason: str, code: str) -> str:
    with transaction.atomic():
        req = AidRequest.objects.unscoped().select_for_update().get(pk=request_id)
        if req.status not in ACTIVE_STATUSES or req.attempt != attempt:
            return "skipped"
        stats = StatsTracker(req.pk)
        _set_status(req, Status.NEEDS_REVIEW, reason)
        stats.done()
        _audit_request(
            req, "aid_request.needs_review", detail={"attempt": attempt, "reason_code": code}
        )
    return Status.NEEDS_REVIEW


def aid_request_score(
    *, request_id: int, final_try: bool = True, source: Any = None, on: dt.date | None = None
) -> str:
    """Score one request (the body of the Celery task). Idempotent and safe concurrently.

    Returns the outcome: "scored", "needs_review" or "skipped". Raises
    ``scoring.sources.CardServiceUnavailable`` when the card service is unavailable and this is
    not the final try (the task retries it).
    """
    from scoring.sources import (
        CardMalformed,
        CardNotFound,
        CardServiceUnavailable,
        CardSourceError,
        get_card_source,
    )

    # 1. Claim the request in a short transaction.
    with transaction.atomic():
        req = AidRequest.objects.unscoped().select_for_update().get(pk=request_id)
        if req.status not in ACTIVE_STATUSES:
            return "skipped"
        attempt = req.attempt
        if AidRequestScoring.objects.filter(request=req, attempt=attempt).exists():
            return "skipped"
        stats = StatsTracker(req.pk)
        problem = req.consent_problem(on)
        if problem:
            _set_status(req, Status.NEEDS_REVIEW, problem)
            stats.done()
            _audit_request(req, "aid_request.needs_review", detail={"reason_code": "consent"})
            return Status.NEEDS_REVIEW
        if req.status == Status.QUEUED:
            _set_status(req, Status.SCORING)
            stats.done()
        iin = req.student_iin

    # 2. Fetch the card outside any lock.
    card_source = source or get_card_source()
    try:
        fetched = card_source.fetch(iin)
    except CardServiceUnavailable as exc:
        if not final_try:
            raise
        reason = _(
            "Сервис карт семьи недоступен после всех попыток: %(detail)s Заявка будет "
            "отправлена на оценку автоматически, когда сервис снова ответит."
        ) % {"detail": str(exc)}
        return _needs_review_if_current(request_id, attempt, reason, CARD_UNAVAILABLE)
    except CardNotFound:
        return _needs_review_if_current(
            request_id, attempt, _("Карта семьи не найдена."), "not_found"
        )
    except CardMalformed as exc:
        return _needs_review_if_current(request_id, attempt, str(exc), "card_invalid")
    except CardSourceError as exc:
        return _needs_review_if_current(request_id, attempt, str(exc), exc.code)
    finally:
        if source is None:
            card_source.close()

    # 3. Write the assessment and the new state in one short transaction.
    from scoring.card import CardError
    from scoring.models import RuleSet
    from scoring.ruleset import MissingParameterError
    from scoring.services import assessment_create

    with transaction.atomic():
        req = AidRequest.objects.unscoped().select_for_update().get(pk=request_id)
        if req.status != Status.SCORING or req.attempt != attempt:
            return "skipped"
        if AidRequestScoring.objects.filter(request=req, attempt=attempt).exists():
            return "skipped"
        stats = StatsTracker(req.pk)
        previous = latest_scoring(req)
        try:
            with transaction.atomic():
                assessment = assessment_create(
                    card=fetched.parsed,
                    previous=previous.assessment if previous else None,
                    on=on,
                )
        except CardError as exc:
            problems = "; ".join(str(getattr(p, "message", p)) for p in exc.problems[:5])
            reason = _("Карта семьи не прошла проверку: %(problems)s") % {"problems": problems}
            return _needs_review_locked(req, reason, "card_invalid", stats)
        except RuleSet.DoesNotExist:
            reason = _("Нет действующего набора правил оценки.")
            return _needs_review_locked(req, reason, "no_ruleset", stats)
        except MissingParameterError:
            reason = _("В наборе правил нет параметров для года карты семьи.")
            return _needs_review_locked(req, reason, "ruleset_parameter", stats)
        AidRequestScoring.objects.create(request=req, attempt=attempt, assessment=assessment)
        _set_status(req, Status.SCORED)
        stats.done()
        _audit_request(
            req,
            "aid_request.scored",
            detail={
                "attempt": attempt,
                "assessment": str(assessment.public_id),
                "category": assessment.category,
            },
        )
    return Status.SCORED


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
        previous = req.status
        stats = StatsTracker(req.pk)
        _set_status(req, Status.QUEUED)
        stats.done()
        _audit_request(req, "aid_request.requeue", detail={"from": previous})
        _enqueue_on_commit(req)
    return len(stuck)


def _held_back_ids(limit: int, since: dt.datetime) -> list[int]:
    """Requests whose CURRENT attempt ended in needs_review with reason code card_unavailable
    (read from the needs_review audit events of the last days)."""
    events = (
        AuditEvent.objects.filter(
            action="aid_request.needs_review",
            object_type="aid_request",
            created_at__gte=since,
            detail__reason_code=CARD_UNAVAILABLE,
        )
        .order_by("created_at")
        .values_list("object_id", "detail")
    )
    attempts: dict[str, int] = {}
    for object_id, detail in events.iterator(chunk_size=2000):
        attempts[object_id] = int((detail or {}).get("attempt") or 0)
    if not attempts:
        return []
    ids: list[int] = []
    rows = (
        AidRequest.objects.unscoped()
        .filter(status=Status.NEEDS_REVIEW, public_id__in=list(attempts))
        .order_by("status_changed_at")
        .values_list("pk", "public_id", "attempt")
    )
    for pk, public_id, attempt in rows:
        if attempts.get(str(public_id)) == attempt:
            ids.append(pk)
            if len(ids) >= limit:
                break
    return ids


def aid_requests_held_back(*, days: int = 7) -> int:
    """How many requests wait for the card service (needs_review, card_unavailable)."""
    return len(_held_back_ids(10_000, timezone.now() - dt.timedelta(days=days)))


@transaction.atomic
def aid_requests_requeue_held(*, limit: int = 500, days: int = 7) -> int:
    """Re-queue the requests held back because the card service was unavailable (their current
    attempt ended in needs_review with code card_unavailable): a new attempt, queued, audited.
    Called when the service answers again."""
    ids = _held_back_ids(limit, timezone.now() - dt.timedelta(days=days))
    if not ids:
        return 0
    held = list(
        AidRequest.objects.unscoped()
        .select_for_update(skip_locked=True)
        .filter(pk__in=ids, status=Status.NEEDS_REVIEW)
    )
    for req in held:
        stats = StatsTracker(req.pk)
        req.attempt += 1
        _set_status(req, Status.QUEUED)
        stats.done()
        _audit_request(
            req,
            "aid_request.requeue",
            detail={"from": Status.NEEDS_REVIEW, "reason_code": CARD_UNAVAILABLE},
        )
        _enqueue_on_commit(req)
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
        req = AidRequest.objects.unscoped().select_for_update().get(pk=request_id)
        if req.status != Status.SCORED:
            return "skipped", False
        previous = latest_scoring(req)
        if previous is None or previous.assessment.ruleset_id == ruleset.pk:
            return "skipped", False
        old = previous.assessment
        attempt = req.attempt + 1
        if AidRequestScoring.objects.filter(request=req, attempt=attempt).exists():
            return "skipped", False
        stats = StatsTracker(req.pk)
        try:
            with transaction.atomic():
                assessment = assessment_create(card_doc=old.card, ruleset=ruleset, previous=old)
        except (CardError, MissingParameterError) as exc:
            _audit_request(
                req,
                "aid_request.rescore_failed",
                actor=actor,
                outcome=AuditEvent.Outcome.ERROR,
                detail={
                    "batch": batch,
                    "ruleset_version": ruleset.version,
                    "reason_code": type(exc).__name__,
                },
            )
            return "failed", False
        req.attempt = attempt
        AidRequestScoring.objects.create(request=req, attempt=attempt, assessment=assessment)
        _set_status(req, Status.SCORED, req.status_reason)
        stats.done()
        changed = assessment.category != old.category
        _audit_request(
            req,
            "aid_request.rescore",
            actor=actor,
            detail={
                "batch": batch,
                "attempt": attempt,
                "assessment": str(assessment.public_id),
                "previous_assessment": str(old.public_id),
                "ruleset_version": ruleset.version,
                "previous_category": old.category,
                "category": assessment.category,
            },
        )
    return "rescored", changed


# --------------------------------------------------------------------------- decisions


@transaction.atomic
def aid_request_decide(
    *,
    scope: Any,
    actor: Any,
    aid_request: AidRequest,
    outcome: str,
    amount_kzt: int | None = None,
    reason: str = "",
    ip: str | None = None,
) -> Decision:
    _require_staff_of(scope, aid_request.school_id)
    req = AidRequest.objects.select_for_update().get(pk=aid_request.pk)
    if req.status != Status.SCORED:
        raise InvalidTransition(_("Решение принимается только по оценённой заявке."))
    stats = StatsTracker(req.pk)
    scoring_row = latest_scoring(req)
    assessment = scoring_row.assessment if scoring_row else None
    rec = recommend(assessment.category, assessment.markers) if assessment else None
    reason = (reason or "").strip()
    against = bool(rec and rec.is_against(outcome))
    errors: dict[str, list[str]] = {}
    if outcome not in Decision.Outcome.values:
        errors["outcome"] = [_("Выберите: одобрить или отказать.")]
    if outcome == Decision.Outcome.APPROVE and not amount_kzt:
        errors["amount_kzt"] = [_("Укажите сумму помощи.")]
    if outcome == Decision.Outcome.REJECT:
        amount_kzt = None
    if against and not reason:
        errors["reason"] = [_("Решение расходится с рекомендацией: напишите обоснование.")]
    if errors:
        raise ValidationError(errors)
    decision = Decision(
        request=req,
        assessment=assessment,
        outcome=outcome,
        amount_kzt=amount_kzt,
        recommendation=rec.code if rec else "",
        against_recommendation=against,
        reason=reason,
        decided_by=actor,
    )
    decision.full_clean()
    decision.save()
    _set_status(req, Status.DECIDED)
    stats.done()
    _audit_request(
        req,
        "aid_request.decide",
        scope=scope,
        actor=actor,
        ip=ip,
        detail={
            "decision": str(decision.public_id),
            "outcome": outcome,
            "recommendation": decision.recommendation,
            "against_recommendation": against,
        },
    )
    aid_request.refresh_from_db()
    return decision


@transaction.atomic
def aid_request_contest(
    *, scope: Any, actor: Any, aid_request: AidRequest, ip: str | None = None
) -> AidRequest:
    """Re-fetch the card and re-score: a new attempt whose assessment links to the old one."""
    _require_staff_of(scope, aid_request.school_id)
    req = AidRequest.objects.select_for_update().get(pk=aid_request.pk)
    if req.status not in (Status.SCORED, Status.DECIDED, Status.NEEDS_REVIEW):
        raise InvalidTransition(_("Оспорить можно только завершённую оценку."))
    previous = req.status
    stats = StatsTracker(req.pk)
    req.attempt += 1
    problem = req.consent_problem()
    if problem:
        _set_status(req, Status.NEEDS_REVIEW, problem)
    else:
        _set_status(req, Status.QUEUED)
        _enqueue_on_commit(req)
    stats.done()
    _audit_request(
        req,
        "aid_request.contest",
        scope=scope,
        actor=actor,
        ip=ip,
        detail={"from": previous, "attempt": req.attempt},
    )
    return req


@transaction.atomic
def aid_request_withdraw(
    *, scope: Any, actor: Any, aid_request: AidRequest, ip: str | None = None
) -> AidRequest:
    _require_staff_of(scope, aid_request.school_id)
    req = AidRequest.objects.select_for_update().get(pk=aid_request.pk)
    if req.status in (Status.WITHDRAWN, Status.DECIDED):
        raise InvalidTransition(_("Эту заявку уже нельзя отозвать."))
    previous = req.status
    stats = StatsTracker(req.pk)
    _set_status(req, Status.WITHDRAWN, _("Заявка отозвана школой."))
    stats.done()
    _audit_request(
        req, "aid_request.withdraw", scope=scope, actor=actor, ip=ip, detail={"from": previous}
    )
    return req
