"""Class lists: many aid requests at once (a file from the social passport, or the batch API).

``aid_requests_submit_batch(scope=…, actor=…, rows=[(line, data), …])`` validates EVERY row
first (the same model validation as one submission, plus duplicates inside the list and
against the school's open requests) and reports the problems by line and field. Nothing is
saved while any row is wrong, unless ``save_valid=True`` (the pedagogue's explicit choice):
then the valid rows are saved and the others reported. Saving is set-based — one INSERT for
the requests, one for their audit events, one upsert per statistics rollup — and the queued
requests are enqueued after the commit (robust: a broker outage leaves them to the sweeper).
A request without a valid consent is saved as needs_review, exactly like one submission.

Progress of a batch (for the page's progress bar): ``batch_progress(scope=…, batch_id=…)``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit.models import AuditEvent
from portal.audit.services import AuditAction, audit_record
from portal.notices.services import notices_on_submit_many
from portal.requests import lifecycle
from portal.requests.models import AidRequest, Status
from portal.requests.services import SUBMIT_FIELDS
from schools.models import School

MAX_ROWS = 5000
_PROGRESS_TTL = 24 * 3600
_INT_FIELDS = ("grade", "amount_kzt")
_DATE_FIELDS = ("consent_given_on", "consent_valid_until")


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str


@dataclass
class BatchResult:
    batch_id: str = ""
    saved: bool = False
    created: list[AidRequest] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    lines: int = 0
    created_lines: list[int] = field(default_factory=list)

    @property
    def error_lines(self) -> set[int]:
        return {e.line for e in self.errors}

    @property
    def valid_count(self) -> int:
        return self.lines - len(self.error_lines)


def _coerce(data: dict[str, Any], line: int, errors: list[RowError]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in SUBMIT_FIELDS:
        value = data.get(name)
        if isinstance(value, str):
            value = value.strip()
        if value in (None, ""):
            continue
        if name in _INT_FIELDS and not isinstance(value, int):
            try:
                value = int(str(value).replace(" ", "").replace("\u00a0", ""))
            except ValueError:
                errors.append(RowError(line, name, _("Введите целое число.")))
                continue
        if name in _DATE_FIELDS and not isinstance(value, dt.date):
            try:
                value = dt.date.fromisoformat(str(value)[:10])
            except ValueError:
                errors.append(RowError(line, name, _("Введите дату в формате ГГГГ-ММ-ДД.")))
                continue
        out[name] = value
    return out


def validate_rows(
    *, scope: Any, actor: Any, rows: list[tuple[int, dict[str, Any]]]
) -> tuple[list[tuple[int, AidRequest]], list[RowError]]:
    """Every row checked; returns the valid unsaved requests (with their lines) and the errors."""
    errors: list[RowError] = []
    valid: list[tuple[int, AidRequest]] = []
    seen: dict[tuple, int] = {}
    today = timezone.localdate()
    school = School.objects.get(pk=scope.school_id)  # once: every row's language reads it
    for line, data in rows:
        row_errors: list[RowError] = []
        values = _coerce(data, line, row_errors)
        req = AidRequest(school=school, created_by=actor, **values)
        try:
            req.full_clean(
                exclude=["school", "created_by"], validate_unique=False, validate_constraints=False
            )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                if any(e.field == name for e in row_errors):
                    continue
                for message in messages:
                    row_errors.append(RowError(line, name if name != "__all__" else "", message))
        if not row_errors:
            key = (req.student_iin, req.aid_kind, req.academic_year)
            if key in seen:
                row_errors.append(
                    RowError(
                        line,
                        "student_iin",
                        _("Этот учащийся с тем же видом помощи и годом уже есть в строке %(line)d.")
                        % {"line": seen[key]},
                    )
                )
            else:
                seen[key] = line
        if row_errors:
            errors += row_errors
            continue
        lifecycle.submit_state_for_bulk(req, req.consent_problem(today))
        valid.append((line, req))
    # Against the school's open requests: one query for the whole list.
    if valid:
        for _line, req in valid:
            req.set_iin_digests()  # bulk_create does not call save()
        digests = {req.student_iin_hmac for _line, req in valid}
        open_keys = set(
            AidRequest.objects.unscoped()
            .open()
            .filter(school_id=scope.school_id, student_iin_hmac__in=digests)
            .values_list("student_iin_hmac", "aid_kind", "academic_year")
        )
        kept = []
        for line, req in valid:
            if (req.student_iin_hmac, req.aid_kind, req.academic_year) in open_keys:
                errors.append(
                    RowError(
                        line,
                        "student_iin",
                        _("Открытая заявка на этого учащегося, вид помощи и учебный год уже есть."),
                    )
                )
            else:
                kept.append((line, req))
        valid = kept
    errors.sort(key=lambda e: (e.line, e.field))
    return valid, errors


def _stats_add(created: list[AidRequest]) -> None:
    """The new requests in the statistics rollups: counted per bucket, one upsert per table."""
    from portal.stats import services as stats

    rows = [stats.stats_row_for(req.pk) for req in created[:1]]  # the shape of one row
    if not rows or rows[0] is None:
        return
    first = rows[0]
    buckets: Counter[tuple] = Counter()
    amounts: Counter[tuple] = Counter()
    by_key: dict[tuple, stats.StatsRow] = {}
    for req in created:
        row = stats.stats_row_of_new(req, district_id=first.district_id, region_id=first.region_id)
        k = row.key()
        by_key[k] = row
        buckets[k] += 1
        amounts[k] += req.amount_kzt
    school_rows, district_rows = [], []
    for k, row in by_key.items():
        measures = row.measures(1)
        measures[0] = buckets[k]
        measures[1] = amounts[k]
        school_rows.append(((row.district_id, row.region_id, *k), measures))
        district_rows += [((row.region_id, *dk), measures) for dk in row.district_keys()]
    from django.db import connection

    with connection.cursor() as cur:
        stats._upsert(
            cur, stats.TABLE, stats._COLUMNS, stats.KEY_FIELDS, stats._merged(school_rows)
        )
        stats._upsert(
            cur,
            stats.DISTRICT_TABLE,
            stats._D_COLUMNS,
            stats.DISTRICT_KEY_FIELDS,
            stats._merged(district_rows),
        )


def _enqueue_all(ids: list[int]) -> None:
    from portal.requests import tasks

    tasks.enqueue_scoring(ids)


@transaction.atomic
def aid_requests_submit_batch(
    *,
    scope: Any,
    actor: Any,
    rows: list[tuple[int, dict[str, Any]]],
    save_valid: bool = False,
    ip: str | None = None,
    via: str = "upload",
    enqueue: bool = True,
) -> BatchResult:
    if not scope.is_school_staff or scope.school_id is None:
        raise PermissionDenied(_("Заявки подают только сотрудники школы."))
    if len(rows) > MAX_ROWS:
        raise ValidationError(
            _("В списке не больше %(max)d строк (в этом %(count)d).")
            % {"max": MAX_ROWS, "count": len(rows)}
        )
    valid, errors = validate_rows(scope=scope, actor=actor, rows=rows)
    result = BatchResult(errors=errors, lines=len(rows))
    if (errors and not save_valid) or not valid:
        return result
    now = timezone.now()
    reqs = [req for _line, req in valid]
    for req in reqs:
        req.status_changed_at = now
    try:
        with transaction.atomic():
            created = AidRequest.objects.bulk_create(reqs)
    except IntegrityError:
        raise ValidationError(
            _("Пока список проверялся, появилась пересекающаяся заявка. Загрузите список снова.")
        ) from None
    batch_id = uuid.uuid4().hex
    role = getattr(scope, "role", "") or ""
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor_id=actor.pk,
                actor_username=actor.get_username(),
                role=role,
                school_id=req.school_id,
                action=AuditAction.AID_REQUEST_SUBMIT.value,
                object_type="aid_request",
                object_id=str(req.public_id),
                ip=ip or None,
                detail={
                    "status": req.status,
                    "ground": req.ground,
                    "aid_kind": req.aid_kind,
                    "batch": batch_id,
                },
            )
            for req in created
        ]
    )
    audit_record(
        action=AuditAction.AID_REQUEST_BATCH_SUBMIT,
        scope=scope,
        actor=actor,
        object_type="aid_request_batch",
        object_id=batch_id,
        school_id=scope.school_id,
        ip=ip,
        detail={"via": via, "rows": len(rows), "created": len(created), "invalid": len(errors)},
    )
    _stats_add(created)
    notices_on_submit_many(created)  # the guardians' "request received", as for one request
    ids = [req.pk for req in created]
    cache.set(_progress_key(batch_id), {"school_id": scope.school_id, "ids": ids}, _PROGRESS_TTL)
    queued = [req.pk for req in created if req.status == Status.QUEUED]
    if enqueue and queued:
        transaction.on_commit(lambda: _enqueue_all(queued), robust=True)
    result.batch_id = batch_id
    result.saved = True
    result.created = created
    result.created_lines = [line for line, _req in valid]
    return result


def _progress_key(batch_id: str) -> str:
    return f"komek:aid-batch:{batch_id}"


@dataclass(frozen=True)
class BatchProgress:
    total: int
    by_status: dict[str, int]

    @property
    def waiting(self) -> int:
        return self.by_status.get(Status.QUEUED, 0) + self.by_status.get(Status.SCORING, 0)

    @property
    def done(self) -> int:
        return self.total - self.waiting

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * self.done / self.total)

    @property
    def finished(self) -> bool:
        return self.waiting == 0


def batch_progress(*, scope: Any, batch_id: str) -> BatchProgress | None:
    """How far the batch's requests are (None: unknown batch, or not this scope's school)."""
    data = cache.get(_progress_key(batch_id))
    if not data or not scope.contains_school(data["school_id"]):
        return None
    counts = (
        AidRequest.objects.unscoped().filter(pk__in=data["ids"]).values_list("status").order_by()
    )
    by_status: Counter[str] = Counter(status for (status,) in counts)
    return BatchProgress(total=len(data["ids"]), by_status=dict(by_status))
