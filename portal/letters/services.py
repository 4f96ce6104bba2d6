"""Writes of decision letters: issue (on the decision's commit, idempotent), supersede, and the
audited download and verification.

A letter belongs to one decision. Issuing it for a request that already has a letter in force
marks that one ``superseded`` by the new one (a revised decision). The PDF is rendered from the
stored letter, decision and frozen assessment whenever it is downloaded, so it never changes.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal.audit.services import AuditAction, audit_record
from portal.letters import codes
from portal.letters.models import Letter
from portal.requests.models import Decision

logger = logging.getLogger(__name__)

LANGUAGES = ("kk", "ru", "en")


def appeal_deadline(decided_on: dt.date) -> dt.date:
    """The last day to appeal a decision made on ``decided_on``."""
    return decided_on + dt.timedelta(days=int(settings.LETTER_APPEAL_DAYS))


@transaction.atomic
def letter_issue(*, decision_id: int) -> Letter:
    """The letter of a decision, issued now if it has none yet (idempotent, race-safe)."""
    existing = Letter.objects.unscoped().filter(decision_id=decision_id).first()
    if existing is not None:
        return existing
    decision = (
        Decision.objects.select_related("request", "request__school")
        .select_for_update(of=("self",))
        .get(pk=decision_id)
    )
    existing = Letter.objects.unscoped().filter(decision_id=decision_id).first()
    if existing is not None:
        return existing
    req = decision.request
    now = timezone.now()
    # The letter in force, and one an appeal's re-scoring already took out of force (no
    # successor yet): the new letter supersedes both.
    previous = list(
        Letter.objects.unscoped()
        .select_for_update()
        .filter(
            Q(status=Letter.Status.ISSUED)
            | Q(status=Letter.Status.SUPERSEDED, superseded_by__isnull=True),
            request=req,
        )
    )
    letter = Letter(
        request=req,
        decision=decision,
        school_id=req.school_id,
        code=codes.new_code(),
        family_language=req.letter_language,
        # a signed decision takes effect when signed: the appeal period runs from then
        appeal_until=appeal_deadline(timezone.localdate(decision.signed_at or decision.created_at)),
        issued_at=now,
    )
    letter.full_clean(exclude=["request", "decision", "school"], validate_constraints=False)
    # Free the request's "one letter in force" slot, insert the new letter, then link.
    for old in previous:
        if old.status == Letter.Status.ISSUED:
            old.status = Letter.Status.SUPERSEDED
            old.superseded_at = now
            old.save(update_fields=["status", "superseded_at"])
    letter.save()
    for old in previous:
        old.superseded_by = letter
        old.save(update_fields=["superseded_by"])
    audit_record(
        action=AuditAction.LETTER_ISSUE,
        object_type="letter",
        object_id=str(letter.public_id),
        school_id=req.school_id,
        detail={
            "aid_request": str(req.public_id),
            "decision": str(decision.public_id),
            "language": letter.family_language,
            "supersedes": [str(o.public_id) for o in previous],
        },
    )
    return letter


def _issue_after_commit(decision_id: int) -> None:
    try:
        letter_issue(decision_id=decision_id)
    except Exception:  # the download issues it later; never fail the decision
        logger.exception("letter for decision %s not issued on commit", decision_id)


def letters_on_decision(decision: Decision, *, notify: bool = True) -> None:
    """The decide service's one call: the letter on commit, the guardian's notices now (outbox
    rows in the decision's own transaction). An appeal's revision tells the family of the
    appeal's outcome instead (``notify=False``)."""
    from portal.notices.services import notices_for_event

    transaction.on_commit(lambda: _issue_after_commit(decision.pk))
    if notify:
        notices_for_event(
            aid_request=decision.request, event="decided", ref=str(decision.public_id)
        )


# --------------------------------------------------------------------------- download


class LetterNotAvailable(Exception):
    """The request has no decision yet (so no letter)."""


def letter_for_request(*, scope: Any, aid_request: Any) -> Letter:
    """The letter of the request's latest decision in effect (issued now if on-commit issuing
    failed). A decision that waits for the principal's signature, or was refused it, has none."""
    decision = (
        Decision.objects.filter(request=aid_request, superseded_at__isnull=True)
        .in_effect()
        .order_by("-created_at", "-id")
        .first()
    )
    if decision is None:
        raise LetterNotAvailable
    return letter_issue(decision_id=decision.pk)


def letter_download(
    *, scope: Any, actor: Any, aid_request: Any, language: str, ip: str | None, via: str
) -> tuple[Letter, bytes]:
    """The letter's PDF in ``language`` (kk, ru or en); the download is audited.

    Rendering (a fraction of a second) holds no transaction or lock; the audit row is
    written once the PDF exists."""
    from portal.letters.render import letter_pdf

    if language not in LANGUAGES:
        raise ValueError(language)
    letter = letter_for_request(scope=scope, aid_request=aid_request)
    pdf = letter_pdf(letter, language)
    audit_record(
        action=AuditAction.LETTER_DOWNLOAD,
        scope=scope,
        actor=actor,
        object_type="letter",
        object_id=str(letter.public_id),
        school_id=letter.school_id,
        ip=ip,
        detail={"via": via, "language": language, "aid_request": str(aid_request.public_id)},
    )
    return letter, pdf


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class Verification:
    """What the public page may say about a code: nothing about the family."""

    found: bool
    issued_at: dt.datetime | None = None
    school: Any = None
    outcome: str = ""
    amount_kzt: int | None = None
    superseded_at: dt.datetime | None = None


@transaction.atomic
def letter_verify(*, code_text: str, ip: str | None) -> Verification:
    """Look a code up. A forged or malformed code costs the same query and audit row."""
    from portal.db_scope import cross_school

    code = codes.normalize(code_text) or "-" * codes.LENGTH  # never a stored code
    # Anyone may ask (no scope): the row-level security of the decision table is lifted for
    # this one look-up, which reads only the date, the school and the decision.
    with cross_school("public letter verification"):
        letter = _verify_lookup(code)
    audit_record(
        action=AuditAction.LETTER_VERIFY,
        object_type="letter",
        object_id=str(letter.public_id) if letter else "",
        school_id=letter.school_id if letter else None,
        ip=ip,
        outcome="ok" if letter else "denied",
        detail={"found": letter is not None},
    )
    if letter is None:
        return Verification(found=False)
    return Verification(
        found=True,
        issued_at=letter.issued_at,
        school=letter.school,
        outcome=letter.decision.outcome,
        amount_kzt=letter.decision.amount_kzt,
        superseded_at=letter.superseded_at,
    )


def _verify_lookup(code: str) -> Letter | None:
    return (
        Letter.objects.unscoped()
        .select_related("decision", "school")
        .filter(code=code)
        .only(
            "public_id",
            "issued_at",
            "status",
            "superseded_at",
            "school_id",
            "school__name_ru",
            "school__name_kk",
            "decision__outcome",
            "decision__amount_kzt",
        )
        .first()
    )
