"""The pilot's synthetic population: one family card per aid request, reproducible.

`pilot_population(schools)` spreads the published 22,382 requests over the schools (in
proportion to their students) and builds a family card for each, such that exactly the
published number of families meet the high-welfare markers (16 in Karaganda region, 58 in
Shymkent) and the rest spread plausibly over categories 1–5. Cards are plain family-card/1
documents: the simulator serves them and the real pipeline scores them.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from schools.identifiers import make_identifier

PILOT_REQUESTS = 22_382
PILOT_HIGH_WELFARE = {"KAR": 16, "SHY": 58}
PILOT_AS_OF = dt.date(2026, 9, 15)
PILOT_ACADEMIC_YEAR = "2026-2027"
PM_2026 = 50_851  # for shaping incomes only; scoring reads ПМ from the rule set

_SURNAMES_M = [
    "Ахметов",
    "Жумабеков",
    "Садыков",
    "Нурланов",
    "Ибраев",
    "Касымов",
    "Омаров",
    "Сейткали",
    "Абдрахманов",
    "Тулегенов",
    "Иванов",
    "Петров",
    "Ким",
    "Бекмуханов",
]
_FIRST_M = [
    "Нурлан",
    "Ерлан",
    "Асхат",
    "Даурен",
    "Бауыржан",
    "Алихан",
    "Арман",
    "Тимур",
    "Данияр",
    "Айдос",
    "Сергей",
    "Алексей",
    "Ерасыл",
    "Мирас",
]
_FIRST_F = [
    "Айгерим",
    "Гульнара",
    "Динара",
    "Сауле",
    "Асель",
    "Жанар",
    "Алия",
    "Мадина",
    "Айжан",
    "Камила",
    "Ольга",
    "Елена",
    "Аружан",
    "Томирис",
]


@dataclass(frozen=True)
class SchoolSlot:
    bin: str
    region: str
    student_count: int


@dataclass(frozen=True)
class PilotFamily:
    index: int
    school_bin: str
    region: str
    card: dict[str, Any]
    student_iin: str
    student_full_name: str
    grade: int
    guardian_iin: str
    guardian_full_name: str
    guardian_phone: str
    ground: str
    aid_kind: str
    amount_kzt: int
    high_welfare_intended: bool


class _Iins:
    """Unique valid ИИНs for given birth dates and sexes."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.serial = 0

    def make(self, birth: dt.date, sex: str) -> str:
        century = {1800: 1, 1900: 3, 2000: 5}[birth.year // 100 * 100] + (0 if sex == "M" else 1)
        while True:
            self.serial = (self.serial + 1) % 10_000
            prefix = f"{birth:%y%m%d}{century}{self.serial:04d}"
            value = make_identifier(prefix)
            if value and value not in self.used:
                self.used.add(value)
                return value


def _allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Largest-remainder split of `total` in proportion to `weights` (every weight ≥ 1)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    out = [int(x) for x in raw]
    rest = total - sum(out)
    order = sorted(range(len(weights)), key=lambda i: raw[i] - out[i], reverse=True)
    for i in order[:rest]:
        out[i] += 1
    return out


def _birth(rng: random.Random, age_min: int, age_max: int) -> dt.date:
    age = rng.randint(age_min, age_max)
    year = PILOT_AS_OF.year - age - 1
    day = dt.date(year, 1, 1) + dt.timedelta(days=rng.randint(0, 364))
    # full years at as_of must be `age`
    while (PILOT_AS_OF.year - day.year) - (
        (PILOT_AS_OF.month, PILOT_AS_OF.day) < (day.month, day.day)
    ) != age:
        day += dt.timedelta(days=1)
    return day


def _member(
    iins: _Iins,
    rng: random.Random,
    *,
    relation: str,
    birth: dt.date,
    sex: str,
    employment: str,
    education: str,
    salary: int = 0,
    pension: int = 0,
    benefits: int = 0,
    business: int = 0,
) -> dict[str, Any]:
    return {
        "iin": iins.make(birth, sex),
        "relation": relation,
        "birth_date": birth.isoformat(),
        "sex": sex,
        "disability_group": None,
        "chronic_illness": False,
        "education": education,
        "employment": employment,
        "incomes": {
            "salary": salary,
            "pension": pension,
            "social_benefits": benefits,
            "business": business,
            "other": 0,
        },
        "informal_work_signal": False,
    }


_BANDS = {1: (0.30, 0.53), 2: (0.57, 0.97), 3: (1.03, 1.94), 4: (2.05, 2.94), 5: (3.05, 3.85)}
_BAND_WEIGHTS = {"KAR": [14, 30, 33, 15, 8], "SHY": [18, 33, 31, 12, 6]}
_MARKERS = [
    "housing_units",
    "housing_units",
    "housing_units",
    "vehicles",
    "vehicles",
    "legal_entities",
    "income_ratio",
]


def _family(
    index: int, region: str, high_welfare: bool, iins: _Iins, seed: int
) -> tuple[dict, dict]:
    rng = random.Random(f"{seed}:{index}")
    members: list[dict[str, Any]] = []
    mother_sex = "F" if rng.random() < 0.8 else "M"
    applicant_birth = _birth(rng, 27, 52)
    two_parents = rng.random() < (0.78 if region == "SHY" else 0.72)
    n_children = rng.choices(
        [1, 2, 3, 4, 5], weights=[22, 33, 25, 13, 7] if region == "SHY" else [35, 35, 20, 8, 2]
    )[0]
    grandparent = rng.random() < 0.12
    n = 1 + int(two_parents) + n_children + int(grandparent)
    marker = rng.choice(_MARKERS) if high_welfare else None
    if marker == "income_ratio":
        ratio = rng.uniform(4.3, 7.5)
    else:
        band = rng.choices([1, 2, 3, 4, 5], weights=_BAND_WEIGHTS[region])[0]
        ratio = rng.uniform(*_BANDS[band])
    total = round(ratio * PM_2026 * n)
    pension = rng.randint(70_000, 110_000) if grandparent else 0
    benefits = min(total - pension, rng.randint(0, 25_000) * n_children) if total > pension else 0
    earned = max(total - pension - benefits, 0)
    share = rng.uniform(0.45, 0.75) if two_parents else 1.0

    def edu() -> str:
        return rng.choices(
            ["secondary", "vocational", "higher", "basic_secondary"], weights=[35, 35, 27, 3]
        )[0]

    applicant_salary = round(earned * share)
    members.append(
        _member(
            iins,
            rng,
            relation="applicant",
            birth=applicant_birth,
            sex=mother_sex,
            employment="employed" if applicant_salary else "unemployed",
            education=edu(),
            salary=applicant_salary,
            benefits=benefits,
        )
    )
    if two_parents:
        spouse_salary = earned - applicant_salary
        members.append(
            _member(
                iins,
                rng,
                relation="spouse",
                birth=_birth(rng, 27, 55),
                sex="M" if mother_sex == "F" else "F",
                employment="employed" if spouse_salary else "unemployed",
                education=edu(),
                salary=spouse_salary,
            )
        )
    else:
        members[0]["incomes"]["salary"] = earned
    student_pos = rng.randrange(n_children)
    student_age = rng.randint(7, 17)
    student = None
    for k in range(n_children):
        age = student_age if k == student_pos else rng.randint(0, 17)
        child = _member(
            iins,
            rng,
            relation="child",
            birth=_birth(rng, age, age),
            sex=rng.choice("MF"),
            employment="child" if age < 16 else "student",
            education="primary" if age < 11 else "basic_secondary",
        )
        if rng.random() < 0.03:
            child["disability_group"] = "child"
        members.append(child)
        if k == student_pos:
            student = child
    if grandparent:
        members.append(
            _member(
                iins,
                rng,
                relation="grandparent",
                birth=_birth(rng, 64, 80),
                sex=rng.choice("MF"),
                employment="pensioner",
                education=rng.choice(["secondary", "vocational"]),
                pension=pension,
            )
        )
        if rng.random() < 0.3:
            members[-1]["chronic_illness"] = True
    housing = (
        [{"kind": rng.choice(["apartment", "house"]), "area_m2": round(rng.uniform(35, 95), 1)}]
        if rng.random() < 0.62
        else []
    )
    vehicles = [{"kind": "car", "year": rng.randint(2003, 2024)}] if rng.random() < 0.4 else []
    legal: list[dict[str, Any]] = []
    if marker == "housing_units":
        housing = [
            {"kind": "apartment", "area_m2": round(rng.uniform(50, 120), 1)},
            {"kind": rng.choice(["apartment", "house"]), "area_m2": round(rng.uniform(40, 160), 1)},
        ]
    elif marker == "vehicles":
        vehicles = [
            {"kind": "car", "year": rng.randint(2016, 2025)},
            {"kind": rng.choice(["car", "truck"]), "year": rng.randint(2010, 2025)},
        ]
    elif marker == "legal_entities":
        while True:
            b = make_identifier(
                f"{rng.randint(10, 24):02d}{rng.randint(1, 12):02d}40{rng.randint(0, 99999):05d}"
            )
            if b:
                break
        legal = [{"bin": b, "role": rng.choice(["founder", "director"]), "active": True}]
    area = housing[0]["area_m2"] if housing else round(rng.uniform(25, 70), 1)
    declared = sum(sum(m["incomes"].values()) for m in members)
    card = {
        "schema": "family-card/1",
        "family_id": f"PILOT-{index:06d}",
        "as_of": PILOT_AS_OF.isoformat(),
        "region": region,
        "members": members,
        "property": {
            "housing": housing,
            "land_plots": rng.choices([0, 1, 2], weights=[80, 17, 3])[0],
            "vehicles": vehicles,
            "livestock_units": rng.choices([0, 2, 6, 12], weights=[80, 10, 7, 3])[0],
            "deposits_kzt": rng.choices([0, 150_000, 900_000], weights=[75, 20, 5])[0],
        },
        "living": {
            "tenure": "own" if housing else rng.choice(["rent", "relatives"]),
            "area_m2": area,
        },
        "business": {"legal_entities": legal, "individual_entrepreneur": rng.random() < 0.05},
        "credit": {
            "monthly_payments_kzt": rng.choice([0, 0, 0, 25_000, 60_000]),
            "overdue_90_days": rng.random() < 0.06,
        },
        "spending": {
            "card_turnover_monthly_kzt": None
            if rng.random() < 0.5
            else round(declared * rng.uniform(0.3, 1.2))
        },
        "social_status": {
            "receives_asp": ratio < 0.7 and rng.random() < 0.6,
            "orphan_guardianship": rng.random() < 0.02,
            "emergency_affected": rng.random() < 0.01,
        },
    }
    applicant = members[0]
    surname = rng.choice(_SURNAMES_M)
    fem = surname + "а" if surname.endswith(("ов", "ев", "ин")) else surname
    first = rng.choice(_FIRST_F if applicant["sex"] == "F" else _FIRST_M)
    guardian_name = f"{fem if applicant['sex'] == 'F' else surname} {first}"
    s_first = rng.choice(_FIRST_F if student["sex"] == "F" else _FIRST_M)
    student_name = f"{fem if student['sex'] == 'F' else surname} {s_first}"
    status = card["social_status"]
    if status["orphan_guardianship"]:
        ground = "orphan"
    elif status["emergency_affected"]:
        ground = "emergency"
    elif status["receives_asp"]:
        ground = "asp"
    elif ratio < 1:
        ground = "below_subsistence"
    else:
        ground = "board_decision"
    kind = rng.choices(
        ["uniform", "supplies", "sports_uniform", "meals", "other"], weights=[35, 30, 8, 20, 7]
    )[0]
    amount = {
        "uniform": PM_2026,
        "supplies": PM_2026,
        "sports_uniform": 25_000,
        "meals": 36_000,
        "other": 15_000,
    }[kind]
    grade = max(1, min(11, student_age - 6))
    extra = {
        "student": student,
        "student_name": student_name,
        "guardian_name": guardian_name,
        "ground": ground,
        "kind": kind,
        "amount": amount,
        "grade": grade,
        "phone": f"+7 70{rng.randint(0, 9)} {rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
    }
    return card, extra


def pilot_population(
    schools: Sequence[SchoolSlot],
    *,
    seed: int = 2025,
    total: int = PILOT_REQUESTS,
    high_welfare: dict[str, int] | None = None,
) -> Iterator[PilotFamily]:
    """Yield `total` families over `schools`, reproducibly for a given seed."""
    high_welfare = dict(PILOT_HIGH_WELFARE if high_welfare is None else high_welfare)
    schools = sorted(schools, key=lambda s: s.bin)
    by_region: dict[str, list[SchoolSlot]] = {}
    for s in schools:
        by_region.setdefault(s.region, []).append(s)
    regions = sorted(by_region)
    region_totals = _allocate(total, [len(by_region[r]) for r in regions])
    rng = random.Random(seed)
    iins = _Iins()
    index = 0
    for region, region_total in zip(regions, region_totals, strict=True):
        slots = by_region[region]
        per_school = _allocate(region_total, [max(s.student_count, 1) for s in slots])
        flagged = set(
            rng.sample(range(region_total), min(high_welfare.get(region, 0), region_total))
        )
        k = 0
        for slot, count in zip(slots, per_school, strict=True):
            for _ in range(count):
                hw = k in flagged
                card, extra = _family(index, region, hw, iins, seed)
                student = extra["student"]
                yield PilotFamily(
                    index=index,
                    school_bin=slot.bin,
                    region=region,
                    card=card,
                    student_iin=student["iin"],
                    student_full_name=extra["student_name"],
                    grade=extra["grade"],
                    guardian_iin=card["members"][0]["iin"],
                    guardian_full_name=extra["guardian_name"],
                    guardian_phone=extra["phone"],
                    ground=extra["ground"],
                    aid_kind=extra["kind"],
                    amount_kzt=extra["amount"],
                    high_welfare_intended=hw,
                )
                index += 1
                k += 1
