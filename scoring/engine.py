"""The scoring engine: a parsed family card + a compiled rule set → an :class:`Assessment`.

Pure: no ORM, no HTTP, no clock. The method is DOMAIN.md §6.3–6.4:

* category 6 (high welfare) when the marker combination holds (``any`` / ``all`` /
  ``at_least`` k) — markers win over everything;
* otherwise the base category of the ``income_ratio`` band, shifted by the net of
  vulnerability and wealth points, kept within 1..5.

The base category, points, net and shift are computed (and recorded) for category-6 families
too; they show what the family would have scored without the markers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Final

from scoring.card import Card, parse_card
from scoring.criteria import CRITERIA, CRITERION_INDEX, UNBOUNDED, Value, compute_criteria
from scoring.ruleset import EFFECTS, Comparison, CompiledRuleSet

__all__ = [
    "ASSESSMENT_FORMAT",
    "Assessment",
    "Comparison",
    "CriterionResult",
    "assess",
    "assess_document",
    "decide",
    "decimal_text",
]

ASSESSMENT_FORMAT: Final = "assessment/1"
DECIMAL_PLACES: Final = 4


@dataclass(frozen=True, slots=True)
class CriterionResult:
    """A criterion's value and the comparisons it took part in."""

    code: str
    kind: str
    value: Value
    checks: tuple[Comparison, ...]


@dataclass(frozen=True, slots=True)
class Assessment:
    """The outcome of scoring one card with one rule set, with its full trace.

    ``values`` follows :data:`scoring.criteria.CRITERIA`; ``comparisons`` lists every comparison
    made, ordered by criterion, then effect (marker, band, vulnerability, wealth), then rule
    position. ``markers``, ``vulnerability`` and ``wealth`` are the codes of the criteria whose
    rules fired, in the same order.
    """

    category: int
    high_welfare: bool
    markers: tuple[str, ...]
    marker_mode: str
    marker_min_count: int
    base_category: int
    vulnerability: tuple[str, ...]
    vulnerability_points: int
    wealth: tuple[str, ...]
    wealth_points: int
    net: int
    shift: int
    values: tuple[Value, ...]
    comparisons: tuple[Comparison, ...]
    ruleset_version: str
    card_sha256: str

    def value(self, code: str) -> Value:
        return self.values[CRITERION_INDEX[code]]

    def values_by_code(self) -> dict[str, Value]:
        return {c.code: v for c, v in zip(CRITERIA, self.values, strict=True)}

    def criteria(self) -> tuple[CriterionResult, ...]:
        """Per criterion: value and comparisons (CRITERIA order)."""
        checks: dict[str, list[Comparison]] = {c.code: [] for c in CRITERIA}
        for comparison in self.comparisons:
            checks[comparison.criterion].append(comparison)
        return tuple(
            CriterionResult(c.code, c.kind, v, tuple(checks[c.code]))
            for c, v in zip(CRITERIA, self.values, strict=True)
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable trace; :meth:`from_dict` turns it back into an equal object.

        Ratios are ``{"decimal": "1.0226", "exact": "52000/50851"}`` (decimal rounded half up to
        4 places; ``"inf"`` for an unbounded debt burden); thresholds are exact decimal strings.
        """
        return {
            "format": ASSESSMENT_FORMAT,
            "ruleset_version": self.ruleset_version,
            "card_sha256": self.card_sha256,
            "category": self.category,
            "high_welfare": self.high_welfare,
            "markers": {
                "mode": self.marker_mode,
                "min_count": self.marker_min_count,
                "fired": list(self.markers),
            },
            "base_category": self.base_category,
            "vulnerability": {
                "points": self.vulnerability_points,
                "fired": list(self.vulnerability),
            },
            "wealth": {"points": self.wealth_points, "fired": list(self.wealth)},
            "net": self.net,
            "shift": self.shift,
            "criteria": [
                {
                    "code": r.code,
                    "type": r.kind,
                    "value": _value_json(r.kind, r.value),
                    "checks": [_check_json(c) for c in r.checks],
                }
                for r in self.criteria()
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Assessment:
        """Rebuild an assessment from :meth:`to_dict` output. Raises ``ValueError`` if malformed."""
        try:
            if data["format"] != ASSESSMENT_FORMAT:
                raise ValueError(f"not an {ASSESSMENT_FORMAT} document")
            entries = data["criteria"]
            codes = [e["code"] for e in entries]
            if codes != [c.code for c in CRITERIA]:
                raise ValueError("criteria missing or out of order")
            values = []
            comparisons = []
            for criterion, entry in zip(CRITERIA, entries, strict=True):
                values.append(_value_from_json(criterion.kind, entry["value"]))
                for check in entry["checks"]:
                    comparisons.append(_check_from_json(criterion.code, check))
            return cls(
                category=_int(data["category"]),
                high_welfare=_bool(data["high_welfare"]),
                markers=tuple(map(str, data["markers"]["fired"])),
                marker_mode=str(data["markers"]["mode"]),
                marker_min_count=_int(data["markers"]["min_count"]),
                base_category=_int(data["base_category"]),
                vulnerability=tuple(map(str, data["vulnerability"]["fired"])),
                vulnerability_points=_int(data["vulnerability"]["points"]),
                wealth=tuple(map(str, data["wealth"]["fired"])),
                wealth_points=_int(data["wealth"]["points"]),
                net=_int(data["net"]),
                shift=_int(data["shift"]),
                values=tuple(values),
                comparisons=tuple(comparisons),
                ruleset_version=str(data["ruleset_version"]),
                card_sha256=str(data["card_sha256"]),
            )
        except (KeyError, TypeError, ZeroDivisionError) as exc:
            raise ValueError(f"malformed assessment: {exc!r}") from None


# --------------------------------------------------------------------------- the engine


def assess(card: Card, ruleset: CompiledRuleSet, *, card_sha256: str | None = None) -> Assessment:
    """Score ``card`` with ``ruleset``.

    ``card_sha256`` defaults to the card's own fingerprint (``card.sha256()``, computed at parse
    time for parsed cards). Raises :class:`scoring.ruleset.MissingParameterError` when the rule
    set has no ПМ/МЗП for the card's year.
    """
    values = compute_criteria(card, ruleset)
    comparisons: list[Comparison] = []
    add = comparisons.append
    markers: list[str] = []
    vulnerability: list[str] = []
    wealth: list[str] = []
    vulnerability_points = wealth_points = 0
    base = 0
    for step in ruleset.plan:
        if step is None:  # BANDS_STEP
            ratio = values[_INCOME_RATIO]
            for band in ruleset.bands:
                below = band.below
                if below is None or ratio < below:
                    add(band.if_fired)
                    base = band.category
                    break
                add(band.if_not)
            continue
        if step.test(values[step.index], step.threshold):
            add(step.if_fired)
            effect = step.effect
            if effect == "marker":
                markers.append(step.criterion)
            elif effect == "vulnerability":
                vulnerability.append(step.criterion)
                vulnerability_points += step.points
            else:
                wealth.append(step.criterion)
                wealth_points += step.points
        else:
            add(step.if_not)

    net = vulnerability_points - wealth_points
    high, shift, category = decide(ruleset, len(markers), base, net)

    return Assessment(
        category,
        high,
        tuple(markers),
        ruleset.marker_mode,
        ruleset.marker_min_count,
        base,
        tuple(vulnerability),
        vulnerability_points,
        tuple(wealth),
        wealth_points,
        net,
        shift,
        values,
        tuple(comparisons),
        ruleset.version,
        card.sha256() if card_sha256 is None else card_sha256,
    )


def decide(
    ruleset: CompiledRuleSet, markers_fired: int, base: int, net: int
) -> tuple[bool, int, int]:
    """The decision of §6.3–6.4 from its three inputs: ``(high_welfare, shift, category)``.

    ``markers_fired`` is how many markers hold, ``base`` the band's category, ``net`` the
    vulnerability minus the wealth points. The marker combination (``any`` / ``all`` /
    ``at_least`` k) wins over everything; otherwise base + shift, kept within 1..5.
    """
    mode = ruleset.marker_mode
    if mode == "any":
        high = markers_fired >= 1
    elif mode == "all":
        high = markers_fired == len(ruleset.markers)
    else:  # at_least
        high = markers_fired >= ruleset.marker_min_count
    shift = 0
    for row in ruleset.shift:
        if row.net_at_least is None or net >= row.net_at_least:
            shift = row.shift
            break
    return high, shift, 6 if high else min(5, max(1, base + shift))


def assess_document(doc: Mapping[str, Any] | str | bytes, ruleset: CompiledRuleSet) -> Assessment:
    """Parse and validate a card document, then :func:`assess` it (``CardError`` if invalid)."""
    return assess(parse_card(doc), ruleset)


_INCOME_RATIO: Final = CRITERION_INDEX["income_ratio"]
_EFFECTS: Final = frozenset(EFFECTS)


# --------------------------------------------------------------------------- JSON forms


def decimal_text(value: Fraction | int, places: int = DECIMAL_PLACES) -> str:
    """``value`` as a decimal string with ``places`` digits, rounded half away from zero."""
    scale = 10**places
    scaled = abs(value) * scale
    units = int(scaled)  # floor, value ≥ 0
    if scaled - units >= Fraction(1, 2):
        units += 1
    sign = "-" if value < 0 and units else ""
    whole, frac = divmod(units, scale)
    return f"{sign}{whole}.{frac:0{places}d}" if places else f"{sign}{whole}"


def _exact_decimal(value: Fraction | int) -> str:
    """Exact decimal text of a threshold (a finite decimal by construction)."""
    f = Fraction(value)
    if f.denominator == 1:
        return str(f.numerator)
    places = 0
    while (f * 10**places).denominator != 1:
        places += 1
        if places > 40:  # not a finite decimal: give the exact fraction
            return f"{f.numerator}/{f.denominator}"
    return decimal_text(f, places)


def _value_json(kind: str, value: Value) -> Any:
    if kind == "ratio":
        if value is UNBOUNDED:
            return {"decimal": "inf", "exact": "inf"}
        f = Fraction(value)  # type: ignore[arg-type]
        return {"decimal": decimal_text(f), "exact": f"{f.numerator}/{f.denominator}"}
    return value


def _value_from_json(kind: str, data: Any) -> Value:
    if kind == "ratio":
        exact = data["exact"]
        if exact == "inf":
            return UNBOUNDED
        return Fraction(exact)
    if kind == "bool":
        return _bool(data)
    return _int(data)


def _check_json(c: Comparison) -> dict[str, Any]:
    out: dict[str, Any] = {"effect": c.effect, "op": c.op}
    t = c.threshold
    out["threshold"] = t if t is None or isinstance(t, bool) else _exact_decimal(t)
    out["fired"] = c.fired
    if c.points is not None:
        out["points"] = c.points
    if c.category is not None:
        out["category"] = c.category
    return out


def _check_from_json(code: str, data: Mapping[str, Any]) -> Comparison:
    effect = data["effect"]
    if effect not in _EFFECTS:
        raise ValueError(f"unknown effect {effect!r}")
    raw = data["threshold"]
    threshold: Any
    if raw is None or isinstance(raw, bool):
        threshold = raw
    else:
        f = Fraction(str(raw))
        threshold = f.numerator if f.denominator == 1 else f
    points = data.get("points")
    category = data.get("category")
    return Comparison(
        code,
        effect,
        data["op"],
        threshold,
        _bool(data["fired"]),
        None if points is None else _int(points),
        None if category is None else _int(category),
    )


def _int(value: Any) -> int:
    if type(value) is not int:
        raise ValueError(f"expected an integer, got {type(value).__name__}")
    return value


def _bool(value: Any) -> bool:
    if type(value) is not bool:
        raise ValueError(f"expected a boolean, got {type(value).__name__}")
    return value
