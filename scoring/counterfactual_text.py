"""Plain words for :class:`scoring.counterfactual.Counterfactuals`, in Russian, Kazakh or English.

Kept apart from the pure engine: the engine returns data; this module turns it into sentences
with Django's translations and the language's number formatting (CLDR via Babel: ``8 128 ₸``
and ``2 032,33`` in Russian and Kazakh, ``8,128 ₸`` and ``2,032.33`` in English)::

    lines = describe(cf, ruleset, "kk")              # every sentence, most useful first
    items = describe_items(cf, ruleset, "ru")        # [{"kind", "text", "category", …}] for pages
    text = suggestion_text(cf.suggestions[0], cf, ruleset, "en")

Labels of categories and criteria come from the rule set (its own ru/kk/en labels).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Final

from babel.numbers import format_decimal
from django.utils import translation
from django.utils.translation import gettext as _

from scoring.counterfactual import (
    CARD_TURNOVER,
    CREDIT_PAYMENTS,
    DEPOSITS,
    FAMILY_INCOME,
    HOUSING_UNITS,
    INDIVIDUAL_ENTREPRENEUR,
    LAND_PLOTS,
    LEGAL_ENTITIES,
    LIVESTOCK_UNITS,
    LIVING_AREA,
    MARKER_INPUTS,
    NEW_VEHICLE,
    OVERDUE_DEBT,
    VEHICLES,
    Change,
    Counterfactuals,
    Suggestion,
)
from scoring.ruleset import CompiledRuleSet

__all__ = [
    "LANGUAGES",
    "borderline_text",
    "change_text",
    "describe",
    "describe_items",
    "format_money",
    "format_number",
    "suggestion_text",
]

LANGUAGES: Final = ("ru", "kk", "en")
_COUNT_INPUTS: Final = (HOUSING_UNITS, VEHICLES, LEGAL_ENTITIES, LAND_PLOTS, LIVESTOCK_UNITS)


def _locale(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    return language


def _decimal(value: int | Fraction | Decimal) -> Decimal:
    if isinstance(value, Decimal):
        return value
    f = Fraction(value)
    if f.denominator == 1:
        return Decimal(f.numerator)
    places = 0
    while (f * 10**places).denominator != 1:
        places += 1
        if places > 40:
            raise ValueError("not a finite decimal")
    return Decimal(f"{int(f * 10**places)}e-{places}")


def format_number(value: int | Fraction | Decimal, language: str) -> str:
    """``value`` exactly (every digit of a finite decimal), grouped as ``language`` writes it."""
    return format_decimal(_decimal(value), locale=_locale(language), decimal_quantization=False)


def format_money(value: int | Fraction, language: str) -> str:
    """Tenge: whole amounts as they are; others rounded half up to tiyn with a leading ``≈``."""
    f = Fraction(value)
    if f.denominator == 1:
        return f"{format_number(f.numerator, language)}\u00a0₸"
    exact = (f * 100).denominator == 1
    rounded = (Decimal(f.numerator) / Decimal(f.denominator)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    text = format_decimal(rounded, format="#,##0.00", locale=_locale(language))
    return f"{text}\u00a0₸" if exact else f"≈\u00a0{text}\u00a0₸"


def _category(ruleset: CompiledRuleSet, category: int, language: str) -> str:
    return ruleset.category_label(category, language)


def change_text(change: Change, ruleset: CompiledRuleSet, language: str) -> str:
    """One change as a clause that reads after "if" (``доход семьи уменьшится на …``)."""
    with translation.override(language):
        return _change_text(change, ruleset, language)


def _change_text(c: Change, ruleset: CompiledRuleSet, language: str) -> str:
    down = c.direction == "decrease"
    if c.input == FAMILY_INCOME:
        values = {
            "amount": format_money(c.amount, language),  # type: ignore[arg-type]
            "per_person": format_money(c.per_person, language),  # type: ignore[arg-type]
        }
        if down:
            return (
                _("доход семьи уменьшится на %(amount)s в месяц (%(per_person)s на человека)")
                % values
            )
        return (
            _("доход семьи увеличится на %(amount)s в месяц (%(per_person)s на человека)") % values
        )
    if c.input == CARD_TURNOVER:
        values = {
            "amount": format_money(c.amount, language),  # type: ignore[arg-type]
            "per_person": format_money(c.per_person, language),  # type: ignore[arg-type]
        }
        if down:
            return (
                _("оборот по картам уменьшится на %(amount)s в месяц (%(per_person)s на человека)")
                % values
            )
        return (
            _("оборот по картам увеличится на %(amount)s в месяц (%(per_person)s на человека)")
            % values
        )
    if c.input == CREDIT_PAYMENTS:
        values = {"amount": format_money(c.amount, language)}  # type: ignore[arg-type]
        if down:
            return _("платежи по кредитам уменьшатся на %(amount)s в месяц") % values
        return _("платежи по кредитам увеличатся на %(amount)s в месяц") % values
    if c.input == DEPOSITS:
        values = {"amount": format_money(c.amount, language)}  # type: ignore[arg-type]
        if down:
            return _("вклады уменьшатся на %(amount)s") % values
        return _("вклады увеличатся на %(amount)s") % values
    if c.input == LIVING_AREA:
        values = {"amount": format_number(c.amount, language)}  # type: ignore[arg-type]
        if c.exclusive:
            if down:
                return _("жилая площадь уменьшится более чем на %(amount)s м²") % values
            return _("жилая площадь увеличится более чем на %(amount)s м²") % values
        if down:
            return _("жилая площадь уменьшится на %(amount)s м²") % values
        return _("жилая площадь увеличится на %(amount)s м²") % values
    if c.input in _COUNT_INPUTS:
        values = {
            "label": ruleset.criterion_label(c.input, language),
            "amount": format_number(c.amount, language),  # type: ignore[arg-type]
            "current": format_number(c.current, language),  # type: ignore[arg-type]
            "new": format_number(c.new, language),  # type: ignore[arg-type]
        }
        if down:
            return (
                _("показатель «%(label)s» уменьшится на %(amount)s (с %(current)s до %(new)s)")
                % values
            )
        return (
            _("показатель «%(label)s» увеличится на %(amount)s (с %(current)s до %(new)s)") % values
        )
    if c.input == OVERDUE_DEBT:
        if c.new:
            return _("появится просрочка по кредиту свыше 90 дней")
        return _("просрочка по кредиту свыше 90 дней будет погашена")
    if c.input == INDIVIDUAL_ENTREPRENEUR:
        if c.new:
            return _("член семьи зарегистрируется как индивидуальный предприниматель")
        return _("индивидуальное предпринимательство будет прекращено")
    if c.input == NEW_VEHICLE:
        values = {"label": ruleset.criterion_label("new_vehicle", language)}
        if c.new:
            return _("признак «%(label)s» начнёт выполняться") % values
        return _("признак «%(label)s» перестанет выполняться") % values
    raise ValueError(f"unknown input {c.input!r}")  # pragma: no cover


def suggestion_text(
    s: Suggestion, cf: Counterfactuals, ruleset: CompiledRuleSet, language: str
) -> str:
    """One suggestion as a sentence."""
    with translation.override(language):
        return _suggestion_text(s, ruleset, language)


def _suggestion_text(s: Suggestion, ruleset: CompiledRuleSet, language: str) -> str:
    target = {"category": s.category, "label": _category(ruleset, s.category, language)}
    if s.kind == "point":
        rule = s.rules[0]
        values = {**target, "criterion": ruleset.criterion_label(rule.criterion, language)}
        if rule.effect == "vulnerability":
            if rule.fired:
                text = _(
                    "Если бы не учитывался балл уязвимости «%(criterion)s», категория была бы "
                    "%(category)d — «%(label)s»."
                )
            else:
                text = _(
                    "Если бы учитывался балл уязвимости «%(criterion)s», категория была бы "
                    "%(category)d — «%(label)s»."
                )
        elif rule.fired:
            text = _(
                "Если бы не учитывался балл благосостояния «%(criterion)s», категория была бы "
                "%(category)d — «%(label)s»."
            )
        else:
            text = _(
                "Если бы учитывался балл благосостояния «%(criterion)s», категория была бы "
                "%(category)d — «%(label)s»."
            )
        return text % values
    changes = [_change_text(c, ruleset, language) for c in s.changes]
    if s.kind == "markers":
        assumed = [
            ruleset.criterion_label(r.criterion, language)
            for r in s.rules
            if not any(_marker_input_matches(r.criterion, c.input) for c in s.changes)
        ]
        if assumed:
            changes.append(
                _("маркер «%(criterion)s» перестанет выполняться")
                % {"criterion": "», «".join(assumed)}
            )
        if len(changes) > 1:
            text = _(
                "Если одновременно: %(changes)s — категория будет %(category)d — «%(label)s»."
            ) % {**target, "changes": "; ".join(changes)}
            return _with_notes(s, text)
    text = _("Если %(change)s, категория будет %(category)d — «%(label)s».") % {
        **target,
        "change": changes[0],
    }
    return _with_notes(s, text)


def _with_notes(s: Suggestion, text: str) -> str:
    """The sentence with what else it means: the hidden-income test switched, borderline."""
    if s.hidden_income_after is True:
        text += " " + _(
            "Тогда начнёт действовать признак скрытого дохода (учитывается оборот по картам)."
        )
    elif s.hidden_income_after is False:
        text += " " + _(
            "Тогда перестанет действовать признак скрытого дохода (учитывается заявленный доход)."
        )
    if s.borderline:
        text += " " + _("(в пределах пограничного запаса)")
    return text


def _marker_input_matches(criterion: str, name: str) -> bool:
    return name in MARKER_INPUTS.get(criterion, ())


def borderline_text(cf: Counterfactuals, language: str) -> str | None:
    """The borderline warning, or None when the result is not borderline."""
    if not cf.borderline:
        return None
    with translation.override(language):
        return _(
            "Пограничный результат: изменение дохода на человека не более чем на %(amount)s "
            "(%(share)s ПМ) меняет категорию. Проверьте данные ещё раз."
        ) % {
            "amount": format_money(cf.margin_per_person, language),
            "share": format_number(cf.margin, language),
        }


def _markers_header(cf: Counterfactuals, ruleset: CompiledRuleSet, language: str) -> str:
    fired = []
    for s in cf.of_kind("markers"):
        for r in s.rules:
            label = ruleset.criterion_label(r.criterion, language)
            if label not in fired:
                fired.append(label)
    opening, closing = ("“", "”") if language == "en" else ("«", "»")
    values = {
        "markers": ", ".join(f"{opening}{m}{closing}" for m in fired),
        "k": ruleset.marker_min_count,
    }
    mode = ruleset.marker_mode
    if mode == "any":
        return (
            _(
                "Категория 6 — по маркерам %(markers)s. Правило «любой маркер»: чтобы выйти из "
                "категории 6, не должен выполняться ни один маркер."
            )
            % values
        )
    if mode == "all":
        return (
            _(
                "Категория 6 — по маркерам %(markers)s. Правило «все маркеры»: чтобы выйти из "
                "категории 6, достаточно, чтобы не выполнялся один из них."
            )
            % values
        )
    return (
        _(
            "Категория 6 — по маркерам %(markers)s. Правило «не менее %(k)d маркеров»: чтобы "
            "выйти из категории 6, должно выполняться меньше %(k)d."
        )
        % values
    )


def describe_items(
    cf: Counterfactuals, ruleset: CompiledRuleSet, language: str
) -> list[dict[str, Any]]:
    """Every sentence with its data, for pages and letters, most useful first.

    Items: ``{"kind": "borderline" | "markers_rule" | "markers" | "input" | "point", "text",
    "category", "direction", "borderline", "suggestion"}`` (``suggestion`` is the
    :class:`~scoring.counterfactual.Suggestion`, None for the two header kinds). A category-6
    input suggestion that repeats a single-change marker suggestion is left out.
    """
    _locale(language)
    items: list[dict[str, Any]] = []
    with translation.override(language):
        warning = borderline_text(cf, language)
        if warning:
            items.append(_item("borderline", warning, None))
        plans = cf.of_kind("markers")
        if plans:
            items.append(_item("markers_rule", _markers_header(cf, ruleset, language), None))
        planned = {p.changes: p.category for p in plans}
        for s in plans:
            items.append(_item("markers", _suggestion_text(s, ruleset, language), s))
        for s in cf.of_kind("input"):
            if planned.get(s.changes) == s.category:
                continue
            items.append(_item("input", _suggestion_text(s, ruleset, language), s))
        for s in cf.of_kind("point"):
            items.append(_item("point", _suggestion_text(s, ruleset, language), s))
    return items


def _item(kind: str, text: str, s: Suggestion | None) -> dict[str, Any]:
    return {
        "kind": kind,
        "text": text,
        "category": None if s is None else s.category,
        "direction": None if s is None else s.direction,
        "borderline": False if s is None else s.borderline,
        "suggestion": s,
    }


def describe(cf: Counterfactuals, ruleset: CompiledRuleSet, language: str) -> list[str]:
    """Every sentence of :func:`describe_items`; one line saying so when nothing would change."""
    lines = [item["text"] for item in describe_items(cf, ruleset, language)]
    if not lines:
        with translation.override(language):
            lines.append(_("Ни одно изменение данных карты не меняет категорию."))
    return lines
