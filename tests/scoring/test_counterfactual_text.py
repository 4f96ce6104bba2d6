"""Plain words for what would change the outcome (scoring.counterfactual_text): each language,
its number formatting, the borderline warning, markers, points; the command and the selector."""

from __future__ import annotations

import io
import json
from fractions import Fraction
from pathlib import Path

import pytest
from django.core.management import call_command

from scoring import selectors, services
from scoring.card import parse_card, parse_card_document
from scoring.counterfactual import Counterfactuals, what_would_change
from scoring.counterfactual_text import (
    borderline_text,
    describe,
    describe_items,
    format_money,
    format_number,
)
from scoring.models import Assessment
from scoring.ruleset import load_default_ruleset
from tests.scoring import cards as b

EXAMPLES = Path(__file__).resolve().parents[2] / "scoring" / "data" / "examples"
NBSP = "\u00a0"


def cf_of(name: str) -> Counterfactuals:
    return what_would_change(
        parse_card_document((EXAMPLES / f"{name}.json").read_bytes()), load_default_ruleset()
    )


def test_it_formats_numbers_as_each_language_writes_them() -> None:
    assert format_money(1526, "ru") == f"1{NBSP}526{NBSP}₸"
    assert format_money(1526, "kk") == f"1{NBSP}526{NBSP}₸"
    assert format_money(1526, "en") == f"1,526{NBSP}₸"
    assert format_money(Fraction(4578, 3), "en") == f"1,526{NBSP}₸"
    assert format_money(Fraction(1, 4) + 28298, "ru") == f"28{NBSP}298,25{NBSP}₸"  # exact
    assert format_money(Fraction(84895, 3), "en") == f"≈{NBSP}28,298.33{NBSP}₸"
    assert format_number(Fraction(7, 8), "kk") == "0,875"  # every digit of the area
    assert format_number(Fraction(7, 8), "en") == "0.875"
    with pytest.raises(ValueError):
        format_number(1, "de")


def test_it_says_the_income_change_in_each_language() -> None:
    cf = cf_of("02-below-subsistence")
    ruleset = load_default_ruleset()
    lines = {lang: describe(cf, ruleset, lang) for lang in ("ru", "kk", "en")}
    assert lines["ru"][1] == (
        f"Если доход семьи уменьшится на 8{NBSP}128{NBSP}₸ в месяц (2{NBSP}032{NBSP}₸ на человека), "
        "категория будет 1 — «Крайняя нуждаемость». (в пределах пограничного запаса)"
    )
    assert lines["kk"][1] == (
        f"Егер отбасының табысы айына 8{NBSP}128{NBSP}₸ азайса (адам басына 2{NBSP}032{NBSP}₸), "
        "санат 1 — «Аса мұқтаждық» болады. (шекаралық қор шегінде)"
    )
    assert lines["en"][1] == (
        f"If the family's income falls by 8,128{NBSP}₸ a month (2,032{NBSP}₸ per person), "
        "the category would be 1 — “Extreme need”. (within the borderline margin)"
    )
    assert lines["en"][0] == borderline_text(cf, "en")
    assert f"2,542.55{NBSP}₸" in lines["en"][0] and "0.05" in lines["en"][0]
    assert f"2{NBSP}542,55{NBSP}₸" in lines["kk"][0] and "0,05" in lines["kk"][0]
    assert borderline_text(cf_of("03-need"), "ru") is None


def test_it_explains_the_markers_of_category_6_once() -> None:
    ruleset = load_default_ruleset()
    items = describe_items(cf_of("06-two-homes"), ruleset, "en")
    assert [i["kind"] for i in items] == ["markers_rule", "markers"]  # the input repeat is left out
    assert "“any marker”" in items[0]["text"] and "“Housing units owned”" in items[0]["text"]
    assert items[1]["text"] == (
        "If “Housing units owned” goes down by 1 (from 2 to 1), the category would be 3 — “Need”."
    )
    assert items[1]["category"] == 3 and items[1]["direction"] == "down"
    doc = b.card(
        members=[b.adult(salary=2 * b.PM_2026), b.spouse(salary=30_000), b.child()],
        housing=[b.home(50), b.home(40)],
        legal_entities=[b.legal_entity(True, 3)],
    )
    [_rule, both] = describe(what_would_change(parse_card(doc), ruleset), ruleset, "ru")
    assert both.startswith(
        "Если одновременно: показатель «Количество единиц жилья» уменьшится на 1"
    )
    assert "; показатель «Зарегистрированные юридические лица» уменьшится на 1 (с 1 до 0)" in both


def test_it_names_decisive_points_and_flags_in_plain_words() -> None:
    ruleset = load_default_ruleset()
    lines = describe(cf_of("09-vulnerable-shift"), ruleset, "kk")
    assert (
        "Егер несие бойынша мерзімі 90 күннен асқан берешек өтелсе, санат 2 — «Жоғары мұқтаждық» болады."
        in lines
    )
    assert (
        "«Толық емес отбасы» осалдық балы есепке алынбаса, санат 2 — «Жоғары мұқтаждық» болар еді."
        in lines
    )
    en = describe(cf_of("09-vulnerable-shift"), ruleset, "en")
    assert (
        "With the welfare point “Deposits per member to subsistence minimum”, the category would be 2 — “High need”."
        in en
    )


def test_it_says_so_when_nothing_would_change() -> None:
    cf = Counterfactuals(1, False, "KZ-2026.1", "-", 1, 50851, Fraction(1, 20), False, ())
    assert describe(cf, load_default_ruleset(), "en") == [
        "No change of the card's data changes the category."
    ]


def test_it_says_the_living_area_exactly() -> None:
    ruleset = load_default_ruleset()
    doc = b.card(
        members=[b.adult(salary=b.PM_2026, disability_group="3"), b.spouse(salary=b.PM_2026)],
        living_area=17.125,
    )
    lines = describe(what_would_change(parse_card(doc), ruleset), ruleset, "ru")
    assert any("жилая площадь увеличится на 0,875 м²" in line for line in lines)


# --------------------------------------------------------------------------- command and selector


@pytest.mark.django_db
def test_it_prints_the_changes_with_explain_changes(tmp_path) -> None:
    path = tmp_path / "card.json"
    path.write_bytes((EXAMPLES / "02-below-subsistence.json").read_bytes())
    out = io.StringIO()
    call_command("score_card", "--explain-changes", "--language", "en", str(path), stdout=out)
    text = out.getvalue()
    assert "What would change the category:" in text
    assert f"  • If the family's income falls by 8,128{NBSP}₸ a month" in text
    out = io.StringIO()
    call_command("score_card", str(path), stdout=out)
    assert "Что изменило бы" not in out.getvalue()


@pytest.mark.django_db
def test_it_puts_the_changes_in_every_json_line(tmp_path) -> None:
    path = tmp_path / "card.json"
    path.write_bytes((EXAMPLES / "08-hidden-income.json").read_bytes())
    out = io.StringIO()
    call_command("score_card", "--json", str(path), stdout=out)
    [line] = [json.loads(x) for x in out.getvalue().splitlines()]
    cf = Counterfactuals.from_dict(line["what_would_change"])
    assert cf == cf_of("08-hidden-income")
    assert "what_would_change_text" not in line
    out = io.StringIO()
    call_command(
        "score_card", "--json", "--explain-changes", "--language", "kk", str(path), stdout=out
    )
    [line] = [json.loads(x) for x in out.getvalue().splitlines()]
    assert line["what_would_change_text"] == describe(cf, load_default_ruleset(), "kk")
    assert line["what_would_change_text"][1].startswith("Егер карталар бойынша айналым айына")


@pytest.mark.django_db
def test_it_computes_the_changes_of_a_stored_assessment() -> None:
    parsed = parse_card_document((EXAMPLES / "05-sufficient.json").read_bytes())
    stored = services.assessment_create(card=parsed)
    cf = selectors.assessment_counterfactuals(assessment=stored)
    assert cf == what_would_change(parsed, load_default_ruleset())
    assert cf.for_input("family_income", "decrease").changes[0].amount == 82342
    # a trace the rule set does not reproduce (a draft edited since): no suggestions, no error
    forged = Assessment(
        card=stored.card,
        card_sha256=stored.card_sha256,
        ruleset=stored.ruleset,
        ruleset_version=stored.ruleset_version,
        category=3,
        high_welfare=False,
        trace={**stored.trace, "category": 3},
    )
    assert selectors.assessment_counterfactuals(assessment=forged) is None


def test_it_explains_a_switched_hidden_income_test() -> None:
    lines = describe(cf_of("08-hidden-income"), load_default_ruleset(), "en")
    assert any(
        line.startswith("If the family's income rises by 515,000")
        and line.endswith(
            "The hidden-income test would then no longer apply (the declared income counts)."
        )
        for line in lines
    )
