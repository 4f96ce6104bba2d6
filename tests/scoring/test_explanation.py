"""The plain-language explanation of an assessment (scoring/explanation.py), for each of the
nine worked examples in Russian, Kazakh and English."""

from __future__ import annotations

import datetime as dt
import json
import re
from fractions import Fraction
from pathlib import Path

import pytest

from scoring.counterfactual_text import format_money
from scoring.engine import assess_document
from scoring.explanation import criteria_table, explain
from scoring.ruleset import load_default_ruleset

EXAMPLES = Path(__file__).resolve().parents[2] / "scoring" / "data" / "examples"
NAMES = sorted(p.stem for p in EXAMPLES.glob("0*.json"))
EXPECTED = json.loads((EXAMPLES / "expected.json").read_text(encoding="utf-8"))
LANGUAGES = ("ru", "kk", "en")
PM = {"ru": "ПМ", "kk": "ЕКШ", "en": "SM"}
#: What the old page showed and no sentence may: Python values, engine codes, arrows, ticks.
RAW = re.compile(
    r"\bFalse\b|\bTrue\b|\bNone\b|\d\.\d{4}\b|✓|\b(?:marker|vulnerability|wealth|band) (?:→|\(\d)|"
    r"_|%\(|\binf\b"
)
CYRILLIC = re.compile(r"[А-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі]")


def _scored(name: str):
    doc = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    rs = load_default_ruleset()
    return doc, rs, assess_document(doc, rs)


def test_there_are_nine_examples():
    assert len(NAMES) == 9 and set(NAMES) == set(EXPECTED)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", NAMES)
def test_it_explains_every_example_in_every_language(name, language):
    doc, rs, a = _scored(name)
    ex = explain(a.to_dict(), rs, language, as_of=dt.date.fromisoformat(doc["as_of"]))
    text = " ".join(ex.sentences())
    assert ex.category == EXPECTED[name]["category"]
    assert ex.headline.startswith(
        {"ru": "Категория", "kk": "Санат", "en": "Category"}[language] + f" {a.category}"
    )
    assert rs.category_label(a.category, language) in ex.headline
    # The income per person in ₸ and in subsistence minimums, formatted for the language.
    per_capita = Fraction(a.value("per_capita_income"))
    assert format_money(per_capita, language) in text
    assert f"\u00a0{PM[language]}" in text
    assert format_money(50851, language) in text and "2026" in text
    # The band, each point, the markers.
    assert ex.band and ex.shift
    assert len(ex.points) == len(a.vulnerability) + len(a.wealth)
    for code in (*a.vulnerability, *a.wealth):
        assert any(rs.criterion_label(code, language) in p for p in ex.points)
    if a.high_welfare:
        assert ex.markers_rule and ex.without_markers
        assert len(ex.markers) == len(EXPECTED[name]["markers"])
        for code in EXPECTED[name]["markers"]:
            assert any(rs.criterion_label(code, language) in m for m in ex.markers)
        assert text.index(ex.markers[0]) < text.index(ex.income[-1])  # the markers come first
    else:
        assert not ex.markers and not ex.markers_rule
    assert not RAW.search(text) and "→" not in text, text
    if language == "en":
        assert not CYRILLIC.search(text), text
    else:
        assert "₸" in text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", NAMES)
def test_the_criteria_table_is_in_words(name, language):
    _doc, rs, a = _scored(name)
    rows = criteria_table(a.to_dict(), rs, language)
    assert [r.code for r in rows][:3] == ["family_size", "declared_income", "informal_income"]
    assert len(rows) == 23
    for row in rows:
        assert row.label == rs.criterion_label(row.code, language)
        assert not RAW.search(row.value), row.value
        for check in row.checks:
            assert not RAW.search(check.rule.replace("→", "")), check.rule
    fired = {r.code for r in rows if r.fired}
    assert fired == {*a.markers, *a.vulnerability, *a.wealth}
    if language == "en":
        assert not CYRILLIC.search(
            " ".join(r.value + " ".join(c.rule for c in r.checks) for r in rows)
        )


def _ru(name: str) -> list[str]:
    doc, rs, a = _scored(name)
    return explain(a.to_dict(), rs, "ru", as_of=dt.date.fromisoformat(doc["as_of"])).sentences()


def test_it_says_why_the_vulnerable_family_moved_two_categories():
    assert _ru("09-vulnerable-shift") == [
        "Категория 1 — «Крайняя нуждаемость».",
        "Доход семьи в расчёте — 260\u00a0000\u00a0₸ в месяц, членов семьи — 5: на человека "
        "52\u00a0000\u00a0₸, это ≈\u00a01,02\u00a0ПМ (прожиточный минимум 2026 года — "
        "50\u00a0851\u00a0₸).",
        "Это интервал «от 1 до 2\u00a0ПМ»: базовая категория 3 — «Нуждаемость».",
        "+1 балл уязвимости — «Просрочка свыше 90 дней»: да.",
        "+1 балл уязвимости — «Иждивенческая нагрузка»: 4 (балл даётся при значении не меньше 2).",
        "+1 балл уязвимости — «Несовершеннолетние дети»: 4 (балл даётся при значении не меньше 4).",
        "+1 балл уязвимости — «Неполная семья»: да.",
        "Итого баллов: уязвимости 4, благосостояния 0, разница +4 — категория сдвигается на 2 к "
        "большей нуждаемости: с 3 на 1.",
    ]


def test_it_says_the_hidden_income_counts_the_card_turnover():
    lines = _ru("08-hidden-income")
    assert lines[1].startswith("Категория 6 ставится, когда выполняется хотя бы один маркер")
    assert lines[2] == (
        "«Доход на члена семьи к ПМ»: ≈\u00a05,9\u00a0ПМ (маркер выполняется при значении "
        "больше 4\u00a0ПМ)."
    )
    assert lines[3].startswith("Без маркеров семья была бы в категории 5")
    assert lines[4] == (
        "Оборот по картам — 900\u00a0000\u00a0₸ в месяц — больше дохода семьи (85\u00a0000\u00a0₸) "
        "более чем в 1,5 раза: это признак скрытого дохода, поэтому в расчёт берётся оборот по "
        "картам."
    )


def test_it_says_when_the_shift_stops_at_category_1():
    lines = _ru("01-extreme-need")
    assert "ниже категории 1 сдвигать некуда: категория 1." in lines[-1]
    assert "+1 балл уязвимости — «Жилая площадь на человека»: 7,5\u00a0м²" in " ".join(lines)


def test_it_writes_numbers_the_english_and_kazakh_way():
    doc, rs, a = _scored("09-vulnerable-shift")
    on = dt.date.fromisoformat(doc["as_of"])
    en = explain(a.to_dict(), rs, "en", as_of=on).income[0]
    kk = explain(a.to_dict(), rs, "kk", as_of=on).income[0]
    assert "260,000\u00a0₸" in en and "≈\u00a01.02\u00a0SM" in en and "50,851\u00a0₸" in en
    assert "260\u00a0000\u00a0₸" in kk and "≈\u00a01,02\u00a0ЕКШ" in kk


@pytest.mark.parametrize(
    ("value", "threshold", "expected"),
    [
        (Fraction(54996, 100000), Fraction(55, 100), "≈\u00a00,5499\u00a0ПМ"),  # band 1
        (Fraction(400001, 100000), 4, "≈\u00a04,0001\u00a0ПМ"),  # above the marker
        (Fraction(1, 3), Fraction(55, 100), "≈\u00a00,33\u00a0ПМ"),
        (Fraction(55, 100), Fraction(55, 100), "0,55\u00a0ПМ"),
    ],
)
def test_it_never_rounds_a_ratio_onto_the_threshold(value, threshold, expected):
    from scoring.explanation import format_value

    assert format_value("income_ratio", "ratio", value, "ru", [threshold]) == expected


def test_it_refuses_a_malformed_trace_and_an_unknown_language():
    _doc, rs, a = _scored("03-need")
    with pytest.raises(ValueError):
        explain({"format": "nope"}, rs, "ru")
    with pytest.raises(ValueError):
        explain(a.to_dict(), rs, "de")


def _explain_doc(doc, language="ru", as_of=True):
    rs = load_default_ruleset()
    a = assess_document(doc, rs)
    on = dt.date.fromisoformat(doc["as_of"]) if as_of else None
    return a, explain(a.to_dict(), rs, language, as_of=on)


def _doc(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def test_it_says_when_the_shift_stops_at_category_5():
    doc = _doc("05-sufficient")
    doc["property"].update(land_plots=2, livestock_units=10)
    doc["business"]["individual_entrepreneur"] = True
    a, ex = _explain_doc(doc)
    assert (a.base_category, a.shift, a.category) == (5, 1, 5)
    assert len(ex.points) == 3
    assert all(p.startswith("−1 балл благосостояния") for p in ex.points)
    assert "выше категории 5 сдвигать некуда (категорию 6 дают только маркеры)" in ex.shift


def test_it_words_payments_without_income_and_a_missing_year():
    doc = _doc("01-extreme-need")
    for m in doc["members"]:
        m["incomes"] = dict.fromkeys(m["incomes"], 0)
    doc["credit"]["monthly_payments_kzt"] = 10000
    a, ex = _explain_doc(doc)
    assert "«Долговая нагрузка»: платежи есть, дохода нет" in " ".join(ex.points)
    assert "на человека 0\xa0₸, это 0\xa0ПМ (прожиточный минимум 2026 года" in ex.income[0]
    rows = {r.code: r for r in criteria_table(a.to_dict(), load_default_ruleset(), "en")}
    assert rows["debt_burden"].value == "payments but no income"
    assert rows["debt_burden"].checks[0].rule == "vulnerability point +1: more than 50%"
    # Without the card's date the ПМ is read back from the trace, or left out when income is 0.
    _a, ex = _explain_doc(doc, as_of=False)
    assert ex.income[-1].endswith("это 0\xa0ПМ.")
    _a, ex = _explain_doc(_doc("03-need"), as_of=False)
    assert ex.income[-1].endswith("(прожиточный минимум — 50\xa0851\xa0₸).")


@pytest.mark.parametrize(
    ("mode", "count", "expected"),
    [
        ("all", 1, "когда выполняются все маркеры высокого благосостояния (4)"),
        ("at_least", 1, "когда выполняется не меньше 1 маркера высокого благосостояния"),
    ],
)
def test_it_names_the_marker_rule_of_the_rule_set(mode, count, expected):
    _doc_, rs, a = _scored("06-two-homes")
    trace = a.to_dict()
    trace["markers"] = {**trace["markers"], "mode": mode, "min_count": count}
    ex = explain(trace, rs, "ru")
    assert expected in ex.markers_rule
