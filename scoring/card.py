"""Parse and validate a Digital Family Card extract (``family-card/1``).

``parse_card_document(doc)`` turns a JSON document (a mapping, or JSON text) into a
:class:`ParsedCard` — the immutable :class:`Card`, the decoded document and its SHA-256 — or
raises :class:`CardError` listing every problem found, each with a path such as
``members[2].iin`` and a translatable reason. ``parse_card(doc)`` returns just the card.

Validation is the JSON Schema of the contract (``scoring/schemas/family-card.schema.json``,
Draft 2020-12, dates format-checked, patterns and integers with JSON Schema's own semantics)
plus what a schema cannot say: the ИИН check digit and birth date, a member's birth date not
after ``as_of`` and agreeing with the ИИН, one member per ИИН, the БИН check digit of legal
entities, finite numbers within :mod:`scoring.jsondoc`'s limits, text that is real Unicode.

JSON text is decoded by :func:`scoring.jsondoc.load_json_document`: numbers exact (a
``Decimal`` for anything written with a fraction or an exponent), bounded size and nesting.

Two paths, one answer:

* the **fast path** asks a compiled validator (``jsonschema-rs``) only "valid or not?", then
  builds the card while making the semantic checks; it gives up (returns nothing) at the first
  doubt — a schema failure, a failed check, a value it cannot read;
* the **explaining path** (:func:`parse_card_explained`, the path every card took before)
  runs the Python JSON Schema validator and every semantic check and reports all problems.

A card the fast path accepts is one the explaining path accepts (a property test feeds both).

Pure: no ORM, no settings needed. Reasons are lazy translations (``gettext_lazy``); they are only
rendered when turned into ``str``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import jsonschema_rs
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from jsonschema.exceptions import ValidationError

from schools.identifiers import bin_error, iin_birth_date, iin_error, iin_matches_birth_date
from scoring.jsondoc import (
    JSONDocumentError,
    canonical_json,
    ecma_search,
    load_json_document,
    number_in_range,
    quick_load_unchecked_keys,
    schema_validator,
)

__all__ = [
    "CARD_SCHEMA",
    "MAX_PROBLEMS",
    "Business",
    "Card",
    "CardError",
    "Credit",
    "DocumentError",
    "Housing",
    "Incomes",
    "LegalEntity",
    "Living",
    "Member",
    "ParsedCard",
    "Problem",
    "Property",
    "SocialStatus",
    "Spending",
    "Vehicle",
    "canonical_json",
    "card_problems",
    "card_sha256",
    "format_path",
    "load_json_document",
    "parse_card",
    "parse_card_document",
    "parse_card_explained",
    "parse_trusted_card",
]

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
CARD_SCHEMA: dict[str, Any] = json.loads(
    (SCHEMA_DIR / "family-card.schema.json").read_text(encoding="utf-8")
)
_VALIDATOR = schema_validator(CARD_SCHEMA)
_FAST_VALIDATOR = jsonschema_rs.Draft202012Validator(CARD_SCHEMA, validate_formats=True)

_IIN_PATTERN = "^[0-9]{12}$"

#: At most this many problems are listed for one document (then one "and more" line).
MAX_PROBLEMS: Final = 100


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a document.

    ``path`` locates it (``""`` is the whole document, ``members[2].iin`` a field), ``code`` is a
    stable machine-readable name (``iin.checksum``, ``schema.required``, …) and ``reason`` a
    human sentence, lazily translated.
    """

    path: str
    code: str
    reason: Any = field(compare=False)

    def as_dict(self) -> dict[str, str]:
        """Path, code and the reason rendered in the active language (needs Django settings)."""
        return {"path": self.path, "code": self.code, "reason": str(self.reason)}


class DocumentError(ValueError):
    """A document was rejected; ``problems`` says where and why."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        parts = []
        for p in self.problems:
            try:
                reason = str(p.reason)
            except Exception:  # settings not configured: fall back to the stable code
                reason = p.code
            parts.append(f"{p.path or '(document)'}: {reason}")
        noun = "problem" if len(parts) == 1 else "problems"
        return f"{len(parts)} {noun}: " + "; ".join(parts)

    @property
    def paths(self) -> list[str]:
        return [p.path for p in self.problems]

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.problems]


class CardError(DocumentError):
    """The family card is not a valid ``family-card/1`` document."""


_NAME: Final = re.compile(r"[A-Za-z0-9_-]+")
_KEY_SHOWN: Final = 40


def format_path(parts: Iterable[str | int]) -> str:
    """``("members", 2, "iin")`` → ``members[2].iin``.

    A key that is not a plain name (an unknown field of a hostile document: spaces, newlines,
    non-ASCII, lone surrogates, 100 KB long) is shown quoted and escaped, at most 40 characters:
    ``members[0]["a\\nb"]``; a path is always printable UTF-8 text.
    """
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif len(part) <= _KEY_SHOWN and _NAME.fullmatch(part):
            out += f".{part}" if out else part
        else:
            shown = json.dumps(part[:_KEY_SHOWN])
            if len(part) > _KEY_SHOWN:
                shown = shown[:-1] + '…"'
            out += f"[{shown}]"
    return out


def _sort_key(parts: Sequence[str | int]) -> tuple[tuple[int, Any], ...]:
    return tuple((0, p) if isinstance(p, int) else (1, p) for p in parts)


_PATTERN_REASONS: dict[str, Any] = {
    _IIN_PATTERN: _("Должно состоять ровно из 12 цифр."),
}


def _schema_error_problems(
    error: ValidationError, pattern_reasons: Mapping[str, Any], seen: set[tuple[str, str]]
) -> list[tuple[list[str | int], Problem]]:
    """Translate one jsonschema error into problems with paths and readable reasons."""
    parts: list[str | int] = list(error.absolute_path)
    kind = str(error.validator)
    found: list[tuple[list[str | int], str, Any]] = []
    if kind == "required" and isinstance(error.instance, Mapping):
        for name in error.validator_value:
            if name not in error.instance:
                found.append((parts + [name], "schema.required", _("Обязательное поле.")))
    elif kind == "additionalProperties" and isinstance(error.instance, Mapping):
        known = error.schema.get("properties", {})
        patterns = list(error.schema.get("patternProperties", {}))
        for name in error.instance:
            if name in known or any(ecma_search(p, name) for p in patterns):
                continue
            found.append((parts + [name], "schema.unknown_field", _("Неизвестное поле.")))
            if len(found) > MAX_PROBLEMS:
                break
    else:
        found.append((parts, f"schema.{kind}", _schema_reason(kind, error, pattern_reasons)))
    out = []
    for item_parts, code, reason in found:
        path = format_path(item_parts)
        if (path, code) in seen:
            continue
        seen.add((path, code))
        out.append((item_parts, Problem(path, code, reason)))
    return out


def _schema_reason(kind: str, error: ValidationError, pattern_reasons: Mapping[str, Any]) -> Any:
    limit = error.validator_value
    if kind == "type":
        expected = limit if isinstance(limit, str) else " or ".join(limit)
        return format_lazy(_("Неверный тип: ожидается {expected}."), expected=expected)
    if kind == "enum":
        allowed = ", ".join(json.dumps(v, ensure_ascii=False) for v in limit)
        return format_lazy(_("Допустимые значения: {allowed}."), allowed=allowed)
    if kind == "const":
        return format_lazy(
            _("Должно быть равно {value}."), value=json.dumps(limit, ensure_ascii=False)
        )
    if kind == "format":
        if limit == "date":
            return _("Должно быть существующей датой в формате ГГГГ-ММ-ДД.")
        return format_lazy(_("Должно быть в формате {format}."), format=limit)
    if kind == "minimum":
        return format_lazy(_("Должно быть не меньше {limit}."), limit=limit)
    if kind == "exclusiveMinimum":
        return format_lazy(_("Должно быть больше {limit}."), limit=limit)
    if kind == "maximum":
        return format_lazy(_("Должно быть не больше {limit}."), limit=limit)
    if kind == "exclusiveMaximum":
        return format_lazy(_("Должно быть меньше {limit}."), limit=limit)
    if kind == "minLength":
        return format_lazy(_("Длина должна быть не меньше {limit} символов."), limit=limit)
    if kind == "maxLength":
        return format_lazy(_("Длина должна быть не больше {limit} символов."), limit=limit)
    if kind == "minItems":
        return format_lazy(_("Должно содержать не меньше {limit} элементов."), limit=limit)
    if kind == "maxItems":
        return format_lazy(_("Должно содержать не больше {limit} элементов."), limit=limit)
    if kind == "minProperties":
        return format_lazy(_("Должно содержать не меньше {limit} записей."), limit=limit)
    if kind == "uniqueItems":
        return _("Элементы не должны повторяться.")
    if kind == "pattern":
        return pattern_reasons.get(limit, _("Не соответствует требуемому формату."))
    return format_lazy(_("Недопустимое значение ({rule})."), rule=kind)


def card_sha256(doc: Mapping[str, Any] | str | bytes) -> str:
    """Hex SHA-256 of the canonical JSON of a card document (mapping or JSON text)."""
    if isinstance(doc, (str, bytes, bytearray)):
        doc = load_json_document(doc)
    return hashlib.sha256(canonical_json(doc)).hexdigest()


# --------------------------------------------------------------------------- the parsed card


@dataclass(frozen=True, slots=True)
class Incomes:
    salary: int
    pension: int
    social_benefits: int
    business: int
    other: int

    @property
    def total(self) -> int:
        return self.salary + self.pension + self.social_benefits + self.business + self.other


@dataclass(frozen=True, slots=True)
class Member:
    iin: str = field(repr=False)  # never in logs
    relation: str
    birth_date: dt.date
    sex: str
    disability_group: str | None
    chronic_illness: bool
    education: str
    employment: str
    incomes: Incomes = field(repr=False)  # never in logs
    informal_work_signal: bool


@dataclass(frozen=True, slots=True)
class Housing:
    kind: str
    area_m2: int | Decimal  # exact, as written


@dataclass(frozen=True, slots=True)
class Vehicle:
    kind: str
    year: int


@dataclass(frozen=True, slots=True)
class Property:
    housing: tuple[Housing, ...]
    land_plots: int
    vehicles: tuple[Vehicle, ...]
    livestock_units: int
    deposits_kzt: int = field(repr=False)


@dataclass(frozen=True, slots=True)
class Living:
    tenure: str
    area_m2: int | Decimal  # exact, as written


@dataclass(frozen=True, slots=True)
class LegalEntity:
    bin: str
    role: str
    active: bool


@dataclass(frozen=True, slots=True)
class Business:
    legal_entities: tuple[LegalEntity, ...]
    individual_entrepreneur: bool


@dataclass(frozen=True, slots=True)
class Credit:
    monthly_payments_kzt: int = field(repr=False)
    overdue_90_days: bool


@dataclass(frozen=True, slots=True)
class Spending:
    card_turnover_monthly_kzt: int | None = field(repr=False)


@dataclass(frozen=True, slots=True)
class SocialStatus:
    receives_asp: bool
    orphan_guardianship: bool
    emergency_affected: bool


@dataclass(frozen=True, slots=True)
class Card:
    """A validated ``family-card/1`` document. Build it with :func:`parse_card`.

    Integers are ``int`` whatever their notation (``5.0`` and ``1E+3`` are integers); floor
    areas are the exact number written (``int`` or :class:`~decimal.Decimal`)."""

    family_id: str
    as_of: dt.date
    region: str
    members: tuple[Member, ...]
    property: Property
    living: Living
    business: Business
    credit: Credit
    spending: Spending
    social_status: SocialStatus
    # SHA-256 of the document the card was parsed from; filled lazily by ``sha256()``.
    _sha256: str | None = field(default=None, compare=False, repr=False)

    SCHEMA = "family-card/1"

    def sha256(self) -> str:
        """The card's SHA-256 (of the parsed document, else of :meth:`to_dict`)."""
        if self._sha256 is None:
            object.__setattr__(self, "_sha256", card_sha256(self.to_dict()))
        return self._sha256  # type: ignore[return-value]

    def to_dict(self) -> dict[str, Any]:
        """The ``family-card/1`` document of this card (areas as ``Decimal``: write it with
        :func:`scoring.jsondoc.canonical_json`)."""
        return {
            "schema": self.SCHEMA,
            "family_id": self.family_id,
            "as_of": self.as_of.isoformat(),
            "region": self.region,
            "members": [
                {
                    "iin": m.iin,
                    "relation": m.relation,
                    "birth_date": m.birth_date.isoformat(),
                    "sex": m.sex,
                    "disability_group": m.disability_group,
                    "chronic_illness": m.chronic_illness,
                    "education": m.education,
                    "employment": m.employment,
                    "incomes": {
                        "salary": m.incomes.salary,
                        "pension": m.incomes.pension,
                        "social_benefits": m.incomes.social_benefits,
                        "business": m.incomes.business,
                        "other": m.incomes.other,
                    },
                    "informal_work_signal": m.informal_work_signal,
                }
                for m in self.members
            ],
            "property": {
                "housing": [{"kind": h.kind, "area_m2": h.area_m2} for h in self.property.housing],
                "land_plots": self.property.land_plots,
                "vehicles": [{"kind": v.kind, "year": v.year} for v in self.property.vehicles],
                "livestock_units": self.property.livestock_units,
                "deposits_kzt": self.property.deposits_kzt,
            },
            "living": {"tenure": self.living.tenure, "area_m2": self.living.area_m2},
            "business": {
                "legal_entities": [
                    {"bin": e.bin, "role": e.role, "active": e.active}
                    for e in self.business.legal_entities
                ],
                "individual_entrepreneur": self.business.individual_entrepreneur,
            },
            "credit": {
                "monthly_payments_kzt": self.credit.monthly_payments_kzt,
                "overdue_90_days": self.credit.overdue_90_days,
            },
            "spending": {"card_turnover_monthly_kzt": self.spending.card_turnover_monthly_kzt},
            "social_status": {
                "receives_asp": self.social_status.receives_asp,
                "orphan_guardianship": self.social_status.orphan_guardianship,
                "emergency_affected": self.social_status.emergency_affected,
            },
        }


@dataclass(frozen=True, slots=True)
class ParsedCard:
    """What crosses the border once a card is parsed: the card, the decoded document it was
    parsed from (numbers exact; the document to freeze) and that document's SHA-256.

    Build it with :func:`parse_card_document`; do not change ``document`` afterwards (an
    assessment refuses a document whose hash no longer matches).
    """

    card: Card
    document: Mapping[str, Any] = field(repr=False)
    sha256: str


# --------------------------------------------------------------------------- semantic checks

_IIN_REASONS = {
    "format": _("ИИН состоит ровно из 12 цифр."),
    "date": _("В ИИН закодирована несуществующая дата рождения."),
    "checksum": _("Неверная контрольная цифра ИИН."),
}
_BIN_REASONS = {
    "format": _("БИН состоит ровно из 12 цифр."),
    "checksum": _("Неверная контрольная цифра БИН."),
}
_DATE_TEXT: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: Semantic checks look at no more list entries than this (the schema caps lists at 30–50).
_MAX_CHECKED_ITEMS: Final = 2 * MAX_PROBLEMS
_INCOME_FIELDS: Final = ("salary", "pension", "social_benefits", "business", "other")


def _date_or_none(value: Any) -> dt.date | None:
    if not isinstance(value, str) or _DATE_TEXT.fullmatch(value) is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _items(container: Any, key: str) -> list[tuple[int, Mapping[str, Any]]]:
    values = container.get(key) if isinstance(container, Mapping) else None
    if not isinstance(values, list):
        return []
    return [(i, v) for i, v in enumerate(values[:_MAX_CHECKED_ITEMS]) if isinstance(v, Mapping)]


def _numbers(doc: Mapping[str, Any]) -> list[tuple[list[str | int], Any]]:
    """Every numeric field of a card document that is present: (path parts, value)."""
    out: list[tuple[list[str | int], Any]] = []
    for i, member in _items(doc, "members"):
        incomes = member.get("incomes")
        if isinstance(incomes, Mapping):
            for name in _INCOME_FIELDS:
                if name in incomes:
                    out.append((["members", i, "incomes", name], incomes[name]))
    prop = doc.get("property")
    if isinstance(prop, Mapping):
        for name in ("land_plots", "livestock_units", "deposits_kzt"):
            if name in prop:
                out.append((["property", name], prop[name]))
        for k, home in _items(prop, "housing"):
            if "area_m2" in home:
                out.append((["property", "housing", k, "area_m2"], home["area_m2"]))
        for k, vehicle in _items(prop, "vehicles"):
            if "year" in vehicle:
                out.append((["property", "vehicles", k, "year"], vehicle["year"]))
    for section, name in (
        ("living", "area_m2"),
        ("credit", "monthly_payments_kzt"),
        ("spending", "card_turnover_monthly_kzt"),
    ):
        part = doc.get(section)
        if isinstance(part, Mapping) and name in part:
            out.append(([section, name], part[name]))
    return out


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _semantic_problems(doc: Mapping[str, Any]) -> list[tuple[list[str | int], Problem]]:
    """Checks the schema cannot express. Defensive: runs on documents that failed the schema.

    Every ИИН and БИН string is checked (``*.format`` problems are dropped by
    :func:`card_problems` where the schema already reported that path).
    """
    out: list[tuple[list[str | int], Problem]] = []

    def add(parts: list[str | int], code: str, reason: Any) -> None:
        out.append((parts, Problem(format_path(parts), code, reason)))

    as_of = _date_or_none(doc.get("as_of"))
    first_seen: dict[str, int] = {}
    for i, member in _items(doc, "members"):
        iin = member.get("iin")
        birth = _date_or_none(member.get("birth_date"))
        if isinstance(iin, str):
            err = iin_error(iin)
            if err is not None:
                add(["members", i, "iin"], f"iin.{err}", _IIN_REASONS[err])
            else:
                if birth is not None and iin_birth_date(iin) != birth:
                    add(
                        ["members", i, "birth_date"],
                        "birth_date.iin_mismatch",
                        _("Дата рождения не совпадает с датой в ИИН."),
                    )
                first = first_seen.setdefault(iin, i)
                if first != i:
                    add(
                        ["members", i, "iin"],
                        "iin.duplicate",
                        format_lazy(
                            _("Этот ИИН уже указан в составе семьи: members[{first}]."),
                            first=first,
                        ),
                    )
        if birth is not None and as_of is not None and birth > as_of:
            add(
                ["members", i, "birth_date"],
                "birth_date.after_as_of",
                _("Дата рождения позже даты карты (as_of)."),
            )
    business = doc.get("business")
    for j, entity in _items(business, "legal_entities"):
        bin_ = entity.get("bin")
        if isinstance(bin_, str):
            err = bin_error(bin_)
            if err is not None:
                add(["business", "legal_entities", j, "bin"], f"bin.{err}", _BIN_REASONS[err])
    for parts, value in _numbers(doc):
        if isinstance(value, bool):
            continue
        if isinstance(value, float):
            # NaN and Infinity pass "number" and the minimum checks of JSON Schema.
            if not math.isfinite(value):
                add(parts, "number.not_finite", _("Должно быть конечным числом."))
        elif isinstance(value, Decimal) and not value.is_finite():
            add(parts, "number.not_finite", _("Должно быть конечным числом."))
        elif isinstance(value, (int, Decimal)) and not number_in_range(value):
            add(
                parts,
                "number.out_of_range",
                _(
                    "Число вне допустимого диапазона: не больше 1000 значащих цифр, "
                    "порядок от −1000 до +1000."
                ),
            )
    for name in ("family_id", "region"):
        value = doc.get(name)
        if isinstance(value, str) and not _is_text(value):
            add([name], "text.invalid", _("Текст содержит непарный суррогат UTF-16."))
    return out


def card_problems(doc: Any) -> list[Problem]:
    """Every problem of a decoded card document (empty list when valid).

    At most :data:`MAX_PROBLEMS` are listed, then one ``problems.more`` entry.
    """
    seen: set[tuple[str, str]] = set()
    items: list[tuple[list[str | int], Problem]] = []
    for error in _VALIDATOR.iter_errors(doc):
        items.extend(_schema_error_problems(error, _PATTERN_REASONS, seen))
        if len(items) > MAX_PROBLEMS:
            break
    if isinstance(doc, Mapping):
        schema_paths = {p.path for _parts, p in items}
        for parts, problem in _semantic_problems(doc):
            if problem.code.endswith(".format") and problem.path in schema_paths:
                continue  # the schema already said what is wrong with this value
            items.append((parts, problem))
    items.sort(key=lambda item: _sort_key(item[0]))
    problems = [p for _parts, p in items]
    if len(problems) > MAX_PROBLEMS:
        problems = problems[:MAX_PROBLEMS]
        problems.append(
            Problem("", "problems.more", _("…и другие ошибки: исправьте эти и проверьте снова."))
        )
    return problems


# --------------------------------------------------------------------------- building


class _Reject(Exception):
    """The fast path gives up: the explaining path will say why."""


def _int(value: Any) -> int:
    """An integer field's value as an ``int`` (``5.0``, ``Decimal("1E+3")`` → 5, 1000)."""
    if type(value) is int:
        return value
    if isinstance(value, bool):
        raise TypeError("a boolean is not an integer")
    if isinstance(value, Decimal):
        if not number_in_range(value):
            raise ValueError("number out of range")
        result = int(value)
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError("not an integer")
        result = int(value)
    else:
        raise TypeError(f"not a number: {type(value).__name__}")
    if result != value:
        raise ValueError("not an integer")
    return result


def _area(value: Any) -> int | Decimal:
    """A floor area, exactly: an ``int`` or the ``Decimal`` written (a float: its repr)."""
    if type(value) is int or type(value) is Decimal:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return Decimal(repr(value))
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return value
    raise TypeError(f"not a finite number: {type(value).__name__}")


_INT_LIMIT: Final = 10**1001


def _build(doc: Mapping[str, Any], check: bool) -> tuple[Card, bool]:
    """The :class:`Card` of a document, and whether a number in it was a binary float.

    ``check``: also make every semantic check (the fast path; raises :class:`_Reject` at the
    first doubt). Without it (stored, validated documents) a malformed document raises
    ``KeyError``, ``TypeError`` or ``ValueError``.
    """
    floats = False

    def num(value: Any) -> int:
        nonlocal floats
        if type(value) is int:
            if check and not -_INT_LIMIT < value < _INT_LIMIT:
                raise _Reject
            return value
        if type(value) is float:
            floats = True
        return _int(value)

    def area(value: Any) -> int | Decimal:
        nonlocal floats
        if type(value) is float:
            floats = True
        result = _area(value)
        if check and not number_in_range(result):
            raise _Reject
        return result

    as_of = dt.date.fromisoformat(doc["as_of"])
    members = []
    seen: set[str] = set()
    for m in doc["members"]:
        iin = m["iin"]
        birth = dt.date.fromisoformat(m["birth_date"])
        if check:
            if iin in seen or birth > as_of or not iin_matches_birth_date(iin, birth):
                raise _Reject
            seen.add(iin)
        inc = m["incomes"]
        members.append(
            Member(
                iin,
                m["relation"],
                birth,
                m["sex"],
                m["disability_group"],
                m["chronic_illness"],
                m["education"],
                m["employment"],
                Incomes(
                    num(inc["salary"]),
                    num(inc["pension"]),
                    num(inc["social_benefits"]),
                    num(inc["business"]),
                    num(inc["other"]),
                ),
                m["informal_work_signal"],
            )
        )
    p = doc["property"]
    vehicles = []
    for v in p["vehicles"]:
        year = num(v["year"])
        if check and not 1900 <= year <= 2100:
            raise _Reject
        vehicles.append(Vehicle(v["kind"], year))
    prop = Property(
        tuple(Housing(h["kind"], area(h["area_m2"])) for h in p["housing"]),
        num(p["land_plots"]),
        tuple(vehicles),
        num(p["livestock_units"]),
        num(p["deposits_kzt"]),
    )
    b = doc["business"]
    entities = []
    for e in b["legal_entities"]:
        if check and bin_error(e["bin"]) is not None:
            raise _Reject
        entities.append(LegalEntity(e["bin"], e["role"], e["active"]))
    turnover = doc["spending"]["card_turnover_monthly_kzt"]
    s = doc["social_status"]
    living = doc["living"]
    credit = doc["credit"]
    card = Card(
        doc["family_id"],
        as_of,
        doc["region"],
        tuple(members),
        prop,
        Living(living["tenure"], area(living["area_m2"])),
        Business(tuple(entities), b["individual_entrepreneur"]),
        Credit(num(credit["monthly_payments_kzt"]), credit["overdue_90_days"]),
        Spending(None if turnover is None else num(turnover)),
        SocialStatus(s["receives_asp"], s["orphan_guardianship"], s["emergency_affected"]),
    )
    return card, floats


# --------------------------------------------------------------------------- parsing

_BUILD_ERRORS: Final = (
    _Reject,
    KeyError,
    TypeError,
    ValueError,
    ArithmeticError,
    AttributeError,
    IndexError,
)


def _decode(doc: Any) -> Any:
    if isinstance(doc, (str, bytes, bytearray)):
        try:
            return load_json_document(doc)
        except JSONDocumentError as exc:
            raise CardError([Problem("", exc.code, exc.reason)]) from None
    return doc


def _finish(doc: Mapping[str, Any], card: Card, sha: str) -> ParsedCard:
    object.__setattr__(card, "_sha256", sha)
    return ParsedCard(card, doc, sha)


def _keys(card: Card) -> int:
    """How many keys a valid card document has (every field is required, no other allowed)."""
    return (
        26
        + 15 * len(card.members)
        + 2 * len(card.property.housing)
        + 2 * len(card.property.vehicles)
        + 3 * len(card.business.legal_entities)
    )


def _fast_parse(doc: Any, text: str | None = None) -> ParsedCard | None:
    """The card, or None at the first doubt (then the explaining path decides).

    ``text``: the JSON text ``doc`` was decoded from *without* the duplicate-key check. In a
    valid card the only free-text strings are ``family_id`` and ``region``; when neither holds
    a ``:``, every ``:`` of the text separates a key from its value, so the text has as many
    ``:`` as the document has keys exactly when no key was repeated.
    """
    try:
        if not _FAST_VALIDATOR.is_valid(doc):
            return None
    except Exception:  # noqa: BLE001 - a value the compiled validator cannot read
        return None
    try:
        card, floats = _build(doc, check=True)
        if text is not None and (
            ":" in card.family_id or ":" in card.region or text.count(":") != _keys(card)
        ):
            return None
        sha = hashlib.sha256(canonical_json(doc, floats=floats)).hexdigest()
    except _BUILD_ERRORS:
        return None
    return _finish(doc, card, sha)


def parse_card_explained(doc: Mapping[str, Any] | str | bytes) -> ParsedCard:
    """The explaining path: the full JSON Schema validation and every semantic check, then the
    card. What :func:`parse_card_document` falls back to; the benchmark's "old path"."""
    doc = _decode(doc)
    problems = card_problems(doc)
    if problems:
        raise CardError(problems)
    try:
        card, _floats = _build(doc, check=False)
        sha = hashlib.sha256(canonical_json(doc)).hexdigest()
    except _BUILD_ERRORS:  # pragma: no cover - every such document has a problem above
        raise CardError(
            [Problem("", "card.unreadable", _("Карту семьи не удалось прочитать."))]
        ) from None
    return _finish(doc, card, sha)


def parse_card_document(doc: Mapping[str, Any] | str | bytes) -> ParsedCard:
    """Validate a ``family-card/1`` document (mapping or JSON text) once: the
    :class:`ParsedCard` (card, decoded document, SHA-256). Raises :class:`CardError` with every
    problem found (at most :data:`MAX_PROBLEMS`)."""
    if isinstance(doc, (str, bytes, bytearray)):
        quick = quick_load_unchecked_keys(doc)
        if quick is not None:
            parsed = _fast_parse(*quick)
            if parsed is not None:
                return parsed
    doc = _decode(doc)
    parsed = _fast_parse(doc)
    return parsed if parsed is not None else parse_card_explained(doc)


def parse_card(doc: Mapping[str, Any] | str | bytes) -> Card:
    """Validate a ``family-card/1`` document (mapping or JSON text) and return the :class:`Card`.

    Raises :class:`CardError` with every problem found.
    """
    return parse_card_document(doc).card


def parse_trusted_card(doc: Mapping[str, Any], sha256: str | None = None) -> Card:
    """Build the :class:`Card` of an already-validated document, skipping validation.

    Only for cards that were validated when stored (the frozen card of an assessment, a golden
    case): no JSON Schema, no ИИН/БИН checks. ``sha256`` is the stored fingerprint, if known
    (else computed lazily by :meth:`Card.sha256`). A malformed document raises ``KeyError``,
    ``TypeError`` or ``ValueError``.
    """
    card, _floats = _build(doc, check=False)
    if sha256 is not None:
        object.__setattr__(card, "_sha256", sha256)
    return card
