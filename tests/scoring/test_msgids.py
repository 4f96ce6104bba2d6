"""One source language for translations: every msgid in ``scoring/`` is Russian (the default
language); Kazakh and English are translations (issue 11)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.utils import translation

SCORING = Path(__file__).resolve().parents[2] / "scoring"
_GETTEXT = {"_", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy", "ngettext"}
_CYRILLIC = re.compile(r"[А-Яа-яЁё]")
_TECHNICAL = {"SHA-256"}  # the same word in every language
# Cyrillic acronyms inside English text ("The ИИН check digit…") do not make it Russian.
_ACRONYMS = re.compile(r"ИИН|БИН|ПМ|МЗП")


def _is_english(text: str) -> bool:
    words = _PLACEHOLDERS.sub("", _ACRONYMS.sub("", text))
    return text not in _TECHNICAL and not _CYRILLIC.search(words) and bool(_LATIN.search(words))


_PLACEHOLDERS = re.compile(r"\{[^}]*\}|%\([^)]*\)[sd]|%[sd]")
_LATIN = re.compile(r"[A-Za-z]{2,}")


def _msgids() -> list[tuple[str, int, str]]:
    out = []
    for path in sorted(SCORING.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in _GETTEXT
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                out.append((str(path.relative_to(SCORING.parent)), node.lineno, node.args[0].value))
    return out


def test_every_scoring_msgid_is_russian() -> None:
    found = _msgids()
    assert len(found) > 100
    english = [(where, line, text) for where, line, text in found if _is_english(text)]
    assert english == []


def test_the_card_reasons_read_in_every_language() -> None:
    from scoring.card import CardError, parse_card
    from tests.scoring import cards as b

    doc = b.card()
    doc["members"][0]["birth_date"] = "1985-04-02"
    del doc["region"]
    try:
        parse_card(doc)
    except CardError as exc:
        problems = exc.problems
    reasons = {}
    for language in ("ru", "kk", "en"):
        with translation.override(language):
            reasons[language] = [str(p.reason) for p in problems]
    assert reasons["ru"] == ["Дата рождения не совпадает с датой в ИИН.", "Обязательное поле."]
    assert reasons["en"] == [
        "The birth date does not agree with the date in the IIN.",
        "This field is required.",
    ]
    assert all(_CYRILLIC.search(r) for r in reasons["kk"]) and reasons["kk"] != reasons["ru"]
