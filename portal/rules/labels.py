"""Human names for the parts of a ``rule-set/1`` document, in the reader's language.

A person never reads an internal name (``housing_units``, ``bands[0].income_ratio_below``,
``version``): :func:`path_label` turns a problem or diff path into words ("Интервал дохода 1:
доход на человека к ПМ ниже"), :func:`criterion_name` a criterion code into its label from the
rule set itself (or the default rule set), :func:`problem_text` a problem into one sentence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from scoring.criteria import CRITERIA

__all__ = [
    "EFFECT_NAMES",
    "OP_NAMES",
    "choice_name",
    "criterion_choices",
    "criterion_name",
    "path_label",
    "problem_text",
    "value_text",
]

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")

OP_NAMES = {
    ">=": "≥",
    ">": ">",
    "<=": "≤",
    "<": "<",
    "==": "=",
    "is": "=",
}

EFFECT_NAMES = {
    "marker": gettext_lazy("маркер категории 6"),
    "band": gettext_lazy("интервал дохода"),
    "vulnerability": gettext_lazy("балл уязвимости"),
    "wealth": gettext_lazy("балл благосостояния"),
}

# Enumerated values of the parameters (vehicle kinds, education levels).
CHOICE_NAMES = {
    "car": gettext_lazy("легковой автомобиль"),
    "truck": gettext_lazy("грузовой автомобиль"),
    "motorcycle": gettext_lazy("мотоцикл"),
    "agricultural": gettext_lazy("сельскохозяйственная техника"),
    "none": gettext_lazy("без образования"),
    "primary": gettext_lazy("начальное"),
    "basic_secondary": gettext_lazy("основное среднее"),
    "secondary": gettext_lazy("среднее"),
    "vocational": gettext_lazy("профессиональное"),
    "higher": gettext_lazy("высшее"),
}

_LANG_NAMES = {
    "ru": gettext_lazy("рус."),
    "kk": gettext_lazy("каз."),
    "en": gettext_lazy("англ."),
}

_PARAMETER_NAMES = {
    "hidden_income_factor": gettext_lazy("Коэффициент скрытого дохода"),
    "borderline_margin": gettext_lazy("Пограничная зона, доля ПМ на человека"),
    "dependant_min_age": gettext_lazy("Возраст иждивенца: от"),
    "new_vehicle_max_age_years": gettext_lazy("Новый автомобиль: возраст не более, лет"),
    "counted_vehicle_kinds": gettext_lazy("Учитываемые виды транспорта"),
    "adult_education_sufficient": gettext_lazy("Достаточное образование взрослых"),
}

_RULE_FIELDS = {
    "criterion": gettext_lazy("критерий"),
    "op": gettext_lazy("оператор"),
    "value": gettext_lazy("порог"),
    "points": gettext_lazy("баллы"),
}


def _lang() -> str:
    lang = (get_language() or "ru")[:2]
    return lang if lang in ("ru", "kk", "en") else "ru"


@lru_cache(maxsize=1)
def _default_labels() -> dict[str, dict[str, str]]:
    from scoring.ruleset import load_default_ruleset

    compiled = load_default_ruleset()
    return {c.code: dict(compiled.criterion_labels.get(c.code, {})) for c in CRITERIA}


def criterion_name(code: str, document: Mapping[str, Any] | None = None) -> str:
    """The criterion's label in the reader's language (from ``document`` when it has one)."""
    lang = _lang()
    labels: Mapping[str, Any] = {}
    if document is not None:
        labels = ((document.get("labels") or {}).get("criteria") or {}).get(code) or {}
    text = labels.get(lang) or _default_labels().get(code, {}).get(lang)
    if text:
        return str(text)
    return _("критерий %(n)s") % {"n": next((c.number for c in CRITERIA if c.code == code), "?")}


def criterion_choices(document: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    return [("", "—")] + [(c.code, criterion_name(c.code, document)) for c in CRITERIA]


def choice_name(value: str) -> str:
    name = CHOICE_NAMES.get(value)
    return str(name) if name is not None else value


def _parts(path: str) -> list[str | int]:
    return [int(i) if i else name for name, i in _TOKEN.findall(path or "")]


def _rule_label(
    title: str, rules: Any, index: int, field: str | None, document: Mapping[str, Any] | None
) -> str:
    head = f"{title} {index + 1}"
    if isinstance(rules, list) and index < len(rules) and isinstance(rules[index], Mapping):
        code = rules[index].get("criterion")
        if isinstance(code, str) and code in {c.code for c in CRITERIA}:
            head = f"{head} ({criterion_name(code, document)})"
    if field in _RULE_FIELDS:
        return f"{head}: {_RULE_FIELDS[field]}"
    return head


def path_label(path: str, document: Mapping[str, Any] | None = None) -> str:
    """Words for a document path in the reader's language; never the path itself."""
    parts = _parts(path)
    if not parts:
        return _("Набор правил")
    head, rest = parts[0], parts[1:]
    doc = document or {}
    if head == "version":
        return _("Имя версии")
    if head == "effective_from":
        return _("Дата начала действия")
    if head == "schema":
        return _("Формат набора правил")
    if head == "description":
        lang = rest[0] if rest else None
        return (
            _("Описание (%(lang)s)") % {"lang": _LANG_NAMES[lang]}
            if lang in _LANG_NAMES
            else _("Описание")
        )
    if head == "parameters":
        name = rest[0] if rest else None
        if name in ("subsistence_minimum", "minimum_wage"):
            what = _("ПМ") if name == "subsistence_minimum" else _("МЗП")
            if len(rest) > 1:
                return _("%(what)s на %(year)s год") % {"what": what, "year": rest[1]}
            return _("%(what)s по годам") % {"what": what}
        if name == "informal_work_age":
            if len(rest) > 1 and rest[1] == "max":
                return _("Возраст неформальной занятости: до")
            if len(rest) > 1 and rest[1] == "min":
                return _("Возраст неформальной занятости: от")
            return _("Возраст неформальной занятости")
        if name in _PARAMETER_NAMES:
            return str(_PARAMETER_NAMES[name])
        return _("Параметры")
    if head == "high_welfare":
        sub = rest[0] if rest else None
        if sub == "mode":
            return _("Сочетание маркеров")
        if sub == "min_count":
            return _("Маркеры: сколько должно выполняться (k)")
        if sub == "markers":
            if len(rest) > 1 and isinstance(rest[1], int):
                rules = (doc.get("high_welfare") or {}).get("markers")
                field = rest[2] if len(rest) > 2 else None
                return _rule_label(_("Маркер"), rules, rest[1], field, document)
            return _("Маркеры высокого благосостояния")
        return _("Маркеры высокого благосостояния")
    if head == "bands":
        if rest and isinstance(rest[0], int):
            field = rest[1] if len(rest) > 1 else None
            n = rest[0] + 1
            if field == "category":
                return _("Интервал дохода %(n)s: категория") % {"n": n}
            if field == "income_ratio_below":
                return _("Интервал дохода %(n)s: доход на человека к ПМ ниже") % {"n": n}
            return _("Интервал дохода %(n)s") % {"n": n}
        return _("Интервалы дохода")
    if head in ("vulnerability_points", "wealth_points"):
        title = _("Балл уязвимости") if head == "vulnerability_points" else _("Балл благосостояния")
        if rest and isinstance(rest[0], int):
            field = rest[1] if len(rest) > 1 else None
            return _rule_label(title, doc.get(head), rest[0], field, document)
        return (
            _("Баллы уязвимости") if head == "vulnerability_points" else _("Баллы благосостояния")
        )
    if head == "shift":
        if rest and isinstance(rest[0], int):
            n = rest[0] + 1
            field = rest[1] if len(rest) > 1 else None
            if field == "net_at_least":
                return _("Строка сдвига %(n)s: чистый балл не менее") % {"n": n}
            if field == "shift":
                return _("Строка сдвига %(n)s: сдвиг категории") % {"n": n}
            return _("Строка сдвига %(n)s") % {"n": n}
        return _("Таблица сдвига")
    if head == "labels":
        kind = rest[0] if rest else None
        key = rest[1] if len(rest) > 1 else None
        lang = rest[2] if len(rest) > 2 else None
        suffix = f" ({_LANG_NAMES[lang]})" if lang in _LANG_NAMES else ""
        if kind == "categories" and key is not None:
            return _("Название категории %(n)s") % {"n": key} + suffix
        if kind == "criteria" and isinstance(key, str):
            return (
                _("Название критерия «%(name)s»") % {"name": criterion_name(key, document)} + suffix
            )
        return _("Названия")
    return _("Другой параметр набора правил")


def value_text(value: Any) -> str:
    """A parameter value as a person reads it (no JSON quotes, null or true)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("да") if value else _("нет")
    if isinstance(value, list):
        return ", ".join(value_text(v) for v in value) if value else "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {value_text(v)}" for k, v in value.items()) or "—"
    if isinstance(value, str):
        return choice_name(value)
    return str(value)


def problem_text(path: str, reason: Any, document: Mapping[str, Any] | None = None) -> str:
    """One sentence for a problem: "<what, in words>: <reason>"."""
    if not path:
        return str(reason)
    return f"{path_label(path, document)}: {reason}"
