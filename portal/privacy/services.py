"""Retention: erase a closed request's family data once its retention period has passed.

Policy (settings): a request decided "approve" is erased ``RETENTION_APPROVED_DAYS`` after it
was closed; a request decided "reject" or withdrawn ``RETENTION_CLOSED_DAYS`` after. Never
while an auditor's hold is active or the decision letter's appeal period is still running.

What goes: the two ИИН and their keyed hashes (replaced by references derived from the
request's public id), the two names, phone, e-mail, free-text comment, consent reference, the
frozen card of every assessment of the request (through the one named path
:func:`scoring.services.assessment_cards_erase_for_retention`), the notices' recipient and
text. The letters are rendered from the request, so they lose the family data with it.
What stays: the request's status, aid kind, amount and dates (the statistics rollup is not
touched), the decisions, the assessments' category, trace and card hash, the audit trail.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery, TextField, Value
from django.db.models.functions import Cast, Concat, Replace
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit.services import AuditAction, audit_record
from portal.db_scope import cross_school
from portal.letters.models import Letter
from portal.notices.models import Notice
from portal.privacy.models import RetentionErasure, RetentionHold
from portal.requests.models import AidRequest, AidRequestScoring, Decision, Status
from scoring.services import assessment_cards_erase_for_retention

ERASED_NAME = "—"
ERASED_STUDENT_IIN = "ERASED-S"
ERASED_GUARDIAN_IIN = "ERASED-G"


@dataclass
class RetentionReport:
    dry_run: bool
    requests_approved: int = 0
    requests_closed: int = 0
    assessments: int = 0
    notices: int = 0
    letters: int = 0
    held: int = 0
    request_ids: list[int] = field(default_factory=list, repr=False)

    @property
    def requests(self) -> int:
        return self.requests_approved + self.requests_closed

    def counts(self) -> dict[str, int]:
        data = asdict(self)
        data.pop("request_ids")
        data.pop("dry_run")
        data["requests"] = self.requests
        return data


def _latest_outcome() -> Subquery:
    return Subquery(
        Decision.objects.filter(request=OuterRef("pk"), superseded_at__isnull=True)
        .order_by("-created_at", "-pk")
        .values("outcome")[:1]
    )


def _due(now: dt.datetime) -> tuple[list[int], list[int], int]:
    """(approved ids due, rejected/withdrawn ids due, due but held)."""
    approved_before = now - dt.timedelta(days=settings.RETENTION_APPROVED_DAYS)
    closed_before = now - dt.timedelta(days=settings.RETENTION_CLOSED_DAYS)
    base = (
        AidRequest.objects.unscoped()
        .filter(retention_erasure__isnull=True)
        .annotate(last_outcome=_latest_outcome())
    )
    approved = base.filter(
        status=Status.DECIDED,
        last_outcome=Decision.Outcome.APPROVE,
        status_changed_at__lte=approved_before,
    )
    closed = base.filter(
        Q(status=Status.WITHDRAWN) | Q(status=Status.DECIDED, last_outcome=Decision.Outcome.REJECT),
        status_changed_at__lte=closed_before,
    )
    held_q = Q(retention_holds__released_at__isnull=True) & Q(retention_holds__isnull=False)
    appeal_open = Letter.objects.filter(
        request=OuterRef("pk"),
        status=Letter.Status.ISSUED,
        appeal_until__gte=timezone.localdate(now),
    )
    from portal.appeals.models import Appeal

    under_appeal = Appeal.objects.filter(request=OuterRef("pk"), status=Appeal.Status.OPEN)
    held_ids: set[int] = set()
    result = []
    for qs in (approved, closed):
        qs = qs.annotate(appeal_open=Exists(appeal_open), under_appeal=Exists(under_appeal))
        ids = set(qs.values_list("pk", flat=True))
        blocked = set(
            qs.filter(held_q | Q(appeal_open=True) | Q(under_appeal=True)).values_list(
                "pk", flat=True
            )
        )
        held_ids |= blocked
        result.append(sorted(ids - blocked))
    return result[0], result[1], len(held_ids)


@transaction.atomic
def retention_run(*, dry_run: bool, now: dt.datetime | None = None) -> RetentionReport:
    """Erase (or, with ``dry_run``, only count) what the policy says is due. One audit row
    per run with counts only — never an identifier."""
    now = now or timezone.now()
    with cross_school("retention run (portal.privacy)"):
        approved, closed, held = _due(now)
        ids = approved + closed
        assessment_ids = sorted(
            set(
                AidRequestScoring.objects.filter(request_id__in=ids).values_list(
                    "assessment_id", flat=True
                )
            )
            | set(
                Decision.objects.filter(request_id__in=ids, assessment__isnull=False).values_list(
                    "assessment_id", flat=True
                )
            )
        )
        notices = Notice.objects.filter(request_id__in=ids)
        report = RetentionReport(
            dry_run=dry_run,
            requests_approved=len(approved),
            requests_closed=len(closed),
            assessments=len(assessment_ids),
            notices=notices.count(),
            letters=Letter.objects.filter(request_id__in=ids).count(),
            held=held,
            request_ids=ids,
        )
        if not dry_run and ids:
            _erase(ids, assessment_ids, approved, now)
        audit_record(
            action=AuditAction.RETENTION_RUN,
            object_type="retention",
            detail={"dry_run": dry_run, **report.counts()},
        )
    return report


def _erase(
    ids: list[int], assessment_ids: list[int], approved: list[int], now: dt.datetime
) -> None:
    hexid = Replace(
        Cast("public_id", output_field=TextField()),
        Value("-"),
        Value(""),
        output_field=TextField(),
    )
    closed_at = dict(
        AidRequest.objects.unscoped().filter(pk__in=ids).values_list("pk", "status_changed_at")
    )
    AidRequest.objects.unscoped().filter(pk__in=ids).update(
        student_iin=ERASED_STUDENT_IIN,
        guardian_iin=ERASED_GUARDIAN_IIN,
        student_iin_hmac=Concat(Value("erased-s-"), hexid, output_field=TextField()),
        guardian_iin_hmac=Concat(Value("erased-g-"), hexid, output_field=TextField()),
        student_full_name=ERASED_NAME,
        guardian_full_name=ERASED_NAME,
        guardian_phone="",
        guardian_email="",
        comment="",
        consent_reference="",
    )
    assessment_cards_erase_for_retention(assessment_ids=assessment_ids)
    Notice.objects.filter(request_id__in=ids).update(recipient="", subject="", body="")
    _erase_appeals(ids)
    approved_set = set(approved)
    RetentionErasure.objects.bulk_create(
        RetentionErasure(
            request_id=pk,
            erased_at=now,
            closed_at=closed_at[pk],
            policy="RETENTION_APPROVED_DAYS" if pk in approved_set else "RETENTION_CLOSED_DAYS",
        )
        for pk in ids
    )


def _erase_appeals(ids: list[int]) -> None:
    """The appeals' words and disputed values are blanked, their files deleted from the
    storage (the rows stay: when, which decision, which outcome)."""
    from django.core.files.storage import default_storage

    from portal.appeals.models import Appeal, AppealAttachment

    Appeal.objects.filter(request_id__in=ids).update(reason="", disputed=[], outcome_note="")
    attachments = AppealAttachment.objects.filter(appeal__request_id__in=ids).exclude(file="")
    for name in attachments.values_list("file", flat=True):
        default_storage.delete(name)
    attachments.update(file="", original_name="")


# --------------------------------------------------------------------------- holds


def _require_auditor(scope: Any) -> None:
    from django.core.exceptions import PermissionDenied

    if scope is None or not scope.can_audit:
        raise PermissionDenied(_("Удерживать данные от удаления могут только аудиторы."))


def _clean_reason(reason: str, field_name: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({field_name: _("Укажите причину.")})
    if len(reason) > 500:
        raise ValidationError({field_name: _("Причина не длиннее 500 символов.")})
    return reason


@transaction.atomic
def retention_hold_place(
    *, scope: Any, actor: Any, request: AidRequest, reason: str
) -> RetentionHold:
    _require_auditor(scope)
    reason = _clean_reason(reason, "reason")
    if RetentionHold.objects.filter(request=request, released_at__isnull=True).exists():
        raise ValidationError({"request": _("Данные этой заявки уже удержаны.")})
    if RetentionErasure.objects.filter(request=request).exists():
        raise ValidationError({"request": _("Данные этой заявки уже удалены по сроку хранения.")})
    hold = RetentionHold(request=request, reason=reason, placed_by=actor)
    hold.full_clean()
    hold.save()
    audit_record(
        action=AuditAction.RETENTION_HOLD_PLACE,
        scope=scope,
        actor=actor,
        object_type="aid_request",
        object_id=str(request.public_id),
        school_id=request.school_id,
        detail={"hold": hold.pk},
    )
    return hold


@transaction.atomic
def retention_hold_release(
    *, scope: Any, actor: Any, hold: RetentionHold, reason: str
) -> RetentionHold:
    _require_auditor(scope)
    reason = _clean_reason(reason, "release_reason")
    hold = RetentionHold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is not None:
        raise ValidationError({"hold": _("Удержание уже снято.")})
    hold.released_at = timezone.now()
    hold.released_by = actor
    hold.release_reason = reason
    hold.full_clean()
    hold.save(update_fields=["released_at", "released_by", "release_reason"])
    audit_record(
        action=AuditAction.RETENTION_HOLD_RELEASE,
        scope=scope,
        actor=actor,
        object_type="aid_request",
        object_id=str(hold.request.public_id),
        school_id=hold.request.school_id,
        detail={"hold": hold.pk},
    )
    return hold
