"""The 23 criteria of the welfare scoring methodology (DOMAIN.md §6.2).

The code holds the *meaning* of each criterion; every number comes from the rule set
(ПМ and МЗП of the ``as_of`` year, the hidden-income factor, the informal-work ages, the dependant
age, the new-vehicle age, the counted vehicle kinds, the sufficient education levels).

Arithmetic is exact: integers and :class:`fractions.Fraction`, never binary floats. Floor areas
are the exact numbers of the card (``int`` or ``Decimal``, see :mod:`scoring.jsondoc`).

Value types: ``int``, ``bool`` and ``ratio`` (a ``Fraction``; ``debt_burden`` may also be
:data:`UNBOUNDED` when the effective income is 0 and there are credit payments).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from scoring.card import Card
    from scoring.ruleset import CompiledRuleSet

__all__ = [
    "ADULT_AGE",
    "BOOL",
    "CRITERIA",
    "CRITERION_INDEX",
    "CRITERION_KIND",
    "INT",
    "RATIO",
    "UNBOUNDED",
    "Criterion",
    "Unbounded",
    "Value",
    "age_at",
    "compute_criteria",
    "criteria_values",
]

# "adult" = age ≥ 18, "minor" = age < 18 (§6.1): the legal age of majority, a definition the
# methodology is written in, not one of its tunable numbers.
ADULT_AGE: Final = 18

INT: Final = "int"
BOOL: Final = "bool"
RATIO: Final = "ratio"
Kind = Literal["int", "bool", "ratio"]


class Unbounded:
    """A ratio above every threshold: debt burden with zero effective income and payments > 0.

    Compares greater than any number; equal only to itself. There is one instance,
    :data:`UNBOUNDED`.
    """

    __slots__ = ()
    _instance: Unbounded | None = None

    def __new__(cls) -> Unbounded:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNBOUNDED"

    def __reduce__(self) -> str:
        return "UNBOUNDED"

    def __gt__(self, other: object) -> bool:
        return other is not self

    def __ge__(self, other: object) -> bool:
        return True

    def __lt__(self, other: object) -> bool:
        return False

    def __le__(self, other: object) -> bool:
        return other is self

    def __eq__(self, other: object) -> bool:
        return other is self

    def __hash__(self) -> int:
        return hash("scoring.criteria.UNBOUNDED")


UNBOUNDED: Final = Unbounded()

Value = int | bool | Fraction | Unbounded


@dataclass(frozen=True, slots=True)
class Criterion:
    number: int
    code: str
    kind: Kind


CRITERIA: Final[tuple[Criterion, ...]] = (
    Criterion(1, "family_size", "int"),
    Criterion(2, "declared_income", "int"),
    Criterion(3, "informal_income", "int"),
    Criterion(4, "hidden_income", "bool"),
    Criterion(5, "per_capita_income", "ratio"),
    Criterion(6, "income_ratio", "ratio"),
    Criterion(7, "debt_burden", "ratio"),
    Criterion(8, "overdue_debt", "bool"),
    Criterion(9, "housing_units", "int"),
    Criterion(10, "living_area_per_person", "ratio"),
    Criterion(11, "vehicles", "int"),
    Criterion(12, "new_vehicle", "bool"),
    Criterion(13, "land_plots", "int"),
    Criterion(14, "livestock_units", "int"),
    Criterion(15, "deposits_ratio", "ratio"),
    Criterion(16, "legal_entities", "int"),
    Criterion(17, "individual_entrepreneur", "bool"),
    Criterion(18, "disabled_members", "int"),
    Criterion(19, "chronically_ill_members", "int"),
    Criterion(20, "dependency_ratio", "ratio"),
    Criterion(21, "minors", "int"),
    Criterion(22, "single_parent", "bool"),
    Criterion(23, "low_education", "bool"),
)
CRITERION_INDEX: Final = MappingProxyType({c.code: i for i, c in enumerate(CRITERIA)})
CRITERION_KIND: Final = MappingProxyType({c.code: c.kind for c in CRITERIA})
INCOME_RATIO_INDEX: Final = CRITERION_INDEX["income_ratio"]

# Meanings (§6.2), not numbers: which employments and disability groups make a dependant,
# which relations are the parents of the household.
_DEPENDANT_EMPLOYMENT = frozenset({"pensioner", "student"})
_DEPENDANT_DISABILITY = frozenset({"1", "2", "child"})
_PARENT_RELATIONS = frozenset({"applicant", "spouse"})
_ZERO = Fraction(0)


def age_at(birth: dt.date, on: dt.date) -> int:
    """Full years at ``on``; the age increments on the birthday.

    Someone born on 29 February has the birthday on 28 February in common years (the last day
    of the month, as for legal terms that end on a day the month does not have).
    """
    born = birth.month * 100 + birth.day
    if born == 229 and not calendar.isleap(on.year):
        born = 228
    return on.year - birth.year - ((on.month * 100 + on.day) < born)


@lru_cache(maxsize=4096)
def _area(value: int | Decimal | float) -> Fraction:
    """The area exactly: ``int`` and ``Decimal`` as they are (the card keeps the number as
    written); a float (a document decoded elsewhere) by its shortest decimal, 54.1 → 541/10."""
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


def compute_criteria(card: Card, ruleset: CompiledRuleSet) -> tuple[Value, ...]:
    """The 23 criterion values of ``card``, in :data:`CRITERIA` order.

    Raises :class:`scoring.ruleset.MissingParameterError` when the rule set has no ПМ or МЗП
    for the year of ``card.as_of``.
    """
    params = ruleset.parameters
    as_of = card.as_of
    year = as_of.year
    pm = ruleset.subsistence_minimum_for(year)
    mzp = ruleset.minimum_wage_for(year)

    today = as_of.month * 100 + as_of.day
    common_year = not calendar.isleap(year)
    informal_min = params.informal_work_age_min
    informal_max = params.informal_work_age_max
    dependant_age = params.dependant_min_age
    sufficient = params.adult_education_sufficient

    members = card.members
    n = len(members)
    declared = informal_count = disabled = chronic = 0
    minors = adults = parents = dependants = able = 0
    educated = False
    for m in members:
        b = m.birth_date
        born = b.month * 100 + b.day
        if born == 229 and common_year:
            born = 228
        age = year - b.year - (today < born)
        inc = m.incomes
        declared += inc.salary + inc.pension + inc.social_benefits + inc.business + inc.other
        if (
            m.informal_work_signal
            and informal_min <= age <= informal_max
            and inc.salary + inc.business == 0
        ):
            informal_count += 1
        group = m.disability_group
        if group is not None:
            disabled += 1
        if m.chronic_illness:
            chronic += 1
        if age < ADULT_AGE:
            minors += 1
            dependants += 1
        else:
            adults += 1
            if m.relation in _PARENT_RELATIONS:
                parents += 1
            if m.education in sufficient:
                educated = True
            if (
                age >= dependant_age
                or m.employment in _DEPENDANT_EMPLOYMENT
                or group in _DEPENDANT_DISABILITY
            ):
                dependants += 1
            else:
                # adult, younger than the dependant age and not a dependant: able-bodied
                able += 1

    informal = mzp * informal_count
    formal = declared + informal
    turnover = card.spending.card_turnover_monthly_kzt or 0
    factor = params.hidden_income_factor
    # turnover > factor × formal, exactly: turnover·q > p·formal for factor = p/q
    hidden = turnover * factor.denominator > factor.numerator * formal
    effective = turnover if hidden else formal

    payments = card.credit.monthly_payments_kzt
    if payments == 0:
        debt: Fraction | Unbounded = _ZERO
    elif effective == 0:
        debt = UNBOUNDED
    else:
        debt = Fraction(payments, effective)

    kinds = params.counted_vehicle_kinds
    max_age = params.new_vehicle_max_age_years
    vehicles = 0
    new_vehicle = False
    for v in card.property.vehicles:
        if v.kind in kinds:
            vehicles += 1
            if year - v.year <= max_age:
                new_vehicle = True

    area = _area(card.living.area_m2)
    legal = 0
    for e in card.business.legal_entities:
        if e.active:
            legal += 1
    prop = card.property

    return (
        n,  # 1 family_size
        declared,  # 2 declared_income
        informal,  # 3 informal_income
        hidden,  # 4 hidden_income
        Fraction(effective, n),  # 5 per_capita_income
        Fraction(effective, n * pm),  # 6 income_ratio
        debt,  # 7 debt_burden
        card.credit.overdue_90_days,  # 8 overdue_debt
        len(prop.housing),  # 9 housing_units
        Fraction(area.numerator, area.denominator * n),  # 10 living_area_per_person
        vehicles,  # 11 vehicles
        new_vehicle,  # 12 new_vehicle
        prop.land_plots,  # 13 land_plots
        prop.livestock_units,  # 14 livestock_units
        Fraction(prop.deposits_kzt, n * pm),  # 15 deposits_ratio
        legal,  # 16 legal_entities
        card.business.individual_entrepreneur,  # 17 individual_entrepreneur
        disabled,  # 18 disabled_members
        chronic,  # 19 chronically_ill_members
        Fraction(dependants, able if able > 1 else 1),  # 20 dependency_ratio
        minors,  # 21 minors
        minors >= 1 and parents == 1,  # 22 single_parent
        adults >= 1 and not educated,  # 23 low_education
    )


def criteria_values(card: Card, ruleset: CompiledRuleSet) -> dict[str, Value]:
    """The 23 criterion values by code."""
    return dict(zip((c.code for c in CRITERIA), compute_criteria(card, ruleset), strict=True))
