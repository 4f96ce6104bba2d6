"""The audit log in words, in the reader's language: who, what, which request, which school,
when. Used by the page and by the CSV export, so both say the same.

No raw event codes, UUIDs, numeric ids or Python dicts reach a reader: a request is shown by
its short code (linked to its page), a school by its name, a person by name and role, a
background job as "system"; the ``detail`` of an event is told in words for the keys people
need and left out otherwise.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from portal.audit.models import AuditEvent
from portal.audit.services import AuditAction

OBJECT_WORDS = {
    "audit_log": lambda: _("журнал аудита"),
    "ruleset": lambda: _("набор правил"),
    "golden_case": lambda: _("эталонный случай"),
    "impact_preview": lambda: _("предпросмотр влияния"),
    "rescore_batch": lambda: _("пересчёт открытых заявок"),
    "api_token": lambda: _("токен API"),
    "user": lambda: _("учётная запись"),
    "assessment": lambda: _("оценка карты семьи"),
}


@dataclass(frozen=True)
class AuditRow:
    when: str
    who: str
    login: str
    role: str
    is_system: bool
    action: str
    request_code: str
    request_url: str
    request_public_id: str
    subject: str
    school: str
    outcome: str
    details: str
    ip: str

    def csv_values(self) -> list[str]:
        return [
            self.when,
            self.who,
            self.role,
            self.action,
            self.request_code,
            self.subject,
            self.school,
            self.outcome,
            self.details,
            self.ip,
        ]


def csv_header() -> list[str]:
    return [
        _("Время"),
        _("Кто"),
        _("Роль"),
        _("Действие"),
        _("Заявка"),
        _("Объект"),
        _("Школа"),
        _("Итог"),
        _("Подробности"),
        _("IP-адрес"),
    ]


def request_code(public_id: str | uuid.UUID) -> str:
    """The short code of a request people read and say: the first 8 hex digits, upper case."""
    try:
        value = uuid.UUID(str(public_id))
    except ValueError:
        return ""
    return value.hex[:8].upper()


def _role_label(role: str) -> str:
    from schools.models import Role

    if role in Role.values:
        return str(Role(role).label)
    if role == "superuser":
        return _("администратор портала")
    return ""


def _action_label(action: str) -> str:
    try:
        return str(AuditAction(action).label)
    except ValueError:
        return _("другое действие")


def _status_label(value: Any) -> str:
    from portal.requests.models import Status

    return str(Status(value).label) if value in Status.values else ""


def _details(detail: dict, action: str) -> str:
    """The parts of ``detail`` a person needs, in words; everything else is left out."""
    from portal.requests.models import AidKind, Ground

    if not isinstance(detail, dict):
        return ""
    parts: list[str] = []
    via = detail.get("via")
    if via == "web":
        parts.append(_("на сайте"))
    elif via == "api":
        parts.append(_("через API"))
    elif via == "admin":
        parts.append(_("в панели администрирования"))
    if detail.get("ground") in Ground.values:
        parts.append(str(Ground(detail["ground"]).label))
    if detail.get("aid_kind") in AidKind.values:
        parts.append(str(AidKind(detail["aid_kind"]).label))
    if _status_label(detail.get("from")):
        parts.append(_("было: %(status)s") % {"status": _status_label(detail["from"])})
    elif _status_label(detail.get("status")) and action == AuditAction.AID_REQUEST_SUBMIT:
        parts.append(_("статус: %(status)s") % {"status": _status_label(detail["status"])})
    if isinstance(detail.get("attempt"), int):
        parts.append(_("попытка %(n)d") % {"n": detail["attempt"]})
    if detail.get("previous_category") not in (None, ""):
        parts.append(
            _("категория %(old)s → %(new)s")
            % {"old": detail["previous_category"], "new": detail.get("category", "")}
        )
    elif detail.get("category") not in (None, ""):
        parts.append(_("категория %(n)s") % {"n": detail["category"]})
    if detail.get("expected_category") not in (None, ""):
        parts.append(_("ожидаемая категория %(n)s") % {"n": detail["expected_category"]})
    outcome = detail.get("outcome")
    if outcome == "approve":
        parts.append(_("помощь одобрена"))
    elif outcome == "reject":
        parts.append(_("в помощи отказано"))
    if detail.get("against_recommendation") is True:
        parts.append(_("вопреки рекомендации"))
    version = detail.get("ruleset_version") or detail.get("version")
    if isinstance(version, str) and version:
        parts.append(_("правила %(version)s") % {"version": version})
    if isinstance(detail.get("effective_from"), str) and detail["effective_from"]:
        parts.append(_("действуют с %(date)s") % {"date": detail["effective_from"]})
    if isinstance(detail.get("active"), bool):
        parts.append(_("включён") if detail["active"] else _("выключен"))
    if isinstance(detail.get("total"), int) and isinstance(detail.get("rescored"), int):
        parts.append(
            _("пересчитано %(done)d из %(total)d")
            % {"done": detail["rescored"], "total": detail["total"]}
        )
    if isinstance(detail.get("count"), int):
        parts.append(_("записей: %(n)d") % {"n": detail["count"]})
    if isinstance(detail.get("requests"), int):
        parts.append(_("заявок о человеке: %(n)d") % {"n": detail["requests"]})
    filters = detail.get("filters")
    if isinstance(filters, dict) and filters:
        parts.append(_("с фильтрами"))
    return "; ".join(parts)


class _Lookups:
    """Names of the people and schools on one page, fetched in two queries."""

    def __init__(self, events: list[AuditEvent]) -> None:
        from schools.models import School

        actor_ids = {e.actor_id for e in events if e.actor_id}
        actor_ids |= {
            int(e.object_id) for e in events if e.object_type == "user" and e.object_id.isdigit()
        }
        self.people: dict[int, tuple[str, str, str]] = {}
        for pk, username, full_name, role in (
            get_user_model()
            .objects.filter(pk__in=actor_ids)
            .values_list("pk", "username", "membership__full_name", "membership__role")
        ):
            self.people[pk] = (full_name or username, username, role or "")
        school_ids = {e.school_id for e in events if e.school_id}
        self.schools = {s.pk: s.name for s in School.objects.filter(pk__in=school_ids)}


def _when(event: AuditEvent) -> str:
    local = timezone.localtime(event.created_at)
    return f"{date_format(local, 'DATE_FORMAT')} {time_format(local, 'H:i:s')}"


def describe(events: Iterable[AuditEvent]) -> list[AuditRow]:
    """Rows in words for the current language (call inside the reader's language)."""
    events = list(events)
    names = _Lookups(events)
    rows = []
    for e in events:
        person = names.people.get(e.actor_id) if e.actor_id else None
        is_system = e.actor_id is None
        if is_system:
            who, login, role = pgettext("audit actor", "система"), "", ""
        elif person is not None:
            who, login = person[0], person[1]
            role = _role_label(e.role) or _role_label(person[2])
            if e.role == "superuser":
                role = _role_label("superuser")
        else:
            who, login, role = e.actor_username or _("удалённая учётная запись"), "", ""
        req_code = req_url = req_id = ""
        subject = ""
        if e.object_type == "aid_request" and e.object_id:
            req_code = request_code(e.object_id)
            if req_code:
                req_id = e.object_id
                req_url = reverse("requests:aid-request-detail", args=[e.object_id])
        elif e.object_type == "user" and e.object_id.isdigit():
            target = names.people.get(int(e.object_id))
            subject = target[0] if target else OBJECT_WORDS["user"]()
        elif e.object_type in OBJECT_WORDS:
            subject = OBJECT_WORDS[e.object_type]()
        rows.append(
            AuditRow(
                when=_when(e),
                who=who,
                login=login,
                role=role,
                is_system=is_system,
                action=_action_label(e.action),
                request_code=req_code,
                request_url=req_url,
                request_public_id=req_id,
                subject=subject,
                school=names.schools.get(e.school_id, "") if e.school_id else "",
                outcome=str(AuditEvent.Outcome(e.outcome).label)
                if e.outcome in AuditEvent.Outcome.values
                else "",
                details=_details(e.detail, e.action),
                ip=e.ip or "",
            )
        )
    return rows
