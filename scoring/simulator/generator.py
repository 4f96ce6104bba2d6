"""Deterministic synthetic family cards: the same ИИН always gives the same card.

``generate_card(iin, as_of=…, region=…)`` builds a ``family-card/1`` document whose randomness
comes only from SHA-256 of the ИИН (a counter-mode SHA-256 stream, identical on every Python
version; no transcendental functions, so no platform-dependent rounding). The holder of the ИИН
is a member: ``applicant`` when an adult at ``as_of``, else ``child``. Everyone else gets a valid
ИИН whose date and sex agree with their birth date and sex.

Distributions are rough, plausible pictures of the two pilot regions (KAR: Karaganda region,
SHY: Shymkent), centred on the 2026 subsistence minimum (ПМ 50,851 ₸): household sizes (larger
in Shymkent), wages, pensions, benefits, cars (a few second cars), rare second homes, rare legal
entities, some hidden income. They are test data, not statistics.

Pure: no Django, no ORM, no clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from schools.identifiers import iin_birth_date, iin_sex, is_valid_iin, make_identifier

__all__ = [
    "REGIONS",
    "PersonNotFound",
    "SeededRandom",
    "generate_card",
    "iin_digest",
    "is_hash_unknown",
    "region_for",
]

T = TypeVar("T")

REGIONS = ("KAR", "SHY")
# Reference ПМ (budget law) only to shape the synthetic incomes and АСП; the scoring engine
# takes ПМ from the rule set, never from here.
_PM_BY_YEAR = {2024: 43_407, 2025: 46_228, 2026: 50_851}
_KAR_SHARE_OF_256 = 163  # ≈ 64 %: 202 of the 317 pilot schools are in Karaganda region

Table = Sequence[tuple[float, float]]


class PersonNotFound(Exception):
    """No synthetic card can exist for this ИИН at this date (e.g. born after ``as_of``)."""


# --------------------------------------------------------------------------- randomness


def iin_digest(iin: str) -> bytes:
    return hashlib.sha256(iin.encode("ascii")).digest()


def is_hash_unknown(iin: str, permille: int) -> bool:
    """True for the share ``permille``/1000 of ИИНs (first byte of SHA-256 below the cut)."""
    return iin_digest(iin)[0] * 1000 < max(0, permille) * 256


def region_for(iin: str) -> str:
    return "KAR" if iin_digest(iin)[1] < _KAR_SHARE_OF_256 else "SHY"


class SeededRandom:
    """A deterministic stream: SHA-256(seed ‖ counter), 64 bits per draw."""

    def __init__(self, seed: bytes) -> None:
        self._seed = seed
        self._counter = 0

    def _next64(self) -> int:
        block = hashlib.sha256(self._seed + self._counter.to_bytes(8, "big")).digest()
        self._counter += 1
        return int.from_bytes(block[:8], "big")

    def random(self) -> float:
        """Uniform in [0, 1), exactly representable (53 bits)."""
        return (self._next64() >> 11) / 9_007_199_254_740_992

    def randint(self, a: int, b: int) -> int:
        """Uniform integer in [a, b] (bias below 2⁻⁴⁰ for our ranges)."""
        if b < a:
            raise ValueError("empty range")
        return a + self._next64() % (b - a + 1)

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.random()

    def chance(self, p: float) -> bool:
        return self.random() < p

    def choice(self, items: Sequence[T]) -> T:
        return items[self.randint(0, len(items) - 1)]

    def weighted(self, options: Sequence[tuple[T, float]]) -> T:
        total = sum(w for _v, w in options)
        x = self.random() * total
        acc = 0.0
        for value, weight in options:
            acc += weight
            if x < acc:
                return value
        return options[-1][0]

    def quantile(self, table: Table) -> float:
        """Inverse CDF given as (p, value) points, linear between them."""
        u = self.random()
        for (p0, v0), (p1, v1) in zip(table, table[1:], strict=False):
            if u <= p1:
                return v0 + (v1 - v0) * ((u - p0) / (p1 - p0))
        return table[-1][1]


# --------------------------------------------------------------------------- distributions

_CHILDREN = {
    "KAR": [(0, 0.20), (1, 0.28), (2, 0.30), (3, 0.15), (4, 0.05), (5, 0.02)],
    "SHY": [(0, 0.10), (1, 0.17), (2, 0.25), (3, 0.25), (4, 0.14), (5, 0.06), (6, 0.03)],
}
_INCOME_FACTOR = {"KAR": 1.0, "SHY": 0.85}
_SALARY: Table = [
    (0.0, 30_000),
    (0.06, 85_000),
    (0.25, 140_000),
    (0.5, 200_000),
    (0.75, 290_000),
    (0.9, 420_000),
    (0.98, 750_000),
    (1.0, 2_000_000),
]
_SELF_EMPLOYED: Table = [(0.0, 30_000), (0.5, 120_000), (0.9, 280_000), (1.0, 700_000)]
_ENTREPRENEUR: Table = [
    (0.0, 60_000),
    (0.5, 320_000),
    (0.9, 1_000_000),
    (0.99, 3_000_000),
    (1.0, 6_000_000),
]
_PENSION: Table = [(0.0, 68_000), (0.5, 135_000), (0.9, 220_000), (1.0, 330_000)]
_APARTMENT_M2: Table = [(0.0, 24), (0.25, 42), (0.5, 55), (0.8, 72), (0.97, 110), (1.0, 180)]
_HOUSE_M2: Table = [(0.0, 35), (0.3, 70), (0.6, 100), (0.9, 160), (1.0, 320)]
_OTHER_M2: Table = [(0.0, 15), (1.0, 60)]
_RENTED_M2: Table = [(0.0, 14), (0.5, 45), (1.0, 95)]
_DORMITORY_M2: Table = [(0.0, 9), (1.0, 24)]
_HOUSING_KIND = {
    "KAR": [("apartment", 0.72), ("house", 0.25), ("other", 0.03)],
    "SHY": [("apartment", 0.48), ("house", 0.50), ("other", 0.02)],
}
_LAND = {
    "KAR": [(0, 0.84), (1, 0.14), (2, 0.02)],
    "SHY": [(0, 0.72), (1, 0.23), (2, 0.04), (3, 0.01)],
}
_DEPOSITS: Table = [
    (0.0, 2_000),
    (0.5, 180_000),
    (0.85, 1_200_000),
    (0.98, 8_000_000),
    (1.0, 40_000_000),
]
_LIVESTOCK: Table = [(0.0, 1), (0.7, 6), (0.95, 18), (1.0, 40)]


def _money(value: float, step: int = 500) -> int:
    return max(0, int(value // step) * step)


def _area(value: float) -> float:
    return round(value, 1)


# --------------------------------------------------------------------------- people


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _age(birth: dt.date, as_of: dt.date) -> int:
    return as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))


@dataclass
class _Person:
    relation: str
    birth: dt.date
    sex: str
    age: int
    iin: str = ""
    disability: str | None = None
    chronic: bool = False
    education: str = "none"
    employment: str = "child"
    incomes: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("salary", "pension", "social_benefits", "business", "other"), 0
        )
    )
    informal: bool = False

    @property
    def income(self) -> int:
        return sum(self.incomes.values())


class _Builder:
    def __init__(self, rng: SeededRandom, as_of: dt.date, region: str) -> None:
        self.rng = rng
        self.as_of = as_of
        self.region = region
        self.taken: set[str] = set()
        self.pm = (
            _PM_BY_YEAR.get(as_of.year)
            or _PM_BY_YEAR[min(_PM_BY_YEAR, key=lambda y: abs(y - as_of.year))]
        )

    # -- identities --------------------------------------------------------------------

    def person(self, relation: str, age: int, sex: str) -> _Person:
        age = max(0, min(age, 105))
        high = _years_before(self.as_of, age)
        low = _years_before(self.as_of, age + 1)
        birth = high - dt.timedelta(days=self.rng.randint(0, (high - low).days - 1))
        p = _Person(relation=relation, birth=birth, sex=sex, age=_age(birth, self.as_of))
        p.iin = self.new_iin(birth, sex)
        return p

    def new_iin(self, birth: dt.date, sex: str) -> str:
        century = {18: 1, 19: 3, 20: 5}[birth.year // 100] + (0 if sex == "M" else 1)
        prefix = f"{birth.year % 100:02d}{birth.month:02d}{birth.day:02d}{century}"
        while True:
            iin = make_identifier(f"{prefix}{self.rng.randint(0, 9999):04d}")
            if iin is not None and iin not in self.taken:
                self.taken.add(iin)
                return iin

    def new_bin(self) -> str:
        year = self.rng.randint(2000, self.as_of.year)
        month = self.rng.randint(1, self.as_of.month if year == self.as_of.year else 12)
        kind = self.rng.weighted([(0, 0.85), (1, 0.1), (3, 0.05)])  # head, branch, farm
        while True:
            serial = self.rng.randint(0, 99_999)
            bin_ = make_identifier(f"{year % 100:02d}{month:02d}4{kind}{serial:05d}")
            if bin_ is not None:
                return bin_

    # -- composition -------------------------------------------------------------------

    def children_count(self, at_least_one: bool) -> int:
        options = _CHILDREN[self.region]
        if at_least_one:
            options = [(n, w) for n, w in options if n >= 1]
        return self.rng.weighted(options)

    def children(self, mother_age: int, count: int, *, keep_adults: float = 0.5) -> list[_Person]:
        high = min(mother_age - 19, 24)
        low = max(0, mother_age - 45)
        out: list[_Person] = []
        if high < low:
            return out
        for _ in range(count):
            age = self.rng.randint(low, high)
            if age >= 18 and not self.rng.chance(keep_adults):
                continue
            out.append(self.person("child", age, self.rng.choice(("M", "F"))))
        return out

    def spouse_age(self, partner_age: int, partner_sex: str) -> int:
        gap = self.rng.weighted(
            [(0, 0.2), (1, 0.2), (2, 0.2), (3, 0.15), (4, 0.1), (5, 0.08), (7, 0.05), (10, 0.02)]
        )
        age = partner_age - gap if partner_sex == "M" else partner_age + gap
        return max(18, min(age, 100))

    def household_of_adult(self, holder: _Person) -> list[_Person]:
        members = [holder]
        age = holder.age
        married = self.rng.chance(
            0.2
            if age < 22
            else 0.55
            if age < 30
            else 0.75
            if age < 60
            else 0.6
            if age < 75
            else 0.35
        )
        mother_age = age
        if married:
            other = "F" if holder.sex == "M" else "M"
            spouse = self.person("spouse", self.spouse_age(age, holder.sex), other)
            members.append(spouse)
            mother_age = spouse.age if other == "F" else age
        members += self.children(mother_age, self.children_count(at_least_one=False))
        if age <= 60 and self.rng.chance(0.07):
            members.append(
                self.person(
                    "parent",
                    age + self.rng.randint(20, 32),
                    self.rng.weighted([("F", 0.7), ("M", 0.3)]),
                )
            )
        return members

    def household_of_minor(self, holder: _Person) -> tuple[list[_Person], bool]:
        mother_age = holder.age + self.rng.randint(19, 38)
        shape = self.rng.weighted(
            [("couple", 0.75), ("mother", 0.17), ("father", 0.04), ("guardian", 0.04)]
        )
        adults: list[_Person] = []
        guardian = shape == "guardian"
        if shape == "couple":
            mother = self.person("applicant", mother_age, "F")
            father = self.person("spouse", self.spouse_age(mother_age, "F"), "M")
            if self.rng.chance(0.3):
                mother.relation, father.relation = "spouse", "applicant"
                adults = [father, mother]
            else:
                adults = [mother, father]
        elif shape == "mother":
            adults = [self.person("applicant", mother_age, "F")]
        elif shape == "father":
            adults = [self.person("applicant", self.spouse_age(mother_age, "F"), "M")]
        else:
            grandmother = self.person("applicant", mother_age + self.rng.randint(20, 28), "F")
            adults = [grandmother]
            if self.rng.chance(0.5):
                adults.append(self.person("spouse", self.spouse_age(grandmother.age, "F"), "M"))
        siblings = self.children(
            mother_age, self.children_count(at_least_one=True) - 1, keep_adults=0.4
        )
        kids = sorted([holder, *siblings], key=lambda p: p.birth)
        return adults + kids, guardian

    # -- attributes --------------------------------------------------------------------

    def health(self, p: _Person) -> None:
        rng = self.rng
        if p.age < 18:
            p.disability = "child" if rng.chance(0.02) else None
            p.chronic = rng.chance(0.03)
            return
        p_dis = 0.02 if p.age < 40 else 0.05 if p.age < 60 else 0.10
        if rng.chance(p_dis):
            p.disability = rng.weighted([("1", 0.15), ("2", 0.35), ("3", 0.5)])
        p.chronic = rng.chance(0.05 if p.age < 40 else 0.12 if p.age < 60 else 0.30)

    def education(self, p: _Person) -> None:
        rng = self.rng
        if p.age < 10:
            p.education = "none"
        elif p.age < 15:
            p.education = "primary"
        elif p.age < 18:
            p.education = "basic_secondary"
        elif p.relation == "child" and p.age < 22:
            p.education = rng.weighted([("secondary", 0.8), ("vocational", 0.2)])
        elif p.age >= 60:
            p.education = rng.weighted(
                [
                    ("higher", 0.22),
                    ("vocational", 0.35),
                    ("secondary", 0.35),
                    ("basic_secondary", 0.06),
                    ("primary", 0.02),
                ]
            )
        else:
            p.education = rng.weighted(
                [
                    ("higher", 0.32),
                    ("vocational", 0.30),
                    ("secondary", 0.33),
                    ("basic_secondary", 0.04),
                    ("primary", 0.005),
                    ("none", 0.005),
                ]
            )

    def employment(self, p: _Person, youngest_child_age: int | None) -> None:
        rng = self.rng
        if p.age < 18:
            p.employment = "child"
        elif p.relation == "child" and p.age <= 24:
            p.employment = rng.weighted(
                [("student", 0.65), ("employed", 0.2), ("unemployed", 0.15)]
            )
        elif p.age >= 63 or (p.sex == "F" and p.age >= 61):
            p.employment = "pensioner"
        elif p.disability == "1":
            p.employment = "other"
        else:
            small_child = youngest_child_age is not None and youngest_child_age < 3
            caregiver = 0.12 if p.sex == "F" and small_child else 0.02
            p.employment = rng.weighted(
                [
                    ("employed", 0.62),
                    ("self_employed", 0.09),
                    ("entrepreneur", 0.035),
                    ("unemployed", 0.11),
                    ("caregiver", caregiver),
                    ("student", 0.05 if p.age < 25 else 0.0),
                    ("other", 0.03),
                ]
            )

    def incomes(self, p: _Person, youngest_child_age: int | None) -> None:
        rng = self.rng
        factor = _INCOME_FACTOR[self.region]
        inc = p.incomes
        if p.employment == "employed":
            inc["salary"] = _money(rng.quantile(_SALARY) * factor)
            if rng.chance(0.15):
                inc["other"] = _money(rng.uniform(5_000, 40_000))
        elif p.employment == "self_employed":
            inc["business"] = _money(rng.quantile(_SELF_EMPLOYED) * factor)
        elif p.employment == "entrepreneur":
            inc["business"] = _money(rng.quantile(_ENTREPRENEUR) * factor)
        elif p.employment == "pensioner":
            inc["pension"] = _money(rng.quantile(_PENSION))
            if p.age < 70 and rng.chance(0.12):
                inc["salary"] = _money(rng.quantile(_SALARY) * factor * 0.6)
        elif p.employment == "student" and rng.chance(0.4):
            inc["other"] = _money(rng.uniform(25_000, 45_000))
        elif p.employment == "caregiver" and youngest_child_age is not None:
            if youngest_child_age < 1:
                inc["social_benefits"] += _money(rng.uniform(40_000, 90_000))
            elif youngest_child_age < 3:
                inc["social_benefits"] += _money(rng.uniform(25_000, 35_000))
        benefit = {"1": (95_000, 120_000), "2": (80_000, 100_000), "3": (50_000, 70_000)}
        if p.disability in benefit:
            inc["social_benefits"] += _money(rng.uniform(*benefit[p.disability]))
        elif p.disability == "child":
            inc["social_benefits"] += _money(rng.uniform(65_000, 80_000))
        if p.age >= 18 and p.age <= 62:
            p.informal = rng.chance(
                0.35
                if p.employment == "unemployed"
                else 0.1
                if p.employment == "caregiver"
                else 0.02
            )

    # -- the family ----------------------------------------------------------------------

    def build(self, holder_iin: str, holder_birth: dt.date, holder_sex: str) -> dict[str, Any]:
        rng = self.rng
        self.taken.add(holder_iin)
        age = _age(holder_birth, self.as_of)
        holder = _Person(
            relation="applicant" if age >= 18 else "child",
            birth=holder_birth,
            sex=holder_sex,
            age=age,
            iin=holder_iin,
        )
        guardian = False
        if age >= 18:
            members = self.household_of_adult(holder)
        else:
            members, guardian = self.household_of_minor(holder)
        minors = [p for p in members if p.age < 18]
        youngest = min((p.age for p in minors), default=None)
        for p in members:
            self.health(p)
            self.education(p)
            self.employment(p, youngest)
            self.incomes(p, youngest)
        applicant = next(p for p in members if p.relation == "applicant")
        if len(minors) >= 4:
            applicant.incomes["social_benefits"] += _money(69_000 + 17_000 * (len(minors) - 4))
        n = len(members)
        declared = sum(p.income for p in members)
        receives_asp = False
        if declared / n < 0.7 * self.pm and rng.chance(0.6):
            receives_asp = True
            applicant.incomes["social_benefits"] += _money((0.7 * self.pm - declared / n) * n)
            declared = sum(p.income for p in members)
        per_capita = declared / n

        property_, living = self.property(n, applicant.age, per_capita, guardian)
        entrepreneurs = [p for p in members if p.employment == "entrepreneur"]
        self_employed = [p for p in members if p.employment == "self_employed"]
        individual_entrepreneur = bool(entrepreneurs) or (bool(self_employed) and rng.chance(0.4))
        legal_entities = []
        if rng.chance(0.012 + (0.08 if entrepreneurs else 0.0)):
            for _ in range(rng.weighted([(1, 0.88), (2, 0.12)])):
                legal_entities.append(
                    {
                        "bin": self.new_bin(),
                        "role": rng.weighted([("founder", 0.7), ("director", 0.3)]),
                        "active": rng.chance(0.9),
                    }
                )
        credit = {"monthly_payments_kzt": 0, "overdue_90_days": False}
        if rng.chance(0.48):
            payments = (
                declared * rng.uniform(0.08, 0.45) if declared else rng.uniform(10_000, 60_000)
            )
            credit = {
                "monthly_payments_kzt": _money(payments),
                "overdue_90_days": rng.chance(0.05 + (0.08 if per_capita < self.pm else 0.0)),
            }
        turnover: int | None = None
        if rng.chance(0.75):
            informal = sum(rng.randint(50_000, 200_000) for p in members if p.informal)
            base = (declared + informal) * rng.uniform(0.5, 1.2)
            if rng.chance(0.05):  # spending far above what the registries explain
                base = (declared + informal) * rng.uniform(1.6, 3.5) + rng.randint(100_000, 600_000)
            turnover = _money(base, 1000)
        return {
            "schema": "family-card/1",
            "family_id": "",  # filled by generate_card
            "as_of": self.as_of.isoformat(),
            "region": self.region,
            "members": [_member_doc(p) for p in members],
            "property": property_,
            "living": living,
            "business": {
                "legal_entities": legal_entities,
                "individual_entrepreneur": individual_entrepreneur,
            },
            "credit": credit,
            "spending": {"card_turnover_monthly_kzt": turnover},
            "social_status": {
                "receives_asp": receives_asp,
                "orphan_guardianship": guardian,
                "emergency_affected": rng.chance(0.01),
            },
        }

    def property(
        self, n: int, applicant_age: int, per_capita: float, guardian: bool
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        rng = self.rng
        wealthy = per_capita > 3 * self.pm
        if guardian:
            tenure = "own"
        elif applicant_age < 25:
            tenure = rng.weighted(
                [("own", 0.3), ("rent", 0.4), ("relatives", 0.27), ("dormitory", 0.03)]
            )
        else:
            tenure = rng.weighted(
                [
                    ("own", 0.70),
                    ("rent", 0.17),
                    ("relatives", 0.09),
                    ("dormitory", 0.01),
                    ("other", 0.03),
                ]
            )
        housing: list[dict[str, Any]] = []
        size = 1.0 + 0.08 * max(0, n - 3)
        if tenure == "own":
            housing.append(self.home(size))
            living_area = housing[0]["area_m2"]
        else:
            table = {"rent": _RENTED_M2, "relatives": _RENTED_M2, "dormitory": _DORMITORY_M2}
            living_area = _area(rng.quantile(table.get(tenure, _OTHER_M2)))
            if rng.chance(0.03):  # a house elsewhere (a village), living in the city
                housing.append(self.home(1.0))
        second = 0.03 if self.region == "KAR" else 0.04
        if housing and rng.chance(second + (0.08 if wealthy else 0.0)):
            housing.append(self.home(0.8))
            if rng.chance(0.15):
                housing.append(self.home(0.8))
        cars = rng.weighted(
            [(0, 0.2), (1, 0.6), (2, 0.17), (3, 0.03)]
            if wealthy
            else [(0, 0.55), (1, 0.42), (2, 0.027), (3, 0.003)]
        )
        year_table: Table = [
            (0.0, 1988),
            (0.2, 2004),
            (0.5, 2012),
            (0.8, 2019),
            (0.95, min(2024, self.as_of.year)),
            (1.0, self.as_of.year),
        ]
        vehicles = [
            {
                "kind": rng.weighted([("car", 0.94), ("truck", 0.06)]),
                "year": min(self.as_of.year, int(rng.quantile(year_table))),
            }
            for _ in range(cars)
        ]
        if rng.chance(0.03):
            vehicles.append({"kind": "motorcycle", "year": rng.randint(2000, self.as_of.year)})
        land_plots = rng.weighted(_LAND[self.region])
        if rng.chance((0.01 if self.region == "KAR" else 0.03) + 0.05 * min(land_plots, 1)):
            vehicles.append({"kind": "agricultural", "year": rng.randint(1975, self.as_of.year)})
        livestock = 0
        if rng.chance(0.08 if self.region == "KAR" else 0.14):
            livestock = int(rng.quantile(_LIVESTOCK))
        deposits = 0
        if not rng.chance(0.75 if per_capita < self.pm else 0.55):
            deposits = _money(rng.quantile(_DEPOSITS), 1000)
        return (
            {
                "housing": housing,
                "land_plots": land_plots,
                "vehicles": vehicles,
                "livestock_units": livestock,
                "deposits_kzt": deposits,
            },
            {"tenure": tenure, "area_m2": living_area},
        )

    def home(self, size: float) -> dict[str, Any]:
        kind = self.rng.weighted(_HOUSING_KIND[self.region])
        table = {"apartment": _APARTMENT_M2, "house": _HOUSE_M2}.get(kind, _OTHER_M2)
        return {"kind": kind, "area_m2": _area(self.rng.quantile(table) * size)}


def _member_doc(p: _Person) -> dict[str, Any]:
    return {
        "iin": p.iin,
        "relation": p.relation,
        "birth_date": p.birth.isoformat(),
        "sex": p.sex,
        "disability_group": p.disability,
        "chronic_illness": p.chronic,
        "education": p.education,
        "employment": p.employment,
        "incomes": dict(p.incomes),
        "informal_work_signal": p.informal,
    }


# --------------------------------------------------------------------------- entry point


def generate_card(iin: str, *, as_of: dt.date, region: str | None = None) -> dict[str, Any]:
    """The synthetic ``family-card/1`` document of the holder of ``iin`` at ``as_of``.

    ``region`` ("KAR"/"SHY") defaults to one chosen from the ИИН's hash. Raises
    :class:`PersonNotFound` when the holder is born after ``as_of`` and ``ValueError`` for an
    invalid ИИН or region.
    """
    if not is_valid_iin(iin):
        raise ValueError("not a valid ИИН")
    if region is None:
        region = region_for(iin)
    if region not in REGIONS:
        raise ValueError("unknown region")
    birth = iin_birth_date(iin)
    sex = iin_sex(iin)
    assert birth is not None and sex is not None  # guaranteed by is_valid_iin
    if birth > as_of:
        raise PersonNotFound("born after as_of")
    digest = iin_digest(iin)
    doc = _Builder(SeededRandom(digest), as_of, region).build(iin, birth, sex)
    doc["family_id"] = f"SIM-{region}-{digest.hex()[:16]}"
    return doc
