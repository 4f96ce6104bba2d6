"""Kazakh 12-digit identifiers: ИИН (individuals) and БИН (organisations).

Pure functions, no Django: the scoring engine, the card parser, the portal's forms and API, the
reference-data imports and the card simulator all validate identifiers here.

An identifier is **exactly** twelve ASCII digits ``0``–``9``: the whole string is matched
(``re.fullmatch``), so a trailing newline (which ``$`` would let through), spaces, other
Unicode digits (``٠٦١٢…``, ``０６…``) or digit-like characters (``²``) are a ``format`` error,
never an exception and never a valid value. Every check (format, date, check digit) runs on
every string; none is skipped because an earlier test was loose.
"""

from __future__ import annotations

import datetime as dt
import re
from operator import mul

__all__ = [
    "bin_error",
    "check_digit",
    "has_valid_check_digit",
    "iin_birth_date",
    "iin_error",
    "iin_matches_birth_date",
    "iin_sex",
    "is_twelve_digits",
    "is_valid_bin",
    "is_valid_iin",
    "make_identifier",
]

_WEIGHTS_1 = tuple(range(1, 12))
_WEIGHTS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)

# Digit 7 of an ИИН: century and sex.
_CENTURY = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}

# Not \d: in Python that matches every Unicode decimal digit.
_TWELVE_DIGITS = re.compile(r"[0-9]{12}")
_ELEVEN_DIGITS = re.compile(r"[0-9]{11}")


def is_twelve_digits(value: object) -> bool:
    """True when ``value`` is a ``str`` of exactly twelve ASCII digits, nothing before or after."""
    return isinstance(value, str) and _TWELVE_DIGITS.fullmatch(value) is not None


def check_digit(first11: str) -> int | None:
    """The mod-11 check digit of the first 11 digits, or None if it can never be issued.

    Raises ``ValueError`` unless ``first11`` is exactly eleven ASCII digits.
    """
    if not isinstance(first11, str) or _ELEVEN_DIGITS.fullmatch(first11) is None:
        raise ValueError("expected exactly 11 ASCII digits")
    digits = [ord(c) - 48 for c in first11]
    c = sum(d * w for d, w in zip(digits, _WEIGHTS_1, strict=True)) % 11
    if c == 10:
        c = sum(d * w for d, w in zip(digits, _WEIGHTS_2, strict=True)) % 11
        if c == 10:
            return None
    return c


def has_valid_check_digit(value: object) -> bool:
    if not is_twelve_digits(value):
        return False
    assert isinstance(value, str)
    expected = check_digit(value[:11])
    return expected is not None and expected == ord(value[11]) - 48


def iin_birth_date(iin: object) -> dt.date | None:
    """The birth date encoded in an ИИН, or None when digits 1-7 do not form a real date
    (or the value is not twelve ASCII digits)."""
    if not is_twelve_digits(iin):
        return None
    assert isinstance(iin, str)
    century = _CENTURY.get(iin[6])
    if century is None:
        return None
    try:
        return dt.date(century + int(iin[0:2]), int(iin[2:4]), int(iin[4:6]))
    except ValueError:
        return None


def iin_sex(iin: object) -> str | None:
    """'M' or 'F' from digit 7, or None when the digit is not a century code."""
    if not is_twelve_digits(iin):
        return None
    assert isinstance(iin, str)
    if iin[6] not in _CENTURY:
        return None
    return "M" if int(iin[6]) % 2 == 1 else "F"


def iin_error(value: object) -> str | None:
    """None when `value` is a valid ИИН, else a short English reason code.

    Reason codes: ``format`` (not exactly 12 ASCII digits), ``date`` (no real birth date /
    century), ``checksum`` (check digit wrong or never issued).
    """
    if not is_twelve_digits(value):
        return "format"
    if iin_birth_date(value) is None:
        return "date"
    if not has_valid_check_digit(value):
        return "checksum"
    return None


def is_valid_iin(value: object) -> bool:
    return iin_error(value) is None


_SUM_OF_WEIGHTS_TIMES_48 = 48 * 66  # both weight rows sum to 66; ASCII "0" is 48


def iin_matches_birth_date(value: object, birth: dt.date) -> bool:
    """True exactly when ``iin_error(value) is None and iin_birth_date(value) == birth``.

    The card parser's fast path: one pass, no date object built (``birth`` is a real date, so
    an ИИН encoding it has a real date too).
    """
    if type(value) is not str or _TWELVE_DIGITS.fullmatch(value) is None:
        return False
    year = birth.year
    if _CENTURY.get(value[6]) != year - year % 100:
        return False
    if int(value[:6]) != (year % 100) * 10000 + birth.month * 100 + birth.day:
        return False
    raw = value.encode("ascii")
    c = (sum(map(mul, raw, _WEIGHTS_1)) - _SUM_OF_WEIGHTS_TIMES_48) % 11
    if c == 10:
        c = (sum(map(mul, raw, _WEIGHTS_2)) - _SUM_OF_WEIGHTS_TIMES_48) % 11
        if c == 10:
            return False
    return c == raw[11] - 48


def bin_error(value: object) -> str | None:
    """None when `value` is a valid БИН (12 ASCII digits, mod-11 check digit), else
    ``format``/``checksum``."""
    if not is_twelve_digits(value):
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
