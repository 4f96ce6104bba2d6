"""Why a family is in its category, in plain words (Russian, Kazakh or English).

Pure, like :mod:`scoring.counterfactual_text`: a stored assessment trace
(:meth:`scoring.engine.Assessment.to_dict`) and the compiled rule set that produced it in,
sentences and formatted numbers out — no ORM, no clock::

    ex = explain(assessment.trace, ruleset, "kk", as_of=dt.date(2026, 9, 15))
    ex.headline, ex.income, ex.band, ex.points, ex.shift, ex.markers   # sentences
    rows = criteria_table(assessment.trace, ruleset, "en")              # the criteria, in words

The numbers are written as the language writes them (CLDR via Babel, the same as
:mod:`scoring.counterfactual_text`): ``26 000 ₸``, ``0,51 ПМ`` in Russian and Kazakh,
``26,000 ₸``, ``0.51 SM`` in English. A value that is not a short decimal is rounded to two
places with ``≈`` (to four when two places would land on a threshold it is compared with).
Labels of categories and criteria come from the rule set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Final

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from scoring.counterfactual_text import LANGUAGES, format_money, format_number
from scoring.criteria import UNBOUNDED, Value
from scoring.engine import Assessment
from scoring.ruleset import Comparison, CompiledRuleSet, MissingParameterError

__all__ = [
    "CheckText",
    "CriterionRow",
    "Explanation",
    "criteria_table",
    "explain",
    "format_value",
]

#: How each criterion's value is written.
MONEY: Final = frozenset({"declared_income", "informal_income", "per_capita_income"})
PM_RATIO: Final = frozenset({"income_ratio", "deposits_ratio"})
SHARE: Final = frozenset({"debt_burden"})
AREA: Final = frozenset({"living_area_per_person"})


@dataclass(frozen=True, slots=True)
class Explanation:
    """The sentences of one assessment, in one language; empty strings/lists where none apply.

    ``markers`` (category 6) and ``points`` are one sentence per rule that fired.
    """

    category: int
    high_welfare: bool
    headline: str
    income: list[str] = field(default_factory=list)
    band: str = ""
    points: list[str] = field(default_factory=list)
    shift: str = ""
    markers_rule: str = ""
    markers: list[str] = field(default_factory=list)
    without_markers: str = ""

    def sentences(self) -> list[str]:
        """Every sentence in reading order (category 6: the markers first)."""
        out = [self.headline]
        if self.high_welfare:
            out += [self.markers_rule, *self.markers, self.without_markers]
        out += [*self.income, self.band, *self.points, self.shift]
        return [s for s in out if s]


@dataclass(frozen=True, slots=True)
class CheckText:
    """One comparison of a criterion, in words (``rule``) and whether it held."""

    effect: str
    rule: str
    fired: bool
    outcome: str

    @property
    def highlight(self) -> bool:
        """A marker or a point that fired (the band that fired is only where the income falls)."""
        return self.fired and self.effect != "band"


@dataclass(frozen=True, slots=True)
class CriterionRow:
    code: str
    label: str
    value: str
    checks: list[CheckText]
    fired: bool


# --------------------------------------------------------------------------- numbers


def _quantize(value: Fraction, places: int, rounding: str = ROUND_HALF_UP) -> Decimal:
    q = Decimal(1).scaleb(-places)
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(q, rounding=rounding)


def _short(value: Fraction, places: int) -> bool:
    return (value * 10**places).denominator == 1


def _sign(x: Fraction) -> int:
    return (x > 0) - (x < 0)


def _number(
    value: int | Fraction, language: str, places: int = 2, avoid: Sequence[Any] = ()
) -> str:
    """Exact when it has at most ``places`` decimals, else ``≈`` rounded half up.

    When the rounded figure would sit on the other side of (or on) a threshold it is compared
    with (``avoid``), four places are written, rounded away from the threshold: 0.54996 against
    0.55 is ``≈ 0,5499``, never ``0,55``.
    """
    f = Fraction(value)
    if _short(f, places):
        return format_number(f, language)
    rounded = _quantize(f, places)
    for t in avoid:
        if t is None or isinstance(t, bool):
            continue
        t = Fraction(t)
        if _sign(Fraction(rounded) - t) != _sign(f - t):
            if _short(f, 4):
                return format_number(f, language)
            rounded = _quantize(f, 4, ROUND_FLOOR if f < t else ROUND_CEILING)
            break
    return "≈\u00a0" + format_number(rounded.normalize(), language)


def _unit(text: str, unit: str) -> str:
    return f"{text}\u00a0{unit}"


def _percent(text: str, language: str) -> str:
    return f"{text}\u00a0%" if language == "ru" else f"{text}%"


def format_value(
    code: str, kind: str, value: Value, language: str, avoid: Sequence[Any] = ()
) -> str:
    """A criterion's value as a person reads it: ``26 000 ₸``, ``0,51 ПМ``, ``да``, ``12 м²``."""
    with translation.override(language):
        return _format_value(code, kind, value, language, avoid)


def _format_value(code: str, kind: str, value: Value, language: str, avoid: Sequence[Any]) -> str:
    if kind == "bool":
        return _("да") if value else _("нет")
    if value is UNBOUNDED:
        return _("платежи есть, дохода нет")
    if code in MONEY:
        return format_money(value, language)  # type: ignore[arg-type]
    if code in PM_RATIO:
        return _unit(_number(value, language, 2, avoid), _("ПМ"))  # type: ignore[arg-type]
    if code in SHARE:
        scaled = Fraction(value) * 100  # type: ignore[arg-type]
        marks = [Fraction(t) * 100 for t in avoid if t is not None and not isinstance(t, bool)]
        return _percent(_number(scaled, language, 1, marks), language)
    if code in AREA:
        return _unit(_number(value, language, 2, avoid), _("м²"))  # type: ignore[arg-type]
    if kind == "ratio":
        return _number(value, language, 2, avoid)  # type: ignore[arg-type]
    return format_number(value, language)  # type: ignore[arg-type]


def _condition(code: str, kind: str, op: str | None, threshold: Any, language: str) -> str:
    """``не меньше 2``, ``меньше 0,55 ПМ``, ``да`` — the test a rule makes, in words."""
    if kind == "bool":
        wanted = threshold if op == "is" or op == "==" else not threshold
        return _("если «да»") if wanted else _("если «нет»")
    t = _format_value(code, kind, threshold, language, ())
    return {
        ">=": _("не меньше %(t)s"),
        ">": _("больше %(t)s"),
        "<": _("меньше %(t)s"),
        "<=": _("не больше %(t)s"),
        "==": _("ровно %(t)s"),
    }[op or "=="] % {"t": t}


def _signed(n: int) -> str:
    return f"+{n}" if n > 0 else (f"−{-n}" if n < 0 else "0")


# --------------------------------------------------------------------------- the explanation


def _language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    return language


def _subsistence_minimum(a: Assessment, ruleset: CompiledRuleSet, as_of: dt.date | None) -> Any:
    if as_of is not None:
        try:
            return ruleset.subsistence_minimum_for(as_of.year)
        except MissingParameterError:
            pass
    per_capita, ratio = a.value("per_capita_income"), a.value("income_ratio")
    if ratio:
        return Fraction(per_capita) / Fraction(ratio)  # type: ignore[arg-type]
    return None


def _band_text(a: Assessment, ruleset: CompiledRuleSet, language: str) -> str:
    pm = _("ПМ")
    lower = None
    for band in ruleset.bands:
        if band.category == a.base_category:
            upper = band.below
            if lower is None and upper is not None:
                return _("меньше %(upper)s") % {"upper": _unit(format_number(upper, language), pm)}
            if upper is None:
                return _("%(lower)s и больше") % {
                    "lower": _unit(format_number(lower or 0, language), pm)
                }
            return _("от %(lower)s до %(upper)s") % {
                "lower": format_number(lower, language),
                "upper": _unit(format_number(upper, language), pm),
            }
        lower = band.below
    return ""


def _rule_sentence(
    a: Assessment, c: Comparison, ruleset: CompiledRuleSet, language: str, kind: str
) -> str:
    values = {
        "label": ruleset.criterion_label(c.criterion, language),
        "value": _format_value(c.criterion, kind, a.value(c.criterion), language, [c.threshold]),
        "condition": _condition(c.criterion, kind, c.op, c.threshold, language),
        "points": c.points or 0,
    }
    if c.effect == "marker":
        if kind == "bool":
            return _("«%(label)s»: %(value)s.") % values
        return _("«%(label)s»: %(value)s (маркер выполняется при значении %(condition)s).") % values
    if c.effect == "vulnerability":
        if kind == "bool":
            return _("+%(points)d балл уязвимости — «%(label)s»: %(value)s.") % values
        return (
            _(
                "+%(points)d балл уязвимости — «%(label)s»: %(value)s "
                "(балл даётся при значении %(condition)s)."
            )
            % values
        )
    if kind == "bool":
        return _("−%(points)d балл благосостояния — «%(label)s»: %(value)s.") % values
    return (
        _(
            "−%(points)d балл благосостояния — «%(label)s»: %(value)s "
            "(балл даётся при значении %(condition)s)."
        )
        % values
    )


def explain(
    trace: Mapping[str, Any],
    ruleset: CompiledRuleSet,
    language: str,
    *,
    as_of: dt.date | None = None,
) -> Explanation:
    """The plain-language explanation of a stored assessment (see the module).

    ``as_of`` (the card's date) names the year of the subsistence minimum; without it the ПМ is
    read back from the trace. Raises ``ValueError`` for a malformed trace or language.
    """
    _language(language)
    a = Assessment.from_dict(trace)
    kinds = {entry["code"]: entry["type"] for entry in trace["criteria"]}
    with translation.override(language):
        return _explain(a, kinds, ruleset, language, as_of)


def _explain(
    a: Assessment,
    kinds: Mapping[str, str],
    ruleset: CompiledRuleSet,
    language: str,
    as_of: dt.date | None,
) -> Explanation:
    label = ruleset.category_label(a.category, language)
    headline = _("Категория %(category)d — «%(label)s».") % {"category": a.category, "label": label}

    # Income.
    n = a.value("family_size")
    declared = a.value("declared_income")
    informal = a.value("informal_income")
    per_capita = Fraction(a.value("per_capita_income"))  # type: ignore[arg-type]
    ratio = a.value("income_ratio")
    effective = per_capita * n  # type: ignore[operator]
    pm = _subsistence_minimum(a, ruleset, as_of)
    money = lambda v: format_money(v, language)  # noqa: E731
    income: list[str] = []
    if a.value("hidden_income"):
        income.append(
            _(
                "Оборот по картам — %(turnover)s в месяц — больше дохода семьи (%(income)s) "
                "более чем в %(factor)s раза: это признак скрытого дохода, поэтому в расчёт "
                "берётся оборот по картам."
            )
            % {
                "turnover": money(effective),
                "income": money(declared + informal),  # type: ignore[operator]
                "factor": format_number(ruleset.parameters.hidden_income_factor, language),
            }
        )
    elif informal:
        income.append(
            _(
                "К заявленному доходу семьи (%(declared)s в месяц) добавлен вменённый доход от "
                "неформальной занятости — %(informal)s."
            )
            % {"declared": money(declared), "informal": money(informal)}
        )
    values = {
        "income": money(effective),
        "n": format_number(n, language),  # type: ignore[arg-type]
        "per_capita": money(per_capita),
        "ratio": _unit(
            _number(ratio, language, 2, [b.below for b in ruleset.bands]),  # type: ignore[arg-type]
            _("ПМ"),
        ),
    }
    text = (
        _(
            "Доход семьи в расчёте — %(income)s в месяц, членов семьи — %(n)s: на человека "
            "%(per_capita)s, это %(ratio)s"
        )
        % values
    )
    if pm is not None and as_of is not None:
        text += " " + _("(прожиточный минимум %(year)d года — %(pm)s).") % {
            "year": as_of.year,
            "pm": money(pm),
        }
    elif pm is not None:
        text += " " + _("(прожиточный минимум — %(pm)s).") % {"pm": money(pm)}
    else:
        text += "."
    income.append(text)

    base_label = ruleset.category_label(a.base_category, language)
    band = _("Это интервал «%(band)s»: базовая категория %(base)d — «%(label)s».") % {
        "band": _band_text(a, ruleset, language),
        "base": a.base_category,
        "label": base_label,
    }

    # Points.
    fired = [c for c in a.comparisons if c.fired and c.effect in ("vulnerability", "wealth")]
    points = [_rule_sentence(a, c, ruleset, language, kinds[c.criterion]) for c in fired]
    unclamped = a.base_category + a.shift
    without = min(5, max(1, unclamped))
    values = {
        "v": a.vulnerability_points,
        "w": a.wealth_points,
        "net": _signed(a.net),
        "base": a.base_category,
        "result": without,
        "k": abs(a.shift),
    }
    if not fired:
        shift = _("Баллов уязвимости и благосостояния нет: категория остаётся %(base)d.") % values
    elif a.shift == 0:
        shift = (
            _(
                "Итого баллов: уязвимости %(v)d, благосостояния %(w)d, разница %(net)s — "
                "этого мало для сдвига: категория остаётся %(base)d."
            )
            % values
        )
    elif a.shift < 0:
        if unclamped < 1:
            shift = (
                _(
                    "Итого баллов: уязвимости %(v)d, благосостояния %(w)d, разница %(net)s — "
                    "это сдвиг на %(k)d к большей нуждаемости, но ниже категории 1 сдвигать "
                    "некуда: категория %(result)d."
                )
                % values
            )
        else:
            shift = (
                _(
                    "Итого баллов: уязвимости %(v)d, благосостояния %(w)d, разница %(net)s — "
                    "категория сдвигается на %(k)d к большей нуждаемости: с %(base)d на "
                    "%(result)d."
                )
                % values
            )
    elif unclamped > 5:
        shift = (
            _(
                "Итого баллов: уязвимости %(v)d, благосостояния %(w)d, разница %(net)s — "
                "это сдвиг на %(k)d к большему благосостоянию, но выше категории 5 сдвигать "
                "некуда (категорию 6 дают только маркеры): категория %(result)d."
            )
            % values
        )
    else:
        shift = (
            _(
                "Итого баллов: уязвимости %(v)d, благосостояния %(w)d, разница %(net)s — "
                "категория сдвигается на %(k)d к большему благосостоянию: с %(base)d на "
                "%(result)d."
            )
            % values
        )

    # Category 6.
    markers_rule = without_markers = ""
    markers: list[str] = []
    if a.high_welfare:
        fired_markers = [c for c in a.comparisons if c.fired and c.effect == "marker"]
        markers = [
            _rule_sentence(a, c, ruleset, language, kinds[c.criterion]) for c in fired_markers
        ]
        mode_values = {"k": a.marker_min_count, "total": len(ruleset.markers)}
        if a.marker_mode == "any":
            markers_rule = _(
                "Категория 6 ставится, когда выполняется хотя бы один маркер высокого "
                "благосостояния. У этой семьи:"
            )
        elif a.marker_mode == "all":
            markers_rule = (
                _(
                    "Категория 6 ставится, когда выполняются все маркеры высокого "
                    "благосостояния (%(total)d). У этой семьи:"
                )
                % mode_values
            )
        else:
            markers_rule = (
                ngettext(
                    "Категория 6 ставится, когда выполняется не меньше %(k)d маркера высокого "
                    "благосостояния. У этой семьи:",
                    "Категория 6 ставится, когда выполняется не меньше %(k)d маркеров высокого "
                    "благосостояния. У этой семьи:",
                    a.marker_min_count,
                )
                % mode_values
            )
        without_markers = _(
            "Без маркеров семья была бы в категории %(category)d — «%(label)s»: по доходу и "
            "баллам ниже."
        ) % {"category": without, "label": ruleset.category_label(without, language)}
    return Explanation(
        category=a.category,
        high_welfare=a.high_welfare,
        headline=headline,
        income=income,
        band=band,
        points=points,
        shift=shift,
        markers_rule=markers_rule,
        markers=markers,
        without_markers=without_markers,
    )


# --------------------------------------------------------------------------- the criteria table


def _check_text(
    code: str, kind: str, c: Comparison, ruleset: CompiledRuleSet, language: str
) -> CheckText:
    if c.effect == "band":
        if c.op is None:
            rule = _("интервал: остальные значения → базовая категория %(category)d") % {
                "category": c.category
            }
        else:
            rule = _("интервал: %(condition)s → базовая категория %(category)d") % {
                "condition": _condition(code, kind, c.op, c.threshold, language),
                "category": c.category,
            }
    else:
        condition = _condition(code, kind, c.op, c.threshold, language)
        rule = {
            "marker": _("маркер категории 6: %(condition)s"),
            "vulnerability": _("балл уязвимости +%(points)d: %(condition)s"),
            "wealth": _("балл благосостояния −%(points)d: %(condition)s"),
        }[c.effect] % {"condition": condition, "points": c.points or 0}
    return CheckText(
        effect=c.effect,
        rule=rule,
        fired=c.fired,
        outcome=_("выполнено") if c.fired else _("не выполнено"),
    )


def criteria_table(
    trace: Mapping[str, Any], ruleset: CompiledRuleSet, language: str
) -> list[CriterionRow]:
    """Every criterion with its value and its comparisons, in words (no raw values)."""
    _language(language)
    a = Assessment.from_dict(trace)
    rows = []
    results = {r.code: r for r in a.criteria()}
    with translation.override(language):
        for entry in trace["criteria"]:
            code, kind = entry["code"], entry["type"]
            result = results[code]
            checks = [_check_text(code, kind, c, ruleset, language) for c in result.checks]
            rows.append(
                CriterionRow(
                    code=code,
                    label=ruleset.criterion_label(code, language),
                    value=_format_value(
                        code, kind, result.value, language, [c.threshold for c in result.checks]
                    ),
                    checks=checks,
                    fired=any(c.fired and c.effect != "band" for c in result.checks),
                )
            )
    return rows
