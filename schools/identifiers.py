"""Kazakh 12-digit identifiers: ИИН (individuals) and БИН (organisations).

Pure functions, no Django: the scoring engine and the card parser use them too.
"""

from __future__ import annotations

import datetime as dt

_WEIGHTS_1 = tuple(range(1, 12))
_WEIGHTS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)

# Digit 7 of an ИИН: century and sex.
_CENTURY = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}


def check_digit(first11: str) -> int | None:
    """The mod-11 check digit of the first 11 digits, or None if it can never be issued."""
    digits = [int(c) for c in first11]
    c = sum(d * w for d, w in zip(digits, _WEIGHTS_1, strict=True)) % 11
    if c == 10:
        c = sum(d * w for d, w in zip(digits, _WEIGHTS_2, strict=True)) % 11
        if c == 10:
            return None
    return c


def has_valid_check_digit(value: str) -> bool:
    if not isinstance(value, str) or len(value) != 12 or not value.isdigit():
        return False
    expected = check_digit(value[:11])
    return expected is not None and expected == int(value[11])


def iin_birth_date(iin: str) -> dt.date | None:
    """The birth date encoded in an ИИН, or None when digits 1-7 do not form a real date."""
    if len(iin) != 12 or not iin.isdigit():
        return None
    century = _CENTURY.get(iin[6])
    if century is None:
        return None
    try:
        return dt.date(century + int(iin[0:2]), int(iin[2:4]), int(iin[4:6]))
    except ValueError:
        return None


def iin_sex(iin: str) -> str | None:
    """'M' or 'F' from digit 7, or None when the digit is not a century code."""
    if len(iin) != 12 or iin[6] not in _CENTURY:
        return None
    return "M" if int(iin[6]) % 2 == 1 else "F"


def iin_error(value: object) -> str | None:
    """None when `value` is a valid ИИН, else a short English reason code.

    Reason codes: ``format`` (not 12 digits), ``date`` (no real birth date / century),
    ``checksum`` (check digit wrong or never issued).
    """
    if not isinstance(value, str) or len(value) != 12 or not value.isdigit():
        return "format"
    if iin_birth_date(value) is None:
        return "date"
    if not has_valid_check_digit(value):
        return "checksum"
    return None


def is_valid_iin(value: object) -> bool:
    return iin_error(value) is None


def bin_error(value: object) -> str | None:
    """None when `value` is a valid БИН (12 digits, mod-11 check digit), else ``format``/``checksum``."""
    if not isinstance(value, str) or len(value) != 12 or not value.isdigit():
        return "format"
    if not has_valid_check_digit(value):
        return "checksum"
    return None


def is_valid_bin(value: object) -> bool:
    return bin_error(value) is None


def make_identifier(first11: str) -> str | None:
    """Append the check digit to 11 digits; None when that prefix can never be issued."""
    c = check_digit(first11)
    return None if c is None else f"{first11}{c}"
