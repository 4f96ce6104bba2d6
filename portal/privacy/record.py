"""A person's own record (Law 94-V): for one ИИН, everything the portal holds about the person —
requests, assessments, decisions, letters, notices sent — and every view of their data recorded
in the audit log, as a PDF in the person's language. Produced by auditors only, and audited.

The ИИН is looked up through its keyed hash (``schools.iinkey.iin_digest``) and never written
to the audit row, a URL, a log line or the file name."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal.audit import presentation
from portal.audit.selectors import audit_person_views_for_scope
from portal.audit.services import AuditAction, audit_record
from portal.db_scope import cross_school
from portal.requests.models import AidRequest
from schools.identifiers import iin_error
from schools.iinkey import iin_digest


@dataclass
class PersonRecord:
    language: str
    requests: list[AidRequest]
    views: list[Any]  # presentation.AuditRow
    view_event_ids: list[int]
    produced_at: Any


def _person_language(requests: list[AidRequest]) -> str:
    for req in requests:  # newest first
        lang = req.letter_language
        if lang in {"ru", "kk"}:
            return lang
    return "ru"


def person_record_collect(*, scope: Any, iin: str) -> PersonRecord:
    if scope is None or not scope.can_audit:
        raise PermissionDenied(_("Личную выписку составляют только аудиторы."))
    iin = (iin or "").strip()
    error = iin_error(iin)
    if error:
        raise ValidationError({"iin": error})
    digest = iin_digest(iin)
    with cross_school("person record (portal.privacy)"):
        requests = list(
            AidRequest.objects.unscoped()
            .filter(Q(student_iin_hmac=digest) | Q(guardian_iin_hmac=digest))
            .select_related("school")
            .prefetch_related("scorings__assessment", "decisions", "letters", "notices")
            .order_by("-created_at")
        )
        _count, events_qs = audit_person_views_for_scope(scope=scope, iin=iin)
        events = list(events_qs)
    language = _person_language(requests)
    with translation.override(language):
        views = presentation.describe(events)
    return PersonRecord(
        language=language,
        requests=requests,
        views=views,
        view_event_ids=[e.pk for e in events],
        produced_at=timezone.now(),
    )


def person_record_pdf(record: PersonRecord) -> bytes:
    from weasyprint import CSS, HTML

    with translation.override(record.language):
        html = render_to_string("privacy/person_record.html", {"record": record})
    # The stylesheet is its own template (no inline style in any HTML template: the CSP test).
    css = render_to_string("privacy/person_record.css")
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(
        stylesheets=[CSS(string=css)]
    )


@transaction.atomic
def person_record_produce(
    *, scope: Any, actor: Any, iin: str, ip: str | None = None
) -> tuple[PersonRecord, bytes]:
    """Collect and render the record; one audit row (counts, no ИИН)."""
    record = person_record_collect(scope=scope, iin=iin)
    pdf = person_record_pdf(record)
    audit_record(
        action=AuditAction.PERSON_RECORD_PRODUCE,
        scope=scope,
        actor=actor,
        object_type="person_record",
        ip=ip,
        detail={"requests": len(record.requests), "views": len(record.views), "person": True},
    )
    return record, pdf


def person_record_write(pdf: bytes) -> Path:
    directory = Path(getattr(settings, "PERSON_RECORD_DIR", settings.BASE_DIR / "var" / "records"))
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"person-record-{uuid.uuid4()}.pdf"
    path.write_bytes(pdf)
    path.chmod(0o600)
    return path
