"""Reading an import file (CSV or XLSX) into rows, with limits and a message for every fault.

The reference-data imports (`schools_import_*`, `staff_import_*`) take a `Table`: the column
names and the rows with their line numbers. Whatever the file holds — a broken quote, a NUL,
a field of a megabyte, a sheet of a million rows, a zip that is not a workbook, a duplicated
column — reading it gives either a `Table` or an `ImportFault` naming the line and the field,
never an exception.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass

from django.utils.translation import gettext as _

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 50
MAX_CELL_CHARS = 2_000

# C0 controls except TAB; DEL and C1 controls; lone surrogates (never in decoded UTF-8, but a
# str handed in directly may carry them).
_FORBIDDEN_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True)
class ImportFault:
    line: int
    field: str
    message: str


@dataclass(frozen=True)
class Table:
    fieldnames: list[str]
    rows: list[tuple[int, dict[str, str]]]


def cell_error(value: str) -> str | None:
    """A message when a cell's text cannot be stored as it is, else None."""
    if len(value) > MAX_CELL_CHARS:
        return _("значение длиннее %(n)s символов") % {"n": MAX_CELL_CHARS}
    if _FORBIDDEN_CHARS.search(value):
        return _("недопустимый управляющий символ")
    return None


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _build(header: list[str], body: list[tuple[int, list[str]]]) -> Table | ImportFault:
    names = [h.strip() for h in header]
    if len(names) > MAX_COLUMNS:
        return ImportFault(1, "-", _("больше %(n)s столбцов") % {"n": MAX_COLUMNS})
    seen: set[str] = set()
    for name in names:
        err = cell_error(name)
        if err:
            return ImportFault(1, "-", err)
        if name and name in seen:
            return ImportFault(1, name, _("столбец повторяется"))
        seen.add(name)
    rows: list[tuple[int, dict[str, str]]] = []
    for line, values in body:
        if not any(v.strip() for v in values):
            continue  # blank line
        if len(values) > len(names):
            return ImportFault(
                line,
                "-",
                _("в строке %(got)s значений, а столбцов %(want)s")
                % {"got": len(values), "want": len(names)},
            )
        row = {}
        for name, value in zip(names, values, strict=False):
            if name:
                row[name] = value.strip()
        for name in names[len(values) :]:
            if name:
                row[name] = ""
        rows.append((line, row))
        if len(rows) > MAX_ROWS:
            return ImportFault(line, "-", _("больше %(n)s строк") % {"n": MAX_ROWS})
    return Table([n for n in names if n], rows)


def read_csv_text(text: str) -> Table | ImportFault:
    """Rows of a CSV text (already decoded). The header is line 1."""
    if len(text) > MAX_FILE_BYTES:
        return ImportFault(1, "-", _("файл больше %(n)s МБ") % {"n": MAX_FILE_BYTES // 2**20})
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    body: list[tuple[int, list[str]]] = []
    next_line = 1
    line = 1  # the physical line a record starts on (a quoted field may span lines)
    try:
        for values in reader:
            line, next_line = (line if header is None else next_line), reader.line_num + 1
            if header is None:
                header = values
                continue
            body.append((line, values))
            if len(body) > MAX_ROWS + 1000:
                return ImportFault(line, "-", _("больше %(n)s строк") % {"n": MAX_ROWS})
    except csv.Error as exc:
        line = next_line if header is not None else 1
        detail = str(exc)
        if "field larger" in detail:
            message = _("значение длиннее допустимого")
        else:
            message = _("испорченная строка CSV (кавычки или разделители)")
        return ImportFault(line, "-", message)
    if header is None:
        return ImportFault(1, "-", _("файл пуст"))
    for ln, values in [(1, header), *body]:
        for idx, value in enumerate(values):
            err = cell_error(value)
            if err:
                name = header[idx].strip() if ln > 1 and idx < len(header) else "-"
                return ImportFault(ln, name or "-", err)
    return _build(header, body)


def read_xlsx_bytes(data: bytes) -> Table | ImportFault:
    """Rows of the first sheet of an XLSX workbook; values as the cells show them."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    if len(data) > MAX_FILE_BYTES:
        return ImportFault(1, "-", _("файл больше %(n)s МБ") % {"n": MAX_FILE_BYTES // 2**20})
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            unpacked = sum(i.file_size for i in zf.infolist())
            if unpacked > 20 * MAX_FILE_BYTES:
                return ImportFault(1, "-", _("файл XLSX распаковывается в слишком большой объём"))
    except (zipfile.BadZipFile, ValueError, OSError):
        return ImportFault(1, "-", _("файл не является книгой XLSX"))
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError):
        return ImportFault(1, "-", _("файл не является книгой XLSX"))
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds on a broken package
        return ImportFault(1, "-", _("файл не является книгой XLSX"))
    try:
        ws = wb.worksheets[0] if wb.worksheets else None
        if ws is None:
            return ImportFault(1, "-", _("файл пуст"))
        header: list[str] | None = None
        body: list[tuple[int, list[str]]] = []
        for line, values in enumerate(ws.iter_rows(values_only=True), start=1):
            if len(values) > MAX_COLUMNS:
                values = values[:MAX_COLUMNS] if not any(values[MAX_COLUMNS:]) else values
            texts = [_cell_text(v) for v in values]
            while texts and texts[-1] == "":
                texts.pop()
            for idx, text in enumerate(texts):
                err = cell_error(text)
                if err:
                    name = header[idx].strip() if header and idx < len(header) else "-"
                    return ImportFault(line, name or "-", err)
            if header is None:
                header = texts
                continue
            body.append((line, texts))
            if len(body) > MAX_ROWS + 1000:
                return ImportFault(line, "-", _("больше %(n)s строк") % {"n": MAX_ROWS})
    except Exception:  # noqa: BLE001 - a sheet that breaks while streamed
        return ImportFault(1, "-", _("файл не является книгой XLSX"))
    finally:
        wb.close()
    if header is None:
        return ImportFault(1, "-", _("файл пуст"))
    return _build(header, body)


def read_table(data: bytes, filename: str = "") -> Table | ImportFault:
    """Rows of an import file: XLSX when it is a zip (or named .xlsx), otherwise UTF-8 CSV."""
    if len(data) > MAX_FILE_BYTES:
        return ImportFault(1, "-", _("файл больше %(n)s МБ") % {"n": MAX_FILE_BYTES // 2**20})
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx"):
        return read_xlsx_bytes(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return ImportFault(line, "-", _("файл не в кодировке UTF-8"))
    return read_csv_text(text)
