"""What would change the outcome: exact counterfactuals of an assessment.

:func:`what_would_change` takes a card, a compiled rule set and (optionally) the card's
assessment, and returns :class:`Counterfactuals`: for every *decisive input* of the card the
smallest change that would change the category, with the category it would give, plus what
each category-6 marker would need (in the rule set's combination mode) and which points are
decisive. Pure like the engine: no ORM, no HTTP, no clock, no translation (the words are in
:mod:`scoring.counterfactual_text`); exact integers and fractions only.

**Inputs** are things of the card a person can check, each with a card edit
(:func:`set_input`) that moves exactly that input and nothing else the methodology reads:

==========================  ==================================================================
``family_income``            declared monthly income of the family (₸). Raised by adding to the
                             first member's ``other`` income; lowered by taking from pension,
                             benefits and other income first, then from wages, never taking a
                             working-age member with an informal-work signal to zero wages — so
                             the imputed informal income stays as it is. It feeds
                             ``declared_income``, the hidden-income test, the effective income,
                             ``per_capita_income``, ``income_ratio`` and ``debt_burden``.
``card_turnover``            monthly card turnover (₸): the hidden-income test and, when it
                             fires, the effective income.
``credit_payments``          monthly credit payments (₸): ``debt_burden``.
``deposits``                 deposits (₸): ``deposits_ratio``.
``living_area``              living area (m², exact decimal): ``living_area_per_person``.
``housing_units``            owned housing entries (0–50).
``vehicles``                 counted vehicles (0–50 entries); removed oldest-kind-first (a new
                             one last), added as vehicles older than the new-vehicle age.
``legal_entities``           active legal entities (0–50); lowered by marking entries inactive.
``land_plots``, ``livestock_units``  the card's numbers.
``overdue_debt``, ``individual_entrepreneur``, ``new_vehicle``  yes/no facts, flipped.
==========================  ==================================================================

**The algorithm** (exact and minimal). Along one input, with everything else fixed, every
criterion the input moves is a simple exact function of the input's new value ``u`` on at most
two pieces (e.g. effective income = turnover while the hidden-income test fires, else declared
+ informal income): linear in ``u`` (``income_ratio = E / (n·ПМ)``), or ``P / E`` for the debt
burden. A comparison ``criterion op t`` can therefore change its outcome only where ``u``
crosses a point solved in closed form — ``⌈t·k⌉`` and ``⌊t·k⌋ + 1`` for ``u / k`` against
``t`` (both, so every operator, ``==`` included, is covered), the same through ``P / t`` for
the debt burden, and the piece boundaries (where the hidden-income test flips). These *cuts*
are computed for every comparison of the rule set on every criterion the input moves (bands,
markers, points), so between two consecutive cuts the whole assessment is constant. Walking
the cuts in order from the current value and re-assessing the edited card **with the engine**
at each one, the first cut whose category differs is the answer: it moves the category (the
engine said so) and nothing smaller does (no cut lies between, so every smaller change gives
the current category). Extra cuts only cost an evaluation; none can be missed, because each
piece's formula is exact. No search by trial: a handful of engine calls per input.

``living_area`` is a continuous quantity: its comparisons change at ``t·n`` exactly; the ray
tests each such boundary and the open interval after it, so a change is either "by exactly
x m²" or "by more than x m²" (:attr:`Change.exclusive`).

**Markers** (category 6): the combination mode decides what must stop — ``any``: every
marker that holds; ``all``: any one of them; ``at_least k`` with f holding: any f − k + 1 of
them. For each marker, the smallest change of its input that stops it (the same exact ray, the
predicate being the marker's outcome); the changes are applied together and the engine gives
the resulting category. A marker on a criterion no input moves (possible in a custom rule set)
is taken as stopped at the decision level and the suggestion is marked ``hypothetical``.

**Points**: each vulnerability or wealth point whose flip alone (the net moves by its points,
the base and the markers stay) changes the category, decided by :func:`scoring.engine.decide`.

**Borderline**: the rule set's ``parameters.borderline_margin`` (default 0.05, in ПМ per
person, the unit of the income bands): the result is borderline when a change of the counted
income — the declared income, or the card turnover when the hidden-income test fires — of at
most margin × ПМ per person would change the category.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any, Final

from schools.identifiers import make_identifier
from scoring.card import (
    Business,
    Card,
    Housing,
    Incomes,
    LegalEntity,
    Member,
    ParsedCard,
    Spending,
    Vehicle,
)
from scoring.criteria import CRITERIA, CRITERION_INDEX, age_at
from scoring.engine import Assessment, assess, decide, decimal_text
from scoring.ruleset import EFFECTS, CompiledRuleSet, Condition

__all__ = [
    "COUNTERFACTUALS_FORMAT",
    "FLAG_INPUTS",
    "INPUTS",
    "INPUT_CRITERIA",
    "INPUT_UNITS",
    "MARKER_INPUTS",
    "Change",
    "Counterfactuals",
    "Reason",
    "Rule",
    "Suggestion",
    "input_value",
    "set_input",
    "what_would_change",
]

COUNTERFACTUALS_FORMAT: Final = "counterfactuals/1"

FAMILY_INCOME: Final = "family_income"
CARD_TURNOVER: Final = "card_turnover"
CREDIT_PAYMENTS: Final = "credit_payments"
DEPOSITS: Final = "deposits"
LIVING_AREA: Final = "living_area"
HOUSING_UNITS: Final = "housing_units"
VEHICLES: Final = "vehicles"
LEGAL_ENTITIES: Final = "legal_entities"
LAND_PLOTS: Final = "land_plots"
LIVESTOCK_UNITS: Final = "livestock_units"
OVERDUE_DEBT: Final = "overdue_debt"
INDIVIDUAL_ENTREPRENEUR: Final = "individual_entrepreneur"
NEW_VEHICLE: Final = "new_vehicle"

#: Every input, in the order suggestions are listed.
INPUTS: Final = (
    FAMILY_INCOME,
    CARD_TURNOVER,
    CREDIT_PAYMENTS,
    DEPOSITS,
    LIVING_AREA,
    HOUSING_UNITS,
    VEHICLES,
    LEGAL_ENTITIES,
    LAND_PLOTS,
    LIVESTOCK_UNITS,
    OVERDUE_DEBT,
    INDIVIDUAL_ENTREPRENEUR,
    NEW_VEHICLE,
)
FLAG_INPUTS: Final = frozenset({OVERDUE_DEBT, INDIVIDUAL_ENTREPRENEUR, NEW_VEHICLE})

#: The unit of each input's amount: ``tenge_per_month``, ``tenge``, ``square_metres``,
#: ``count`` (whole units) or ``flag`` (no amount).
INPUT_UNITS: Final = {
    FAMILY_INCOME: "tenge_per_month",
    CARD_TURNOVER: "tenge_per_month",
    CREDIT_PAYMENTS: "tenge_per_month",
    DEPOSITS: "tenge",
    LIVING_AREA: "square_metres",
    HOUSING_UNITS: "count",
    VEHICLES: "count",
    LEGAL_ENTITIES: "count",
    LAND_PLOTS: "count",
    LIVESTOCK_UNITS: "count",
    OVERDUE_DEBT: "flag",
    INDIVIDUAL_ENTREPRENEUR: "flag",
    NEW_VEHICLE: "flag",
}

#: The criteria each input moves (everything else the methodology reads stays as it is).
_INCOME_CRITERIA: Final = ("hidden_income", "per_capita_income", "income_ratio", "debt_burden")
INPUT_CRITERIA: Final[Mapping[str, tuple[str, ...]]] = {
    FAMILY_INCOME: ("declared_income", *_INCOME_CRITERIA),
    CARD_TURNOVER: _INCOME_CRITERIA,
    CREDIT_PAYMENTS: ("debt_burden",),
    DEPOSITS: ("deposits_ratio",),
    LIVING_AREA: ("living_area_per_person",),
    HOUSING_UNITS: ("housing_units",),
    VEHICLES: ("vehicles", "new_vehicle"),
    LEGAL_ENTITIES: ("legal_entities",),
    LAND_PLOTS: ("land_plots",),
    LIVESTOCK_UNITS: ("livestock_units",),
    OVERDUE_DEBT: ("overdue_debt",),
    INDIVIDUAL_ENTREPRENEUR: ("individual_entrepreneur",),
    NEW_VEHICLE: ("new_vehicle",),
}

#: Which inputs can stop a marker on a criterion (tried in this order, smallest change wins).
MARKER_INPUTS: Final[Mapping[str, tuple[str, ...]]] = {
    "declared_income": (FAMILY_INCOME,),
    "hidden_income": (CARD_TURNOVER, FAMILY_INCOME),
    "per_capita_income": (FAMILY_INCOME, CARD_TURNOVER),
    "income_ratio": (FAMILY_INCOME, CARD_TURNOVER),
    "debt_burden": (CREDIT_PAYMENTS,),
    "overdue_debt": (OVERDUE_DEBT,),
    "housing_units": (HOUSING_UNITS,),
    "living_area_per_person": (LIVING_AREA,),
    "vehicles": (VEHICLES,),
    "new_vehicle": (NEW_VEHICLE, VEHICLES),
    "land_plots": (LAND_PLOTS,),
    "livestock_units": (LIVESTOCK_UNITS,),
    "deposits_ratio": (DEPOSITS,),
    "legal_entities": (LEGAL_ENTITIES,),
    "individual_entrepreneur": (INDIVIDUAL_ENTREPRENEUR,),
}

#: The card's list limits (family-card/1): an edit never makes a card the schema refuses.
MAX_ENTRIES: Final = 50
#: At most this many marker combinations are worked out (``at_least`` over many markers).
MAX_MARKER_PLANS: Final = 32

_EFFECT_RANK: Final = {name: i for i, name in enumerate(EFFECTS)}
_NEUTRAL_INCOMES: Final = ("other", "social_benefits", "pension")
_WAGE_INCOMES: Final = ("business", "salary")

Number = int | Fraction


# --------------------------------------------------------------------------- value objects


@dataclass(frozen=True, slots=True)
class Change:
    """One input moved: ``input`` from ``current`` to ``new``, by ``amount`` in ``unit``.

    ``direction`` is ``decrease`` / ``increase`` (or ``off`` / ``on`` for a yes/no input, whose
    ``amount`` is None). ``exclusive`` (continuous inputs only, the living area): the change must
    be *more than* ``amount`` — ``new`` is then the boundary itself, which does not yet move it.
    ``per_person`` is ``amount / n`` for the money of the counted income (family income, card
    turnover); None otherwise.
    """

    input: str
    direction: str
    amount: Number | None
    current: Number | bool
    new: Number | bool
    exclusive: bool = False
    per_person: Fraction | None = None

    @property
    def unit(self) -> str:
        return INPUT_UNITS[self.input]


@dataclass(frozen=True, slots=True)
class Reason:
    """A criterion whose comparison (of ``effect``: marker, band, vulnerability, wealth) the
    change flips."""

    criterion: str
    effect: str


@dataclass(frozen=True, slots=True)
class Rule:
    """A marker or point rule of the rule set (``position`` in its list), and whether it holds."""

    effect: str
    position: int
    criterion: str
    op: str
    threshold: int | Fraction | bool
    points: int
    fired: bool


@dataclass(frozen=True, slots=True)
class Suggestion:
    """What would give category ``category`` (``direction`` up or down from the current one).

    ``kind``:

    * ``input`` — one change of one input (``changes`` has one item); ``because`` names the
      criteria whose comparisons it flips; ``borderline`` when it is a change of the counted
      income within the rule set's margin;
    * ``markers`` — category 6: the changes that together stop enough markers (``rules``);
    * ``point`` — ``rules[0]`` is a point whose flip alone decides (no card change; the
      methodology's own arithmetic: ``hypothetical``).

    ``hypothetical``: part of it is a rule outcome taken as flipped, not a card change.
    ``hidden_income_after``: the hidden-income test's new outcome when the changes switch it
    (on: the card turnover becomes the counted income; off: the declared income does), else
    None — the reason why, e.g., declaring more income can lower the category.
    """

    kind: str
    category: int
    direction: str
    changes: tuple[Change, ...] = ()
    rules: tuple[Rule, ...] = ()
    because: tuple[Reason, ...] = ()
    borderline: bool = False
    hypothetical: bool = False
    hidden_income_after: bool | None = None


@dataclass(frozen=True, slots=True)
class Counterfactuals:
    """Every suggestion for one assessment, and whether the result is borderline."""

    category: int
    high_welfare: bool
    ruleset_version: str
    card_sha256: str
    family_size: int
    subsistence_minimum: int
    margin: Fraction
    borderline: bool
    suggestions: tuple[Suggestion, ...]

    def of_kind(self, kind: str) -> tuple[Suggestion, ...]:
        return tuple(s for s in self.suggestions if s.kind == kind)

    def for_input(self, name: str, direction: str | None = None) -> Suggestion | None:
        """The ``input`` suggestion of ``name`` (and ``direction``), if there is one."""
        for s in self.suggestions:
            change = s.changes[0] if s.kind == "input" else None
            if change and change.input == name and direction in (None, change.direction):
                return s
        return None

    @property
    def margin_per_person(self) -> Fraction:
        """The borderline margin in tenge per person (margin × ПМ)."""
        return self.margin * self.subsistence_minimum

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable; :meth:`from_dict` rebuilds an equal object. Money and counts are
        integers; areas, per-person amounts and the margin are ``{"exact": "p/q", "decimal":
        "…"}``; thresholds are exact decimal strings (or booleans)."""
        return {
            "format": COUNTERFACTUALS_FORMAT,
            "category": self.category,
            "high_welfare": self.high_welfare,
            "ruleset_version": self.ruleset_version,
            "card_sha256": self.card_sha256,
            "family_size": self.family_size,
            "subsistence_minimum": self.subsistence_minimum,
            "margin": _ratio_json(self.margin),
            "borderline": self.borderline,
            "suggestions": [_suggestion_json(s) for s in self.suggestions],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Counterfactuals:
        """Rebuild from :meth:`to_dict` output; ``ValueError`` if malformed."""
        try:
            if data["format"] != COUNTERFACTUALS_FORMAT:
                raise ValueError(f"not a {COUNTERFACTUALS_FORMAT} document")
            return cls(
                category=_int(data["category"]),
                high_welfare=_bool(data["high_welfare"]),
                ruleset_version=str(data["ruleset_version"]),
                card_sha256=str(data["card_sha256"]),
                family_size=_int(data["family_size"]),
                subsistence_minimum=_int(data["subsistence_minimum"]),
                margin=_ratio_from_json(data["margin"]),
                borderline=_bool(data["borderline"]),
                suggestions=tuple(_suggestion_from_json(s) for s in data["suggestions"]),
            )
        except (KeyError, TypeError, ZeroDivisionError, AttributeError) as exc:
            raise ValueError(f"malformed counterfactuals: {exc!r}") from None


# --------------------------------------------------------------------------- reading the card


def _informal_relevant(member: Member, card: Card, ruleset: CompiledRuleSet) -> bool:
    """A member whose zero wages would impute one МЗП (informal signal, working age)."""
    if not member.informal_work_signal:
        return False
    p = ruleset.parameters
    return (
        p.informal_work_age_min <= age_at(member.birth_date, card.as_of) <= p.informal_work_age_max
    )


def _removable_income(card: Card, ruleset: CompiledRuleSet) -> int:
    """How far the declared income can fall with the imputed informal income unchanged."""
    total = 0
    for m in card.members:
        inc = m.incomes
        total += inc.pension + inc.social_benefits + inc.other
        wage = inc.salary + inc.business
        if wage and _informal_relevant(m, card, ruleset):
            wage -= 1
        total += wage
    return total


def _counted(card: Card, ruleset: CompiledRuleSet) -> list[int]:
    kinds = ruleset.parameters.counted_vehicle_kinds
    return [i for i, v in enumerate(card.property.vehicles) if v.kind in kinds]


def _is_new(vehicle: Vehicle, card: Card, ruleset: CompiledRuleSet) -> bool:
    return card.as_of.year - vehicle.year <= ruleset.parameters.new_vehicle_max_age_years


def input_value(card: Card, ruleset: CompiledRuleSet, name: str) -> Number | bool:
    """The current value of input ``name`` on ``card``."""
    if name == FAMILY_INCOME:
        return sum(m.incomes.total for m in card.members)
    if name == CARD_TURNOVER:
        return card.spending.card_turnover_monthly_kzt or 0
    if name == CREDIT_PAYMENTS:
        return card.credit.monthly_payments_kzt
    if name == DEPOSITS:
        return card.property.deposits_kzt
    if name == LIVING_AREA:
        return Fraction(card.living.area_m2)
    if name == HOUSING_UNITS:
        return len(card.property.housing)
    if name == VEHICLES:
        return len(_counted(card, ruleset))
    if name == LEGAL_ENTITIES:
        return sum(1 for e in card.business.legal_entities if e.active)
    if name == LAND_PLOTS:
        return card.property.land_plots
    if name == LIVESTOCK_UNITS:
        return card.property.livestock_units
    if name == OVERDUE_DEBT:
        return card.credit.overdue_90_days
    if name == INDIVIDUAL_ENTREPRENEUR:
        return card.business.individual_entrepreneur
    if name == NEW_VEHICLE:
        return any(
            _is_new(card.property.vehicles[i], card, ruleset) for i in _counted(card, ruleset)
        )
    raise ValueError(f"unknown input {name!r}")


# --------------------------------------------------------------------------- editing the card


def _replace(obj: Any, **changes: Any) -> Any:
    return dataclasses.replace(obj, **changes)


def _card(card: Card, **changes: Any) -> Card:
    return dataclasses.replace(card, _sha256=None, **changes)


def _exact_decimal(value: Fraction) -> Decimal:
    """A finite decimal fraction as an exact ``Decimal`` (areas are written that way)."""
    if value.denominator == 1:
        return Decimal(value.numerator)
    places = 0
    while (value * 10**places).denominator != 1:
        places += 1
        if places > 60:
            raise ValueError("not a finite decimal")
    return Decimal(f"{int(value * 10**places)}e-{places}")


def _set_family_income(card: Card, ruleset: CompiledRuleSet, value: int) -> Card:
    members = list(card.members)
    delta = value - sum(m.incomes.total for m in members)
    if delta >= 0:
        first = members[0]
        members[0] = _replace(
            first, incomes=_replace(first.incomes, other=first.incomes.other + delta)
        )
        return _card(card, members=tuple(members))
    need = -delta
    incomes = [
        {
            "salary": m.incomes.salary,
            "pension": m.incomes.pension,
            "social_benefits": m.incomes.social_benefits,
            "business": m.incomes.business,
            "other": m.incomes.other,
        }
        for m in members
    ]
    relevant = [_informal_relevant(m, card, ruleset) for m in members]

    def take(i: int, field: str, keep: int = 0) -> None:
        nonlocal need
        amount = min(need, max(0, incomes[i][field] - keep))
        incomes[i][field] -= amount
        need -= amount

    for i in range(len(members)):  # pension, benefits, other: no effect on imputation
        for field in _NEUTRAL_INCOMES:
            take(i, field)
    for i in range(len(members)):  # wages of members without an informal-work signal
        if not relevant[i]:
            for field in _WAGE_INCOMES:
                take(i, field)
    for i in range(len(members)):  # wages of the others, never all of them (1 ₸ stays)
        inc = incomes[i]
        if relevant[i] and need:
            allowed = min(need, max(0, inc["salary"] + inc["business"] - 1))
            from_business = min(allowed, inc["business"])
            inc["business"] -= from_business
            inc["salary"] -= allowed - from_business
            need -= allowed
    if need:
        raise ValueError("the declared income cannot fall that far with the imputation unchanged")
    return _card(
        card,
        members=tuple(
            _replace(m, incomes=Incomes(**inc)) for m, inc in zip(members, incomes, strict=True)
        ),
    )


def _new_bins(card: Card, count: int) -> list[str]:
    taken = {e.bin for e in card.business.legal_entities}
    out: list[str] = []
    serial = 0
    while len(out) < count:
        value = make_identifier(f"99000{serial:06d}")
        serial += 1
        if value is not None and value not in taken:
            out.append(value)
    return out


def _old_vehicle_year(card: Card, ruleset: CompiledRuleSet) -> int:
    return max(1900, card.as_of.year - ruleset.parameters.new_vehicle_max_age_years - 1)


def set_input(card: Card, ruleset: CompiledRuleSet, name: str, value: Any) -> Card:
    """A copy of ``card`` with input ``name`` set to ``value`` (the edit of the module docs).

    ``ValueError`` when the card cannot take that value (a negative amount, more entries than
    the contract allows, a declared income below what keeps the imputed informal income).
    """
    if name in FLAG_INPUTS:
        value = bool(value)
    elif name == LIVING_AREA:
        value = Fraction(value)
        if value < 0:
            raise ValueError("an area cannot be negative")
    else:
        if isinstance(value, bool) or Fraction(value).denominator != 1:
            raise ValueError(f"{name} takes a whole number")
        value = int(value)
        if value < 0:
            raise ValueError(f"{name} cannot be negative")
    prop = card.property
    if name == FAMILY_INCOME:
        return _set_family_income(card, ruleset, value)
    if name == CARD_TURNOVER:
        current = card.spending.card_turnover_monthly_kzt
        new = None if current is None and value == 0 else value
        return _card(card, spending=Spending(new))
    if name == CREDIT_PAYMENTS:
        return _card(card, credit=_replace(card.credit, monthly_payments_kzt=value))
    if name == OVERDUE_DEBT:
        return _card(card, credit=_replace(card.credit, overdue_90_days=value))
    if name == DEPOSITS:
        return _card(card, property=_replace(prop, deposits_kzt=value))
    if name == LAND_PLOTS:
        return _card(card, property=_replace(prop, land_plots=value))
    if name == LIVESTOCK_UNITS:
        return _card(card, property=_replace(prop, livestock_units=value))
    if name == LIVING_AREA:
        return _card(card, living=_replace(card.living, area_m2=_exact_decimal(value)))
    if name == INDIVIDUAL_ENTREPRENEUR:
        return _card(card, business=_replace(card.business, individual_entrepreneur=value))
    if name == HOUSING_UNITS:
        housing = list(prop.housing)
        if value > MAX_ENTRIES:
            raise ValueError("too many housing entries")
        template = housing[-1] if housing else Housing("apartment", 1)
        housing = housing[:value] + [template] * (value - len(housing))
        return _card(card, property=_replace(prop, housing=tuple(housing)))
    if name == LEGAL_ENTITIES:
        return _set_legal_entities(card, value)
    if name == VEHICLES:
        return _set_vehicles(card, ruleset, value)
    if name == NEW_VEHICLE:
        return _set_new_vehicle(card, ruleset, value)
    raise ValueError(f"unknown input {name!r}")


def _set_legal_entities(card: Card, value: int) -> Card:
    entities = list(card.business.legal_entities)
    active = [i for i, e in enumerate(entities) if e.active]
    if value < len(active):
        for i in active[value:]:
            entities[i] = _replace(entities[i], active=False)
    else:
        missing = value - len(active)
        for i in reversed(range(len(entities))):
            if missing and not entities[i].active:
                entities[i] = _replace(entities[i], active=True)
                missing -= 1
        if len(entities) + missing > MAX_ENTRIES:
            raise ValueError("too many legal entities")
        role = entities[-1].role if entities else "founder"
        entities += [LegalEntity(b, role, True) for b in _new_bins(card, missing)]
    return _card(card, business=Business(tuple(entities), card.business.individual_entrepreneur))


def _set_vehicles(card: Card, ruleset: CompiledRuleSet, value: int) -> Card:
    vehicles = list(card.property.vehicles)
    counted = _counted(card, ruleset)
    if value < len(counted):
        # remove old counted vehicles first (from the end), new ones last
        order = [i for i in reversed(counted) if not _is_new(vehicles[i], card, ruleset)]
        order += [i for i in reversed(counted) if _is_new(vehicles[i], card, ruleset)]
        drop = set(order[: len(counted) - value])
        vehicles = [v for i, v in enumerate(vehicles) if i not in drop]
    elif value > len(counted):
        kinds = ruleset.parameters.counted_vehicle_kinds
        if not kinds:
            raise ValueError("the rule set counts no kind of vehicle")
        kind = "car" if "car" in kinds else sorted(kinds)[0]
        vehicles += [Vehicle(kind, _old_vehicle_year(card, ruleset))] * (value - len(counted))
        if len(vehicles) > MAX_ENTRIES:
            raise ValueError("too many vehicles")
    return _card(card, property=_replace(card.property, vehicles=tuple(vehicles)))


def _set_new_vehicle(card: Card, ruleset: CompiledRuleSet, value: bool) -> Card:
    vehicles = list(card.property.vehicles)
    counted = _counted(card, ruleset)
    if value:
        if not counted:
            raise ValueError("no counted vehicle to be new")
        if not any(_is_new(vehicles[i], card, ruleset) for i in counted):
            i = counted[-1]
            vehicles[i] = _replace(vehicles[i], year=card.as_of.year)
    else:
        year = _old_vehicle_year(card, ruleset)
        for i in counted:
            if _is_new(vehicles[i], card, ruleset):
                vehicles[i] = _replace(vehicles[i], year=year)
        if any(_is_new(vehicles[i], card, ruleset) for i in counted):
            raise ValueError("the rule set makes every vehicle new")
    return _card(card, property=_replace(card.property, vehicles=tuple(vehicles)))


# --------------------------------------------------------------------------- the rule set's cuts


@lru_cache(maxsize=64)
def _thresholds(ruleset: CompiledRuleSet) -> Mapping[str, tuple[Any, ...]]:
    """Every threshold each criterion is compared with (markers, bands, points)."""
    out: dict[str, list[Any]] = {c.code: [] for c in CRITERIA}
    for cond in (*ruleset.markers, *ruleset.vulnerability, *ruleset.wealth):
        out[cond.criterion].append(cond.threshold)
    for band in ruleset.bands:
        if band.below is not None:
            out["income_ratio"].append(band.below)
    return {k: tuple(v) for k, v in out.items()}


def _linear_cuts(scale: Number, thresholds: Iterable[Any]) -> set[int]:
    """Cuts of ``x / scale`` (scale > 0) against each threshold: where ``x`` crosses ``t·scale``.

    A cut ``c`` means "the outcome may differ between ``c − 1`` and ``c``". For ``≥``/``<`` the
    outcome changes at ``⌈t·scale⌉``, for ``>``/``≤`` at ``⌊t·scale⌋ + 1``, for ``==`` at both:
    both are returned, so every operator is covered.
    """
    cuts: set[int] = set()
    for t in thresholds:
        if isinstance(t, bool):
            continue
        v = Fraction(t) * scale
        cuts.add(math.ceil(v))
        cuts.add(math.floor(v) + 1)
    return cuts


@dataclass(slots=True)
class _Context:
    card: Card
    ruleset: CompiledRuleSet
    base: Assessment
    thresholds: Mapping[str, tuple[Any, ...]]
    n: int
    pm: int
    declared: int
    informal: int
    turnover: int
    payments: int

    def assess(self, card: Card) -> Assessment:
        return assess(card, self.ruleset, card_sha256=self.base.card_sha256)

    @property
    def formal(self) -> int:
        return self.declared + self.informal

    @property
    def hidden(self) -> bool:
        return bool(self.base.value("hidden_income"))

    @property
    def effective(self) -> int:
        return self.turnover if self.hidden else self.formal

    def effective_cuts(self, payments: int | None = None) -> set[int]:
        """Cuts in the effective income E of per-capita income, income ratio, debt burden."""
        th = self.thresholds
        cuts = _linear_cuts(self.n, th["per_capita_income"])
        cuts |= _linear_cuts(self.n * self.pm, th["income_ratio"])
        p = self.payments if payments is None else payments
        if p > 0:
            cuts.add(1)  # E = 0: the burden is unbounded
            for t in th["debt_burden"]:
                if isinstance(t, bool) or t <= 0:
                    continue
                v = Fraction(p) / Fraction(t)
                # P/E ≥ t ⇔ E ≤ P/t: changes after ⌊P/t⌋; P/E > t ⇔ E < P/t: at ⌈P/t⌉
                cuts.add(math.floor(v) + 1)
                cuts.add(math.ceil(v))
        return cuts


def _has_rules(ctx: _Context, name: str) -> bool:
    return any(ctx.thresholds[c] for c in INPUT_CRITERIA[name])


def _domain_and_cuts(ctx: _Context, name: str) -> tuple[int, int | None, set[int]]:
    """(lowest value, highest value or None, cuts) of an integer input."""
    th = ctx.thresholds
    card, ruleset = ctx.card, ctx.ruleset
    factor = ruleset.parameters.hidden_income_factor
    if name == FAMILY_INCOME:
        # hidden ⇔ T·q > p·F ⇔ F < ⌈T·q/p⌉ = H0: the piece boundary is at D' = H0 − I
        h0 = math.ceil(Fraction(ctx.turnover) / factor) if factor else 0
        cuts = {c - ctx.informal for c in ctx.effective_cuts()}
        cuts |= _linear_cuts(1, th["declared_income"])
        cuts.add(h0 - ctx.informal)
        return ctx.declared - _removable_income(card, ruleset), None, cuts
    if name == CARD_TURNOVER:
        # hidden ⇔ T'·q > p·F ⇔ T' ≥ ⌊p·F/q⌋ + 1 = T0; then E = T'
        t0 = math.floor(factor * ctx.formal) + 1
        return 0, None, ctx.effective_cuts() | {t0}
    if name == CREDIT_PAYMENTS:
        e = ctx.effective
        cuts = {1}
        if e > 0:
            cuts |= _linear_cuts(e, th["debt_burden"])
        return 0, None, cuts
    if name == DEPOSITS:
        return 0, None, _linear_cuts(ctx.n * ctx.pm, th["deposits_ratio"])
    if name in (LAND_PLOTS, LIVESTOCK_UNITS):
        return 0, None, _linear_cuts(1, th[name])
    if name == HOUSING_UNITS:
        return 0, MAX_ENTRIES, _linear_cuts(1, th[name])
    if name == LEGAL_ENTITIES:
        return 0, MAX_ENTRIES, _linear_cuts(1, th[name])
    if name == VEHICLES:
        counted = len(_counted(card, ruleset))
        if not ruleset.parameters.counted_vehicle_kinds:
            return 0, 0, set()
        uncounted = len(card.property.vehicles) - counted
        # new_vehicle can change only when the last vehicle goes, or when one is added
        cuts = _linear_cuts(1, th["vehicles"]) | {1, counted + 1}
        return 0, MAX_ENTRIES - uncounted, cuts
    raise ValueError(name)  # pragma: no cover


Predicate = Callable[[Assessment], bool]


def _int_ray(
    ctx: _Context, name: str, direction: int, predicate: Predicate
) -> tuple[int, int, Assessment, Card] | None:
    """The value nearest to the current one, in ``direction``, where ``predicate`` holds.

    Returns (new value, probe value, assessment, edited card) or None.
    """
    lo, hi, cuts = _domain_and_cuts(ctx, name)
    u0 = int(input_value(ctx.card, ctx.ruleset, name))  # type: ignore[arg-type]
    if direction > 0:
        candidates = sorted(c for c in cuts if c > u0 and (hi is None or c <= hi))
    else:
        candidates = sorted((c - 1 for c in cuts if lo <= c - 1 < u0), reverse=True)
    for u in candidates:
        card = set_input(ctx.card, ctx.ruleset, name, u)
        result = ctx.assess(card)
        if predicate(result):
            return u, u, result, card
    return None


def _area_ray(
    ctx: _Context, direction: int, predicate: Predicate
) -> tuple[Fraction, Fraction, bool, Assessment, Card] | None:
    """Like :func:`_int_ray` for the living area: (boundary, probe, exclusive, …) or None."""
    a0 = Fraction(ctx.card.living.area_m2)
    boundaries = {Fraction(t) * ctx.n for t in ctx.thresholds["living_area_per_person"]}
    boundaries.add(Fraction(0))
    on_boundary = a0 in boundaries

    def test(value: Fraction) -> tuple[Assessment, Card] | None:
        card = set_input(ctx.card, ctx.ruleset, LIVING_AREA, value)
        result = ctx.assess(card)
        return (result, card) if predicate(result) else None

    prev = a0
    if direction > 0:
        for b in sorted(x for x in boundaries if x > a0):
            if prev != a0 or on_boundary:
                hit = test((prev + b) / 2)
                if hit:
                    return prev, (prev + b) / 2, True, *hit
            hit = test(b)
            if hit:
                return b, b, False, *hit
            prev = b
        if prev != a0 or on_boundary:
            hit = test(prev + 1)
            if hit:
                return prev, prev + 1, True, *hit
        return None
    for b in sorted((x for x in boundaries if x < a0), reverse=True):
        if prev != a0 or on_boundary:
            hit = test((prev + b) / 2)
            if hit:
                return prev, (prev + b) / 2, True, *hit
        hit = test(b)
        if hit:
            return b, b, False, *hit
        prev = b
    return None


def _flag_flip(ctx: _Context, name: str) -> tuple[bool, Assessment, Card] | None:
    current = bool(input_value(ctx.card, ctx.ruleset, name))
    try:
        card = set_input(ctx.card, ctx.ruleset, name, not current)
    except ValueError:
        return None
    return not current, ctx.assess(card), card


# --------------------------------------------------------------------------- suggestions


def _direction(current: int, new: int) -> str:
    return "up" if new > current else "down"


def _because(before: Assessment, after: Assessment) -> tuple[Reason, ...]:
    changed = set(before.comparisons).symmetric_difference(after.comparisons)
    reasons = {(c.criterion, c.effect) for c in changed}
    ordered = sorted(reasons, key=lambda r: (CRITERION_INDEX[r[0]], _EFFECT_RANK[r[1]]))
    return tuple(Reason(c, e) for c, e in ordered)


def _hidden_switch(before: Assessment, after: Assessment) -> bool | None:
    now = bool(after.value("hidden_income"))
    return None if now == bool(before.value("hidden_income")) else now


def _change(
    ctx: _Context, name: str, new: Number | bool, probe: Number | bool, exclusive: bool = False
) -> Change:
    """The change to ``new``; ``probe`` is the value the engine was asked about (beyond ``new``
    for an exclusive change, which may start at the current value itself)."""
    current = input_value(ctx.card, ctx.ruleset, name)
    if name in FLAG_INPUTS:
        return Change(name, "on" if new else "off", None, current, new)
    amount = abs(Fraction(new) - Fraction(current))  # type: ignore[arg-type]
    if name != LIVING_AREA:
        amount = int(amount)
    per_person = Fraction(amount, ctx.n) if name in (FAMILY_INCOME, CARD_TURNOVER) else None
    return Change(
        name,
        "increase" if probe > current else "decrease",  # type: ignore[operator]
        amount,
        current,
        new,
        exclusive,
        per_person,
    )


def _ray(
    ctx: _Context, name: str, direction: int, predicate: Predicate
) -> tuple[Number | bool, Number | bool, bool, Assessment, Card] | None:
    """(new value, probe value, exclusive, assessment, card) for any input, or None."""
    if name in FLAG_INPUTS:
        if direction < 0:
            return None
        hit = _flag_flip(ctx, name)
        if hit is None or not predicate(hit[1]):
            return None
        return hit[0], hit[0], False, hit[1], hit[2]
    if name == LIVING_AREA:
        area = _area_ray(ctx, direction, predicate)
        if area is None:
            return None
        boundary, probe, exclusive, result, card = area
        return boundary, probe, exclusive, result, card
    found = _int_ray(ctx, name, direction, predicate)
    if found is None:
        return None
    u, probe, result, card = found
    return u, probe, False, result, card


def _input_suggestions(ctx: _Context, margin: Fraction) -> list[Suggestion]:
    base = ctx.base
    out: list[Suggestion] = []
    driving = CARD_TURNOVER if ctx.hidden else FAMILY_INCOME
    limit = margin * ctx.n * ctx.pm  # the borderline margin in tenge per family and month

    def moves(result: Assessment) -> bool:
        return result.category != base.category

    for name in INPUTS:
        if not _has_rules(ctx, name):
            continue
        for direction in (-1, 1):
            hit = _ray(ctx, name, direction, moves)
            if hit is None:
                continue
            new, probe, exclusive, result, _card = hit
            change = _change(ctx, name, new, probe, exclusive)
            out.append(
                Suggestion(
                    kind="input",
                    category=result.category,
                    direction=_direction(base.category, result.category),
                    changes=(change,),
                    because=_because(base, result),
                    hidden_income_after=_hidden_switch(base, result),
                    borderline=name == driving
                    and change.amount is not None
                    and change.amount <= limit,
                )
            )
    return out


def _rule(cond: Condition, values: Sequence[Any]) -> Rule:
    return Rule(
        cond.effect,
        cond.position,
        cond.criterion,
        cond.op,
        cond.threshold,
        cond.points,
        bool(cond.test(values[cond.index], cond.threshold)),
    )


def _point_suggestions(ctx: _Context) -> list[Suggestion]:
    base = ctx.base
    out = []
    for cond in (*ctx.ruleset.vulnerability, *ctx.ruleset.wealth):
        if not cond.points:
            continue
        rule = _rule(cond, base.values)
        sign = 1 if cond.effect == "vulnerability" else -1
        net = base.net + (-sign if rule.fired else sign) * cond.points
        _high, _shift, category = decide(ctx.ruleset, len(base.markers), base.base_category, net)
        if category != base.category:
            out.append(
                Suggestion(
                    kind="point",
                    category=category,
                    direction=_direction(base.category, category),
                    rules=(rule,),
                    hypothetical=True,
                )
            )
    return out


def _marker_sets(ctx: _Context, fired: list[Condition]) -> list[tuple[Condition, ...]]:
    mode = ctx.ruleset.marker_mode
    if mode == "any":
        return [tuple(fired)]
    if mode == "all":
        return [(m,) for m in fired]
    size = len(fired) - ctx.ruleset.marker_min_count + 1
    return list(itertools.islice(itertools.combinations(fired, size), MAX_MARKER_PLANS))


def _stop_markers(
    ctx: _Context, group: tuple[Condition, ...]
) -> list[tuple[str, Number | bool, Number | bool, bool]] | None:
    """The smallest change that stops every marker of ``group``: a list of (input, new value,
    probe value, exclusive) — one item, or two for an income marker that one input cannot
    stop — or None.

    Two items: with the hidden-income test firing on a turnover and a declared income both
    above the marker's edge, the turnover alone only hands the effective income back to the
    declared one, and the declared income alone changes nothing while the turnover counts.
    Then the declared income falls by the smallest amount that stops the marker once the
    turnover no longer counts, and the turnover by the smallest amount that keeps it stopped
    after that; each step is an exact ray, and one unit less of either leaves the marker on.
    """

    def stopped(result: Assessment) -> bool:
        return not any(c.test(result.values[c.index], c.threshold) for c in group)

    inputs = MARKER_INPUTS.get(group[0].criterion, ())
    best: tuple[Fraction, str, Number | bool, Number | bool, bool] | None = None
    for name in inputs:
        current = input_value(ctx.card, ctx.ruleset, name)
        for direction in (-1, 1):
            hit = _ray(ctx, name, direction, stopped)
            if hit is None:
                continue
            new, probe, exclusive, _result, _card = hit
            size = (
                Fraction(0) if name in FLAG_INPUTS else abs(Fraction(new) - Fraction(current))  # type: ignore[arg-type]
            )
            if best is None or size < best[0]:
                best = (size, name, new, probe, exclusive)
    if best is not None:
        return [best[1:]]
    if FAMILY_INCOME not in inputs or CARD_TURNOVER not in inputs or not ctx.turnover:
        return None
    without_turnover = _context(set_input(ctx.card, ctx.ruleset, CARD_TURNOVER, 0), ctx.ruleset)
    income = _ray(without_turnover, FAMILY_INCOME, -1, stopped)
    if income is None:
        return None
    declared = set_input(ctx.card, ctx.ruleset, FAMILY_INCOME, income[0])
    turnover = _ray(_context(declared, ctx.ruleset), CARD_TURNOVER, -1, stopped)
    if turnover is None:
        return None
    return [
        (FAMILY_INCOME, income[0], income[1], False),
        (CARD_TURNOVER, turnover[0], turnover[1], False),
    ]


def _context(card: Card, ruleset: CompiledRuleSet, base: Assessment | None = None) -> _Context:
    if base is None:
        base = assess(card, ruleset, card_sha256="-")
    return _Context(
        card=card,
        ruleset=ruleset,
        base=base,
        thresholds=_thresholds(ruleset),
        n=int(base.value("family_size")),  # type: ignore[arg-type]
        pm=ruleset.subsistence_minimum_for(card.as_of.year),
        declared=int(base.value("declared_income")),  # type: ignore[arg-type]
        informal=int(base.value("informal_income")),  # type: ignore[arg-type]
        turnover=card.spending.card_turnover_monthly_kzt or 0,
        payments=card.credit.monthly_payments_kzt,
    )


def _marker_suggestions(ctx: _Context) -> list[Suggestion]:
    base = ctx.base
    fired = [m for m in ctx.ruleset.markers if m.test(base.values[m.index], m.threshold)]
    out = []
    for chosen in _marker_sets(ctx, fired):
        groups: dict[tuple[str, ...], list[Condition]] = {}
        for m in chosen:
            groups.setdefault(MARKER_INPUTS.get(m.criterion, ()), []).append(m)
        card = ctx.card
        changes: list[Change] = []
        assumed: list[Condition] = []
        for inputs, members in groups.items():
            found = _stop_markers(ctx, tuple(members)) if inputs else None
            if found is None:
                assumed.extend(members)
                continue
            for name, new, probe, exclusive in found:
                changes.append(_change(ctx, name, new, probe, exclusive))
                card = set_input(card, ctx.ruleset, name, probe)
        result = ctx.assess(card) if changes else base
        still = [
            m
            for m in ctx.ruleset.markers
            if m not in assumed and m.test(result.values[m.index], m.threshold)
        ]
        _high, _shift, category = decide(ctx.ruleset, len(still), result.base_category, result.net)
        if category == 6:
            continue
        changes.sort(key=lambda c: INPUTS.index(c.input))
        out.append(
            Suggestion(
                kind="markers",
                category=category,
                direction=_direction(base.category, category),
                changes=tuple(changes),
                rules=tuple(_rule(m, base.values) for m in chosen),
                because=_because(base, result) if changes else (),
                hidden_income_after=_hidden_switch(base, result),
                hypothetical=bool(assumed),
            )
        )
    return out


def what_would_change(
    card: Card | ParsedCard,
    ruleset: CompiledRuleSet,
    assessment: Assessment | None = None,
) -> Counterfactuals:
    """Every exact counterfactual of ``card`` under ``ruleset`` (see the module docs).

    ``assessment`` is the card's assessment with this rule set (computed when not given); a
    different one (another card or rule set) raises ``ValueError``. Raises
    :class:`scoring.ruleset.MissingParameterError` when the rule set has no ПМ/МЗП for the
    card's year, like the engine.
    """
    if isinstance(card, ParsedCard):
        sha = card.sha256
        card = card.card
    else:
        sha = None
    fresh = assess(
        card, ruleset, card_sha256=sha or (assessment.card_sha256 if assessment else None)
    )
    if assessment is not None and (
        assessment.ruleset_version != ruleset.version
        or assessment.values != fresh.values
        or assessment.category != fresh.category
    ):
        raise ValueError("the assessment is not this card's with this rule set")
    base = fresh
    ctx = _context(card, ruleset, base)
    margin = ruleset.parameters.borderline_margin
    suggestions = _input_suggestions(ctx, margin)
    if base.high_welfare:
        suggestions += _marker_suggestions(ctx)
    suggestions += _point_suggestions(ctx)
    return Counterfactuals(
        category=base.category,
        high_welfare=base.high_welfare,
        ruleset_version=ruleset.version,
        card_sha256=base.card_sha256,
        family_size=ctx.n,
        subsistence_minimum=ctx.pm,
        margin=margin,
        borderline=any(s.borderline for s in suggestions),
        suggestions=tuple(suggestions),
    )


# --------------------------------------------------------------------------- JSON forms


def _ratio_json(value: Fraction) -> dict[str, str]:
    f = Fraction(value)
    return {"exact": f"{f.numerator}/{f.denominator}", "decimal": decimal_text(f)}


def _ratio_from_json(data: Any) -> Fraction:
    return Fraction(str(data["exact"]))


def _threshold_json(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    f = Fraction(value)
    if f.denominator == 1:
        return str(f.numerator)
    return format(_exact_decimal(f), "f")


def _threshold_from_json(value: Any) -> int | Fraction | bool:
    if isinstance(value, bool):
        return value
    f = Fraction(str(value))
    return f.numerator if f.denominator == 1 else f


def _input_number_json(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in FLAG_INPUTS:
        return bool(value)
    if name == LIVING_AREA:
        return _ratio_json(Fraction(value))
    return int(value)


def _input_number_from_json(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in FLAG_INPUTS:
        return _bool(value)
    if name == LIVING_AREA:
        return _ratio_from_json(value)
    return _int(value)


def _change_json(c: Change) -> dict[str, Any]:
    return {
        "input": c.input,
        "direction": c.direction,
        "unit": c.unit,
        "amount": _input_number_json(c.input, c.amount),
        "exclusive": c.exclusive,
        "current": _input_number_json(c.input, c.current),
        "new": _input_number_json(c.input, c.new),
        "per_person": None if c.per_person is None else _ratio_json(c.per_person),
    }


def _change_from_json(data: Mapping[str, Any]) -> Change:
    name = str(data["input"])
    if name not in INPUT_UNITS:
        raise ValueError(f"unknown input {name!r}")
    per_person = data["per_person"]
    return Change(
        name,
        str(data["direction"]),
        _input_number_from_json(name, data["amount"]),
        _input_number_from_json(name, data["current"]),
        _input_number_from_json(name, data["new"]),
        _bool(data["exclusive"]),
        None if per_person is None else _ratio_from_json(per_person),
    )


def _rule_json(r: Rule) -> dict[str, Any]:
    return {
        "effect": r.effect,
        "position": r.position,
        "criterion": r.criterion,
        "op": r.op,
        "threshold": _threshold_json(r.threshold),
        "points": r.points,
        "fired": r.fired,
    }


def _rule_from_json(data: Mapping[str, Any]) -> Rule:
    return Rule(
        str(data["effect"]),
        _int(data["position"]),
        str(data["criterion"]),
        str(data["op"]),
        _threshold_from_json(data["threshold"]),
        _int(data["points"]),
        _bool(data["fired"]),
    )


def _suggestion_json(s: Suggestion) -> dict[str, Any]:
    return {
        "kind": s.kind,
        "category": s.category,
        "direction": s.direction,
        "borderline": s.borderline,
        "hypothetical": s.hypothetical,
        "hidden_income_after": s.hidden_income_after,
        "changes": [_change_json(c) for c in s.changes],
        "rules": [_rule_json(r) for r in s.rules],
        "because": [{"criterion": r.criterion, "effect": r.effect} for r in s.because],
    }


def _suggestion_from_json(data: Mapping[str, Any]) -> Suggestion:
    return Suggestion(
        kind=str(data["kind"]),
        category=_int(data["category"]),
        direction=str(data["direction"]),
        changes=tuple(_change_from_json(c) for c in data["changes"]),
        rules=tuple(_rule_from_json(r) for r in data["rules"]),
        because=tuple(Reason(str(r["criterion"]), str(r["effect"])) for r in data["because"]),
        borderline=_bool(data["borderline"]),
        hypothetical=_bool(data["hypothetical"]),
        hidden_income_after=None
        if data["hidden_income_after"] is None
        else _bool(data["hidden_income_after"]),
    )


def _int(value: Any) -> int:
    if type(value) is not int:
        raise ValueError(f"expected an integer, got {type(value).__name__}")
    return value


def _bool(value: Any) -> bool:
    if type(value) is not bool:
        raise ValueError(f"expected a boolean, got {type(value).__name__}")
    return value
