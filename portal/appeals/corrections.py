"""The card fields an appeal disputes, with the values the family claims.

A disputed field is a leaf of the frozen card of the decision's assessment, named by its path
(``members[0].incomes.salary``, the notation of ``scoring.card.format_path``). The identity of
the card (its schema, family, date, region and the members' ИИН) is never disputed here: a
wrong family is a new request. The claimed value must have the field's kind (a whole number, a
number, yes/no, one of the field's codes); the card with every claim applied must still be a
valid ``family-card/1`` document — that card is what a re-scoring outcome scores.
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MAX_DISPUTED = 20
_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d{1,3})\]|\.")
FIXED = frozenset({"schema", "family_id", "as_of", "region"})
FIXED_LEAVES = frozenset({"iin"})

# The last key of a path → words (the member's or the item's number is added).
LABELS: dict[str, Any] = {
    "relation": gettext_lazy("родство"),
    "birth_date": gettext_lazy("дата рождения"),
    "sex": gettext_lazy("пол"),
    "disability_group": gettext_lazy("группа инвалидности"),
    "chronic_illness": gettext_lazy("хроническое заболевание"),
    "education": gettext_lazy("образование"),
    "employment": gettext_lazy("занятость"),
    "salary": gettext_lazy("зарплата, ₸ в месяц"),
    "pension": gettext_lazy("пенсия, ₸ в месяц"),
    "social_benefits": gettext_lazy("социальные выплаты, ₸ в месяц"),
    "business": gettext_lazy("доход от предпринимательства, ₸ в месяц"),
    "other": gettext_lazy("прочие доходы, ₸ в месяц"),
    "informal_work_signal": gettext_lazy("признак неформальной занятости"),
    "kind": gettext_lazy("вид"),
    "area_m2": gettext_lazy("площадь, м²"),
    "land_plots": gettext_lazy("земельные участки"),
    "year": gettext_lazy("год выпуска"),
    "livestock_units": gettext_lazy("поголовье скота (условных голов)"),
    "deposits_kzt": gettext_lazy("вклады, ₸"),
    "tenure": gettext_lazy("право на жильё"),
    "bin": gettext_lazy("БИН"),
    "role": gettext_lazy("роль в юрлице"),
    "active": gettext_lazy("юрлицо действует"),
    "individual_entrepreneur": gettext_lazy("индивидуальный предприниматель"),
    "monthly_payments_kzt": gettext_lazy("платежи по кредитам, ₸ в месяц"),
    "overdue_90_days": gettext_lazy("просрочка более 90 дней"),
    "card_turnover_monthly_kzt": gettext_lazy("оборот по картам, ₸ в месяц"),
    "receives_asp": gettext_lazy("получает АСП"),
    "orphan_guardianship": gettext_lazy("опека над сиротой"),
    "emergency_affected": gettext_lazy("пострадали от ЧС"),
}
SECTIONS: dict[str, Any] = {
    "members": gettext_lazy("член семьи %(n)s"),
    "housing": gettext_lazy("жильё %(n)s"),
    "vehicles": gettext_lazy("транспорт %(n)s"),
    "legal_entities": gettext_lazy("юрлицо %(n)s"),
}


class PathError(ValueError):
    pass


def parse_path(path: str) -> list[str | int]:
    if not isinstance(path, str) or not path or len(path) > 120:
        raise PathError(path)
    parts: list[str | int] = []
    pos = 0
    expect_name = True
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if m is None:
            raise PathError(path)
        if m.group(1) is not None:
            if not expect_name:
                raise PathError(path)
            parts.append(m.group(1))
            expect_name = False
        elif m.group(2) is not None:
            if expect_name:
                raise PathError(path)
            parts.append(int(m.group(2)))
        else:
            if expect_name:
                raise PathError(path)
            expect_name = True
        pos = m.end()
    if expect_name:
        raise PathError(path)
    return parts


def format_path(parts: list[str | int]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def _get(doc: Any, parts: list[str | int]) -> Any:
    node = doc
    for p in parts:
        if isinstance(p, int):
            if not isinstance(node, list) or p >= len(node):
                raise KeyError(p)
        elif not isinstance(node, dict) or p not in node:
            raise KeyError(p)
        node = node[p]
    return node


def _set(doc: Any, parts: list[str | int], value: Any) -> None:
    node = doc
    for p in parts[:-1]:
        node = node[p]
    node[parts[-1]] = value


def label(parts: list[str | int]) -> str:
    """A path in words: «член семьи 2 — зарплата, ₸ в месяц»."""
    words = []
    for i, p in enumerate(parts):
        if isinstance(p, int):
            section = parts[i - 1] if i else ""
            if section in SECTIONS:
                words.append(str(SECTIONS[section]) % {"n": p + 1})
    last = parts[-1]
    words.append(str(LABELS.get(last, last)) if isinstance(last, str) else str(last))
    return " — ".join(words)


def leaves(card: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """The fields of ``card`` an appeal may dispute: (path, words, current value)."""
    out: list[tuple[str, str, Any]] = []

    def walk(node: Any, parts: list[str | int]) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if not parts and k in FIXED:
                    continue
                walk(v, [*parts, k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, [*parts, i])
        elif parts and parts[-1] not in FIXED_LEAVES:
            out.append((format_path(parts), label(parts), node))

    walk(card, [])
    return out


def _coerce(current: Any, claimed: Any) -> Any:
    """``claimed`` as a value of ``current``'s kind (text from a form is parsed), or raise."""
    if isinstance(claimed, str):
        text = claimed.strip()
        if isinstance(current, bool):
            low = text.lower()
            if low in {"да", "иә", "yes", "true", "1"}:
                return True
            if low in {"нет", "жоқ", "no", "false", "0"}:
                return False
            raise ValueError
        if isinstance(current, int):
            return int(text.replace(" ", "").replace("\u00a0", ""))
        if isinstance(current, Decimal | float):
            return Decimal(text.replace(",", ".").replace(" ", ""))
        if current is None:
            if text == "":
                return None
            try:
                return int(text)
            except ValueError:
                return text
        return text
    if isinstance(current, bool):
        if not isinstance(claimed, bool):
            raise ValueError
        return claimed
    if isinstance(current, int) and not isinstance(claimed, bool):
        if isinstance(claimed, int):
            return claimed
        if isinstance(claimed, float) and claimed.is_integer():
            return int(claimed)
        raise ValueError
    if isinstance(current, Decimal | float) and not isinstance(claimed, bool):
        if isinstance(claimed, int | float | Decimal):
            return Decimal(str(claimed))
        raise ValueError
    if current is None and (claimed is None or isinstance(claimed, int | str)):
        return claimed
    raise ValueError


def disputed_clean(raw: Any, card: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Validate the disputed fields against ``card``: (clean entries, errors by field name such
    as ``disputed[0].claimed``). Each clean entry: path, label, current, claimed."""
    from scoring.card import card_problems

    errors: dict[str, str] = {}
    if raw in (None, "", []):
        return [], {}
    if not isinstance(raw, list):
        return [], {"disputed": _("Ожидается список оспариваемых сведений.")}
    if len(raw) > MAX_DISPUTED:
        return [], {"disputed": _("Не больше %(n)s оспариваемых сведений.") % {"n": MAX_DISPUTED}}
    allowed = {path for path, _words, _value in leaves(card)}
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        key = f"disputed[{i}]"
        if not isinstance(item, dict) or set(item) - {"path", "claimed"} or "path" not in item:
            errors[key] = _("Укажите поле карты (path) и заявленное значение (claimed).")
            continue
        try:
            parts = parse_path(item["path"])
            path = format_path(parts)
            if path not in allowed:
                raise PathError(path)
            current = _get(card, parts)
        except (PathError, KeyError):
            errors[f"{key}.path"] = _("Такого сведения в карте семьи нет или его нельзя оспорить.")
            continue
        if path in seen:
            errors[f"{key}.path"] = _("Это сведение уже указано.")
            continue
        seen.add(path)
        try:
            claimed = _coerce(current, item.get("claimed"))
        except (ValueError, InvalidOperation, TypeError):
            errors[f"{key}.claimed"] = _("Значение не того вида, что у поля «%(field)s».") % {
                "field": label(parts)
            }
            continue
        if claimed == current:
            errors[f"{key}.claimed"] = _("Заявленное значение совпадает с тем, что в карте.")
            continue
        out.append({"path": path, "label": label(parts), "current": current, "claimed": claimed})
    if errors:
        return [], errors
    corrected = corrected_card(card, out)
    problems = card_problems(corrected)
    by_path = {e["path"]: i for i, e in enumerate(out)}
    for p in problems:
        i = by_path.get(p.path)
        name = f"disputed[{i}].claimed" if i is not None else "disputed"
        errors.setdefault(name, f"{p.path}: {p.reason}")
    if errors:
        return [], errors
    return out, {}


def corrected_card(card: dict[str, Any], disputed: list[dict[str, Any]]) -> dict[str, Any]:
    """A copy of ``card`` with every claimed value in place."""
    doc = copy.deepcopy(card)
    for entry in disputed:
        _set(doc, parse_path(entry["path"]), entry["claimed"])
    return doc


def json_safe(disputed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries as stored (numbers exact: a Decimal becomes its text)."""

    def v(x: Any) -> Any:
        return str(x) if isinstance(x, Decimal) else x

    return [
        {"path": e["path"], "current": v(e["current"]), "claimed": v(e["claimed"])}
        for e in disputed
    ]


def from_stored(card: dict[str, Any], stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored entries back as values of their fields' kinds (for the re-scoring)."""
    out = []
    for e in stored:
        parts = parse_path(e["path"])
        current = _get(card, parts)
        claimed = e["claimed"]
        if isinstance(current, Decimal | float) and isinstance(claimed, str):
            claimed = Decimal(claimed)
        out.append({"path": e["path"], "current": current, "claimed": claimed})
    return out
