"""Reading a class list (CSV or XLSX from the social passport) into rows for the batch service.

The first row holds the column names: the field names of one submission (``student_iin``,
``student_full_name``, ``grade``, ``guardian_iin``, ``guardian_full_name``, ``guardian_phone``,
``ground``, ``aid_kind``, ``amount_kzt``, ``academic_year``, ``comment``, ``consent_method``,
``consent_reference``, ``consent_given_on``, ``consent_valid_until``). CSV: UTF-8 (a BOM is
fine), separated by ``,`` or ``;``. Lines are numbered as in the file (the header is line 1).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from portal.requests.batch import MAX_ROWS
from portal.requests.services import SUBMIT_FIELDS

MAX_FILE_BYTES = 5 * 1024 * 1024
REQUIRED = ("student_iin", "student_full_name", "grade", "guardian_iin", "aid_kind")


def _header(cells: list[Any]) -> list[str]:
    names = [str(c or "").strip().lower() for c in cells]
    unknown = [n for n in names if n and n not in SUBMIT_FIELDS]
    if unknown:
        raise ValidationError(
            _("Неизвестные столбцы: %(names)s. Допустимые: %(allowed)s.")
            % {"names": ", ".join(unknown[:5]), "allowed": ", ".join(SUBMIT_FIELDS)}
        )
    missing = [n for n in REQUIRED if n not in names]
    if missing:
        raise ValidationError(_("Нет столбцов: %(names)s.") % {"names": ", ".join(missing)})
    return names


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def parse_class_list(content: bytes, filename: str) -> list[tuple[int, dict[str, Any]]]:
    """Rows as (line, data); a clear ValidationError for a file that cannot be read."""
    if len(content) > MAX_FILE_BYTES:
        raise ValidationError(_("Файл больше 5 МБ."))
    if not content:
        raise ValidationError(_("Файл пуст."))
    name = filename.lower()
    if name.endswith(".xlsx"):
        table = _read_xlsx(content)
    elif name.endswith((".csv", ".txt")):
        table = _read_csv(content)
    else:
        raise ValidationError(_("Загрузите файл CSV или XLSX."))
    if not table:
        raise ValidationError(_("Файл пуст."))
    header = _header(table[0])
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(str(c or "").strip() for c in cells):
            continue  # blank lines are skipped
        if len(rows) >= MAX_ROWS:
            raise ValidationError(_("В списке не больше %(max)d строк.") % {"max": MAX_ROWS})
        data = {h: _cell(v) for h, v in zip(header, cells, strict=False) if h}
        rows.append((number, data))
    if not rows:
        raise ValidationError(_("В файле нет строк с данными."))
    return rows


def _read_csv(content: bytes) -> list[list[Any]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(_("CSV должен быть в кодировке UTF-8.")) from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        return list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error:
        raise ValidationError(_("CSV не читается.")) from None


def _read_xlsx(content: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable workbook
        raise ValidationError(_("Файл XLSX не читается.")) from None
    try:
        sheet = book.worksheets[0]
        table = []
        for row in sheet.iter_rows(values_only=True):
            table.append(list(row))
            if len(table) > MAX_ROWS + 10:
                break
        return table
    finally:
        book.close()
