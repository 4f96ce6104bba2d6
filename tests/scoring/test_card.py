"""Parsing and validating family-card/1 documents (scoring.card)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from scoring.card import (
    Card,
    CardError,
    Problem,
    canonical_json,
    card_problems,
    card_sha256,
    format_path,
    parse_card,
)
from tests.scoring import cards as b

EXAMPLES = Path(__file__).resolve().parents[2] / "scoring" / "data" / "examples"


def _problems(doc) -> list[tuple[str, str]]:
    with pytest.raises(CardError) as info:
        parse_card(doc)
    return [(p.path, p.code) for p in info.value.problems]


# --------------------------------------------------------------------------- happy path


def test_it_parses_a_built_card_into_frozen_dataclasses() -> None:
    card = parse_card(b.card(members=[b.adult(salary=100), b.child()]))
    assert isinstance(card, Card)
    assert card.as_of == dt.date(2026, 9, 15)
    assert card.members[1].birth_date == dt.date(2015, 3, 1)
    assert card.members[0].incomes.salary == 100
    assert isinstance(card.members, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        card.region = "SHY"  # type: ignore[misc]
    assert not hasattr(card, "__dict__")  # slots


def test_it_accepts_json_text_and_bytes() -> None:
    doc = b.card()
    text = json.dumps(doc)
    assert parse_card(text) == parse_card(doc) == parse_card(text.encode("utf-8"))


def test_it_gives_back_the_document_from_to_dict() -> None:
    doc = b.card(
        members=[b.adult(salary=1), b.spouse(pension=2), b.child(disability_group="child")],
        vehicles=[b.car(2020)],
        legal_entities=[b.legal_entity(active=False)],
        turnover=5,
    )
    card = parse_card(doc)
    assert card.to_dict() == doc
    assert parse_card(card.to_dict()) == card


def test_it_normalises_integral_floats_in_integer_fields() -> None:
    doc = b.card()
    doc["members"][0]["incomes"]["salary"] = 1000.0
    card = parse_card(doc)
    assert type(card.members[0].incomes.salary) is int
    assert card.members[0].incomes.salary == 1000


def test_it_keeps_area_numbers_as_written() -> None:
    card = parse_card(b.card(living_area=27.3, housing=[b.home(41)]))
    assert card.living.area_m2 == Decimal("27.3")  # the decimal written, not the binary float
    assert card.property.housing[0].area_m2 == 41
    text = json.dumps(b.card(living_area=1)).replace('"area_m2": 1}', '"area_m2": 27.30}')
    assert parse_card(text).living.area_m2 == Decimal("27.3")


def test_it_parses_every_shared_example() -> None:
    paths = sorted(EXAMPLES.glob("0*.json"))
    assert len(paths) == 9
    for path in paths:
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert parse_card(doc).to_dict() == doc, path.name


# --------------------------------------------------------------------------- sha256


def test_it_hashes_canonical_json_regardless_of_key_order() -> None:
    doc = b.card()
    reordered = json.loads(json.dumps(doc, sort_keys=True))
    reordered = dict(reversed(list(reordered.items())))
    assert card_sha256(doc) == card_sha256(reordered) == card_sha256(json.dumps(doc, indent=2))
    assert len(card_sha256(doc)) == 64


def test_it_uses_sorted_compact_utf8_json_for_the_hash() -> None:
    doc = {"b": 1, "a": "Қарағанды"}
    assert canonical_json(doc) == '{"a":"Қарағанды","b":1}'.encode()
    import hashlib

    assert card_sha256(doc) == hashlib.sha256('{"a":"Қарағанды","b":1}'.encode()).hexdigest()


def test_it_remembers_the_hash_of_the_parsed_document() -> None:
    doc = b.card()
    card = parse_card(doc)
    assert card.sha256() == card_sha256(doc)
    built = dataclasses.replace(card, _sha256=None)
    assert built.sha256() == card_sha256(built.to_dict())


# --------------------------------------------------------------------------- identifiers


def test_it_rejects_a_wrong_iin_check_digit() -> None:
    doc = b.card(members=[b.adult(), b.child()])
    iin = doc["members"][1]["iin"]
    doc["members"][1]["iin"] = iin[:11] + str((int(iin[11]) + 1) % 10)
    assert _problems(doc) == [("members[1].iin", "iin.checksum")]


def test_it_rejects_an_iin_without_a_real_date() -> None:
    doc = b.card()
    doc["members"][0]["iin"] = "851301300124"  # month 13
    assert ("members[0].iin", "iin.date") in _problems(doc)


def test_it_rejects_an_iin_that_is_not_12_digits() -> None:
    doc = b.card()
    doc["members"][0]["iin"] = "85030730012"
    assert _problems(doc) == [("members[0].iin", "schema.pattern")]


def test_it_rejects_a_birth_date_disagreeing_with_the_iin() -> None:
    doc = b.card()
    doc["members"][0]["birth_date"] = "1985-04-02"
    assert _problems(doc) == [("members[0].birth_date", "birth_date.iin_mismatch")]


def test_it_rejects_a_birth_date_after_as_of() -> None:
    born = dt.date(2026, 9, 16)
    doc = b.card(members=[b.adult(), b.child(born)])
    assert _problems(doc) == [("members[1].birth_date", "birth_date.after_as_of")]


def test_it_accepts_a_birth_on_the_as_of_day() -> None:
    parse_card(b.card(members=[b.adult(), b.child(dt.date(2026, 9, 15))]))


def test_it_rejects_a_wrong_bin_check_digit() -> None:
    entity = b.legal_entity()
    good = entity["bin"]
    entity["bin"] = good[:11] + str((int(good[11]) + 1) % 10)
    doc = b.card(legal_entities=[b.legal_entity(serial=7), entity])
    assert _problems(doc) == [("business.legal_entities[1].bin", "bin.checksum")]


# --------------------------------------------------------------------------- schema


def test_it_names_a_missing_field_by_its_path() -> None:
    doc = b.card(members=[b.adult(), b.child()])
    del doc["members"][1]["sex"]
    del doc["credit"]
    assert _problems(doc) == [("credit", "schema.required"), ("members[1].sex", "schema.required")]


def test_it_rejects_unknown_fields() -> None:
    doc = b.card()
    doc["members"][0]["nickname"] = "x"
    doc["extra"] = 1
    assert _problems(doc) == [
        ("extra", "schema.unknown_field"),
        ("members[0].nickname", "schema.unknown_field"),
    ]


def test_it_checks_date_format() -> None:
    doc = b.card()
    doc["as_of"] = "2026-02-30"
    assert ("as_of", "schema.format") in _problems(doc)
    doc["as_of"] = "20260915"
    assert ("as_of", "schema.format") in _problems(doc)


def test_it_checks_types_enums_and_minimums() -> None:
    doc = b.card()
    doc["members"][0]["incomes"]["pension"] = -1
    doc["members"][0]["relation"] = "cousin"
    doc["credit"]["overdue_90_days"] = 1
    doc["property"]["housing"] = [{"kind": "house", "area_m2": 0}]
    doc["property"]["vehicles"] = [{"kind": "car", "year": 1899}]
    assert _problems(doc) == [
        ("credit.overdue_90_days", "schema.type"),
        ("members[0].incomes.pension", "schema.minimum"),
        ("members[0].relation", "schema.enum"),
        ("property.housing[0].area_m2", "schema.exclusiveMinimum"),
        ("property.vehicles[0].year", "schema.minimum"),
    ]


def test_it_rejects_booleans_where_integers_are_expected() -> None:
    doc = b.card()
    doc["property"]["land_plots"] = True
    assert _problems(doc) == [("property.land_plots", "schema.type")]


def test_it_requires_at_least_one_member() -> None:
    assert _problems(b.card(members=[])) == [("members", "schema.minItems")]


def test_it_rejects_a_document_that_is_not_an_object() -> None:
    assert _problems([]) == [("", "schema.type")]


def test_it_reports_every_problem_in_document_order() -> None:
    doc = b.card(members=[b.adult(), b.child(), b.child(dt.date(2018, 1, 1))])
    doc["members"][2]["iin"] = "000000000000"
    doc["members"][0]["birth_date"] = "2030-01-01"
    doc["region"] = ""
    paths = [path for path, _code in _problems(doc)]
    assert paths == [
        "members[0].birth_date",
        "members[0].birth_date",
        "members[2].iin",
        "region",
    ]
    assert card_problems(b.card()) == []


def test_it_rejects_non_finite_area() -> None:
    doc = b.card(living_area=float("inf"))
    assert _problems(doc) == [("living.area_m2", "number.not_finite")]
    assert _problems(b.card(living_area=float("nan"))) == [("living.area_m2", "number.not_finite")]
    nan_home = b.card(housing=[b.home(float("nan"))])
    assert ("property.housing[0].area_m2", "number.not_finite") in _problems(nan_home)


# --------------------------------------------------------------------------- JSON text


def test_it_rejects_invalid_json_text() -> None:
    assert _problems("{not json") == [("", "json.invalid")]


def test_it_rejects_nan_and_infinity_literals() -> None:
    text = json.dumps(b.card()).replace('"area_m2": 54.0}', '"area_m2": NaN}')
    assert "NaN" in text
    assert _problems(text) == [("", "json.invalid")]


def test_it_rejects_duplicate_keys() -> None:
    text = json.dumps(b.card())[:-1] + ', "region": "SHY"}'
    assert _problems(text) == [("", "json.invalid")]


# --------------------------------------------------------------------------- errors and privacy


def test_it_formats_paths() -> None:
    assert format_path(["members", 2, "iin"]) == "members[2].iin"
    assert format_path([]) == ""
    assert format_path([0, "a"]) == "[0].a"


def test_it_keeps_iins_and_incomes_out_of_reprs_and_messages() -> None:
    doc = b.card(members=[b.adult(salary=123_457)])
    iin = doc["members"][0]["iin"]
    card = parse_card(doc)
    assert iin not in repr(card)
    assert "123457" not in repr(card)
    doc["members"][0]["iin"] = iin[:11] + str((int(iin[11]) + 1) % 10)
    with pytest.raises(CardError) as info:
        parse_card(doc)
    assert iin[:11] not in str(info.value)


@pytest.mark.skipif(not settings.configured, reason="needs Django settings to render reasons")
def test_it_renders_reasons_in_the_active_language() -> None:
    from django.utils import translation

    doc = b.card()
    del doc["region"]
    doc["members"][0]["birth_date"] = "1985-04-02"
    with pytest.raises(CardError) as info:
        parse_card(doc)
    with translation.override("en"):
        reasons = {p.path: p.as_dict()["reason"] for p in info.value.problems}
        text = str(info.value)
    assert reasons == {
        "members[0].birth_date": "The birth date does not agree with the date in the IIN.",
        "region": "This field is required.",
    }
    assert "region: This field is required." in text
    with translation.override("ru"):
        ru = {p.path: p.as_dict()["reason"] for p in info.value.problems}
    assert ru["region"] == "Обязательное поле."


def test_it_compares_problems_by_path_and_code() -> None:
    assert Problem("a", "x", "one") == Problem("a", "x", "two")
    assert CardError([Problem("a", "x", "r")]).paths == ["a"]
