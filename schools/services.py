"""Writes of the school network and staff. Each is atomic and validates before saving."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import DataError, IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from schools.identifiers import make_identifier
from schools.imports import ImportFault, Table, read_csv_text, read_table
from schools.models import District, Membership, Region, Role, School
from schools.reference import DISTRICTS, REGIONS


@dataclass
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return _("строка %(line)s, поле «%(field)s»: %(message)s") % {
            "line": self.line,
            "field": self.field,
            "message": self.message,
        }


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# ---- geography and schools ---------------------------------------------------------------
@transaction.atomic
def geography_ensure() -> None:
    """Create or refresh the reference regions and districts (idempotent)."""
    for r in REGIONS:
        Region.objects.update_or_create(
            code=r["code"], defaults={k: v for k, v in r.items() if k != "code"}
        )
    regions = {r.code: r for r in Region.objects.all()}
    for code, region, kind, ru, kk, en, _count in DISTRICTS:
        District.objects.update_or_create(
            code=code,
            defaults={
                "region": regions[region],
                "kind": kind,
                "name_ru": ru,
                "name_kk": kk,
                "name_en": en,
            },
        )


_KINDS = [
    # (kind, weight, ru template, kk template)
    ("school", 70, "КГУ «Общеобразовательная школа №{n}»", "«№{n} жалпы білім беретін мектеп» КММ"),
    ("gymnasium", 10, "КГУ «Гимназия №{n}»", "«№{n} гимназия» КММ"),
    ("lyceum", 6, "КГУ «Лицей №{n}»", "«№{n} лицей» КММ"),
    ("school_lyceum", 6, "КГУ «Школа-лицей №{n}»", "«№{n} мектеп-лицей» КММ"),
    ("school_gymnasium", 5, "КГУ «Школа-гимназия №{n}»", "«№{n} мектеп-гимназия» КММ"),
    ("boarding", 3, "КГУ «Школа-интернат №{n}»", "«№{n} мектеп-интернат» КММ"),
]


def _generated_bin(rng: random.Random, used: set[str]) -> str:
    while True:
        # YYMM of registration, 4 = legal entity (resident), 0, then 5 serial digits.
        prefix = f"{rng.randint(95, 99):02d}{rng.randint(1, 12):02d}40{rng.randint(0, 99999):05d}"
        value = make_identifier(prefix)
        if value and value not in used:
            used.add(value)
            return value


@transaction.atomic
def pilot_network_seed(seed: int = 2025) -> dict[str, int]:
    """The pilot's 317 connected schools (202 KAR, 115 SHY), reproducible for a given seed.

    Idempotent: a school with the same generated BIN is updated, not duplicated.
    """
    geography_ensure()
    rng = random.Random(seed)
    used: set[str] = set()
    districts = {d.code: d for d in District.objects.all()}
    counts: dict[str, int] = {}
    kinds, weights = zip(*[(k, w) for k, w, *_rest in _KINDS], strict=True)
    templates = {k: (ru, kk) for k, _w, ru, kk in _KINDS}
    for code, region, _kind, _ru, _kk, _en, count in DISTRICTS:
        numbers = rng.sample(range(1, 120), count)
        for n in sorted(numbers):
            kind = rng.choices(kinds, weights=weights)[0]
            ru, kk = templates[kind]
            language = rng.choices(
                ["kk", "ru", "mixed"], weights=[5, 2, 3] if region == "SHY" else [3, 4, 3]
            )[0]
            bin_ = _generated_bin(rng, used)
            School.objects.update_or_create(
                bin=bin_,
                defaults={
                    "district": districts[code],
                    "name_ru": ru.format(n=n),
                    "name_kk": kk.format(n=n),
                    "number": n,
                    "kind": kind,
                    "language": language,
                    "connected": True,
                    "student_count": rng.randint(180, 1900),
                },
            )
            counts[region] = counts.get(region, 0) + 1
    return counts


SCHOOL_CSV_COLUMNS = [
    "bin",
    "name_ru",
    "name_kk",
    "district",
    "number",
    "kind",
    "language",
    "student_count",
    "connected",
]


def _bool(value: str) -> bool | None:
    v = value.strip().lower()
    if v in {"1", "true", "yes", "да", "иә"}:
        return True
    if v in {"0", "false", "no", "нет", "жоқ", ""}:
        return False
    return None


def _fault_result(fault: ImportFault) -> ImportResult:
    result = ImportResult()
    result.errors.append(RowError(fault.line, fault.field, fault.message))
    return result


_NUMBER = re.compile(r"[0-9]{1,9}")  # ASCII digits only (never ``²``), fits an integer column


def _count_error(value: str) -> str | None:
    if _NUMBER.fullmatch(value):
        return None
    if re.fullmatch(r"[0-9]+", value):
        return _("слишком большое число")
    return _("должно быть целым неотрицательным числом из цифр 0–9")


def schools_import_csv(text: str) -> ImportResult:
    """Validate every row; import all of them in one transaction, or none if any row is bad."""
    return schools_import_table(read_csv_text(text))


def schools_import_file(data: bytes, filename: str = "") -> ImportResult:
    """Like `schools_import_csv` for the bytes of a CSV (UTF-8) or XLSX file."""
    return schools_import_table(read_table(data, filename))


def school_row_validate(
    row: Mapping[str, str],
    *,
    districts: Mapping[str, District] | None = None,
    instance: School | None = None,
    upsert: bool = False,
) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """The one validation of a school, for an import row and for the browser form alike.

    ``row`` holds text cells named like the import columns (``bin``, ``name_ru``, ``name_kk``,
    ``district``, ``number``, ``kind``, ``language``, ``student_count``, ``connected``).
    Returns ``(values, [])`` ready for the model, or ``(None, [(field, message), …])``.
    ``upsert``: an import updates the school with the same BIN; otherwise (the form) a BIN of
    another school is an error.
    """
    errors: list[tuple[str, str]] = []
    row = {k: (v or "").strip() for k, v in row.items() if k}
    code = row.get("district", "")
    if districts is not None:
        district = districts.get(code)
    else:
        district = District.objects.filter(code=code).first() if code else None
    if district is None:
        errors.append(("district", _("неизвестный код района «%(v)s»") % {"v": code}))
    number = None
    if row.get("number"):
        err = _count_error(row["number"])
        if err:
            errors.append(("number", err))
        else:
            number = int(row["number"])
    students = 0
    if row.get("student_count"):
        err = _count_error(row["student_count"])
        if err:
            errors.append(("student_count", err))
        else:
            students = int(row["student_count"])
    connected = _bool(row.get("connected", "1") or "1")
    if connected is None:
        errors.append(("connected", _("ожидается 1/0, да/нет")))
    values: dict[str, Any] = {
        "bin": row.get("bin", ""),
        "name_ru": row.get("name_ru", ""),
        "name_kk": row.get("name_kk") or row.get("name_ru", ""),
        "number": number,
        "kind": row.get("kind") or School.Kind.SCHOOL,
        "language": row.get("language") or School.Language.MIXED,
        "student_count": students,
        "connected": bool(connected),
    }
    school = School(district=district or District(pk=0), **values)
    try:
        school.full_clean(
            exclude=["district", "bin"] if district is None else ["bin"], validate_unique=False
        )
    except ValidationError as exc:
        errors.extend((f, m) for f, msgs in exc.message_dict.items() for m in msgs)
    try:
        School._meta.get_field("bin").run_validators(values["bin"])
    except ValidationError as exc:
        errors.extend(("bin", m) for m in exc.messages)
    if not values["bin"]:
        errors.append(("bin", _("обязательное поле")))
    elif not upsert:
        other = School.objects.filter(bin=values["bin"])
        if instance is not None:
            other = other.exclude(pk=instance.pk)
        if other.exists():
            errors.append(("bin", _("школа с таким БИН уже есть")))
    if errors:
        return None, errors
    return {**values, "district": district}, []


def schools_import_table(table: Table | ImportFault) -> ImportResult:
    """Every row through :func:`school_row_validate`; all imported in one transaction, or none."""
    if isinstance(table, ImportFault):
        return _fault_result(table)
    result = ImportResult()
    missing = [c for c in ["bin", "name_ru", "district"] if c not in table.fieldnames]
    if missing:
        result.errors.append(RowError(1, ", ".join(missing), _("нет обязательного столбца")))
        return result
    districts = {d.code: d for d in District.objects.all()}
    seen: dict[str, int] = {}
    prepared: list[tuple[int, str, dict]] = []
    for line, row in table.rows:
        values, errors = school_row_validate(row, districts=districts, upsert=True)
        result.errors.extend(RowError(line, f, m) for f, m in errors)
        bin_ = (row.get("bin") or "").strip()
        if bin_ and bin_ in seen:
            result.errors.append(
                RowError(line, "bin", _("повторяет БИН из строки %(l)s") % {"l": seen[bin_]})
            )
        elif values is not None:
            prepared.append((line, values.pop("bin"), values))
        seen.setdefault(bin_, line)
    if result.errors:
        return result
    line = 0
    try:
        with transaction.atomic():
            for line, bin_, defaults in prepared:  # noqa: B007 - named in the error
                _obj, created = School.objects.update_or_create(bin=bin_, defaults=defaults)
                if created:
                    result.created += 1
                else:
                    result.updated += 1
    except (IntegrityError, DataError):
        # e.g. the same БИН saved by someone else meanwhile: nothing is written
        result.created = result.updated = 0
        result.errors.append(
            RowError(line, "bin", _("строку не удалось сохранить; ничего не импортировано"))
        )
    return result


# ---- staff -------------------------------------------------------------------------------
STAFF_CSV_COLUMNS = ["username", "full_name", "email", "role", "unit"]


def _resolve_unit(role: str, unit: str) -> tuple[dict, str | None]:
    level = {
        Role.PEDAGOGUE: "school",
        Role.PRINCIPAL: "school",
        Role.DISTRICT_ANALYST: "district",
        Role.DISTRICT_FINANCE: "district",
        Role.REGION_ANALYST: "region",
    }.get(role)
    if level == "school":
        school = School.objects.filter(bin=unit).first()
        return (
            ({"school": school}, None)
            if school
            else ({}, _("школа с БИН «%(v)s» не найдена") % {"v": unit})
        )
    if level == "district":
        district = District.objects.filter(code=unit).first()
        return (
            ({"district": district}, None)
            if district
            else ({}, _("район с кодом «%(v)s» не найден") % {"v": unit})
        )
    if level == "region":
        region = Region.objects.filter(code=unit).first()
        return (
            ({"region": region}, None)
            if region
            else ({}, _("регион с кодом «%(v)s» не найден") % {"v": unit})
        )
    if unit:
        return {}, _("для этой роли подразделение не указывается")
    return {}, None


@transaction.atomic
def staff_member_create(
    *,
    username: str,
    full_name: str,
    email: str,
    role: str,
    unit_kwargs: dict,
    is_demo: bool = False,
    password: str | None = None,
):
    User = get_user_model()
    user = User(username=username, email=email, is_staff=role in {Role.RULES_ADMIN, Role.AUDITOR})
    parts = full_name.split()
    user.last_name = parts[0] if parts else ""
    user.first_name = " ".join(parts[1:])[:150]
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    membership = Membership(
        user=user, full_name=full_name, role=role, is_demo=is_demo, **unit_kwargs
    )
    membership.full_clean()
    membership.save()
    if role in {Role.RULES_ADMIN, Role.AUDITOR}:
        from django.contrib.auth.models import Group

        group = Group.objects.filter(name=role).first()
        if group:
            user.groups.add(group)
    return membership


def staff_invitation_send(user) -> None:  # noqa: ANN001
    """E-mail a one-time link to set the password (allauth's password-reset key)."""
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    key = default_token_generator.make_token(user)
    path = reverse(
        "account_reset_password_from_key", kwargs={"uidb36": user_pk_to_url_str(user), "key": key}
    )
    link = settings.PORTAL_BASE_URL.rstrip("/") + path
    send_mail(
        subject=_("Приглашение в портал «Көмек»"),
        message=_(
            "Здравствуйте!\n\nДля вас создана учётная запись в портале «Көмек» (логин: %(username)s).\n"
            "Задайте пароль по ссылке: %(link)s\n"
            "После входа подключите двухфакторную аутентификацию (приложение-аутентификатор).\n"
        )
        % {"username": user.get_username(), "link": link},
        from_email=None,
        recipient_list=[user.email],
    )


def staff_import_csv(text: str, *, send_invitations: bool = True) -> ImportResult:
    """Create staff accounts from CSV (username,full_name,email,role,unit): all rows or none."""
    return staff_import_table(read_csv_text(text), send_invitations=send_invitations)


def staff_import_file(
    data: bytes, filename: str = "", *, send_invitations: bool = True
) -> ImportResult:
    """Like `staff_import_csv` for the bytes of a CSV (UTF-8) or XLSX file."""
    return staff_import_table(read_table(data, filename), send_invitations=send_invitations)


# model field → import column
_STAFF_FIELDS = {
    "username": "username",
    "email": "email",
    "first_name": "full_name",
    "last_name": "full_name",
    "full_name": "full_name",
    "role": "role",
    "school": "unit",
    "district": "unit",
    "region": "unit",
}


def staff_row_validate(
    row: Mapping[str, str],
    *,
    instance: Membership | None = None,
    seen_usernames: Mapping[str, int] | None = None,
) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """The one validation of a staff member, for an import row and for the browser forms.

    ``row`` holds text cells named like the import columns (``username``, ``full_name``,
    ``email``, ``role``, ``unit``: a school BIN, district code or region code). With
    ``instance`` (an edit) the login is the member's own and is not checked again.
    Returns ``(prepared, [])`` for :func:`staff_member_create` or ``(None, [(field, message)])``.
    """
    User = get_user_model()
    errors: list[tuple[str, str]] = []
    row = {k: (v or "").strip() for k, v in row.items() if k}
    for column in STAFF_CSV_COLUMNS:
        row.setdefault(column, "")
    if instance is not None:
        row["username"] = instance.user.get_username()
    username, email, role = row["username"], row["email"], row["role"]
    if instance is None:
        if not username:
            errors.append(("username", _("обязательное поле")))
        elif seen_usernames is not None and username in seen_usernames:
            errors.append(
                (
                    "username",
                    _("повторяет логин из строки %(l)s") % {"l": seen_usernames[username]},
                )
            )
        elif User.objects.filter(username=username).exists():
            errors.append(("username", _("пользователь с таким логином уже есть")))
    if not row["full_name"]:
        errors.append(("full_name", _("обязательное поле")))
    try:
        validate_email(email)
    except ValidationError:
        errors.append(("email", _("некорректный адрес электронной почты")))
    unit_kwargs: dict = {}
    roles = set(Role.values)
    if role not in roles:
        errors.append(
            (
                "role",
                _("неизвестная роль «%(v)s»; допустимо: %(all)s")
                % {"v": role, "all": ", ".join(sorted(roles))},
            )
        )
    else:
        unit_kwargs, err = _resolve_unit(role, row["unit"])
        if err:
            errors.append(("unit", err))
    if not errors:
        # the same model validation the create (or the edit) will run, reported by column
        errors = _staff_row_model_errors(row, unit_kwargs)
    if errors:
        return None, errors
    return {
        "username": username,
        "full_name": row["full_name"],
        "email": email,
        "role": role,
        "unit_kwargs": unit_kwargs,
    }, []


def staff_import_table(
    table: Table | ImportFault, *, send_invitations: bool = True
) -> ImportResult:
    """Staff accounts from the rows of an import file, each through
    :func:`staff_row_validate`: all rows or none."""
    if isinstance(table, ImportFault):
        return _fault_result(table)
    result = ImportResult()
    missing = [c for c in STAFF_CSV_COLUMNS if c not in table.fieldnames]
    if missing:
        result.errors.append(RowError(1, ", ".join(missing), _("нет обязательного столбца")))
        return result
    prepared = []
    seen_usernames: dict[str, int] = {}
    for line, row in table.rows:
        values, errors = staff_row_validate(row, seen_usernames=seen_usernames)
        username = (row.get("username") or "").strip()
        if username:
            seen_usernames.setdefault(username, line)
        result.errors.extend(RowError(line, f, m) for f, m in errors)
        if values is not None:
            prepared.append((line, values))
    if result.errors:
        return result
    created = []
    line = 0
    try:
        with transaction.atomic():
            for line, values in prepared:  # noqa: B007 - named in the error
                m = staff_member_create(**values)
                created.append(m.user)
            if send_invitations:
                users = list(created)
                transaction.on_commit(lambda: [staff_invitation_send(u) for u in users])
    except ValidationError as exc:
        created = []
        for fname, msgs in exc.message_dict.items():
            for msg in msgs:
                result.errors.append(RowError(line, _STAFF_FIELDS.get(fname, "-"), msg))
    except (IntegrityError, DataError):
        created = []
        result.errors.append(
            RowError(line, "username", _("строку не удалось сохранить; ничего не создано"))
        )
    result.created = len(created)
    return result


def _staff_row_model_errors(row: dict[str, str], unit_kwargs: dict) -> list[tuple[str, str]]:
    User = get_user_model()
    parts = row["full_name"].split()
    user = User(
        username=row["username"],
        email=row["email"],
        last_name=parts[0] if parts else "",
        first_name=" ".join(parts[1:])[:150],
    )
    out: list[tuple[str, str]] = []
    try:
        user.full_clean(exclude=["password"], validate_unique=False)
    except ValidationError as exc:
        out += [(_STAFF_FIELDS.get(f, "-"), m) for f, ms in exc.message_dict.items() for m in ms]
    membership = Membership(full_name=row["full_name"], role=row["role"], **unit_kwargs)
    try:
        membership.full_clean(exclude=["user"], validate_unique=False)
    except ValidationError as exc:
        out += [(_STAFF_FIELDS.get(f, "-"), m) for f, ms in exc.message_dict.items() for m in ms]
    return list(dict.fromkeys(out))
