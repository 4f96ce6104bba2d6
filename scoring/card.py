"""Parse and validate a Digital Family Card extract (``family-card/1``).

``parse_card(doc)`` turns a JSON document (a mapping, or JSON text) into an immutable
:class:`Card`, or raises :class:`CardError` listing every problem found, each with a path such
as ``members[2].iin`` and a translatable reason.

Validation is the JSON Schema of the contract (``scoring/schemas/family-card.schema.json``,
Draft 2020-12, dates format-checked) plus what a schema cannot say: the ИИН check digit and
birth date, a member's birth date not after ``as_of`` and agreeing with the ИИН, the БИН check
digit of legal entities, and finite numbers.

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
from pathlib import Path
from typing import Any

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from schools.identifiers import bin_error, iin_birth_date, iin_error

__all__ = [
    "CARD_SCHEMA",
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
    "parse_trusted_card",
]

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
CARD_SCHEMA: dict[str, Any] = json.loads(
    (SCHEMA_DIR / "family-card.schema.json").read_text(encoding="utf-8")
)
_VALIDATOR = Draft202012Validator(CARD_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)

_IIN_PATTERN = "^[0-9]{12}$"


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


def format_path(parts: Iterable[str | int]) -> str:
    """``("members", 2, "iin")`` → ``members[2].iin``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _sort_key(parts: Sequence[str | int]) -> tuple[tuple[int, Any], ...]:
    return tuple((0, p) if isinstance(p, int) else (1, p) for p in parts)


_PATTERN_REASONS: dict[str, Any] = {
    _IIN_PATTERN: _("Must be exactly 12 digits."),
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
                found.append((parts + [name], "schema.required", _("This field is required.")))
    elif kind == "additionalProperties" and isinstance(error.instance, Mapping):
        known = error.schema.get("properties", {})
        patterns = list(error.schema.get("patternProperties", {}))
        for name in error.instance:
            if name in known or any(re.search(p, name) for p in patterns):
                continue
            found.append((parts + [name], "schema.unknown_field", _("Unknown field.")))
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
        return format_lazy(_("Wrong type: expected {expected}."), expected=expected)
    if kind == "enum":
        allowed = ", ".join(json.dumps(v, ensure_ascii=False) for v in limit)
        return format_lazy(_("Must be one of: {allowed}."), allowed=allowed)
    if kind == "const":
        return format_lazy(_("Must be {value}."), value=json.dumps(limit, ensure_ascii=False))
    if kind == "format":
        if limit == "date":
            return _("Must be a real date written as YYYY-MM-DD.")
        return format_lazy(_("Must be in {format} format."), format=limit)
    if kind == "minimum":
        return format_lazy(_("Must be at least {limit}."), limit=limit)
    if kind == "exclusiveMinimum":
        return format_lazy(_("Must be greater than {limit}."), limit=limit)
    if kind == "maximum":
        return format_lazy(_("Must be at most {limit}."), limit=limit)
    if kind == "exclusiveMaximum":
        return format_lazy(_("Must be less than {limit}."), limit=limit)
    if kind == "minLength":
        return format_lazy(_("Must be at least {limit} characters long."), limit=limit)
    if kind == "maxLength":
        return format_lazy(_("Must be at most {limit} characters long."), limit=limit)
    if kind == "minItems":
        return format_lazy(_("Must have at least {limit} items."), limit=limit)
    if kind == "maxItems":
        return format_lazy(_("Must have at most {limit} items."), limit=limit)
    if kind == "minProperties":
        return format_lazy(_("Must have at least {limit} entries."), limit=limit)
    if kind == "uniqueItems":
        return _("Items must not repeat.")
    if kind == "pattern":
        return pattern_reasons.get(limit, _("Does not have the required form."))
    return format_lazy(_("Invalid value ({rule})."), rule=kind)


# --------------------------------------------------------------------------- JSON helpers


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def load_json_document(text: str | bytes | bytearray) -> Any:
    """Strict JSON: no NaN/Infinity, no duplicate keys. Raises ``ValueError``."""
    return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys)


def canonical_json(doc: Any) -> bytes:
    """Canonical UTF-8 JSON: sorted keys, no spaces, non-ASCII kept, NaN/Infinity refused."""
    return json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


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
    area_m2: int | float


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
    area_m2: int | float


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
    """A validated ``family-card/1`` document. Build it with :func:`parse_card`."""

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
        """The ``family-card/1`` document of this card (JSON-serialisable)."""
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


# --------------------------------------------------------------------------- semantic checks

_IIN_REASONS = {
    "format": _("An ИИН is exactly 12 digits."),
    "date": _("The ИИН does not encode a real birth date."),
    "checksum": _("The ИИН check digit is wrong."),
}
_BIN_REASONS = {
    "format": _("A БИН is exactly 12 digits."),
    "checksum": _("The БИН check digit is wrong."),
}


def _date_or_none(value: Any) -> dt.date | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _semantic_problems(doc: Mapping[str, Any]) -> list[tuple[list[str | int], Problem]]:
    """Checks the schema cannot express. Defensive: runs on documents that failed the schema."""
    out: list[tuple[list[str | int], Problem]] = []

    def add(parts: list[str | int], code: str, reason: Any) -> None:
        out.append((parts, Problem(format_path(parts), code, reason)))

    as_of = _date_or_none(doc.get("as_of"))
    members = doc.get("members")
    if isinstance(members, list):
        for i, member in enumerate(members):
            if not isinstance(member, Mapping):
                continue
            iin = member.get("iin")
            birth = _date_or_none(member.get("birth_date"))
            if isinstance(iin, str) and len(iin) == 12 and iin.isdigit():
                err = iin_error(iin)
                if err is not None:
                    add(["members", i, "iin"], f"iin.{err}", _IIN_REASONS[err])
                elif birth is not None and iin_birth_date(iin) != birth:
                    add(
                        ["members", i, "birth_date"],
                        "birth_date.iin_mismatch",
                        _("The birth date does not agree with the date in the ИИН."),
                    )
            if birth is not None and as_of is not None and birth > as_of:
                add(
                    ["members", i, "birth_date"],
                    "birth_date.after_as_of",
                    _("The birth date is after the card's as_of date."),
                )
    business = doc.get("business")
    entities = business.get("legal_entities") if isinstance(business, Mapping) else None
    if isinstance(entities, list):
        for j, entity in enumerate(entities):
            if not isinstance(entity, Mapping):
                continue
            bin_ = entity.get("bin")
            if isinstance(bin_, str) and len(bin_) == 12 and bin_.isdigit():
                err = bin_error(bin_)
                if err is not None:
                    add(
                        ["business", "legal_entities", j, "bin"],
                        f"bin.{err}",
                        _BIN_REASONS[err],
                    )
    # NaN and Infinity pass "number" and the minimum checks of JSON Schema.
    prop = doc.get("property")
    housing = prop.get("housing") if isinstance(prop, Mapping) else None
    areas: list[tuple[list[str | int], Any]] = []
    if isinstance(housing, list):
        for k, h in enumerate(housing):
            if isinstance(h, Mapping):
                areas.append((["property", "housing", k, "area_m2"], h.get("area_m2")))
    living = doc.get("living")
    if isinstance(living, Mapping):
        areas.append((["living", "area_m2"], living.get("area_m2")))
    for parts, value in areas:
        if isinstance(value, float) and not math.isfinite(value):
            add(parts, "number.not_finite", _("Must be a finite number."))
    return out


def card_problems(doc: Any) -> list[Problem]:
    """Every problem of a decoded card document (empty list when valid)."""
    seen: set[tuple[str, str]] = set()
    items: list[tuple[list[str | int], Problem]] = []
    for error in _VALIDATOR.iter_errors(doc):
        items.extend(_schema_error_problems(error, _PATTERN_REASONS, seen))
    if isinstance(doc, Mapping):
        items.extend(_semantic_problems(doc))
    items.sort(key=lambda item: _sort_key(item[0]))
    return [p for _parts, p in items]


# --------------------------------------------------------------------------- parsing


def _int(value: Any) -> int:
    # JSON Schema "integer" also admits 2.0; the parsed card holds real ints.
    return value if type(value) is int else int(value)


def _build(doc: Mapping[str, Any]) -> Card:
    members = tuple(
        Member(
            iin=m["iin"],
            relation=m["relation"],
            birth_date=dt.date.fromisoformat(m["birth_date"]),
            sex=m["sex"],
            disability_group=m["disability_group"],
            chronic_illness=m["chronic_illness"],
            education=m["education"],
            employment=m["employment"],
            incomes=Incomes(
                salary=_int(m["incomes"]["salary"]),
                pension=_int(m["incomes"]["pension"]),
                social_benefits=_int(m["incomes"]["social_benefits"]),
                business=_int(m["incomes"]["business"]),
                other=_int(m["incomes"]["other"]),
            ),
            informal_work_signal=m["informal_work_signal"],
        )
        for m in doc["members"]
    )
    p = doc["property"]
    prop = Property(
        housing=tuple(Housing(kind=h["kind"], area_m2=h["area_m2"]) for h in p["housing"]),
        land_plots=_int(p["land_plots"]),
        vehicles=tuple(Vehicle(kind=v["kind"], year=_int(v["year"])) for v in p["vehicles"]),
        livestock_units=_int(p["livestock_units"]),
        deposits_kzt=_int(p["deposits_kzt"]),
    )
    b = doc["business"]
    turnover = doc["spending"]["card_turnover_monthly_kzt"]
    s = doc["social_status"]
    return Card(
        family_id=doc["family_id"],
        as_of=dt.date.fromisoformat(doc["as_of"]),
        region=doc["region"],
        members=members,
        property=prop,
        living=Living(tenure=doc["living"]["tenure"], area_m2=doc["living"]["area_m2"]),
        business=Business(
            legal_entities=tuple(
                LegalEntity(bin=e["bin"], role=e["role"], active=e["active"])
                for e in b["legal_entities"]
            ),
            individual_entrepreneur=b["individual_entrepreneur"],
        ),
        credit=Credit(
            monthly_payments_kzt=_int(doc["credit"]["monthly_payments_kzt"]),
            overdue_90_days=doc["credit"]["overdue_90_days"],
        ),
        spending=Spending(card_turnover_monthly_kzt=None if turnover is None else _int(turnover)),
        social_status=SocialStatus(
            receives_asp=s["receives_asp"],
            orphan_guardianship=s["orphan_guardianship"],
            emergency_affected=s["emergency_affected"],
        ),
    )


def parse_card(doc: Mapping[str, Any] | str | bytes) -> Card:
    """Validate a ``family-card/1`` document (mapping or JSON text) and return the :class:`Card`.

    Raises :class:`CardError` with every problem found.
    """
    if isinstance(doc, (str, bytes, bytearray)):
        try:
            doc = load_json_document(doc)
        except ValueError as exc:
            raise CardError(
                [Problem("", "json.invalid", format_lazy(_("Not valid JSON: {error}"), error=exc))]
            ) from None
    problems = card_problems(doc)
    if problems:
        raise CardError(problems)
    sha = card_sha256(doc)
    card = _build(doc)
    object.__setattr__(card, "_sha256", sha)
    return card


def parse_trusted_card(doc: Mapping[str, Any], sha256: str | None = None) -> Card:
    """Build the :class:`Card` of an already-validated document, skipping validation.

    Only for cards that were validated when stored (the frozen card of an assessment, a golden
    case): no JSON Schema, no ИИН/БИН checks. ``sha256`` is the stored fingerprint, if known
    (else computed lazily by :meth:`Card.sha256`). A malformed document raises ``KeyError``,
    ``TypeError`` or ``ValueError``.
    """
    card = _build(doc)
    if sha256 is not None:
        object.__setattr__(card, "_sha256", sha256)
    return card
