"""Writes of network administration (``network_admin``): schools and staff, each audited.

Every write checks the role, runs the same validation as the imports
(:func:`schools.services.school_row_validate`, :func:`schools.services.staff_row_validate`),
is atomic and records an audit event in the same transaction. Audit details hold ids, codes,
field names and counts — never a person's name or e-mail.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from portal.audit.services import AuditAction, audit_record
from schools.imports import Table
from schools.models import SCHOOL_ROLES, Membership, Role, School
from schools.scope import Scope, require
from schools.services import (
    ImportResult,
    school_row_validate,
    schools_import_table,
    staff_import_table,
    staff_invitation_send,
    staff_member_create,
    staff_row_validate,
)

__all__ = [
    "school_create",
    "school_set_connected",
    "school_update",
    "schools_import",
    "staff_create",
    "staff_import",
    "staff_mfa_reset",
    "staff_move",
    "staff_set_active",
    "staff_update",
]

ADMIN_PANEL_ROLES = {Role.RULES_ADMIN, Role.AUDITOR}


def _require(scope: Scope) -> None:
    require(scope, "can_admin_network")


def _invalid(errors: Iterable[tuple[str, str]]) -> ValidationError:
    by_field: dict[str, list[str]] = {}
    for field, message in errors:
        by_field.setdefault(field, []).append(str(message))
    return ValidationError(by_field)


def _audit(
    scope: Scope,
    actor: Any,
    action: AuditAction,
    object_type: str,
    object_id: Any,
    *,
    school_id: int | None = None,
    ip: str | None = None,
    **detail: Any,
) -> None:
    audit_record(
        action=action,
        scope=scope,
        actor=actor,
        object_type=object_type,
        object_id=str(object_id),
        school_id=school_id,
        ip=ip,
        detail=detail,
    )


# --------------------------------------------------------------------------- schools

SCHOOL_FIELDS = ("bin", "name_ru", "name_kk", "number", "kind", "language", "student_count")


def school_row_of(school: School) -> dict[str, str]:
    """A school as the text cells of an import row (the form's initial data)."""
    return {
        "bin": school.bin,
        "name_ru": school.name_ru,
        "name_kk": school.name_kk,
        "district": school.district.code,
        "number": "" if school.number is None else str(school.number),
        "kind": school.kind,
        "language": school.language,
        "student_count": str(school.student_count),
        "connected": "1" if school.connected else "0",
    }


@transaction.atomic
def school_create(
    *, scope: Scope, actor: Any, data: Mapping[str, str], ip: str | None = None
) -> School:
    _require(scope)
    values, errors = school_row_validate(data)
    if errors:
        raise _invalid(errors)
    school = School(**values)
    school.full_clean()
    school.save()
    _audit(
        scope,
        actor,
        AuditAction.SCHOOL_CREATE,
        "school",
        school.public_id,
        school_id=school.pk,
        ip=ip,
        bin=school.bin,
        district=school.district.code,
    )
    return school


@transaction.atomic
def school_update(
    *, scope: Scope, actor: Any, school: School, data: Mapping[str, str], ip: str | None = None
) -> tuple[School, list[str]]:
    """Change a school's data (the connection to the pilot has its own action)."""
    _require(scope)
    locked = School.objects.select_for_update().select_related("district").get(pk=school.pk)
    row = {**dict(data), "connected": "1" if locked.connected else "0"}
    values, errors = school_row_validate(row, instance=locked)
    if errors:
        raise _invalid(errors)
    changed = [f for f in SCHOOL_FIELDS if getattr(locked, f) != values[f]]
    if locked.district_id != values["district"].pk:
        changed.append("district")
    if not changed:
        return locked, []
    for f in SCHOOL_FIELDS:
        setattr(locked, f, values[f])
    locked.district = values["district"]
    locked.full_clean()
    locked.save()
    _audit(
        scope,
        actor,
        AuditAction.SCHOOL_UPDATE,
        "school",
        locked.public_id,
        school_id=locked.pk,
        ip=ip,
        fields=changed,
    )
    return locked, changed


@transaction.atomic
def school_set_connected(
    *, scope: Scope, actor: Any, school: School, connected: bool, ip: str | None = None
) -> School:
    """Disconnect a school from the pilot (or connect it again). Its staff and data stay."""
    _require(scope)
    locked = School.objects.select_for_update().get(pk=school.pk)
    if locked.connected == connected:
        return locked
    locked.connected = connected
    locked.save(update_fields=["connected"])
    _audit(
        scope,
        actor,
        AuditAction.SCHOOL_ACTIVATE if connected else AuditAction.SCHOOL_DEACTIVATE,
        "school",
        locked.public_id,
        school_id=locked.pk,
        ip=ip,
        staff=Membership.objects.filter(school=locked).count(),
    )
    return locked


@transaction.atomic
def schools_import(
    *, scope: Scope, actor: Any, table: Table, filename: str = "", ip: str | None = None
) -> ImportResult:
    """The ``import_schools`` import from an upload: all rows or none, audited."""
    _require(scope)
    result = schools_import_table(table)
    if result.ok:
        _audit(
            scope,
            actor,
            AuditAction.SCHOOL_IMPORT,
            "school_import",
            "",
            ip=ip,
            created=result.created,
            updated=result.updated,
            rows=len(table.rows),
        )
    return result


# --------------------------------------------------------------------------- staff


def staff_row_of(membership: Membership) -> dict[str, str]:
    unit = ""
    if membership.school_id:
        unit = membership.school.bin
    elif membership.district_id:
        unit = membership.district.code
    elif membership.region_id:
        unit = membership.region.code
    return {
        "username": membership.user.get_username(),
        "full_name": membership.full_name,
        "email": membership.user.email,
        "role": membership.role,
        "unit": unit,
    }


def _sync_admin_panel(user: Any, role: str) -> None:
    """Django-admin access follows the role (rules administrators and auditors only)."""
    user.is_staff = role in ADMIN_PANEL_ROLES or user.is_superuser
    user.save(update_fields=["is_staff"])
    user.groups.remove(*Group.objects.filter(name__in=[r.value for r in ADMIN_PANEL_ROLES]))
    if role in ADMIN_PANEL_ROLES:
        group = Group.objects.filter(name=role).first()
        if group:
            user.groups.add(group)


@transaction.atomic
def staff_create(
    *,
    scope: Scope,
    actor: Any,
    data: Mapping[str, str],
    send_invitation: bool = True,
    ip: str | None = None,
) -> Membership:
    """A new account with the role and unit; the person sets the password from the e-mailed
    link and enrols TOTP at the first sign-in."""
    _require(scope)
    values, errors = staff_row_validate(data)
    if errors:
        raise _invalid(errors)
    membership = staff_member_create(**values)
    _audit(
        scope,
        actor,
        AuditAction.STAFF_CREATE,
        "staff",
        membership.public_id,
        school_id=membership.school_id,
        ip=ip,
        role=membership.role,
    )
    if send_invitation:
        user = membership.user
        transaction.on_commit(lambda: staff_invitation_send(user))
    return membership


def _locked_membership(membership: Membership) -> Membership:
    return (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user", "school", "district", "region")
        .get(pk=membership.pk)
    )


def _apply(membership: Membership, values: Mapping[str, Any]) -> list[str]:
    """Write validated values into the membership and its user; the changed field names."""
    user = membership.user
    changed = []
    unit = values["unit_kwargs"]
    new_unit = (unit.get("school"), unit.get("district"), unit.get("region"))
    if membership.full_name != values["full_name"]:
        changed.append("full_name")
        membership.full_name = values["full_name"]
        parts = values["full_name"].split()
        user.last_name = parts[0] if parts else ""
        user.first_name = " ".join(parts[1:])[:150]
    if user.email != values["email"]:
        changed.append("email")
        user.email = values["email"]
    if membership.role != values["role"]:
        changed.append("role")
        membership.role = values["role"]
    if (membership.school, membership.district, membership.region) != new_unit:
        changed.append("unit")
        membership.school, membership.district, membership.region = new_unit
    if changed:
        user.full_clean()
        user.save()
        membership.full_clean()
        membership.save()
        if "role" in changed:
            _sync_admin_panel(user, membership.role)
    return changed


@transaction.atomic
def staff_update(
    *,
    scope: Scope,
    actor: Any,
    membership: Membership,
    data: Mapping[str, str],
    ip: str | None = None,
) -> tuple[Membership, list[str]]:
    """Change name, e-mail, role or unit (the login stays)."""
    _require(scope)
    locked = _locked_membership(membership)
    values, errors = staff_row_validate(data, instance=locked)
    if errors:
        raise _invalid(errors)
    changed = _apply(locked, values)
    if changed:
        _audit(
            scope,
            actor,
            AuditAction.STAFF_UPDATE,
            "staff",
            locked.public_id,
            school_id=locked.school_id,
            ip=ip,
            fields=changed,
            role=locked.role,
        )
    return locked, changed


@transaction.atomic
def staff_move(
    *,
    scope: Scope,
    actor: Any,
    membership: Membership,
    school: School,
    ip: str | None = None,
) -> Membership:
    """Move a pedagogue or principal to another school (same validation as an import row)."""
    _require(scope)
    locked = _locked_membership(membership)
    if locked.role not in SCHOOL_ROLES:
        raise ValidationError(
            {"school": _("Перевести в другую школу можно только сотрудника школы.")}
        )
    if locked.school_id == school.pk:
        raise ValidationError({"school": _("Сотрудник уже работает в этой школе.")})
    before = locked.school
    values, errors = staff_row_validate(
        {**staff_row_of(locked), "unit": school.bin}, instance=locked
    )
    if errors:
        raise _invalid(("school" if f == "unit" else f, m) for f, m in errors)
    _apply(locked, values)
    _audit(
        scope,
        actor,
        AuditAction.STAFF_MOVE,
        "staff",
        locked.public_id,
        school_id=locked.school_id,
        ip=ip,
        from_school=str(before.public_id) if before else "",
        to_school=str(locked.school.public_id),
    )
    return locked


@transaction.atomic
def staff_set_active(
    *,
    scope: Scope,
    actor: Any,
    membership: Membership,
    active: bool,
    ip: str | None = None,
) -> Membership:
    """Switch an account off (no sign-in, sessions end at the next request) or on again."""
    _require(scope)
    locked = _locked_membership(membership)
    user = locked.user
    if not active and user.pk == getattr(actor, "pk", None):
        raise ValidationError(_("Нельзя отключить собственную учётную запись."))
    if user.is_active == active:
        return locked
    user.is_active = active
    user.save(update_fields=["is_active"])
    _audit(
        scope,
        actor,
        AuditAction.STAFF_ACTIVATE if active else AuditAction.STAFF_DEACTIVATE,
        "staff",
        locked.public_id,
        school_id=locked.school_id,
        ip=ip,
        role=locked.role,
    )
    return locked


@transaction.atomic
def staff_mfa_reset(
    *, scope: Scope, actor: Any, membership: Membership, ip: str | None = None
) -> int:
    """Remove the member's authenticator app and recovery codes: at the next sign-in the
    portal asks them to enrol TOTP again. Returns how many authenticators were removed."""
    from allauth.mfa.models import Authenticator

    _require(scope)
    locked = _locked_membership(membership)
    if locked.user.pk == getattr(actor, "pk", None):
        raise ValidationError(
            _("Свой второй фактор замените на странице «Безопасность», а не здесь.")
        )
    removed, _detail = Authenticator.objects.filter(user=locked.user).delete()
    _audit(
        scope,
        actor,
        AuditAction.STAFF_MFA_RESET,
        "staff",
        locked.public_id,
        school_id=locked.school_id,
        ip=ip,
        removed=removed,
    )
    return removed


@transaction.atomic
def staff_import(
    *,
    scope: Scope,
    actor: Any,
    table: Table,
    send_invitations: bool = True,
    ip: str | None = None,
) -> ImportResult:
    """The ``import_staff`` import from an upload: all rows or none, audited."""
    _require(scope)
    result = staff_import_table(table, send_invitations=send_invitations)
    if result.ok:
        _audit(
            scope,
            actor,
            AuditAction.STAFF_IMPORT,
            "staff_import",
            "",
            ip=ip,
            created=result.created,
            rows=len(table.rows),
        )
    return result
