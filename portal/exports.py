"""Formula-safe CSV and XLSX: the one helper every export of the portal writes through.

A value that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return; defusedcsv also escapes ``|`` and ``%``) is written as text:

* CSV: through defusedcsv, which prefixes such a value with an apostrophe; tab and carriage
  return, which defusedcsv lets through, get the same apostrophe here;
* XLSX: stored as a string cell (never a formula) with Excel's "quote prefix" set — what Excel
  itself stores when a person types ``'=…``.

Numbers stay numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Number
from typing import Any

from defusedcsv import csv as defusedcsv

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def _pre_escape(value: Any) -> Any:
    # defusedcsv leaves a leading tab / CR alone: make them text too.
    if isinstance(value, str) and value[:1] in ("\t", "\r"):
        return "'" + value
    return value


class _SafeWriter:
    def __init__(self, writer: Any) -> None:
        self._writer = writer

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([_pre_escape(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(f: Any, **kwargs: Any) -> _SafeWriter:
    """A ``csv.writer`` whose every value is formula-safe."""
    return _SafeWriter(defusedcsv.writer(f, **kwargs))


def xlsx_append(ws: Any, row: Iterable[Any]) -> None:
    """``ws.append(row)`` with every text cell stored as text, never as a formula."""
    values = list(row)
    ws.append([v if v is None or isinstance(v, Number) else str(v) for v in values])
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
            if is_formula_like(cell.value):
                cell.quotePrefix = True
