"""A de-identified copy of a real family card, for golden cases taken from assessments.

Pure (no ORM, no clock): identifiers are replaced by valid synthetic ones (every member's ИИН,
the family id, the BIN of every legal entity), all dates (``as_of`` and every birth date) are
shifted by one and the same number of days, chosen so that the year of ``as_of`` (it selects
ПМ and МЗП) and every member's age stay what they were, so the scoring category is unchanged.
The card carries no names (``family-card/1`` has none); any field that is not part of the
schema is refused by the card validation before this runs.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
from typing import Any

from schools.identifiers import make_identifier
from scoring.criteria import age_at

MAX_SHIFT_DAYS = 180
DEIDENTIFIED_PREFIX = "DEID-"


class DeidentifyError(ValueError):
    """No date shift keeps the year of ``as_of`` and every age (never seen in practice)."""


def _century_digit(year: int, sex: str) -> int:
    base = {18: 1, 19: 3, 20: 5}.get(year // 100)
    if base is None:
        raise DeidentifyError("birth year outside 1800–2099")
    return base + (1 if sex == "F" else 0)


def synthetic_iin(birth: dt.date, sex: str, rng: random.Random, taken: set[str]) -> str:
    """A valid ИИН for this birth date and sex, with a random serial, not in ``taken``."""
    digit7 = _century_digit(birth.year, sex)
    for _ in range(1000):
        serial = rng.randrange(10000)
        iin = make_identifier(f"{birth.year % 100:02d}{birth:%m%d}{digit7}{serial:04d}")
        if iin is not None and iin not in taken:
            taken.add(iin)
            return iin
    raise DeidentifyError("no free ИИН serial")  # pragma: no cover


def synthetic_bin(rng: random.Random, taken: set[str]) -> str:
    """A valid BIN (legal entity, registered 2000–2024, random serial), not in ``taken``."""
    for _ in range(1000):
        yy = rng.randrange(0, 25)
        mm = rng.randrange(1, 13)
        first11 = f"{yy:02d}{mm:02d}4{rng.randrange(10)}{rng.randrange(100000):05d}"
        value = make_identifier(first11)
        if value is not None and value not in taken:
            taken.add(value)
            return value
    raise DeidentifyError("no free BIN")  # pragma: no cover


def _shift_keeps_ages(as_of: dt.date, births: list[dt.date], days: int) -> bool:
    delta = dt.timedelta(days=days)
    try:
        new_as_of = as_of + delta
        if new_as_of.year != as_of.year:
            return False
        for birth in births:
            new_birth = birth + delta
            if not 1800 <= new_birth.year <= 2099:
                return False
            if age_at(new_birth, new_as_of) != age_at(birth, as_of):
                return False
    except OverflowError:
        return False
    return True


def choose_shift(as_of: dt.date, births: list[dt.date], rng: random.Random) -> int:
    """A non-zero day shift that keeps the year of ``as_of`` and every member's age."""
    candidates = [d for d in range(-MAX_SHIFT_DAYS, MAX_SHIFT_DAYS + 1) if d]
    rng.shuffle(candidates)
    for days in candidates:
        if _shift_keeps_ages(as_of, births, days):
            return days
    raise DeidentifyError("no date shift keeps every age")


def card_deidentify(card: dict[str, Any], *, rng: random.Random) -> tuple[dict[str, Any], int]:
    """``(copy, shift_days)``: a valid ``family-card/1`` with the same category as ``card``."""
    doc = copy.deepcopy(card)
    as_of = dt.date.fromisoformat(doc["as_of"])
    births = [dt.date.fromisoformat(m["birth_date"]) for m in doc["members"]]
    days = choose_shift(as_of, births, rng)
    delta = dt.timedelta(days=days)
    originals = {m["iin"] for m in doc["members"]}
    taken_iins = set(originals)
    doc["as_of"] = (as_of + delta).isoformat()
    doc["family_id"] = DEIDENTIFIED_PREFIX + f"{rng.getrandbits(48):012x}"
    for member, birth in zip(doc["members"], births, strict=True):
        new_birth = birth + delta
        member["birth_date"] = new_birth.isoformat()
        member["iin"] = synthetic_iin(new_birth, member["sex"], rng, taken_iins)
    entities = doc.get("business", {}).get("legal_entities", [])
    taken_bins = {e["bin"] for e in entities}
    for entity in entities:
        entity["bin"] = synthetic_bin(rng, taken_bins)
    return doc, days
