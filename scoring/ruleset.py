"""Rule sets (``rule-set/1``): every number of the scoring methodology, as versioned data.

``compile_ruleset(doc)`` validates a rule-set document against
``scoring/schemas/rule-set.schema.json`` and the semantic rules a schema cannot express, then
returns an immutable :class:`CompiledRuleSet` whose thresholds are already exact numbers and whose
operators are already functions, ready for :func:`scoring.engine.assess`.

Errors are :class:`RuleSetError` with one :class:`~scoring.card.Problem` per fault, each with a
path such as ``bands[2].income_ratio_below``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from scoring.card import (
    DocumentError,
    Problem,
    _schema_error_problems,
    _sort_key,
    canonical_json,
    format_path,
    load_json_document,
)
from scoring.criteria import CRITERIA, CRITERION_INDEX, CRITERION_KIND, INCOME_RATIO_INDEX
from scoring.jsondoc import JSONDocumentError, schema_validator

__all__ = [
    "DEFAULT_BORDERLINE_MARGIN",
    "DEFAULT_RULESET_PATH",
    "EFFECTS",
    "LANGUAGES",
    "OPERATORS",
    "RULESET_SCHEMA",
    "Band",
    "Comparison",
    "CompiledRuleSet",
    "Condition",
    "MissingParameterError",
    "Parameters",
    "RuleSetError",
    "ShiftRow",
    "compile_ruleset",
    "load_default_ruleset",
    "ruleset_problems",
]

_HERE = Path(__file__).resolve().parent
DEFAULT_RULESET_PATH: Final = _HERE / "data" / "KZ-2026.1.json"
RULESET_SCHEMA: dict[str, Any] = json.loads(
    (_HERE / "schemas" / "rule-set.schema.json").read_text(encoding="utf-8")
)
_VALIDATOR = schema_validator(RULESET_SCHEMA)
_DECIMAL_PATTERN: Final = RULESET_SCHEMA["$defs"]["decimal"]["pattern"]
_PATTERN_REASONS = {
    _DECIMAL_PATTERN: _(
        'Должно быть неотрицательным десятичным числом, записанным строкой, например "0.55".'
    ),
    RULESET_SCHEMA["$defs"]["text"]["pattern"]: _("Не может быть пустым."),
    RULESET_SCHEMA["properties"]["version"]["pattern"]: _(
        "Допустимы только буквы, цифры, точки, дефисы и подчёркивания."
    ),
}

LANGUAGES: Final = ("ru", "kk", "en")

#: The fixed operator set. ``is`` is only for boolean criteria.
OPERATORS: Final[Mapping[str, Callable[[Any, Any], bool]]] = MappingProxyType(
    {
        ">=": operator.ge,
        ">": operator.gt,
        "<=": operator.le,
        "<": operator.lt,
        "==": operator.eq,
        "is": operator.is_,
    }
)
_OPS_FOR_KIND: Final = MappingProxyType(
    {
        "int": frozenset({">=", ">", "<=", "<", "=="}),
        "ratio": frozenset({">=", ">", "<=", "<", "=="}),
        "bool": frozenset({"is", "=="}),
    }
)

_KIND_NAMES: Final = MappingProxyType(
    {"int": _("целое число"), "ratio": _("дробное число"), "bool": _("да/нет")}
)

#: Effects of a comparison, in the order a criterion's comparisons are listed.
EFFECTS: Final = ("marker", "band", "vulnerability", "wealth")
_EFFECT_RANK: Final = {name: i for i, name in enumerate(EFFECTS)}

Threshold = int | Fraction | bool


class RuleSetError(DocumentError):
    """The rule set is not a valid ``rule-set/1`` document, or lacks a needed parameter."""


class MissingParameterError(RuleSetError):
    """The rule set has no value of a per-year parameter (ПМ, МЗП) for the card's year."""

    def __init__(self, parameter: str, year: int) -> None:
        self.parameter = parameter
        self.year = year
        names = {
            "subsistence_minimum": _("прожиточный минимум (ПМ)"),
            "minimum_wage": _("минимальная заработная плата (МЗП)"),
        }
        reason = format_lazy(
            _("В наборе правил нет значения «{parameter}» на {year} год; карту нельзя оценить."),
            parameter=names.get(parameter, parameter),
            year=year,
        )
        super().__init__(
            [Problem(f"parameters.{parameter}.{year}", "parameter.missing_year", reason)]
        )


# --------------------------------------------------------------------------- compiled objects


@dataclass(frozen=True, slots=True)
class Comparison:
    """One comparison of a criterion value against a threshold, as recorded in an assessment.

    ``effect`` is ``marker``, ``band``, ``vulnerability`` or ``wealth``. ``points`` is set for
    vulnerability/wealth points, ``category`` for bands. An open-ended last band has ``op`` and
    ``threshold`` None (it fires when reached).
    """

    criterion: str
    effect: str
    op: str | None
    threshold: Threshold | None
    fired: bool
    points: int | None = None
    category: int | None = None


@dataclass(frozen=True, slots=True)
class Condition:
    """A compiled marker or point rule: ``criterion op threshold``."""

    effect: str
    position: int  # index in its list of the document
    criterion: str
    index: int  # position of the criterion in CRITERIA
    op: str
    threshold: Threshold
    points: int  # 0 for markers
    test: Callable[[Any, Any], bool] = field(compare=False, repr=False)
    if_fired: Comparison = field(compare=False, repr=False)
    if_not: Comparison = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Band:
    """Base category ``category`` when ``income_ratio < below`` (``below`` None: open-ended)."""

    category: int
    below: Fraction | int | None
    if_fired: Comparison = field(compare=False, repr=False)
    if_not: Comparison = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ShiftRow:
    """Shift ``shift`` when net ≥ ``net_at_least`` (None: every remaining net)."""

    net_at_least: int | None
    shift: int


@dataclass(frozen=True, slots=True)
class Parameters:
    subsistence_minimum: Mapping[int, int]
    minimum_wage: Mapping[int, int]
    hidden_income_factor: Fraction
    informal_work_age_min: int
    informal_work_age_max: int
    dependant_min_age: int
    new_vehicle_max_age_years: int
    counted_vehicle_kinds: frozenset[str]
    adult_education_sufficient: frozenset[str]
    #: Optional in the document (``parameters.borderline_margin``): see
    #: :data:`DEFAULT_BORDERLINE_MARGIN` and :mod:`scoring.counterfactual`.
    borderline_margin: Fraction = Fraction(1, 20)


#: The borderline margin of a rule set whose document does not name one: a result is borderline
#: when a change of income per person of at most 5 % of ПМ would change the category.
DEFAULT_BORDERLINE_MARGIN: Final = "0.05"

#: Marks where the bands are evaluated inside :attr:`CompiledRuleSet.plan`.
BANDS_STEP: Final = None


@dataclass(frozen=True, slots=True, eq=False)
class CompiledRuleSet:
    """A validated rule set with exact thresholds and operator functions. Immutable.

    ``plan`` is the evaluation order used by the engine: every condition and the band block,
    sorted by criterion (CRITERIA order), then effect (marker, band, vulnerability, wealth),
    then position in the document.
    """

    version: str
    effective_from: dt.date
    description: Mapping[str, str]
    parameters: Parameters
    marker_mode: str
    marker_min_count: int
    markers: tuple[Condition, ...]
    bands: tuple[Band, ...]
    vulnerability: tuple[Condition, ...]
    wealth: tuple[Condition, ...]
    shift: tuple[ShiftRow, ...]
    category_labels: Mapping[int, Mapping[str, str]]
    criterion_labels: Mapping[str, Mapping[str, str]]
    plan: tuple[Condition | None, ...] = field(repr=False)
    sha256: str = field(repr=False)
    _document: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"<CompiledRuleSet {self.version} sha256={self.sha256[:12]}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompiledRuleSet):
            return NotImplemented
        return self._document == other._document

    def __hash__(self) -> int:
        return hash(self._document)

    def subsistence_minimum_for(self, year: int) -> int:
        """ПМ of ``year``; :class:`MissingParameterError` when the rule set has none."""
        value = self.parameters.subsistence_minimum.get(year)
        if value is None:
            raise MissingParameterError("subsistence_minimum", year)
        return value

    def minimum_wage_for(self, year: int) -> int:
        """МЗП of ``year``; :class:`MissingParameterError` when the rule set has none."""
        value = self.parameters.minimum_wage.get(year)
        if value is None:
            raise MissingParameterError("minimum_wage", year)
        return value

    def category_label(self, category: int, language: str = "ru") -> str:
        return self.category_labels[category][language]

    def criterion_label(self, code: str, language: str = "ru") -> str:
        return self.criterion_labels[code][language]

    def to_dict(self) -> dict[str, Any]:
        """The rule-set document this was compiled from (a fresh copy)."""
        return json.loads(self._document)

    def canonical_json(self) -> bytes:
        return self._document


# --------------------------------------------------------------------------- validation


def _threshold(value: str | bool) -> Threshold:
    if isinstance(value, bool):
        return value
    f = Fraction(value)
    return f.numerator if f.denominator == 1 else f


def _semantic_problems(doc: Mapping[str, Any]) -> list[tuple[list[str | int], Problem]]:
    """What the schema cannot check. Runs only on schema-valid documents."""
    out: list[tuple[list[str | int], Problem]] = []

    def add(parts: list[str | int], code: str, reason: Any) -> None:
        out.append((parts, Problem(format_path(parts), code, reason)))

    params = doc["parameters"]
    ages = params["informal_work_age"]
    if ages["min"] > ages["max"]:
        add(
            ["parameters", "informal_work_age", "max"],
            "parameters.age_range",
            _("Не может быть меньше минимального возраста."),
        )

    hw = doc["high_welfare"]
    if hw["min_count"] > len(hw["markers"]):
        add(
            ["high_welfare", "min_count"],
            "high_welfare.min_count",
            _("Не может превышать число маркеров."),
        )

    bands = doc["bands"]
    previous: Fraction | None = None
    last = len(bands) - 1
    for i, band in enumerate(bands):
        if band["category"] != i + 1:
            add(
                ["bands", i, "category"],
                "bands.order",
                format_lazy(
                    _(
                        "Интервалы должны перечислять категории с 1 по 5 по порядку; здесь ожидается {expected}."
                    ),
                    expected=i + 1,
                ),
            )
        below = band["income_ratio_below"]
        if below is None:
            if i != last:
                add(
                    ["bands", i, "income_ratio_below"],
                    "bands.open_not_last",
                    _("Без верхней границы (пусто) может быть только последний интервал."),
                )
            continue
        if i == last:
            add(
                ["bands", i, "income_ratio_below"],
                "bands.last_closed",
                _(
                    "Последний интервал должен быть без верхней границы (пусто), иначе бо́льшие отношения не попадут ни в один интервал."
                ),
            )
        value = Fraction(below)
        if previous is not None and value <= previous:
            add(
                ["bands", i, "income_ratio_below"],
                "bands.not_ascending",
                _(
                    "Должно быть больше границы предыдущего интервала, иначе интервал окажется пустым."
                ),
            )
        previous = value

    rows = doc["shift"]
    previous_net: int | None = None
    last = len(rows) - 1
    for i, row in enumerate(rows):
        net = row["net_at_least"]
        if net is None:
            if i != last:
                add(
                    ["shift", i, "net_at_least"],
                    "shift.open_not_last",
                    _("Пустой (все остальные баллы) может быть только последняя строка сдвигов."),
                )
            continue
        if i == last:
            add(
                ["shift", i, "net_at_least"],
                "shift.last_closed",
                _(
                    "Последняя строка сдвигов должна быть пустой (все остальные баллы), иначе меньшие итоговые баллы не попадут ни в одну строку."
                ),
            )
        if previous_net is not None and net >= previous_net:
            add(
                ["shift", i, "net_at_least"],
                "shift.not_descending",
                _("Должно быть меньше, чем в предыдущей строке."),
            )
        previous_net = net

    for section in ("high_welfare", "vulnerability_points", "wealth_points"):
        rules = doc[section]["markers"] if section == "high_welfare" else doc[section]
        base: list[str | int] = [section, "markers"] if section == "high_welfare" else [section]
        for i, rule in enumerate(rules):
            kind = CRITERION_KIND[rule["criterion"]]
            if rule["op"] not in _OPS_FOR_KIND[kind]:
                allowed = ", ".join(sorted(_OPS_FOR_KIND[kind]))
                add(
                    [*base, i, "op"],
                    "rule.op_for_type",
                    format_lazy(
                        _(
                            "Оператор недопустим для критерия вида «{kind}»; используйте один из: {allowed}."
                        ),
                        kind=_KIND_NAMES[kind],
                        allowed=allowed,
                    ),
                )
            if (kind == "bool") != isinstance(rule["value"], bool):
                reason = (
                    _("Критерий «да/нет» сравнивается с «да» или «нет».")
                    if kind == "bool"
                    else _("Числовой критерий сравнивается с числом, например 2 или 0.5.")
                )
                add([*base, i, "value"], "rule.value_for_type", reason)
    return out


def ruleset_problems(doc: Any) -> list[Problem]:
    """Every problem of a decoded rule-set document (empty list when valid)."""
    seen: set[tuple[str, str]] = set()
    items: list[tuple[list[str | int], Problem]] = []
    for error in _VALIDATOR.iter_errors(doc):
        items.extend(_schema_error_problems(error, _PATTERN_REASONS, seen))
    if not items:
        items.extend(_semantic_problems(doc))
    items.sort(key=lambda item: _sort_key(item[0]))
    return [p for _parts, p in items]


# --------------------------------------------------------------------------- compilation


def _conditions(effect: str, rules: Iterable[Mapping[str, Any]]) -> tuple[Condition, ...]:
    out = []
    for position, rule in enumerate(rules):
        code, op = rule["criterion"], rule["op"]
        threshold = _threshold(rule["value"])
        points = 0 if effect == "marker" else rule["points"]
        shown = None if effect == "marker" else points
        out.append(
            Condition(
                effect=effect,
                position=position,
                criterion=code,
                index=CRITERION_INDEX[code],
                op=op,
                threshold=threshold,
                points=points,
                test=OPERATORS[op],
                if_fired=Comparison(code, effect, op, threshold, True, shown),
                if_not=Comparison(code, effect, op, threshold, False, shown),
            )
        )
    return tuple(out)


def _integers(value: Any) -> Any:
    """The validated document with every number as an ``int`` (the schema admits only integers)."""
    if isinstance(value, dict):
        return {k: _integers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integers(v) for v in value]
    if isinstance(value, (float, Decimal)) and not isinstance(value, bool):
        return int(value)
    return value


def compile_ruleset(doc: Mapping[str, Any] | str | bytes) -> CompiledRuleSet:
    """Validate a ``rule-set/1`` document (mapping or JSON text) and compile it.

    Raises :class:`RuleSetError` with every problem found.
    """
    if isinstance(doc, (str, bytes, bytearray)):
        try:
            doc = load_json_document(doc)
        except JSONDocumentError as exc:
            raise RuleSetError([Problem("", exc.code, exc.reason)]) from None
    problems = ruleset_problems(doc)
    if problems:
        raise RuleSetError(problems)

    # Every number of a rule set is an integer (5.0 and 1E+3 included): hold them as int.
    doc = _integers(doc)
    document = canonical_json(doc)
    p = doc["parameters"]
    parameters = Parameters(
        subsistence_minimum=MappingProxyType(
            {int(y): v for y, v in p["subsistence_minimum"].items()}
        ),
        minimum_wage=MappingProxyType({int(y): v for y, v in p["minimum_wage"].items()}),
        hidden_income_factor=Fraction(p["hidden_income_factor"]),
        informal_work_age_min=p["informal_work_age"]["min"],
        informal_work_age_max=p["informal_work_age"]["max"],
        dependant_min_age=p["dependant_min_age"],
        new_vehicle_max_age_years=p["new_vehicle_max_age_years"],
        counted_vehicle_kinds=frozenset(p["counted_vehicle_kinds"]),
        adult_education_sufficient=frozenset(p["adult_education_sufficient"]),
        borderline_margin=Fraction(p.get("borderline_margin", DEFAULT_BORDERLINE_MARGIN)),
    )
    markers = _conditions("marker", doc["high_welfare"]["markers"])
    vulnerability = _conditions("vulnerability", doc["vulnerability_points"])
    wealth = _conditions("wealth", doc["wealth_points"])
    bands = []
    for band in doc["bands"]:
        below = band["income_ratio_below"]
        category = band["category"]
        if below is None:
            fired = Comparison("income_ratio", "band", None, None, True, None, category)
            bands.append(Band(category, None, fired, fired))
        else:
            t = _threshold(below)
            bands.append(
                Band(
                    category,
                    t,
                    Comparison("income_ratio", "band", "<", t, True, None, category),
                    Comparison("income_ratio", "band", "<", t, False, None, category),
                )
            )
    steps: list[tuple[tuple[int, int, int], Condition | None]] = [
        ((c.index, _EFFECT_RANK[c.effect], c.position), c)
        for c in (*markers, *vulnerability, *wealth)
    ]
    steps.append(((INCOME_RATIO_INDEX, _EFFECT_RANK["band"], 0), BANDS_STEP))
    steps.sort(key=lambda s: s[0])
    labels = doc["labels"]
    return CompiledRuleSet(
        version=doc["version"],
        effective_from=dt.date.fromisoformat(doc["effective_from"]),
        description=MappingProxyType(dict(doc["description"])),
        parameters=parameters,
        marker_mode=doc["high_welfare"]["mode"],
        marker_min_count=doc["high_welfare"]["min_count"],
        markers=markers,
        bands=tuple(bands),
        vulnerability=vulnerability,
        wealth=wealth,
        shift=tuple(ShiftRow(r["net_at_least"], r["shift"]) for r in doc["shift"]),
        category_labels=MappingProxyType(
            {int(k): MappingProxyType(dict(v)) for k, v in labels["categories"].items()}
        ),
        criterion_labels=MappingProxyType(
            {c.code: MappingProxyType(dict(labels["criteria"][c.code])) for c in CRITERIA}
        ),
        plan=tuple(step for _key, step in steps),
        sha256=hashlib.sha256(document).hexdigest(),
        _document=document,
    )


@lru_cache(maxsize=1)
def load_default_ruleset() -> CompiledRuleSet:
    """The rule set the project ships (``scoring/data/KZ-2026.1.json``), compiled once."""
    return compile_ruleset(DEFAULT_RULESET_PATH.read_bytes())
