"""Reading an uploaded or local table (CSV or XLSX) into numbered rows of text.

Every importer (the ``import_schools`` / ``import_staff`` commands and the upload pages of
``/administration/``) reads through :func:`table_from_upload` or :func:`table_from_csv_text`,
so a row has the same line number and the same cells whichever way it came in.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000


class TableError(ValueError):
    """The file is not a readable table (the message says why, in the reader's language)."""


@dataclass
class Table:
    fieldnames: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (line, cells)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def table_from_csv_text(text: str) -> Table:
    reader = csv.DictReader(io.StringIO(text))
    fieldnames = [(f or "").strip() for f in (reader.fieldnames or [])]
    reader.fieldnames = fieldnames
    table = Table(fieldnames=fieldnames)
    for row in reader:
        line = reader.line_num  # the file's own line (blank lines are skipped, not renumbered)
        cells = {k: (v or "").strip() if isinstance(v, str) else "" for k, v in row.items() if k}
        if not any(cells.values()):
            continue
        table.rows.append((line, cells))
        if len(table.rows) > MAX_ROWS:
            raise TableError(_("В файле больше %(n)s строк.") % {"n": MAX_ROWS})
    return table


def table_from_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any malformed workbook is the same user error
        raise TableError(_("Файл не является книгой Excel (XLSX).")) from exc
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise TableError(_("В книге нет листов."))
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None) or ()
        fieldnames = [_cell(h) for h in header]
        table = Table(fieldnames=[f for f in fieldnames if f])
        for line, values in enumerate(rows, start=2):
            cells = {
                name: _cell(values[i] if i < len(values) else None)
                for i, name in enumerate(fieldnames)
                if name
            }
            if not any(cells.values()):
                continue
            table.rows.append((line, cells))
            if len(table.rows) > MAX_ROWS:
                raise TableError(_("В файле больше %(n)s строк.") % {"n": MAX_ROWS})
        return table
    finally:
        workbook.close()


def table_from_upload(name: str, data: bytes) -> Table:
    """A CSV (UTF-8, with or without BOM) or XLSX file, chosen by its name and content."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise TableError(
            _("Файл слишком большой (не более %(mb)s МБ).")
            % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
    if not data.strip():
        raise TableError(_("Файл пуст."))
    lowered = (name or "").lower()
    if lowered.endswith(".xlsx") or data[:2] == b"PK":
        return table_from_xlsx(data)
    if not lowered.endswith((".csv", ".txt")) and lowered:
        raise TableError(_("Загрузите файл CSV или XLSX."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TableError(_("Файл CSV должен быть в кодировке UTF-8.")) from exc
    if "\x00" in text:
        raise TableError(_("Файл CSV содержит двоичные данные."))
    try:
        return table_from_csv_text(text)
    except csv.Error as exc:
        raise TableError(_("Файл CSV не удалось прочитать: %(e)s") % {"e": exc}) from exc
