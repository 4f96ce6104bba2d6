"""Writes of appeals: filing (by the school, for the family) and the reviewer's outcome.

Both go through the lifecycle's table and its one choke point (``lifecycle.transition``), in
one transaction on the locked request row: the appeal row, the attachments' records, a new
decision or a new scoring, the budget, the superseded letter and the guardian's notice commit
together or not at all. Files are written to the storage before the transaction commits and
removed again when it does not.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.appeals import corrections, rules
from portal.appeals.files import check_files
from portal.appeals.models import REASON_MAX_LENGTH, Appeal, AppealAttachment
from portal.audit.services import AuditAction, audit_record
from portal.budgets.services import budget_release, budget_reserve
from portal.letters.models import Letter
from portal.letters.services import letters_on_decision
from portal.notices.services import notices_for_event
from portal.requests import lifecycle
from portal.requests.lifecycle import Action, InvalidTransition
from portal.requests.models import AidRequest, AidRequestScoring, Decision, Status
from portal.requests.recommendation import recommend
from schools.scope import Scope, require

logger = logging.getLogger(__name__)


def _clean_text(value: Any, field: str, *, required: bool, message: str) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        raise ValidationError({field: [_("Ожидается текст.")]})
    if required and not text:
        raise ValidationError({field: [message]})
    if len(text) > REASON_MAX_LENGTH:
        raise ValidationError({field: [_("Не длиннее %(n)s символов.") % {"n": REASON_MAX_LENGTH}]})
    return text


def _delete_files(names: list[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        try:
            default_storage.delete(name)
        except OSError:  # pragma: no cover - a missing file is already gone
            logger.warning("appeal attachment %s not removed", name)


def appeal_file(
    *,
    scope: Scope,
    actor: Any,
    aid_request: AidRequest,
    reason: str,
    disputed: Any = None,
    files: list[Any] | None = None,
    ip: str | None = None,
) -> Appeal:
    """The school files the family's appeal against the request's decision in force.

    Raises ``PermissionDenied`` (not the school's staff), :class:`InvalidTransition` (no
    decision, one already under appeal, the period over), ``ValidationError`` naming the field
    (reason, disputed[i].path / .claimed, attachments)."""
    require(scope, "can_act_on_requests", _("Жалобу подаёт школа вместе с семьёй."))
    if not scope.contains_school(aid_request.school_id):
        raise PermissionDenied(_("Заявка другой школы."))
    checked, file_errors = check_files(list(files or []))
    written: list[str] = []
    try:
        with transaction.atomic():
            req = lifecycle.lock(aid_request.pk)
            lifecycle.check(req, Action.APPEAL, scope)  # a conflict before any validation
            decision = rules.decision_in_force(req)
            errors: dict[str, list[str]] = {}
            try:
                reason_text = _clean_text(
                    reason,
                    "reason",
                    required=True,
                    message=_("Опишите, с чем семья не согласна."),
                )
            except ValidationError as exc:
                errors.update(exc.message_dict)
                reason_text = ""
            card = (decision.assessment.card if decision.assessment else None) or {}
            clean, disputed_errors = corrections.disputed_clean(disputed, card)
            for name, message in disputed_errors.items():
                errors.setdefault(name, []).append(message)
            if file_errors:
                errors["attachments"] = file_errors
            if errors:
                raise ValidationError(errors)
            now = timezone.now()
            appeal = Appeal(
                request=req,
                decision=decision,
                school_id=req.school_id,
                reason=reason_text,
                disputed=corrections.json_safe(clean),
                filed_by=actor,
                filed_at=now,
                answer_due=rules.answer_due(timezone.localdate(now)),
            )
            appeal.full_clean(
                exclude=["request", "decision", "school", "filed_by"], validate_constraints=False
            )

            def effects() -> None:
                appeal.save()
                for f in checked:
                    att = AppealAttachment(
                        appeal=appeal,
                        original_name=f.name,
                        content_type=f.content_type,
                        size=f.size,
                        sha256=f.sha256,
                    )
                    att.file.save(f.name, ContentFile(f.content), save=False)
                    written.append(att.file.name)
                    att.save()

            lifecycle.transition(
                req,
                Action.APPEAL,
                scope=scope,
                actor=actor,
                ip=ip,
                effects=effects,
                detail={
                    "appeal": str(appeal.public_id),
                    "decision": str(decision.public_id),
                    "disputed_fields": [e["path"] for e in clean],
                    "attachments": len(checked),
                    "answer_due": appeal.answer_due.isoformat(),
                },
            )
    except BaseException:
        _delete_files(written)
        raise
    aid_request.refresh_from_db()
    return appeal


# --------------------------------------------------------------------------- the outcome


def _lock_open_appeal(scope: Scope, appeal: Appeal) -> tuple[AidRequest, Appeal]:
    require(scope, "can_review_appeals", _("Жалобы рассматривает отдел образования района."))
    if not scope.contains_school(appeal.school_id):
        raise PermissionDenied(_("Жалоба школы другого района."))
    req = lifecycle.lock(appeal.request_id)
    locked = Appeal.objects.select_for_update().select_related("decision").get(pk=appeal.pk)
    if not locked.is_open:
        raise InvalidTransition(
            _("Жалоба уже рассмотрена: %(outcome)s.") % {"outcome": locked.get_outcome_display()},
            state=req.status,
            action="appeal_decide",
        )
    return req, locked


def _supersede(decision: Decision, now: Any) -> None:
    """The decision goes out of force: its reservation is given back (nothing was paid)."""
    from portal.payments.models import Payment

    if Payment.objects.filter(decision=decision, status=Payment.Status.PAID).exists():
        raise ValidationError(
            {
                "outcome": [
                    _(
                        "По этому решению деньги уже выплачены: изменить его по жалобе в "
                        "портале нельзя. Оставьте решение в силе и опишите доплату в "
                        "обосновании."
                    )
                ]
            }
        )
    Decision.objects.filter(pk=decision.pk).update(superseded_at=now)
    decision.superseded_at = now
    if decision.outcome == Decision.Outcome.APPROVE and decision.amount_kzt:
        req = decision.request
        budget_release(
            school_id=req.school_id, academic_year=req.academic_year, amount_kzt=decision.amount_kzt
        )


def _new_decision_errors(
    req: AidRequest, outcome: str, amount_kzt: Any
) -> tuple[dict[str, list[str]], int | None]:
    errors: dict[str, list[str]] = {}
    if outcome not in Decision.Outcome.values:
        errors["new_outcome"] = [_("Выберите новое решение: одобрить или отказать.")]
        return errors, None
    if outcome == Decision.Outcome.REJECT:
        return errors, None
    if amount_kzt in (None, ""):
        errors["amount_kzt"] = [_("Укажите сумму помощи.")]
        return errors, None
    try:
        amount = int(amount_kzt)
        if isinstance(amount_kzt, bool) or str(amount) != str(amount_kzt).strip():
            raise ValueError
    except (TypeError, ValueError):
        errors["amount_kzt"] = [_("Сумма — целое число тенге.")]
        return errors, None
    if amount < 1:
        errors["amount_kzt"] = [_("Сумма должна быть больше нуля.")]
    elif amount > req.amount_kzt:
        errors["amount_kzt"] = [
            _("Одобренная сумма не может быть больше запрошенной (%(max)s ₸).")
            % {"max": req.amount_kzt}
        ]
    return errors, amount


@transaction.atomic
def appeal_decide(
    *,
    scope: Scope,
    actor: Any,
    appeal: Appeal,
    outcome: str,
    note: str,
    new_outcome: str = "",
    amount_kzt: Any = None,
    ip: str | None = None,
) -> Appeal:
    """The reviewer's outcome of an open appeal.

    ``upheld``: the decision stays in force. ``revised``: a new decision (``new_outcome``,
    ``amount_kzt``) made by the reviewer replaces it; the budget follows, a new letter is
    issued on commit and supersedes the old one. ``rescored``: the card with the appeal's
    claimed values is scored anew (the pure engine, the rule set in force); the old decision
    goes out of force and the request is ``scored`` again for the school to decide. The
    guardian is told of every outcome."""
    req, appeal = _lock_open_appeal(scope, appeal)
    actions = {
        Appeal.Outcome.UPHELD: Action.APPEAL_UPHOLD,
        Appeal.Outcome.REVISED: Action.APPEAL_REVISE,
        Appeal.Outcome.RESCORED: Action.APPEAL_RESCORE,
    }
    if outcome not in actions:
        raise ValidationError({"outcome": [_("Выберите итог: оставить, изменить, пересчитать.")]})
    action = actions[outcome]
    lifecycle.check(req, action, scope)
    note = _clean_text(note, "note", required=True, message=_("Напишите обоснование итога жалобы."))
    old = appeal.decision
    if actor is not None and actor.pk in {old.decided_by_id, appeal.filed_by_id}:
        raise PermissionDenied(_("Жалобу рассматривает не тот, кто принял решение или подал её."))
    now = timezone.now()
    detail: dict[str, Any] = {"appeal": str(appeal.public_id), "decision": str(old.public_id)}
    effects = None
    target = None
    new_decision: Decision | None = None

    if outcome == Appeal.Outcome.REVISED:
        errors, amount = _new_decision_errors(req, new_outcome, amount_kzt)
        if errors:
            raise ValidationError(errors)
        rec = recommend(old.assessment.category, old.assessment.markers) if old.assessment else None
        against = bool(rec and rec.is_against(new_outcome))
        new_decision = Decision(
            request=req,
            assessment=old.assessment,
            outcome=new_outcome,
            amount_kzt=amount,
            requested_amount_kzt=req.amount_kzt,
            recommendation=rec.code if rec else "",
            against_recommendation=against,
            reason=note,
            decided_by=actor,
        )
        new_decision.full_clean(validate_unique=False, validate_constraints=False)
        revised = new_decision

        def effects() -> None:  # after the statistics' snapshot of the request
            _supersede(old, now)
            if revised.outcome == Decision.Outcome.APPROVE:
                budget_reserve(
                    school_id=req.school_id,
                    academic_year=req.academic_year,
                    amount_kzt=revised.amount_kzt,
                )
            revised.save()

        detail |= {"new_outcome": new_outcome, "against_recommendation": against}

    elif outcome == Appeal.Outcome.RESCORED:
        from scoring.card import CardError
        from scoring.models import RuleSet
        from scoring.ruleset import MissingParameterError
        from scoring.services import assessment_create

        if not appeal.disputed or old.assessment is None:
            raise ValidationError(
                {
                    "outcome": [
                        _(
                            "В жалобе нет оспоренных сведений карты: пересчитывать нечего. "
                            "Оставьте решение в силе или измените его."
                        )
                    ]
                }
            )
        card = old.assessment.card
        claims = corrections.from_stored(card, appeal.disputed)
        try:
            with transaction.atomic():
                assessment = assessment_create(
                    card_doc=corrections.corrected_card(card, claims), previous=old.assessment
                )
        except CardError as exc:
            raise ValidationError(
                {"disputed": [f"{p.path}: {p.reason}" for p in exc.problems[:10]]}
            ) from None
        except (RuleSet.DoesNotExist, MissingParameterError):
            raise ValidationError(
                {"outcome": [_("Нет действующего набора правил для пересчёта.")]}
            ) from None
        req.attempt += 1
        attempt = req.attempt
        target = Status.SCORED

        def effects() -> None:  # after the statistics' snapshot of the request
            _supersede(old, now)
            Letter.objects.unscoped().filter(request=req, status=Letter.Status.ISSUED).update(
                status=Letter.Status.SUPERSEDED, superseded_at=now
            )
            AidRequestScoring.objects.create(request=req, attempt=attempt, assessment=assessment)

        detail |= {
            "assessment": str(assessment.public_id),
            "previous_category": old.assessment.category,
            "category": assessment.category,
            "corrected_fields": [e["path"] for e in claims],
        }

    appeal.status = Appeal.Status.DECIDED
    appeal.outcome = outcome
    appeal.outcome_note = note
    appeal.decided_by = actor
    appeal.decided_at = now

    def all_effects() -> None:
        if effects is not None:
            effects()
        appeal.new_decision = new_decision
        appeal.save(
            update_fields=[
                "status",
                "outcome",
                "outcome_note",
                "decided_by",
                "decided_at",
                "new_decision",
            ]
        )

    lifecycle.transition(
        req,
        action,
        target=target,
        scope=scope,
        actor=actor,
        ip=ip,
        effects=all_effects,
        detail=detail,
    )
    if new_decision is not None:
        letters_on_decision(new_decision, notify=False)
    notices_for_event(aid_request=req, event="appeal_decided", ref=str(appeal.public_id))
    return appeal


# --------------------------------------------------------------------------- reading


def appeal_audit_view(
    *, scope: Scope, actor: Any, appeal: Appeal, ip: str | None, via: str = "page"
) -> None:
    audit_record(
        action=AuditAction.APPEAL_VIEW,
        scope=scope,
        actor=actor,
        object_type="appeal",
        object_id=str(appeal.public_id),
        school_id=appeal.school_id,
        ip=ip,
        detail={"via": via, "aid_request": str(appeal.request.public_id)},
    )


def appeal_attachment_open(
    *, scope: Scope, actor: Any, attachment: AppealAttachment, ip: str | None
) -> Any:
    """The attachment's file, opened for reading; the download is audited."""
    audit_record(
        action=AuditAction.APPEAL_ATTACHMENT_DOWNLOAD,
        scope=scope,
        actor=actor,
        object_type="appeal_attachment",
        object_id=str(attachment.public_id),
        school_id=attachment.appeal.school_id,
        ip=ip,
        detail={"appeal": str(attachment.appeal.public_id), "type": attachment.content_type},
    )
    return attachment.file.open("rb")
