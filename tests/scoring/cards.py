"""Build valid ``family-card/1`` documents for tests, with sensible defaults.

    doc = card(members=[adult(salary=200_000), child(date(2015, 3, 1))], living_area=54)
    doc = card(...); parse_card(doc)

Every member gets a valid ИИН made from their birth date and sex with
:func:`schools.identifiers.make_identifier`; serials are unique within a card.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from typing import Any

from schools.identifiers import make_identifier

AS_OF = dt.date(2026, 9, 15)
PM_2026 = 50851
MZP_2026 = 85000

_serials = itertools.count(1)


def iin_for(birth_date: dt.date, sex: str = "F", serial: int | None = None) -> str:
    """A valid ИИН for this birth date and sex (serial chosen so a check digit exists)."""
    century = {1800: 1, 1900: 3, 2000: 5}[birth_date.year // 100 * 100]
    digit7 = century + (1 if sex == "F" else 0)
    start = next(_serials) if serial is None else serial
    for s in range(start, start + 50):
        first11 = f"{birth_date:%y%m%d}{digit7}{s % 10000:04d}"
        iin = make_identifier(first11)
        if iin is not None:
            return iin
    raise AssertionError("no issuable ИИН found")  # pragma: no cover


def bin_for(serial: int = 1) -> str:
    """A valid 12-digit БИН."""
    for s in range(serial, serial + 50):
        value = make_identifier(f"150440{s % 100000:05d}")
        if value is not None:
            return value
    raise AssertionError("no issuable БИН found")  # pragma: no cover


def member(
    *,
    relation: str = "applicant",
    birth_date: dt.date = dt.date(1985, 4, 1),
    sex: str = "F",
    salary: int = 0,
    pension: int = 0,
    social_benefits: int = 0,
    business: int = 0,
    other: int = 0,
    disability_group: str | None = None,
    chronic_illness: bool = False,
    education: str = "secondary",
    employment: str | None = None,
    informal_work_signal: bool = False,
    iin: str | None = None,
) -> dict[str, Any]:
    if employment is None:
        employment = "employed" if salary else "unemployed"
    return {
        "iin": iin or iin_for(birth_date, sex),
        "relation": relation,
        "birth_date": birth_date.isoformat(),
        "sex": sex,
        "disability_group": disability_group,
        "chronic_illness": chronic_illness,
        "education": education,
        "employment": employment,
        "incomes": {
            "salary": salary,
            "pension": pension,
            "social_benefits": social_benefits,
            "business": business,
            "other": other,
        },
        "informal_work_signal": informal_work_signal,
    }


def adult(**kw: Any) -> dict[str, Any]:
    """An adult applicant (born 1985-04-01) unless told otherwise."""
    return member(**kw)


def spouse(**kw: Any) -> dict[str, Any]:
    kw.setdefault("relation", "spouse")
    kw.setdefault("sex", "M")
    kw.setdefault("birth_date", dt.date(1983, 6, 10))
    return member(**kw)


def child(birth_date: dt.date = dt.date(2015, 3, 1), **kw: Any) -> dict[str, Any]:
    kw.setdefault("relation", "child")
    kw.setdefault("education", "primary")
    kw.setdefault("employment", "child")
    kw.setdefault("sex", "M")
    return member(birth_date=birth_date, **kw)


def card(
    *,
    members: list[dict[str, Any]] | None = None,
    as_of: dt.date = AS_OF,
    housing: list[dict[str, Any]] | None = None,
    land_plots: int = 0,
    vehicles: list[dict[str, Any]] | None = None,
    livestock_units: int = 0,
    deposits: int = 0,
    tenure: str = "own",
    living_area: int | float = 54.0,
    legal_entities: list[dict[str, Any]] | None = None,
    individual_entrepreneur: bool = False,
    monthly_payments: int = 0,
    overdue: bool = False,
    turnover: int | None = None,
    family_id: str = "F-test",
    region: str = "KAR",
) -> dict[str, Any]:
    """A valid card document. Default: one adult earning 2×ПМ, a 54 m² flat, nothing else."""
    if members is None:
        members = [adult(salary=2 * PM_2026)]
    if housing is None:
        housing = [{"kind": "apartment", "area_m2": 54.0}]
    return {
        "schema": "family-card/1",
        "family_id": family_id,
        "as_of": as_of.isoformat(),
        "region": region,
        "members": copy.deepcopy(members),
        "property": {
            "housing": copy.deepcopy(housing),
            "land_plots": land_plots,
            "vehicles": copy.deepcopy(vehicles or []),
            "livestock_units": livestock_units,
            "deposits_kzt": deposits,
        },
        "living": {"tenure": tenure, "area_m2": living_area},
        "business": {
            "legal_entities": copy.deepcopy(legal_entities or []),
            "individual_entrepreneur": individual_entrepreneur,
        },
        "credit": {"monthly_payments_kzt": monthly_payments, "overdue_90_days": overdue},
        "spending": {"card_turnover_monthly_kzt": turnover},
        "social_status": {
            "receives_asp": False,
            "orphan_guardianship": False,
            "emergency_affected": False,
        },
    }


def car(year: int = 2015, kind: str = "car") -> dict[str, Any]:
    return {"kind": kind, "year": year}


def home(area: int | float = 54.0, kind: str = "apartment") -> dict[str, Any]:
    return {"kind": kind, "area_m2": area}


def legal_entity(active: bool = True, serial: int = 1, role: str = "founder") -> dict[str, Any]:
    return {"bin": bin_for(serial), "role": role, "active": active}


def ruleset_doc() -> dict[str, Any]:
    """A fresh, editable copy of the shipped rule-set document (KZ-2026.1)."""
    from scoring.ruleset import load_default_ruleset

    return load_default_ruleset().to_dict()
