"""The payment register (approved, unpaid decisions) and the bank's reconciliation."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit.services import AuditAction, audit_record
from portal.budgets.models import Budget
from portal.exports import csv_writer
from portal.payments.models import Payment
from portal.requests.models import Decision, Status
from schools.imports import ImportFault, read_table
from schools.scope import Scope, require

REGISTER_COLUMNS = [
    "payment_reference",
    "recipient_full_name",
    "recipient_iin",
    "amount_kzt",
    "purpose",
    "school_bin",
    "academic_year",
]


def payment_reference(decision: Decision) -> str:
    return "KMK-" + decision.public_id.hex[:16].upper()


@transaction.atomic
def payment_register(
    *, scope: Scope, actor: Any, academic_year: str, ip: str | None = None
) -> list[Payment]:
    """Approved decisions in effect (signed, or needing no signature; never void) of the
    scope's schools for the year, of requests still decided (not withdrawn), with no
    successful payment: each gets its payment (a stable reference) and is listed; audited."""
    require(scope, "can_act_on_requests")
    decisions = (
        Decision.objects.in_effect()
        .filter(
            outcome=Decision.Outcome.APPROVE,
            superseded_at__isnull=True,
            request__school_id__in=scope.school_ids,
            request__academic_year=academic_year,
            request__status=Status.DECIDED,
        )
        .select_related("request__school")
        .order_by("created_at")
    )
    out = []
    for d in decisions:
        payment, _created = Payment.objects.get_or_create(
            decision=d, defaults={"reference": payment_reference(d), "amount_kzt": d.amount_kzt}
        )
        if payment.status != Payment.Status.PAID:
            out.append(payment)
    audit_record(
        action=AuditAction.PAYMENT_REGISTER,
        scope=scope,
        actor=actor,
        object_type="payment_register",
        object_id=academic_year,
        school_id=scope.school_id,
        ip=ip,
        detail={"rows": len(out)},
    )
    return out


def register_csv(payments: list[Payment]) -> str:
    buf = io.StringIO()
    w = csv_writer(buf)
    w.writerow(REGISTER_COLUMNS)
    for p in payments:
        req = p.decision.request
        w.writerow(
            [
                p.reference,
                req.guardian_full_name,
                req.guardian_iin,
                p.amount_kzt,
                _("Материальная помощь учащемуся (%(kind)s), %(year)s учебный год")
                % {"kind": req.get_aid_kind_display(), "year": req.academic_year},
                req.school.bin,
                req.academic_year,
            ]
        )
    return "\ufeff" + buf.getvalue()


@dataclass
class RowResult:
    line: int
    payment_reference: str
    result: str  # paid | failed | unchanged | error
    message: str = ""


def reconciliation_import(
    *, scope: Scope, actor: Any, data: bytes, filename: str = "", ip: str | None = None
) -> list[RowResult]:
    """Columns ``payment_reference, status (paid|failed), reason``. Each row is matched by its
    reference; importing the same file twice changes nothing (``unchanged``)."""
    require(scope, "can_act_on_requests")
    table = read_table(data, filename or "reconciliation.csv")
    if isinstance(table, ImportFault):
        return [RowResult(table.line, "", "error", table.message)]
    missing = [c for c in ("payment_reference", "status") if c not in table.fieldnames]
    if missing:
        return [
            RowResult(
                1, "", "error", _("нет обязательного столбца: %(c)s") % {"c": ", ".join(missing)}
            )
        ]
    results: list[RowResult] = []
    for line, row in table.rows:
        ref = (row.get("payment_reference") or "").strip()
        status = (row.get("status") or "").strip().lower()
        reason = (row.get("reason") or "").strip()[:300]
        results.append(_reconcile_row(scope, line, ref, status, reason))
    audit_record(
        action=AuditAction.PAYMENT_RECONCILE,
        scope=scope,
        actor=actor,
        object_type="payment_reconciliation",
        school_id=scope.school_id,
        ip=ip,
        detail={
            r: sum(1 for x in results if x.result == r)
            for r in ("paid", "failed", "unchanged", "error")
        },
    )
    return results


@transaction.atomic
def _reconcile_row(scope: Scope, line: int, ref: str, status: str, reason: str) -> RowResult:
    payment = (
        Payment.objects.select_for_update(of=("self",))
        .select_related("decision__request__school")
        .filter(reference=ref, decision__request__school_id__in=scope.school_ids)
        .first()
    )
    if payment is None:
        return RowResult(line, ref, "error", _("платёж с таким номером не найден"))
    if status not in (Payment.Status.PAID, Payment.Status.FAILED):
        return RowResult(line, ref, "error", _("состояние должно быть paid или failed"))
    if status == Payment.Status.FAILED and not reason:
        return RowResult(line, ref, "error", _("для неуспешного платежа укажите причину"))
    if payment.status == Payment.Status.PAID or (
        payment.status == status and payment.failure_reason == reason
    ):
        return RowResult(line, ref, "unchanged")
    req = payment.decision.request
    payment.status = status
    payment.failure_reason = reason if status == Payment.Status.FAILED else ""
    payment.reconciled_at = timezone.now()
    payment.save()
    if status == Payment.Status.PAID:
        Budget.objects.filter(school_id=req.school_id, academic_year=req.academic_year).update(
            paid_kzt=F("paid_kzt") + payment.amount_kzt
        )
    else:  # the guardian hears of it (once per failure: a re-import is "unchanged")
        from portal.notices.services import notices_for_event

        notices_for_event(
            aid_request=req,
            event="payment_failed",
            ref=f"{payment.reference}:{int(payment.reconciled_at.timestamp())}",
        )
    return RowResult(line, ref, status, payment.failure_reason)
