"""Writes on budgets: set by district finance (form, API, CSV/XLSX import), reserved by
approvals under a row lock, released when an approval is undone."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from portal.audit.services import AuditAction, audit_record
from portal.budgets.models import MAX_BUDGET_KZT, Budget
from portal.requests.lifecycle import InvalidTransition
from portal.requests.models import validate_academic_year
from schools.imports import ImportFault, Table, read_csv_text, read_table
from schools.models import School
from schools.scope import Scope, require
from schools.services import ImportResult, RowError

_DIGITS = re.compile(r"[0-9]{1,13}")


class BudgetExceeded(InvalidTransition):
    """An approval above what is left of the school's budget (409 in the API)."""

    def __init__(self, message: str, *, left_kzt: int) -> None:
        super().__init__(message, action="decide")
        self.left_kzt = left_kzt


def _format_kzt(value: int) -> str:
    return f"{value:,}".replace(",", "\u00a0")


def _amount_error(amount: Any) -> str | None:
    if isinstance(amount, bool):
        return _("Сумма бюджета — целое неотрицательное число тенге.")
    if isinstance(amount, int):
        value = amount
    elif isinstance(amount, str) and _DIGITS.fullmatch(amount.strip()):
        value = int(amount.strip())
    else:
        return _("Сумма бюджета — целое неотрицательное число тенге.")
    if value < 0 or value > MAX_BUDGET_KZT:
        return _("Сумма бюджета должна быть от 0 до %(max)s ₸.") % {
            "max": _format_kzt(MAX_BUDGET_KZT)
        }
    return None


def _school_in_scope(scope: Scope, school: School) -> None:
    if not scope.contains_school(school.pk):
        raise Http404


@transaction.atomic
def budget_set(
    *,
    scope: Scope,
    actor: Any,
    school: School,
    academic_year: str,
    amount_kzt: Any,
    ip: str | None = None,
    via: str = "web",
) -> Budget:
    """Set the allocation of `school` for `academic_year` (district finance of its district).

    Never below what approvals have already committed."""
    require(scope, "can_manage_budgets", _("Бюджеты устанавливает отдел образования района."))
    _school_in_scope(scope, school)
    errors: dict[str, list[str]] = {}
    try:
        validate_academic_year(academic_year)
    except ValidationError as exc:
        errors["academic_year"] = exc.messages
    err = _amount_error(amount_kzt)
    if err:
        errors["amount_kzt"] = [err]
    if errors:
        raise ValidationError(errors)
    amount = int(amount_kzt)
    budget = (
        Budget.objects.select_for_update()
        .filter(school=school, academic_year=academic_year)
        .first()
    )
    old = budget.amount_kzt if budget else None
    if budget is None:
        budget = Budget(school=school, academic_year=academic_year, amount_kzt=amount)
    if amount < budget.committed_kzt:
        raise ValidationError(
            {
                "amount_kzt": [
                    _("Нельзя выделить меньше, чем уже зарезервировано решениями: %(c)s ₸.")
                    % {"c": _format_kzt(budget.committed_kzt)}
                ]
            }
        )
    budget.amount_kzt = amount
    budget.updated_by = actor if getattr(actor, "pk", None) else None
    budget.full_clean(validate_unique=False, validate_constraints=False)
    budget.save()
    audit_record(
        action=AuditAction.BUDGET_SET,
        scope=scope,
        actor=actor,
        object_type="budget",
        object_id=f"{school.bin}/{academic_year}",
        school_id=school.pk,
        ip=ip,
        detail={"from": old, "to": amount, "via": via},
    )
    return budget


def budget_reserve(*, school_id: int, academic_year: str, amount_kzt: int) -> Budget | None:
    """Reserve `amount_kzt` of the school's budget for an approval, in the caller's transaction.

    The budget row is locked (``SELECT … FOR UPDATE``) so racing approvals serialize. No
    budget set for the school and year: nothing to reserve (``None``). Over the budget:
    :class:`BudgetExceeded`, naming what is left."""
    budget = (
        Budget.objects.select_for_update()
        .filter(school_id=school_id, academic_year=academic_year)
        .first()
    )
    if budget is None:
        return None
    if amount_kzt > budget.left_kzt:
        raise BudgetExceeded(
            _(
                "Бюджет школы на %(year)s учебный год превышен: осталось %(left)s ₸, "
                "а решение на %(amount)s ₸."
            )
            % {
                "year": academic_year,
                "left": _format_kzt(budget.left_kzt),
                "amount": _format_kzt(amount_kzt),
            },
            left_kzt=budget.left_kzt,
        )
    budget.committed_kzt += amount_kzt
    budget.save(update_fields=["committed_kzt", "updated_at"])
    return budget


def budget_release(*, school_id: int, academic_year: str, amount_kzt: int) -> Budget | None:
    """Give back an approval's reservation (a withdrawal or a revised decision)."""
    budget = (
        Budget.objects.select_for_update()
        .filter(school_id=school_id, academic_year=academic_year)
        .first()
    )
    if budget is None:
        return None
    budget.committed_kzt = max(0, budget.committed_kzt - amount_kzt)
    budget.save(update_fields=["committed_kzt", "updated_at"])
    return budget


def one_child_one_grant_error(req: Any) -> str | None:
    """Why `req` may not be approved without a recorded reason: another school has an open or
    approved request for the same child, kind and year (None: no such request)."""
    from portal.budgets.duplicates import aid_request_duplicates

    dups = aid_request_duplicates(aid_request=req)
    if not dups:
        return None
    return _(
        "У этого учащегося уже есть заявка на тот же вид помощи и учебный год в другой школе "
        "(%(others)s). Одобрить можно, когда она решена там, или с записанным обоснованием."
    ) % {"others": "; ".join(f"{d.school_name}, {d.request_code}" for d in dups)}


# ---- import -------------------------------------------------------------------------------
BUDGET_COLUMNS = ["school_bin", "academic_year", "amount_kzt"]


def budgets_import_csv(
    *, scope: Scope, actor: Any, text: str, ip: str | None = None
) -> ImportResult:
    return budgets_import_table(scope=scope, actor=actor, table=read_csv_text(text), ip=ip)


def budgets_import_file(
    *, scope: Scope, actor: Any, data: bytes, filename: str = "", ip: str | None = None
) -> ImportResult:
    return budgets_import_table(scope=scope, actor=actor, table=read_table(data, filename), ip=ip)


def budgets_import_table(
    *, scope: Scope, actor: Any, table: Table | ImportFault, ip: str | None = None
) -> ImportResult:
    """Columns ``school_bin, academic_year, amount_kzt``: every row valid → all saved in one
    transaction; any row bad → nothing saved and every error listed by line and field."""
    require(scope, "can_manage_budgets", _("Бюджеты устанавливает отдел образования района."))
    result = ImportResult()
    if isinstance(table, ImportFault):
        result.errors.append(RowError(table.line, table.field, table.message))
        return result
    missing = [c for c in BUDGET_COLUMNS if c not in table.fieldnames]
    if missing:
        result.errors.append(RowError(1, ", ".join(missing), _("нет обязательного столбца")))
        return result
    schools = {s.bin: s for s in School.objects.for_scope(scope)}
    seen: dict[tuple[str, str], int] = {}
    prepared: list[tuple[int, School, str, int]] = []
    for line, row in table.rows:
        bin_ = (row.get("school_bin") or "").strip()
        year = (row.get("academic_year") or "").strip()
        amount = (row.get("amount_kzt") or "").strip()
        school = schools.get(bin_)
        ok = True
        if school is None:
            ok = False
            result.errors.append(
                RowError(
                    line,
                    "school_bin",
                    _("школа с БИН «%(v)s» не найдена в вашем районе") % {"v": bin_},
                )
            )
        try:
            validate_academic_year(year)
        except ValidationError as exc:
            ok = False
            result.errors.extend(RowError(line, "academic_year", m) for m in exc.messages)
        err = _amount_error(amount)
        if err:
            ok = False
            result.errors.append(RowError(line, "amount_kzt", err))
        key = (bin_, year)
        if key in seen:
            ok = False
            result.errors.append(
                RowError(line, "school_bin", _("повторяет строку %(l)s") % {"l": seen[key]})
            )
        seen.setdefault(key, line)
        if ok:
            prepared.append((line, school, year, int(amount)))
    if result.errors:
        return result
    current = 1
    try:
        with transaction.atomic():
            for current, school, year, amount in prepared:  # noqa: B007 - named in the error
                existed = Budget.objects.filter(school=school, academic_year=year).exists()
                budget_set(
                    scope=scope,
                    actor=actor,
                    school=school,
                    academic_year=year,
                    amount_kzt=amount,
                    ip=ip,
                    via="import",
                )
                if existed:
                    result.updated += 1
                else:
                    result.created += 1
            audit_record(
                action=AuditAction.BUDGET_IMPORT,
                scope=scope,
                actor=actor,
                object_type="budget",
                ip=ip,
                detail={"created": result.created, "updated": result.updated},
            )
    except ValidationError as exc:
        result.created = result.updated = 0
        for field_name, msgs in exc.message_dict.items():
            result.errors.extend(RowError(current, field_name, m) for m in msgs)
    return result
