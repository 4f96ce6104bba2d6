"""The scoring engine (scoring.engine): categories, markers, points, shift, trace."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from scoring.card import CardError, card_sha256, parse_card
from scoring.criteria import UNBOUNDED
from scoring.engine import Assessment, assess, assess_document, decimal_text
from scoring.ruleset import MissingParameterError, compile_ruleset, load_default_ruleset
from tests.scoring import cards as b

PM = b.PM_2026
EXAMPLES = Path(__file__).resolve().parents[2] / "scoring" / "data" / "examples"
ROOT = Path(__file__).resolve().parents[2]


def score(doc, ruleset=None) -> Assessment:
    return assess(parse_card(doc), ruleset or load_default_ruleset())


def ruleset_with(**parameters):
    doc = b.ruleset_doc()
    for key, value in parameters.items():
        doc["parameters"][key] = value
    return compile_ruleset(doc)


# A single adult (41, secondary education, no children) whose points are switched on one by one.
VULNERABILITY_TOGGLES = {
    "disabled_members": {"member": {"disability_group": "3"}},
    "chronically_ill_members": {"member": {"chronic_illness": True}},
    "overdue_debt": {"card": {"overdue": True}},
    "living_area_per_person": {"card": {"living_area": 8}},
    "debt_burden": {"card": {"monthly_payments": "salary"}},
    "low_education": {"member": {"education": "basic_secondary"}},
}
WEALTH_TOGGLES = {
    "new_vehicle": {"card": {"vehicles": [b.car(2024)]}},
    "land_plots": {"card": {"land_plots": 2}},
    "livestock_units": {"card": {"livestock_units": 10}},
    "deposits_ratio": {"card": {"deposits": 6 * PM}},
    "individual_entrepreneur": {"card": {"individual_entrepreneur": True}},
}


def single(salary: int, vulnerable: int = 0, wealthy: int = 0, **card_kw) -> dict:
    member_kw: dict = {}
    card_kw.setdefault("living_area", 54)
    toggles = list(VULNERABILITY_TOGGLES.values())[:vulnerable]
    toggles += list(WEALTH_TOGGLES.values())[:wealthy]
    for toggle in toggles:
        member_kw.update(toggle.get("member", {}))
        for key, value in toggle.get("card", {}).items():
            card_kw[key] = salary if value == "salary" else value
    return b.card(members=[b.adult(salary=salary, **member_kw)], **card_kw)


# --------------------------------------------------------------------------- shared examples


def test_it_scores_every_shared_example_as_expected() -> None:
    expected = json.loads((EXAMPLES / "expected.json").read_text(encoding="utf-8"))
    assert len(expected) == 9
    for name, want in expected.items():
        a = assess_document((EXAMPLES / f"{name}.json").read_bytes(), load_default_ruleset())
        got = {"category": a.category, "high_welfare": a.high_welfare, "markers": list(a.markers)}
        assert got == want, name


# --------------------------------------------------------------------------- bands


@pytest.mark.parametrize(
    ("salary", "category"),
    [
        (27_968, 1),  # 0.55·ПМ = 27 968.05
        (27_969, 2),
        (PM - 1, 2),
        (PM, 3),
        (2 * PM - 1, 3),
        (2 * PM, 4),
        (3 * PM - 1, 4),
        (3 * PM, 5),
        (4 * PM, 5),  # income_ratio > 4 is the marker, not ≥
        (4 * PM + 1, 6),
        (0, 1),
    ],
)
def test_it_bands_income_ratio_just_below_and_above_each_bound(salary: int, category: int) -> None:
    a = score(single(salary))
    assert a.category == category
    assert a.net == 0


@pytest.mark.parametrize(
    ("salary", "base"),
    [
        (54_999, 1),
        (55_000, 2),
        (55_001, 2),
        (99_999, 2),
        (100_000, 3),
        (199_999, 3),
        (200_000, 4),
        (299_999, 4),
        (300_000, 5),
    ],
)
def test_it_bands_a_ratio_exactly_on_each_bound_into_the_upper_band(salary: int, base: int) -> None:
    rs = ruleset_with(subsistence_minimum={"2026": 100_000})
    a = score(single(salary), rs)
    assert a.base_category == base == a.category


def test_it_fires_the_income_marker_only_above_4() -> None:
    rs = ruleset_with(subsistence_minimum={"2026": 100_000})
    assert score(single(400_000), rs).category == 5
    above = score(single(400_001), rs)
    assert (above.category, above.high_welfare, above.markers) == (6, True, ("income_ratio",))


# --------------------------------------------------------------------------- shift and clamps


@pytest.mark.parametrize(
    ("vulnerable", "wealthy", "shift"),
    [
        (6, 0, -2),
        (5, 0, -2),
        (4, 0, -2),
        (3, 0, -1),
        (2, 0, -1),
        (1, 0, 0),
        (0, 0, 0),
        (0, 1, 0),
        (0, 2, 1),
        (0, 3, 1),
        (0, 4, 2),
        (0, 5, 2),
        (1, 5, 2),
        (2, 3, 0),
    ],
)
def test_it_shifts_by_the_net_of_points(vulnerable: int, wealthy: int, shift: int) -> None:
    a = score(single(3 * PM // 2, vulnerable, wealthy))  # base 3
    assert (a.vulnerability_points, a.wealth_points) == (vulnerable, wealthy)
    assert a.net == vulnerable - wealthy
    assert (a.base_category, a.shift, a.category) == (3, shift, 3 + shift)


def test_it_keeps_the_category_at_least_1() -> None:
    a = score(single(PM // 2, vulnerable=4))
    assert (a.base_category, a.shift, a.category) == (1, -2, 1)
    a = score(single(PM // 2, vulnerable=2))
    assert (a.base_category, a.shift, a.category) == (1, -1, 1)


def test_it_keeps_the_category_at_most_5_without_markers() -> None:
    a = score(single(3 * PM, wealthy=5))
    assert (a.base_category, a.shift, a.category, a.high_welfare) == (5, 2, 5, False)
    a = score(single(3 * PM, wealthy=2))
    assert (a.shift, a.category, a.high_welfare) == (1, 5, False)


def test_it_lists_the_points_that_fired() -> None:
    a = score(single(PM, vulnerable=2, wealthy=1))
    assert a.vulnerability == ("disabled_members", "chronically_ill_members")  # criteria order
    assert a.wealth == ("new_vehicle",)


# --------------------------------------------------------------------------- vulnerability


def _fires(doc, code: str, effect: str = "vulnerability") -> bool:
    a = score(doc)
    return (
        code in {"vulnerability": a.vulnerability, "wealth": a.wealth, "marker": a.markers}[effect]
    )


def test_it_gives_a_point_for_dependency_ratio_of_exactly_2() -> None:
    two = b.card(members=[b.adult(salary=PM), b.child(), b.child(dt.date(2016, 1, 1))])
    assert score(two).value("dependency_ratio") == 2
    assert _fires(two, "dependency_ratio")
    three_halves = b.card(
        members=[
            b.adult(salary=PM),
            b.spouse(),
            b.child(),
            b.child(dt.date(2016, 1, 1)),
            b.child(dt.date(2017, 1, 1)),
        ]
    )
    assert score(three_halves).value("dependency_ratio") == Fraction(3, 2)
    assert not _fires(three_halves, "dependency_ratio")


def test_it_gives_a_point_from_4_minors() -> None:
    kids = [b.child(dt.date(2010 + i, 1, 1)) for i in range(4)]
    assert _fires(b.card(members=[b.adult(), b.spouse(), *kids]), "minors")
    assert not _fires(b.card(members=[b.adult(), b.spouse(), *kids[:3]]), "minors")


def test_it_gives_a_point_for_single_parents_and_low_education() -> None:
    assert _fires(b.card(members=[b.adult(), b.child()]), "single_parent")
    assert not _fires(b.card(members=[b.adult(), b.spouse(), b.child()]), "single_parent")
    assert _fires(b.card(members=[b.adult(education="primary")]), "low_education")


@pytest.mark.parametrize(
    ("area", "fires"), [(9, False), (9.0, False), (8.99, True), (9.01, False), (0, True)]
)
def test_it_gives_a_point_below_9_square_metres_per_person(area: float, fires: bool) -> None:
    assert _fires(b.card(living_area=area), "living_area_per_person") is fires


def test_it_compares_living_area_per_person_exactly() -> None:
    three = [b.adult(), b.spouse(), b.member(relation="parent", birth_date=dt.date(1960, 1, 1))]
    assert not _fires(b.card(members=three, living_area=27), "living_area_per_person")
    assert _fires(b.card(members=three, living_area=26.99), "living_area_per_person")


@pytest.mark.parametrize(
    ("payments", "fires"), [(50_000, False), (50_001, True), (49_999, False), (0, False)]
)
def test_it_gives_a_point_for_debt_burden_above_half(payments: int, fires: bool) -> None:
    doc = b.card(members=[b.adult(salary=100_000)], monthly_payments=payments)
    assert _fires(doc, "debt_burden") is fires


def test_it_counts_debt_with_zero_income_as_above_the_threshold() -> None:
    a = score(b.card(members=[b.adult()], monthly_payments=1))
    assert a.value("debt_burden") is UNBOUNDED
    assert "debt_burden" in a.vulnerability
    none = score(b.card(members=[b.adult()], monthly_payments=0))
    assert none.value("debt_burden") == 0
    assert "debt_burden" not in none.vulnerability


def test_it_gives_points_for_disability_illness_and_overdue_debt() -> None:
    assert _fires(b.card(members=[b.adult(disability_group="3")]), "disabled_members")
    assert _fires(b.card(members=[b.adult(chronic_illness=True)]), "chronically_ill_members")
    assert _fires(b.card(overdue=True), "overdue_debt")
    plain = score(b.card())
    assert plain.vulnerability == ()


# --------------------------------------------------------------------------- wealth


def test_it_gives_wealth_points_at_their_thresholds() -> None:
    assert _fires(b.card(land_plots=2), "land_plots", "wealth")
    assert not _fires(b.card(land_plots=1), "land_plots", "wealth")
    assert _fires(b.card(livestock_units=10), "livestock_units", "wealth")
    assert not _fires(b.card(livestock_units=9), "livestock_units", "wealth")
    assert _fires(b.card(deposits=6 * PM), "deposits_ratio", "wealth")
    assert not _fires(b.card(deposits=6 * PM - 1), "deposits_ratio", "wealth")
    assert _fires(b.card(individual_entrepreneur=True), "individual_entrepreneur", "wealth")


def test_it_gives_a_wealth_point_for_a_car_exactly_5_years_old() -> None:
    assert _fires(b.card(vehicles=[b.car(2021)]), "new_vehicle", "wealth")
    assert not _fires(b.card(vehicles=[b.car(2020)]), "new_vehicle", "wealth")
    assert not _fires(b.card(vehicles=[b.car(2026, "motorcycle")]), "new_vehicle", "wealth")


# --------------------------------------------------------------------------- markers


def test_it_marks_two_homes_two_vehicles_or_a_legal_entity_as_high_welfare() -> None:
    assert score(b.card(housing=[b.home(), b.home()])).markers == ("housing_units",)
    assert score(b.card(vehicles=[b.car(), b.car(1999, "truck")])).markers == ("vehicles",)
    assert score(b.card(legal_entities=[b.legal_entity()])).markers == ("legal_entities",)
    for doc in (
        b.card(housing=[b.home()]),
        b.card(vehicles=[b.car()]),
        b.card(legal_entities=[b.legal_entity(active=False)]),
    ):
        a = score(doc)
        assert (a.category, a.high_welfare, a.markers) == (4, False, ())


def test_it_does_not_count_motorcycles_towards_the_vehicle_marker() -> None:
    a = score(b.card(vehicles=[b.car(), b.car(2015, "motorcycle"), b.car(2015, "agricultural")]))
    assert a.high_welfare is False
    assert a.value("vehicles") == 1


def test_it_lets_markers_win_over_everything() -> None:
    doc = single(PM // 2, vulnerable=6, housing=[b.home(), b.home()])
    a = score(doc)
    assert (a.category, a.high_welfare) == (6, True)
    assert (a.base_category, a.shift) == (1, -2)  # still recorded


def test_it_lists_every_marker_that_fired() -> None:
    doc = single(
        5 * PM,
        housing=[b.home(), b.home()],
        vehicles=[b.car(), b.car()],
        legal_entities=[b.legal_entity()],
    )
    assert set(score(doc).markers) == {
        "housing_units",
        "vehicles",
        "legal_entities",
        "income_ratio",
    }


def _with_mode(mode: str, min_count: int = 1):
    doc = b.ruleset_doc()
    doc["high_welfare"]["mode"] = mode
    doc["high_welfare"]["min_count"] = min_count
    return compile_ruleset(doc)


def test_it_supports_the_all_marker_mode() -> None:
    rs = _with_mode("all")
    assert score(b.card(housing=[b.home(), b.home()]), rs).category == 4
    everything = single(
        5 * PM,
        housing=[b.home(), b.home()],
        vehicles=[b.car(), b.car()],
        legal_entities=[b.legal_entity()],
    )
    assert score(everything, rs).category == 6


def test_it_supports_the_at_least_marker_mode() -> None:
    rs = _with_mode("at_least", 2)
    one = b.card(housing=[b.home(), b.home()])
    two = b.card(housing=[b.home(), b.home()], vehicles=[b.car(), b.car()])
    assert score(one, rs).high_welfare is False
    assert score(two, rs).high_welfare is True
    assert score(two, rs).marker_min_count == 2


# --------------------------------------------------------------------------- the rule set drives


def test_it_follows_a_changed_band_threshold() -> None:
    doc = single(29_500)  # ratio 0.580…
    assert score(doc).category == 2
    rules = b.ruleset_doc()
    rules["bands"][0]["income_ratio_below"] = "0.6"
    rules["version"] = "KZ-2026.1-test"
    a = score(doc, compile_ruleset(rules))
    assert a.category == 1
    assert a.ruleset_version == "KZ-2026.1-test"


def test_it_follows_a_changed_marker_threshold() -> None:
    doc = b.card(vehicles=[b.car(), b.car()])
    assert score(doc).category == 6
    rules = b.ruleset_doc()
    rules["high_welfare"]["markers"][1]["value"] = "3"
    assert score(doc, compile_ruleset(rules)).category == 4


def test_it_follows_changed_points_and_shift() -> None:
    doc = single(3 * PM // 2, vulnerable=1)  # disabled member, base 3
    rules = b.ruleset_doc()
    rules["vulnerability_points"][0]["points"] = 4
    assert score(doc).category == 3
    assert score(doc, compile_ruleset(rules)).category == 1
    rules = b.ruleset_doc()
    rules["shift"] = [{"net_at_least": 1, "shift": -1}, {"net_at_least": None, "shift": 0}]
    assert score(doc, compile_ruleset(rules)).category == 2


def test_it_fails_clearly_without_the_subsistence_minimum_of_the_year() -> None:
    with pytest.raises(MissingParameterError) as info:
        score(b.card(as_of=dt.date(2023, 12, 31)))
    assert info.value.paths == ["parameters.subsistence_minimum.2023"]


# --------------------------------------------------------------------------- the trace


def test_it_records_each_comparison_with_its_threshold_and_effect() -> None:
    a = score(single(PM, vulnerable=1))
    by_code = {r.code: r for r in a.criteria()}
    ratio = by_code["income_ratio"]
    assert ratio.value == 1
    assert [(c.effect, c.op, c.threshold, c.fired) for c in ratio.checks] == [
        ("marker", ">", 4, False),
        ("band", "<", Fraction(55, 100), False),
        ("band", "<", 1, False),
        ("band", "<", 2, True),
    ]
    assert [c.category for c in ratio.checks[1:]] == [1, 2, 3]
    disabled = by_code["disabled_members"].checks
    assert [(c.effect, c.op, c.threshold, c.fired, c.points) for c in disabled] == [
        ("vulnerability", ">=", 1, True, 1)
    ]
    assert by_code["family_size"].checks == ()


def test_it_records_the_open_last_band() -> None:
    checks = {r.code: r for r in score(single(3 * PM)).criteria()}["income_ratio"].checks
    assert (checks[-1].op, checks[-1].threshold, checks[-1].fired, checks[-1].category) == (
        None,
        None,
        True,
        5,
    )


def test_it_records_the_rule_set_version_and_card_hash() -> None:
    doc = b.card()
    a = score(doc)
    assert a.ruleset_version == "KZ-2026.1"
    assert a.card_sha256 == card_sha256(doc)
    given = assess(parse_card(doc), load_default_ruleset(), card_sha256="ab" * 32)
    assert given.card_sha256 == "ab" * 32


def test_it_renders_a_json_trace_with_decimal_and_exact_ratios() -> None:
    doc = b.card(members=[b.adult(salary=100_000), b.child(), b.child(dt.date(2016, 1, 1))])
    data = score(doc).to_dict()
    json.dumps(data)  # serialisable
    entries = {e["code"]: e for e in data["criteria"]}
    assert entries["income_ratio"]["value"] == {
        "decimal": "0.6555",
        "exact": f"100000/{3 * PM}",
    }
    assert entries["family_size"]["value"] == 3
    assert entries["single_parent"]["value"] is True
    assert entries["income_ratio"]["checks"][1] == {
        "effect": "band",
        "op": "<",
        "threshold": "0.55",
        "fired": False,
        "category": 1,
    }
    assert entries["debt_burden"]["checks"][0]["threshold"] == "0.5"
    assert entries["overdue_debt"]["checks"][0]["threshold"] is True
    assert data["format"] == "assessment/1"
    assert data["markers"] == {"mode": "any", "min_count": 1, "fired": []}


def test_it_round_trips_an_assessment_through_json() -> None:
    for doc in (
        single(PM, vulnerable=3, wealthy=2),
        b.card(members=[b.adult()], monthly_payments=5),
        b.card(housing=[b.home(), b.home()], living_area=33.3),
    ):
        a = score(doc)
        back = Assessment.from_dict(json.loads(json.dumps(a.to_dict())))
        assert back == a
    unbounded = score(b.card(members=[b.adult()], monthly_payments=5)).to_dict()
    debt = {e["code"]: e for e in unbounded["criteria"]}["debt_burden"]
    assert debt["value"] == {"decimal": "inf", "exact": "inf"}


def test_it_refuses_a_malformed_trace() -> None:
    data = score(b.card()).to_dict()
    with pytest.raises(ValueError):
        Assessment.from_dict({**data, "format": "other"})
    with pytest.raises(ValueError):
        Assessment.from_dict({**data, "criteria": data["criteria"][:-1]})
    with pytest.raises(ValueError):
        Assessment.from_dict({**data, "category": "3"})


def test_it_rounds_decimal_text_half_up() -> None:
    assert decimal_text(Fraction(2, 3)) == "0.6667"
    assert decimal_text(Fraction(1, 8), 2) == "0.13"
    assert decimal_text(Fraction(1, 3), 0) == "0"
    assert decimal_text(5) == "5.0000"
    assert decimal_text(Fraction(-1, 8), 2) == "-0.13"


def test_it_returns_a_frozen_assessment() -> None:
    a = score(b.card())
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.category = 1  # type: ignore[misc]


def test_it_scores_a_document_and_rejects_an_invalid_one() -> None:
    assert assess_document(json.dumps(b.card()), load_default_ruleset()).category == 4
    bad = b.card()
    bad["members"][0]["iin"] = "000000000001"
    with pytest.raises(CardError):
        assess_document(bad, load_default_ruleset())


def test_it_runs_without_django_settings_or_database() -> None:
    code = (
        "import json, sys\n"
        "from scoring.engine import assess_document\n"
        "from scoring.ruleset import load_default_ruleset\n"
        "from tests.scoring import cards\n"
        "a = assess_document(cards.card(), load_default_ruleset())\n"
        "json.dumps(a.to_dict())\n"
        "assert 'django.db' not in sys.modules, 'engine pulled in the ORM'\n"
        "from django.conf import settings\n"
        "assert not settings.configured\n"
        "print(a.category)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "4"
