"""Verification codes of decision letters: 100 random bits, read aloud in groups.

A code is 20 characters of Crockford's base32 (``0-9`` and ``A-Z`` without ``I L O U``), so it
survives being read over the phone: ``K7QF-2MZX-9RTB-HV04-PN8D``. Stored without separators;
:func:`normalize` accepts any case, spaces or dashes, and the letters people confuse with
digits (``O`` → ``0``, ``I``/``L`` → ``1``).
"""

from __future__ import annotations

import secrets
from typing import Final

ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH: Final = 20  # × 5 bits = 100 random bits (≥ 80 asked for)
GROUP: Final = 4
_CONFUSABLE: Final = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    """A fresh code from the operating system's CSPRNG (``secrets``)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def grouped(code: str) -> str:
    """``K7QF2MZX…`` → ``K7QF-2MZX-…`` (for print, the screen and the verification URL)."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalize(text: str) -> str | None:
    """The stored form of a code a person typed, or None when it cannot be one."""
    raw = "".join((text or "").split()).replace("-", "").upper().translate(_CONFUSABLE)
    if len(raw) != LENGTH or any(ch not in ALPHABET for ch in raw):
        return None
    return raw
