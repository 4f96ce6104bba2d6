"""Writes of the notice outbox: rows in the event's transaction, delivery, opt-out.

``notices_for_event`` is called inside the transaction of the event (a submitted request, a
decision, an appeal's outcome): it writes one outbox row per channel (SMS to the guardian's
phone; e-mail where one is given) and enqueues their delivery on commit. Delivery
(``notice_deliver``, the body of the Celery task) sends with the row's idempotency key, so a
retried or doubled task is still one message. A family that opted out gets ``skipped`` rows
(visible on the request), never a message.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit.services import AuditAction, audit_record
from portal.dbrows import insert
from portal.notices import texts
from portal.notices.models import Notice
from portal.requests.models import AidRequest

if TYPE_CHECKING:
    from portal.notices.gateway import SmsGateway

logger = logging.getLogger(__name__)


def _enqueue(notice_id: int) -> None:
    """One notice to deliver: gathered with the others of the moment into one drain task
    (``portal.coalesce``)."""
    from portal.coalesce import NOTICES

    NOTICES.add([notice_id])


def _enqueue_on_commit(notice_id: int) -> None:
    """:func:`_enqueue` once committed, in the transaction's one Redis round trip
    (``portal.coalesce.redis_on_commit``). Robust: a broker outage never fails the event;
    the sweeper picks the row up later."""
    from portal.coalesce import NOTICES

    NOTICES.add_on_commit([notice_id])


_local = threading.local()


@contextmanager
def notices_suppressed() -> Iterator[None]:
    """No notices for events inside (demo seeding of synthetic families only)."""
    previous = getattr(_local, "suppressed", False)
    _local.suppressed = True
    try:
        yield
    finally:
        _local.suppressed = previous


def _notice_rows(req: AidRequest, event: str, ref: str) -> list[Notice]:
    """The outbox rows of ``event`` for ``req``, not saved: one per channel."""
    language = req.letter_language
    channels = [(Notice.Channel.SMS, req.guardian_phone)]
    if req.guardian_email:
        channels.append((Notice.Channel.EMAIL, req.guardian_email))
    rows = []
    for channel, recipient in channels:
        if channel == Notice.Channel.SMS:
            subject, body = "", texts.sms_text(req, event, language)
        else:
            subject = texts.email_subject(event, language)
            body = texts.email_text(req, event, language)
        rows.append(
            Notice(
                idempotency_key=f"{event}:{ref}:{channel}",
                request=req,
                event=event,
                channel=channel,
                recipient=recipient,
                language=language,
                subject=subject,
                body=body,
                status=Notice.Status.SKIPPED if req.notices_opt_out else Notice.Status.PENDING,
            )
        )
    return rows


def notices_for_event(*, aid_request: AidRequest, event: str, ref: str) -> list[Notice]:
    """Outbox rows for ``event`` (idempotent per event, reference and channel)."""
    if getattr(_local, "suppressed", False):
        return []
    rows = []
    for row in _notice_rows(aid_request, event, ref):
        fields = {f.attname: getattr(row, f.attname) for f in Notice._meta.concrete_fields}
        defaults = {
            k: v for k, v in fields.items() if k not in ("id", "idempotency_key", "public_id")
        }
        notice, created = Notice.objects.get_or_create(
            idempotency_key=row.idempotency_key, defaults=defaults
        )
        if created and notice.status == Notice.Status.PENDING:
            _enqueue_on_commit(notice.pk)
        rows.append(notice)
    return rows


def notices_on_submit_many(aid_requests: list[AidRequest]) -> int:
    """ "Request received" for requests a class list created (new rows: no earlier notice can
    exist): one INSERT for all, deliveries enqueued on commit. An opt-out given at submission
    takes the per-request path (it is audited). Returns how many rows were written."""
    if getattr(_local, "suppressed", False) or not aid_requests:
        return 0
    from schools.models import School

    schools = School.objects.in_bulk({r.school_id for r in aid_requests})
    rows: list[Notice] = []
    for req in aid_requests:
        if not AidRequest.school.is_cached(req):
            req.school = schools[req.school_id]  # the language of the letter, one read
        if req.notices_opt_out:
            notices_on_submit(req)
            continue
        rows += _notice_rows(req, "received", str(req.public_id))
    created = Notice.objects.bulk_create(rows)
    pending = [n.pk for n in created if n.status == Notice.Status.PENDING]
    if pending:
        transaction.on_commit(lambda: _enqueue_many(pending), robust=True)
    return len(created)


#: Notices per delivery task of a class list.
DELIVERY_CHUNK = 50


def _enqueue_many(notice_ids: list[int]) -> None:
    """Deliveries of many notices: one task per chunk (a message per notice cost more than
    writing the notice)."""
    from portal.notices import tasks

    for start in range(0, len(notice_ids), DELIVERY_CHUNK):
        tasks.notices_deliver_batch.delay(notice_ids[start : start + DELIVERY_CHUNK])


def notices_on_submit(aid_request: AidRequest) -> None:
    """The submit service's one call: "request received" (and an opt-out given at submission,
    recorded in the audit log)."""
    if aid_request.notices_opt_out:
        if aid_request.notices_opt_out_at is None:
            aid_request.notices_opt_out_at = timezone.now()
            AidRequest.objects.filter(pk=aid_request.pk).update(
                notices_opt_out_at=aid_request.notices_opt_out_at
            )
        from schools.scope import scope_for

        submitter = aid_request.created_by
        _audit_opt(
            aid_request,
            AuditAction.NOTICES_OPT_OUT,
            scope=scope_for(submitter),
            actor=submitter,
            ip=None,
        )
    if getattr(_local, "suppressed", False):
        return
    # A new request: no notice of it can exist yet, so no get-or-create (one INSERT; the one
    # SMS of most submissions by a fixed statement, portal.dbrows).
    rows = _notice_rows(aid_request, "received", str(aid_request.public_id))
    if len(rows) == 1:
        insert(rows[0])
    else:
        rows = Notice.objects.bulk_create(rows)
    # The request's notices are these (Django's prefetch cache: the answer of the submission
    # lists them without reading them back).
    aid_request._prefetched_objects_cache = {
        **getattr(aid_request, "_prefetched_objects_cache", {}),
        "notices": rows,
    }
    for notice in rows:
        if notice.status == Notice.Status.PENDING:
            _enqueue_on_commit(notice.pk)


# --------------------------------------------------------------------------- delivery


def _send(notice: Notice, gateway: SmsGateway) -> str:
    """One message out: an SMS through ``gateway`` (a chunk's one client), an e-mail by SMTP."""
    if notice.channel == Notice.Channel.SMS:
        return gateway.send(
            to=notice.recipient, text=notice.body, idempotency_key=notice.idempotency_key
        )
    from portal.notices.gateway import GatewayUnavailable

    message = EmailMessage(
        subject=notice.subject,
        body=notice.body,
        to=[notice.recipient],
        headers={"Message-ID": f"<{notice.public_id}@komek>"},
    )
    try:
        message.send(fail_silently=False)
    except OSError:
        raise GatewayUnavailable("smtp") from None
    return f"email:{notice.public_id}"


def _audit_delivery(notice: Notice, action: AuditAction, outcome: str = "ok") -> None:
    audit_record(**_audit_delivery_fields(notice, action, outcome))


def _audit_delivery_fields(notice: Notice, action: AuditAction, outcome: str) -> dict[str, Any]:
    return {
        "action": action,
        "object_type": "notice",
        "object_id": str(notice.public_id),
        "school_id": notice.request.school_id,
        "outcome": outcome,
        "detail": {
            "aid_request": str(notice.request.public_id),
            "event": notice.event,
            "channel": notice.channel,
            "attempts": notice.attempts,
            "error": notice.last_error,
        },
    }


@dataclass
class DeliveryBatch:
    """What :func:`notices_deliver_many` did: an outcome per notice, and the notices that met
    an unavailable gateway (their caller retries them one by one)."""

    outcomes: dict[int, str]
    unavailable: dict[int, str]  # notice → the gateway's error code


def notices_deliver_many(*, notice_ids: list[int], gateway: SmsGateway) -> DeliveryBatch:
    """Deliver a chunk of notices, set-based around the sends: one transaction claims
    the pending rows (attempts + 1; an opted-out family's rows skipped), each message goes out
    through the one open ``gateway``, one transaction records every outcome and its audit
    rows. Idempotent like the single path: a row no longer pending is "done"."""
    from portal.audit.services import audit_build, audit_record_many
    from portal.notices.gateway import GatewayRejected, GatewayUnavailable

    outcomes: dict[int, str] = dict.fromkeys(notice_ids, "done")
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            Notice.objects.unscoped()
            .select_for_update(of=("self",), skip_locked=True)
            .select_related("request")
            .filter(pk__in=notice_ids, status=Notice.Status.PENDING)
            .order_by("pk")
        )
        skipped = [n for n in rows if n.request.notices_opt_out]
        claimed = [n for n in rows if not n.request.notices_opt_out]
        for notice in skipped:
            notice.status, notice.updated_at = Notice.Status.SKIPPED, now
            outcomes[notice.pk] = "skipped"
        for notice in claimed:
            notice.attempts += 1
            notice.updated_at = now
        _write_delivery_state(skipped + claimed)

    sent: list[tuple[Notice, str]] = []
    failed: list[Notice] = []
    unavailable: list[Notice] = []
    for notice in claimed:
        try:
            sent.append((notice, _send(notice, gateway)))
        except GatewayUnavailable as exc:
            notice.last_error = exc.code
            unavailable.append(notice)
        except GatewayRejected as exc:
            notice.last_error = exc.code
            failed.append(notice)

    now = timezone.now()
    with transaction.atomic():
        events = []
        still = set(
            Notice.objects.unscoped()
            .select_for_update(of=("self",))
            .filter(pk__in=[n.pk for n in claimed], status=Notice.Status.PENDING)
            .values_list("pk", flat=True)
        )
        done = []
        for notice, provider_id in sent:
            if notice.pk not in still:
                continue  # opted out (skipped) meanwhile, or delivered by a redelivery
            notice.status, notice.provider_id = Notice.Status.SENT, provider_id
            notice.sent_at, notice.last_error, notice.updated_at = now, "", now
            done.append(notice)
            outcomes[notice.pk] = "sent"
            events.append(
                audit_build(**_audit_delivery_fields(notice, AuditAction.NOTICE_SENT, "ok"))
            )
        for notice in failed:
            if notice.pk not in still:
                continue
            notice.status, notice.updated_at = Notice.Status.FAILED, now
            done.append(notice)
            outcomes[notice.pk] = "failed"
            events.append(
                audit_build(**_audit_delivery_fields(notice, AuditAction.NOTICE_FAILED, "error"))
            )
        for notice in unavailable:
            notice.updated_at = now
            outcomes[notice.pk] = "retry"
        _write_delivery_state(done + [n for n in unavailable if n.pk in still])
        audit_record_many(events)
    return DeliveryBatch(outcomes=outcomes, unavailable={n.pk: n.last_error for n in unavailable})


def _write_delivery_state(notices: list[Notice]) -> None:
    """One UPDATE … FROM (VALUES …) for the delivery fields of ``notices`` (each row its own
    values; the ORM's ``bulk_update`` builds a CASE per field and row, several times dearer)."""
    if not notices:
        return
    from django.db import connection

    values = ", ".join(
        ["(%s::bigint, %s, %s, %s::timestamptz, %s, %s::int, %s::timestamptz)"] * len(notices)
    )
    params: list[Any] = []
    for n in notices:
        params += [n.pk, n.status, n.provider_id, n.sent_at, n.last_error, n.attempts, n.updated_at]
    table = Notice._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f'UPDATE "{table}" AS n SET status = v.status, provider_id = v.provider_id, '  # noqa: S608 - the table name is ours
            "sent_at = v.sent_at, last_error = v.last_error, attempts = v.attempts, "
            f"updated_at = v.updated_at FROM (VALUES {values}) "
            "AS v(id, status, provider_id, sent_at, last_error, attempts, updated_at) "
            "WHERE n.id = v.id",
            params,
        )


def notice_deliver(
    *, notice_id: int, final_try: bool = True, gateway: SmsGateway | None = None
) -> str:
    """Deliver one outbox row (the body of the Celery task): :func:`notices_deliver_many` for
    a chunk of one. Idempotent. ``gateway``: an open SMS client to reuse.

    Returns "sent", "skipped", "failed" or "done" (nothing to do). Raises
    :class:`~portal.notices.gateway.GatewayUnavailable` on a transient error when this is not
    the final try (the task retries it); on the final try the notice is failed and audited.
    """
    from portal.notices.gateway import GatewayUnavailable, SmsGateway

    if gateway is None:
        with SmsGateway() as own:
            return notice_deliver(notice_id=notice_id, final_try=final_try, gateway=own)
    result = notices_deliver_many(notice_ids=[notice_id], gateway=gateway)
    code = result.unavailable.get(notice_id)
    if code is None:
        return result.outcomes[notice_id]
    if not final_try:
        raise GatewayUnavailable(code)
    with transaction.atomic():
        notice = (
            Notice.objects.unscoped()
            .select_for_update(of=("self",))
            .select_related("request")
            .get(pk=notice_id)
        )
        if notice.status != Notice.Status.PENDING:
            return "done"
        notice.status = Notice.Status.FAILED
        notice.save(update_fields=["status", "updated_at"])
        _audit_delivery(notice, AuditAction.NOTICE_FAILED, "error")
    return "failed"


@transaction.atomic
def notices_requeue_pending(*, older_than: dt.timedelta, now: dt.datetime | None = None) -> int:
    """The outbox relay: re-enqueue pending rows nobody touched for ``older_than``."""
    cutoff = (now or timezone.now()) - older_than
    ids = list(
        Notice.objects.unscoped()
        .select_for_update(skip_locked=True)
        .filter(status=Notice.Status.PENDING, updated_at__lt=cutoff)
        .order_by("updated_at")
        .values_list("pk", flat=True)[:500]
    )
    for pk in ids:
        _enqueue_on_commit(pk)
    Notice.objects.unscoped().filter(pk__in=ids).update(updated_at=timezone.now())
    return len(ids)


# --------------------------------------------------------------------------- opt-out


def _audit_opt(
    req: AidRequest, action: AuditAction, *, scope: Any, actor: Any, ip: str | None
) -> None:
    audit_record(
        action=action,
        scope=scope,
        actor=actor,
        object_type="aid_request",
        object_id=str(req.public_id),
        school_id=req.school_id,
        ip=ip,
    )


@transaction.atomic
def notices_opt_out_set(
    *, scope: Any, actor: Any, aid_request: AidRequest, opted_out: bool, ip: str | None = None
) -> AidRequest:
    """Record the guardian's choice (told to the school): no notices, or notices again.
    Pending notices of an opted-out family are never sent."""
    if not scope.is_school_staff or not scope.contains_school(aid_request.school_id):
        raise PermissionDenied(_("Отказ от уведомлений записывают сотрудники школы."))
    req = AidRequest.objects.select_for_update().get(pk=aid_request.pk)
    if req.notices_opt_out == opted_out:
        return req
    req.notices_opt_out = opted_out
    req.notices_opt_out_at = timezone.now() if opted_out else None
    req.save(update_fields=["notices_opt_out", "notices_opt_out_at", "updated_at"])
    if opted_out:
        Notice.objects.filter(request=req, status=Notice.Status.PENDING).update(
            status=Notice.Status.SKIPPED, updated_at=timezone.now()
        )
    _audit_opt(
        req,
        AuditAction.NOTICES_OPT_OUT if opted_out else AuditAction.NOTICES_OPT_IN,
        scope=scope,
        actor=actor,
        ip=ip,
    )
    aid_request.refresh_from_db()
    return req
