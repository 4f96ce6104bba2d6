"""Rule-set documents (scoring.ruleset): the shipped default, the schema, semantic checks."""

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from scoring.criteria import CRITERIA
from scoring.ruleset import (
    DEFAULT_RULESET_PATH,
    OPERATORS,
    RULESET_SCHEMA,
    RuleSetError,
    compile_ruleset,
    load_default_ruleset,
    ruleset_problems,
)
from tests.scoring import cards as b

# The shared contracts lie beside the repository (../shared), as in CI and sessions.
SHARED = Path(__file__).resolve().parents[3] / "shared" / "contracts"
SCORING = Path(__file__).resolve().parents[2] / "scoring"


def _problems(doc) -> list[tuple[str, str]]:
    with pytest.raises(RuleSetError) as info:
        compile_ruleset(doc)
    return [(p.path, p.code) for p in info.value.problems]


# --------------------------------------------------------------------------- the default


def test_it_compiles_the_shipped_default() -> None:
    rs = load_default_ruleset()
    assert rs.version == "KZ-2026.1"
    assert rs.effective_from.isoformat() == "2025-09-01"
    assert rs.subsistence_minimum_for(2026) == 50_851
    assert rs.subsistence_minimum_for(2024) == 43_407
    assert rs.minimum_wage_for(2025) == 85_000
    p = rs.parameters
    assert p.hidden_income_factor == Fraction(3, 2)
    assert (p.informal_work_age_min, p.informal_work_age_max, p.dependant_min_age) == (18, 62, 63)
    assert p.counted_vehicle_kinds == frozenset({"car", "truck"})
    assert p.adult_education_sufficient == frozenset({"secondary", "vocational", "higher"})
    assert rs.marker_mode == "any"
    assert [(m.criterion, m.op, m.threshold) for m in rs.markers] == [
        ("housing_units", ">=", 2),
        ("vehicles", ">=", 2),
        ("legal_entities", ">=", 1),
        ("income_ratio", ">", 4),
    ]
    assert [(band.category, band.below) for band in rs.bands] == [
        (1, Fraction(11, 20)),
        (2, 1),
        (3, 2),
        (4, 3),
        (5, None),
    ]
    assert len(rs.vulnerability) == 9 and len(rs.wealth) == 5
    assert [(r.net_at_least, r.shift) for r in rs.shift] == [
        (4, -2),
        (2, -1),
        (-1, 0),
        (-3, 1),
        (None, 2),
    ]
    assert rs.category_label(1, "kk") == "Аса мұқтаждық"
    assert rs.category_label(6, "en") == "High welfare"
    assert rs.criterion_label("minors", "ru") == "Несовершеннолетние дети"


def test_it_precompiles_thresholds_to_exact_numbers() -> None:
    rs = load_default_ruleset()
    debt = next(r for r in rs.vulnerability if r.criterion == "debt_burden")
    assert debt.threshold == Fraction(1, 2) and isinstance(debt.threshold, Fraction)
    minors = next(r for r in rs.vulnerability if r.criterion == "minors")
    assert type(minors.threshold) is int
    single = next(r for r in rs.vulnerability if r.criterion == "single_parent")
    assert single.threshold is True


@pytest.mark.skipif(not SHARED.exists(), reason="shared contracts not mounted")
def test_it_ships_copies_of_the_shared_contracts() -> None:
    def load(path: Path):
        return json.loads(path.read_text(encoding="utf-8"))

    assert load(DEFAULT_RULESET_PATH) == load(SHARED / "rule-set.KZ-2026.1.json")
    for example in sorted((SHARED / "examples").glob("*.json")):
        assert load(SCORING / "data" / "examples" / example.name) == load(example), example.name
    assert load(SCORING / "schemas" / "family-card.schema.json") == load(
        SHARED / "family-card.schema.json"
    )


def test_it_has_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(RULESET_SCHEMA)
    assert ruleset_problems(b.ruleset_doc()) == []


def test_it_is_immutable_and_gives_back_its_document() -> None:
    rs = load_default_ruleset()
    with pytest.raises(dataclasses.FrozenInstanceError):
        rs.version = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        rs.parameters.subsistence_minimum[2027] = 1  # type: ignore[index]
    doc = rs.to_dict()
    doc["version"] = "changed"
    assert rs.to_dict()["version"] == "KZ-2026.1"
    again = compile_ruleset(rs.to_dict())
    assert again == rs and again.sha256 == rs.sha256
    assert compile_ruleset(json.dumps(rs.to_dict())) == rs


def test_it_has_a_fixed_operator_set_without_eval() -> None:
    assert set(OPERATORS) == {">=", ">", "<=", "<", "==", "is"}
    source = (SCORING / "ruleset.py").read_text(encoding="utf-8")
    source += (SCORING / "engine.py").read_text(encoding="utf-8")
    assert "eval(" not in source and "exec(" not in source


def test_it_labels_every_criterion() -> None:
    rs = load_default_ruleset()
    for criterion in CRITERIA:
        for language in ("ru", "kk", "en"):
            assert rs.criterion_label(criterion.code, language)


# --------------------------------------------------------------------------- bands


def test_it_rejects_a_gap_in_the_bands() -> None:
    doc = b.ruleset_doc()
    doc["bands"][2]["category"] = 4
    doc["bands"][3]["category"] = 5
    doc["bands"][4]["category"] = 5
    assert _problems(doc) == [
        ("bands[2].category", "bands.order"),
        ("bands[3].category", "bands.order"),
    ]


def test_it_rejects_bands_that_leave_high_ratios_uncovered() -> None:
    doc = b.ruleset_doc()
    doc["bands"][4]["income_ratio_below"] = "10"
    assert _problems(doc) == [("bands[4].income_ratio_below", "bands.last_closed")]


def test_it_rejects_an_open_band_before_the_last() -> None:
    doc = b.ruleset_doc()
    doc["bands"][2]["income_ratio_below"] = None
    assert _problems(doc) == [("bands[2].income_ratio_below", "bands.open_not_last")]


def test_it_rejects_bands_not_ascending() -> None:
    doc = b.ruleset_doc()
    doc["bands"][2]["income_ratio_below"] = "1.0"  # equal to the bound before: empty band
    assert _problems(doc) == [("bands[2].income_ratio_below", "bands.not_ascending")]
    doc["bands"][2]["income_ratio_below"] = "0.9"
    assert _problems(doc) == [("bands[2].income_ratio_below", "bands.not_ascending")]


def test_it_requires_exactly_five_bands() -> None:
    doc = b.ruleset_doc()
    del doc["bands"][3]
    assert ("bands", "schema.minItems") in _problems(doc)


# --------------------------------------------------------------------------- thresholds


def test_it_rejects_a_negative_threshold() -> None:
    doc = b.ruleset_doc()
    doc["bands"][0]["income_ratio_below"] = "-0.55"
    doc["vulnerability_points"][8]["value"] = "-0.5"
    assert _problems(doc) == [
        ("bands[0].income_ratio_below", "schema.pattern"),
        ("vulnerability_points[8].value", "schema.pattern"),
    ]


def test_it_requires_decimals_as_strings() -> None:
    doc = b.ruleset_doc()
    doc["wealth_points"][1]["value"] = 2
    doc["parameters"]["hidden_income_factor"] = 1.5
    assert _problems(doc) == [
        ("parameters.hidden_income_factor", "schema.type"),
        ("wealth_points[1].value", "schema.type"),
    ]


@pytest.mark.parametrize("text", ["1e3", "01", ".5", "1.", "1,5", " 1", "+1", "NaN"])
def test_it_rejects_badly_written_decimals(text: str) -> None:
    doc = b.ruleset_doc()
    doc["parameters"]["hidden_income_factor"] = text
    assert _problems(doc) == [("parameters.hidden_income_factor", "schema.pattern")]


def test_it_rejects_negative_points_and_a_zero_subsistence_minimum() -> None:
    doc = b.ruleset_doc()
    doc["wealth_points"][0]["points"] = -1
    doc["parameters"]["subsistence_minimum"]["2026"] = 0
    assert _problems(doc) == [
        ("parameters.subsistence_minimum.2026", "schema.minimum"),
        ("wealth_points[0].points", "schema.minimum"),
    ]


def test_it_requires_four_digit_years() -> None:
    doc = b.ruleset_doc()
    doc["parameters"]["minimum_wage"]["26"] = 85_000
    assert _problems(doc) == [("parameters.minimum_wage.26", "schema.unknown_field")]


def test_it_rejects_an_inverted_informal_age_range() -> None:
    doc = b.ruleset_doc()
    doc["parameters"]["informal_work_age"] = {"min": 63, "max": 18}
    assert _problems(doc) == [("parameters.informal_work_age.max", "parameters.age_range")]


# --------------------------------------------------------------------------- labels


def test_it_rejects_a_missing_kk_label() -> None:
    doc = b.ruleset_doc()
    del doc["labels"]["criteria"]["minors"]["kk"]
    assert _problems(doc) == [("labels.criteria.minors.kk", "schema.required")]


def test_it_requires_labels_for_all_six_categories_and_23_criteria() -> None:
    doc = b.ruleset_doc()
    del doc["labels"]["categories"]["6"]
    del doc["labels"]["criteria"]["low_education"]
    doc["labels"]["categories"]["3"]["en"] = "   "
    assert _problems(doc) == [
        ("labels.categories.3.en", "schema.pattern"),
        ("labels.categories.6", "schema.required"),
        ("labels.criteria.low_education", "schema.required"),
    ]


def test_it_rejects_unknown_fields_and_labels() -> None:
    doc = b.ruleset_doc()
    doc["labels"]["criteria"]["minors"]["de"] = "Minderjährige"
    doc["bands"][0]["note"] = "x"
    assert _problems(doc) == [
        ("bands[0].note", "schema.unknown_field"),
        ("labels.criteria.minors.de", "schema.unknown_field"),
    ]


# --------------------------------------------------------------------------- rules


def test_it_rejects_an_unknown_criterion_or_operator() -> None:
    doc = b.ruleset_doc()
    doc["high_welfare"]["markers"][0]["criterion"] = "yachts"
    doc["wealth_points"][0]["op"] = "=~"
    assert _problems(doc) == [
        ("high_welfare.markers[0].criterion", "schema.enum"),
        ("wealth_points[0].op", "schema.enum"),
    ]


def test_it_rejects_operators_invalid_for_the_criterion_type() -> None:
    doc = b.ruleset_doc()
    doc["vulnerability_points"][3]["op"] = "is"  # minors is an int
    doc["vulnerability_points"][4]["op"] = ">="  # single_parent is a bool
    assert _problems(doc) == [
        ("vulnerability_points[3].op", "rule.op_for_type"),
        ("vulnerability_points[4].op", "rule.op_for_type"),
    ]


def test_it_rejects_values_of_the_wrong_type_for_the_criterion() -> None:
    doc = b.ruleset_doc()
    doc["vulnerability_points"][3]["value"] = True  # minors
    doc["wealth_points"][4]["value"] = "1"  # individual_entrepreneur
    assert _problems(doc) == [
        ("vulnerability_points[3].value", "rule.value_for_type"),
        ("wealth_points[4].value", "rule.value_for_type"),
    ]


def test_it_accepts_equality_on_booleans_and_numbers() -> None:
    doc = b.ruleset_doc()
    doc["vulnerability_points"][4]["op"] = "=="
    doc["vulnerability_points"][3]["op"] = "=="
    compile_ruleset(doc)


def test_it_checks_the_marker_mode_and_count() -> None:
    doc = b.ruleset_doc()
    doc["high_welfare"]["mode"] = "most"
    assert _problems(doc) == [("high_welfare.mode", "schema.enum")]
    doc = b.ruleset_doc()
    doc["high_welfare"]["mode"] = "at_least"
    doc["high_welfare"]["min_count"] = 5
    assert _problems(doc) == [("high_welfare.min_count", "high_welfare.min_count")]
    doc["high_welfare"]["markers"] = []
    assert ("high_welfare.markers", "schema.minItems") in _problems(doc)


# --------------------------------------------------------------------------- shift


def test_it_rejects_a_shift_table_not_descending() -> None:
    doc = b.ruleset_doc()
    doc["shift"][2]["net_at_least"] = 2
    assert _problems(doc) == [("shift[2].net_at_least", "shift.not_descending")]


def test_it_requires_an_open_ended_last_shift_row() -> None:
    doc = b.ruleset_doc()
    doc["shift"][4]["net_at_least"] = -4
    assert _problems(doc) == [("shift[4].net_at_least", "shift.last_closed")]
    doc = b.ruleset_doc()
    doc["shift"][1]["net_at_least"] = None
    assert _problems(doc) == [("shift[1].net_at_least", "shift.open_not_last")]


# --------------------------------------------------------------------------- the document


def test_it_requires_the_top_level_fields() -> None:
    doc = b.ruleset_doc()
    del doc["shift"]
    doc["schema"] = "rule-set/2"
    doc["effective_from"] = "2025-13-01"
    assert _problems(doc) == [
        ("effective_from", "schema.format"),
        ("schema", "schema.const"),
        ("shift", "schema.required"),
    ]


def test_it_rejects_invalid_json_text() -> None:
    assert _problems("{") == [("", "json.invalid")]
    assert _problems(b"[]") == [("", "schema.type")]
