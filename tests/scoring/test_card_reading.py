"""Reading a family card exactly and strictly (issue 10): numbers as written, identifiers
matched whole, hostile documents refused with a clear error, one person per ИИН, the card
parsed once, and the hash of every existing card unchanged."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest

from scoring.card import (
    MAX_PROBLEMS,
    CardError,
    ParsedCard,
    card_problems,
    card_sha256,
    parse_card,
    parse_card_document,
    parse_card_explained,
)
from scoring.engine import assess
from scoring.jsondoc import MAX_DEPTH, MAX_DOCUMENT_BYTES, load_json_document
from scoring.ruleset import load_default_ruleset
from tests.scoring import cards as b

EXAMPLES = Path(__file__).resolve().parents[2] / "scoring" / "data" / "examples"
RULES = load_default_ruleset()
_ARABIC = "٠١٢٣٤٥٦٧٨٩"


def _problems(doc) -> list[tuple[str, str]]:
    with pytest.raises(CardError) as info:
        parse_card(doc)
    return [(p.path, p.code) for p in info.value.problems]


def _text(doc: dict, **numbers: str) -> str:
    """JSON text of ``doc`` with placeholders ``"@name"`` replaced by raw number text."""
    text = json.dumps(doc, ensure_ascii=False)
    for name, raw in numbers.items():
        assert f'"@{name}"' in text
        text = text.replace(f'"@{name}"', raw)
    return text


def _old_sha256(text: str | bytes) -> str:
    """The fingerprint as every card was hashed before: stdlib floats, then sorted JSON."""
    doc = json.loads(text)
    canonical = json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- numbers


_BOUNDARY = b.card(
    members=[
        b.adult(salary=5 * b.PM_2026),
        b.spouse(),
        b.child(disability_group="child"),
    ],
    living_area="@area",
)


def _area_boundary_card(area: str) -> str:
    """Three members, a disabled child (1 point), income ratio 5/3 (base category 3): the
    living area per person decides the second point (< 9 m², i.e. < 27 m²) and with it the
    shift (net 2 → −1)."""
    return _text(_BOUNDARY, area=area)


def test_it_reads_a_number_with_more_digits_than_a_float_holds_exactly() -> None:
    below = assess(parse_card(_area_boundary_card("26.99")), RULES)
    exact = assess(parse_card(_area_boundary_card("26.9999999999999999999")), RULES)
    at = assess(parse_card(_area_boundary_card("27")), RULES)
    assert (below.category, at.category) == (2, 3)
    # 26.9999999999999999999 / 3 < 9: one more point, like 26.99 (a float reads 27.0)
    assert exact.category == below.category
    assert "living_area_per_person" in exact.vulnerability
    card = parse_card(_area_boundary_card("26.9999999999999999999"))
    assert card.living.area_m2 == Decimal("26.9999999999999999999")


def test_it_takes_a_tiny_area_as_greater_than_zero() -> None:
    doc = b.card(housing=[b.home("@tiny")])
    card = parse_card(_text(doc, tiny="1e-400"))
    assert card.property.housing[0].area_m2 == Decimal("1e-400") > 0
    assert _problems(_text(doc, tiny="0e-5")) == [
        ("property.housing[0].area_m2", "schema.exclusiveMinimum")
    ]


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("1000", 1000),
        ("1000.0", 1000),
        ("1E+3", 1000),
        ("1e3", 1000),
        ("10000E-1", 1000),
        ("1.0E+3", 1000),
        ("1.2345678901234567891E+20", 123456789012345678910),  # a float keeps 17 digits
        ("123456789012345678901234567890", 123456789012345678901234567890),
    ],
)
def test_it_reads_integers_exactly_whatever_their_notation(written: str, value: int) -> None:
    doc = b.card(members=[b.adult(salary="@salary")])
    card = parse_card(_text(doc, salary=written))
    salary = card.members[0].incomes.salary
    assert type(salary) is int and salary == value


def test_it_refuses_a_fraction_where_an_integer_belongs() -> None:
    doc = b.card(members=[b.adult(salary="@salary")])
    for written in ("1000.5", "1.00000000000000000001E+3"):  # the second rounds to 1000.0
        assert _problems(_text(doc, salary=written)) == [
            ("members[0].incomes.salary", "schema.type")
        ]


def test_it_refuses_numbers_beyond_the_exact_limits_with_the_path() -> None:
    doc = b.card(members=[b.adult(salary="@salary")], living_area="@area")
    problems = _problems(_text(doc, salary="1E+999999999", area="1e-999999"))
    assert ("members[0].incomes.salary", "number.out_of_range") in problems
    assert ("living.area_m2", "number.out_of_range") in problems


def test_it_hashes_every_shipped_example_byte_for_byte_as_before() -> None:
    paths = sorted(EXAMPLES.glob("0*.json"))
    assert len(paths) == 9
    for path in paths:
        text = path.read_bytes()
        parsed = parse_card_document(text)
        assert parsed.sha256 == _old_sha256(text) == card_sha256(text), path.name
        assert parse_card_explained(text).sha256 == parsed.sha256


@pytest.mark.parametrize(
    "area", ["54.1", "54.10", "5.41e1", "1000.0", "0.00001", "1e-05", "1e16", "1e+30", "2.5E-7"]
)
def test_it_hashes_numbers_a_float_holds_as_before(area: str) -> None:
    text = _text(b.card(living_area="@area"), area=area)
    assert parse_card_document(text).sha256 == _old_sha256(text)


def test_it_hashes_numbers_a_float_cannot_hold_by_all_their_digits() -> None:
    doc = b.card(living_area="@a")
    one, more = _text(doc, a="54.1"), _text(doc, a="54.100000000000000000001")
    assert _old_sha256(one) == _old_sha256(more)  # the old hash could not tell them apart
    assert parse_card_document(one).sha256 != parse_card_document(more).sha256


# --------------------------------------------------------------------------- identifiers


def test_it_refuses_an_iin_followed_by_a_newline() -> None:
    doc = b.card()
    doc["members"][0]["iin"] += "\n"
    assert _problems(doc) == [("members[0].iin", "schema.pattern")]
    # the same written as JSON text, and with a БИН
    entity = b.legal_entity()
    entity["bin"] += "\n"
    assert _problems(json.dumps(b.card(legal_entities=[entity]))) == [
        ("business.legal_entities[0].bin", "schema.pattern")
    ]


def test_it_refuses_an_iin_of_twelve_digits_that_are_not_ascii() -> None:
    doc = b.card()
    iin = doc["members"][0]["iin"]
    doc["members"][0]["iin"] = "".join(c if i == 6 else _ARABIC[int(c)] for i, c in enumerate(iin))
    assert _problems(doc) == [("members[0].iin", "schema.pattern")]


def test_it_still_checks_the_iin_when_the_schema_check_is_loose() -> None:
    # The semantic checks run on every ИИН string (no `len == 12` gate): a value that slipped
    # past a loose pattern still gets a problem of its own.
    from scoring import card as card_module

    doc = b.card()
    doc["members"][0]["iin"] += "\n"
    problems = card_module._semantic_problems(doc)
    assert [(p.path, p.code) for _parts, p in problems] == [("members[0].iin", "iin.format")]


# --------------------------------------------------------------------------- one person per ИИН


def test_it_refuses_the_same_person_listed_twice_naming_the_second() -> None:
    first = b.child(dt.date(2015, 3, 1))
    members = [b.adult(), b.spouse(), b.child(dt.date(2012, 1, 9)), dict(first), first]
    problems = _problems(b.card(members=members))
    assert problems == [("members[4].iin", "iin.duplicate")]
    with pytest.raises(CardError) as info:
        parse_card(b.card(members=members))
    assert "members[3]" in str(info.value)


def test_it_refuses_a_repeated_key_anywhere_in_the_text() -> None:
    doc = b.card(members=[b.adult(), b.child()])
    text = json.dumps(doc)
    inner = text.replace('"sex": "M"', '"sex": "M", "sex": "M"', 1)  # same value, in a member
    assert inner != text and _problems(inner) == [("", "json.invalid")]
    # a ':' in the free text cannot hide a repeated key (an escaped one neither)
    for family_id in ("F:1", "F\\u003a1"):
        tricky = text.replace('"F-test"', f'"{family_id}"').replace(
            '"region": "KAR"', '"region": "KAR", "region": "KAR"'
        )
        assert _problems(tricky) == [("", "json.invalid")]
    assert parse_card(text.replace('"F-test"', '"F:1"')).family_id == "F:1"
    assert parse_card(text.replace('"F-test"', '"F\\u003a1"')).family_id == "F:1"


# --------------------------------------------------------------------------- hostile documents


def test_it_refuses_deep_nesting_with_a_clear_error_not_a_recursion_error() -> None:
    for depth in (MAX_DEPTH + 1, 1_000, 100_000):
        text = '{"schema":' + "[" * depth + "]" * depth + "}"
        assert _problems(text) == [("", "json.too_deep")]
    with pytest.raises(ValueError, match="вложенность"):
        load_json_document("[" * 2_000 + "]" * 2_000)


def test_it_accepts_nesting_up_to_the_limit() -> None:
    assert load_json_document("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None


def test_it_refuses_a_document_that_is_too_large() -> None:
    doc = b.card(family_id="x" * 64)
    text = json.dumps(doc)[:-1] + ', "pad": "' + "x" * MAX_DOCUMENT_BYTES + '"}'
    assert _problems(text) == [("", "json.too_large")]
    assert _problems(text.encode()) == [("", "json.too_large")]


def test_it_refuses_lone_surrogates_and_bad_encodings() -> None:
    text = json.dumps(b.card(family_id="F-\ud800"))  # json.dumps escapes it: "F-\ud800"
    assert _problems(text) == [("", "json.invalid")]
    assert _problems(b"\xff\xfe\x00") == [("", "json.invalid")]
    assert _problems(b.card(family_id="F-\udc00")) == [("family_id", "text.invalid")]


def test_it_shows_hostile_field_names_escaped_and_short() -> None:
    doc = b.card()
    doc["members"][0]["bad\nname"] = 1
    doc["\ud800"] = 1
    doc["k" * 5_000] = 1
    paths = [p for p, _code in _problems(doc)]
    assert 'members[0]["bad\\nname"]' in paths
    assert '["\\ud800"]' in paths
    long = next(p for p in paths if p.startswith('["kkk'))
    assert len(long) < 60 and long.endswith('…"]')
    for path in paths:
        assert path.isprintable()
        path.encode("utf-8")  # no lone surrogate: writable to any UTF-8 terminal or file


def test_it_lists_a_bounded_number_of_problems_quickly() -> None:
    doc = b.card()
    for i in range(50_000):
        doc[f"x{i}"] = i
    doc["members"] = [{} for _ in range(20_000)]
    problems = card_problems(doc)
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1].code == "problems.more"


@pytest.mark.parametrize(
    "doc",
    [
        None,
        [],
        "x",
        12,
        {"members": [None, 1, "a", [], {"iin": []}]},
        {"members": {"iin": 1}, "business": {"legal_entities": [{"bin": None}]}},
        {"property": {"housing": [{"area_m2": "1"}], "vehicles": [{"year": 1e400}]}},
        {"as_of": 20260915, "members": [{"birth_date": "2026-W01-1", "iin": "0" * 12}]},
    ],
)
def test_it_answers_any_shape_with_problems(doc) -> None:
    with pytest.raises(CardError) as info:
        parse_card(doc)
    assert info.value.problems


# --------------------------------------------------------------------------- parsed once


def test_it_returns_the_card_with_its_document_and_hash() -> None:
    text = _text(b.card(living_area="@a"), a="54.10")
    parsed = parse_card_document(text)
    assert isinstance(parsed, ParsedCard)
    assert parsed.document["living"]["area_m2"] == Decimal("54.10")
    assert parsed.sha256 == parsed.card.sha256() == card_sha256(parsed.document)
    assert parse_card(text) == parsed.card


def test_the_fast_path_and_the_explaining_path_agree_on_a_valid_card() -> None:
    text = _text(b.card(living_area="@a", members=[b.adult(salary="@s")]), a="1e-3", s="5.0")
    fast, explained = parse_card_document(text), parse_card_explained(text)
    assert fast.card == explained.card and fast.sha256 == explained.sha256


# --------------------------------------------------------------------------- 29 February


def test_it_gives_a_29_february_birthday_on_28_february_in_common_years() -> None:
    """DOMAIN.md §6.1: a person born on 29 February turns 18 on 28 February of a common year."""
    leapling = b.member(relation="child", birth_date=dt.date(2008, 2, 29), education="secondary")
    doc = b.card(members=[b.adult(), leapling], as_of=dt.date(2026, 2, 28))
    minors = assess(parse_card(json.dumps(doc)), RULES).value("minors")
    day_before = b.card(members=[b.adult(), leapling], as_of=dt.date(2026, 2, 27))
    assert minors == 0
    assert assess(parse_card(json.dumps(day_before)), RULES).value("minors") == 1
