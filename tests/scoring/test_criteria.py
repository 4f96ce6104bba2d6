"""The 23 criteria of DOMAIN.md §6.2 (scoring.criteria), one by one, with their boundaries."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from scoring.card import parse_card
from scoring.criteria import (
    CRITERIA,
    CRITERION_INDEX,
    UNBOUNDED,
    age_at,
    compute_criteria,
    criteria_values,
)
from scoring.ruleset import MissingParameterError, compile_ruleset, load_default_ruleset
from tests.scoring import cards as b

AS_OF = b.AS_OF  # 2026-09-15
PM = b.PM_2026
MZP = b.MZP_2026


def values(doc, ruleset=None) -> dict:
    return criteria_values(parse_card(doc), ruleset or load_default_ruleset())


def born_years_ago(years: int, days: int = 0) -> dt.date:
    """Birth date making someone exactly `years` old at AS_OF, shifted by `days` later."""
    return AS_OF.replace(year=AS_OF.year - years) + dt.timedelta(days=days)


# --------------------------------------------------------------------------- registry


def test_it_lists_the_23_criteria_in_order_with_types() -> None:
    assert [c.code for c in CRITERIA] == [
        "family_size",
        "declared_income",
        "informal_income",
        "hidden_income",
        "per_capita_income",
        "income_ratio",
        "debt_burden",
        "overdue_debt",
        "housing_units",
        "living_area_per_person",
        "vehicles",
        "new_vehicle",
        "land_plots",
        "livestock_units",
        "deposits_ratio",
        "legal_entities",
        "individual_entrepreneur",
        "disabled_members",
        "chronically_ill_members",
        "dependency_ratio",
        "minors",
        "single_parent",
        "low_education",
    ]
    assert [c.number for c in CRITERIA] == list(range(1, 24))
    kinds = {c.code: c.kind for c in CRITERIA}
    assert {k for k, v in kinds.items() if v == "ratio"} == {
        "per_capita_income",
        "income_ratio",
        "debt_burden",
        "living_area_per_person",
        "deposits_ratio",
        "dependency_ratio",
    }
    assert {k for k, v in kinds.items() if v == "bool"} == {
        "hidden_income",
        "overdue_debt",
        "new_vehicle",
        "individual_entrepreneur",
        "single_parent",
        "low_education",
    }
    assert CRITERION_INDEX["low_education"] == 22


def test_it_returns_values_of_the_declared_types_and_never_floats() -> None:
    doc = b.card(
        members=[b.adult(salary=100_001), b.child()],
        living_area=33.3,
        monthly_payments=7,
        deposits=3,
    )
    vals = compute_criteria(parse_card(doc), load_default_ruleset())
    assert len(vals) == 23
    for criterion, value in zip(CRITERIA, vals, strict=True):
        assert not isinstance(value, float), criterion.code
        expected = {"int": int, "bool": bool, "ratio": Fraction}[criterion.kind]
        assert isinstance(value, expected), criterion.code
        if criterion.kind == "int":
            assert not isinstance(value, bool), criterion.code


# --------------------------------------------------------------------------- ages


def test_it_counts_full_years_and_increments_on_the_birthday() -> None:
    born = dt.date(2008, 9, 15)
    assert age_at(born, dt.date(2026, 9, 15)) == 18
    assert age_at(born, dt.date(2026, 9, 14)) == 17
    assert age_at(born, dt.date(2026, 9, 16)) == 18
    assert age_at(born, born) == 0
    assert age_at(dt.date(2000, 12, 31), dt.date(2001, 1, 1)) == 0


def test_it_gives_feb_29_births_their_birthday_on_feb_28_in_common_years() -> None:
    born = dt.date(2008, 2, 29)
    assert age_at(born, dt.date(2026, 2, 27)) == 17
    assert age_at(born, dt.date(2026, 2, 28)) == 18
    assert age_at(born, dt.date(2026, 3, 1)) == 18
    assert age_at(born, dt.date(2028, 2, 28)) == 19
    assert age_at(born, dt.date(2028, 2, 29)) == 20


def test_it_applies_the_feb_29_rule_inside_the_criteria_too() -> None:
    leapling = b.child(dt.date(2008, 2, 29))
    on_28 = values(b.card(members=[b.adult(), leapling], as_of=dt.date(2026, 2, 28)))
    on_27 = values(b.card(members=[b.adult(), leapling], as_of=dt.date(2026, 2, 27)))
    assert on_28["minors"] == 0
    assert on_27["minors"] == 1


# --------------------------------------------------------------------------- 1-3 size, incomes


def test_it_counts_family_size() -> None:
    assert values(b.card(members=[b.adult(), b.spouse(), b.child()]))["family_size"] == 3


def test_it_sums_every_kind_of_declared_income_of_every_member() -> None:
    doc = b.card(
        members=[
            b.adult(salary=1, pension=2, social_benefits=4, business=8, other=16),
            b.spouse(salary=32),
            b.child(social_benefits=64),
        ]
    )
    assert values(doc)["declared_income"] == 127


def _informal(**kw) -> int:
    kw.setdefault("informal_work_signal", True)
    return values(b.card(members=[b.adult(), b.spouse(**kw)]))["informal_income"]


def test_it_imputes_one_minimum_wage_per_informal_worker() -> None:
    assert _informal() == MZP
    doc = b.card(
        members=[
            b.adult(informal_work_signal=True),
            b.spouse(informal_work_signal=True),
        ]
    )
    assert values(doc)["informal_income"] == 2 * MZP
    assert _informal(informal_work_signal=False) == 0


def test_it_imputes_informal_income_from_the_18th_birthday() -> None:
    assert _informal(birth_date=born_years_ago(18)) == MZP
    assert _informal(birth_date=born_years_ago(18, days=1)) == 0  # the day before


def test_it_imputes_informal_income_up_to_age_62_inclusive() -> None:
    assert _informal(birth_date=born_years_ago(63, days=1)) == MZP  # 62, the day before 63
    assert _informal(birth_date=born_years_ago(63)) == 0  # 63 on the birthday


def test_it_imputes_nothing_to_members_with_salary_or_business_income() -> None:
    assert _informal(salary=1) == 0
    assert _informal(business=1) == 0
    assert _informal(pension=1, social_benefits=1, other=1) == MZP


def test_it_takes_informal_ages_and_minimum_wage_from_the_rule_set() -> None:
    doc = b.ruleset_doc()
    doc["parameters"]["minimum_wage"]["2026"] = 90_000
    doc["parameters"]["informal_work_age"] = {"min": 20, "max": 60}
    rs = compile_ruleset(doc)
    assert values(b.card(members=[b.adult(informal_work_signal=True)]), rs)["informal_income"] == (
        90_000
    )
    young = b.card(members=[b.adult(informal_work_signal=True, birth_date=born_years_ago(19))])
    assert values(young, rs)["informal_income"] == 0
    assert values(young)["informal_income"] == MZP


# --------------------------------------------------------------------------- 4-6 hidden income


def test_it_flags_hidden_income_only_above_one_and_a_half_times() -> None:
    members = [b.adult(salary=100_000)]
    assert values(b.card(members=members, turnover=150_000))["hidden_income"] is False
    assert values(b.card(members=members, turnover=150_001))["hidden_income"] is True
    assert values(b.card(members=members, turnover=149_999))["hidden_income"] is False
    assert values(b.card(members=members, turnover=None))["hidden_income"] is False


def test_it_counts_informal_income_in_the_hidden_income_base() -> None:
    members = [b.adult(informal_work_signal=True)]
    exact = MZP * 3 // 2  # 127_500
    assert values(b.card(members=members, turnover=exact))["hidden_income"] is False
    assert values(b.card(members=members, turnover=exact + 1))["hidden_income"] is True


def test_it_flags_any_turnover_when_income_is_zero() -> None:
    assert values(b.card(members=[b.adult()], turnover=1))["hidden_income"] is True
    assert values(b.card(members=[b.adult()], turnover=0))["hidden_income"] is False


def test_it_uses_card_turnover_as_income_when_hidden() -> None:
    members = [b.adult(salary=100_000), b.child()]
    hidden = values(b.card(members=members, turnover=400_000))
    assert hidden["per_capita_income"] == Fraction(200_000)
    assert hidden["income_ratio"] == Fraction(400_000, 2 * PM)
    plain = values(b.card(members=members, turnover=150_000))
    assert plain["per_capita_income"] == Fraction(50_000)


def test_it_computes_per_capita_income_and_ratio_exactly() -> None:
    doc = b.card(members=[b.adult(salary=100_000), b.child(), b.child(dt.date(2017, 1, 1))])
    vals = values(doc)
    assert vals["per_capita_income"] == Fraction(100_000, 3)
    assert vals["income_ratio"] == Fraction(100_000, 3 * PM)
    assert isinstance(vals["income_ratio"], Fraction)


def test_it_uses_the_subsistence_minimum_of_the_as_of_year() -> None:
    doc = b.card(members=[b.adult(salary=46_228)], as_of=dt.date(2025, 12, 31))
    assert values(doc)["income_ratio"] == 1
    doc = b.card(members=[b.adult(salary=43_407)], as_of=dt.date(2024, 1, 1))
    assert values(doc)["income_ratio"] == 1


def test_it_refuses_a_year_without_subsistence_minimum() -> None:
    doc = b.card(as_of=dt.date(2027, 1, 10))
    with pytest.raises(MissingParameterError) as info:
        values(doc)
    assert info.value.paths == ["parameters.subsistence_minimum.2027"]
    assert info.value.year == 2027


def test_it_refuses_a_year_without_minimum_wage() -> None:
    doc = b.ruleset_doc()
    doc["parameters"]["subsistence_minimum"]["2027"] = 55_000
    with pytest.raises(MissingParameterError) as info:
        values(b.card(as_of=dt.date(2027, 1, 10)), compile_ruleset(doc))
    assert info.value.parameter == "minimum_wage"
    assert info.value.codes == ["parameter.missing_year"]


# --------------------------------------------------------------------------- 7-8 debt


def test_it_computes_debt_burden_against_effective_income() -> None:
    doc = b.card(members=[b.adult(salary=100_000)], monthly_payments=50_000)
    assert values(doc)["debt_burden"] == Fraction(1, 2)
    hidden = b.card(members=[b.adult(salary=100_000)], monthly_payments=50_000, turnover=400_000)
    assert values(hidden)["debt_burden"] == Fraction(1, 8)


def test_it_makes_debt_burden_unbounded_with_zero_income_and_payments() -> None:
    vals = values(b.card(members=[b.adult()], monthly_payments=1))
    assert vals["debt_burden"] is UNBOUNDED
    burden = vals["debt_burden"]  # compared as the left operand, like the engine does
    assert burden > Fraction(10**9)
    assert burden >= 0
    assert not burden < Fraction(1, 2)
    assert not burden <= 5
    assert burden != 5
    assert burden == UNBOUNDED


def test_it_makes_debt_burden_zero_without_payments() -> None:
    assert values(b.card(members=[b.adult()], monthly_payments=0))["debt_burden"] == 0
    assert values(b.card(members=[b.adult(salary=5)], monthly_payments=0))["debt_burden"] == 0


def test_it_reads_overdue_debt() -> None:
    assert values(b.card(overdue=True))["overdue_debt"] is True
    assert values(b.card(overdue=False))["overdue_debt"] is False


# --------------------------------------------------------------------------- 9-14 property


def test_it_counts_housing_units() -> None:
    assert values(b.card(housing=[]))["housing_units"] == 0
    assert values(b.card(housing=[b.home(), b.home(120, "house")]))["housing_units"] == 2


def test_it_divides_living_area_exactly_by_the_written_decimal() -> None:
    doc = b.card(members=[b.adult(), b.child(), b.child(dt.date(2016, 1, 1))], living_area=27.3)
    assert values(doc)["living_area_per_person"] == Fraction(91, 10)
    assert values(b.card(living_area=0.1))["living_area_per_person"] == Fraction(1, 10)
    assert values(b.card(living_area=0))["living_area_per_person"] == 0


def test_it_counts_cars_and_trucks_but_not_motorcycles_or_machinery() -> None:
    doc = b.card(
        vehicles=[
            b.car(2010),
            b.car(2010, "truck"),
            b.car(2010, "motorcycle"),
            b.car(2010, "agricultural"),
        ]
    )
    assert values(doc)["vehicles"] == 2
    assert values(b.card(vehicles=[b.car(2010, "motorcycle")] * 3))["vehicles"] == 0


def test_it_takes_counted_vehicle_kinds_from_the_rule_set() -> None:
    doc = b.ruleset_doc()
    doc["parameters"]["counted_vehicle_kinds"] = ["car", "motorcycle"]
    card = b.card(vehicles=[b.car(2010, "motorcycle"), b.car(2010, "truck")])
    assert values(card, compile_ruleset(doc))["vehicles"] == 1


def test_it_treats_a_vehicle_exactly_5_years_old_as_new() -> None:
    assert values(b.card(vehicles=[b.car(2021)]))["new_vehicle"] is True  # 2026 - 2021 = 5
    assert values(b.card(vehicles=[b.car(2020)]))["new_vehicle"] is False  # 6
    assert values(b.card(vehicles=[b.car(2026)]))["new_vehicle"] is True
    assert values(b.card(vehicles=[b.car(2027)]))["new_vehicle"] is True  # next model year
    assert values(b.card(vehicles=[]))["new_vehicle"] is False


def test_it_ignores_new_motorcycles_for_new_vehicle() -> None:
    assert values(b.card(vehicles=[b.car(2026, "motorcycle")]))["new_vehicle"] is False
    assert values(b.card(vehicles=[b.car(2026, "agricultural")]))["new_vehicle"] is False
    assert values(b.card(vehicles=[b.car(2025, "truck")]))["new_vehicle"] is True


def test_it_takes_the_new_vehicle_age_from_the_rule_set() -> None:
    doc = b.ruleset_doc()
    doc["parameters"]["new_vehicle_max_age_years"] = 3
    rs = compile_ruleset(doc)
    assert values(b.card(vehicles=[b.car(2023)]), rs)["new_vehicle"] is True
    assert values(b.card(vehicles=[b.car(2022)]), rs)["new_vehicle"] is False


def test_it_reads_land_plots_and_livestock() -> None:
    vals = values(b.card(land_plots=3, livestock_units=12))
    assert (vals["land_plots"], vals["livestock_units"]) == (3, 12)


def test_it_computes_deposits_per_member_to_subsistence_minimum() -> None:
    doc = b.card(members=[b.adult(), b.child()], deposits=12 * PM)
    assert values(doc)["deposits_ratio"] == 6
    doc = b.card(members=[b.adult(), b.child()], deposits=12 * PM - 1)
    assert values(doc)["deposits_ratio"] == Fraction(12 * PM - 1, 2 * PM)


# --------------------------------------------------------------------------- 16-17 business


def test_it_counts_only_active_legal_entities() -> None:
    entities = [
        b.legal_entity(True, 1),
        b.legal_entity(False, 2),
        b.legal_entity(True, 3, "director"),
    ]
    assert values(b.card(legal_entities=entities))["legal_entities"] == 2
    assert values(b.card(legal_entities=[b.legal_entity(False)]))["legal_entities"] == 0


def test_it_reads_individual_entrepreneur() -> None:
    assert values(b.card(individual_entrepreneur=True))["individual_entrepreneur"] is True
    assert values(b.card())["individual_entrepreneur"] is False


# --------------------------------------------------------------------------- 18-21 members


def test_it_counts_members_with_any_disability_group() -> None:
    doc = b.card(
        members=[
            b.adult(disability_group="3"),
            b.spouse(disability_group="1"),
            b.child(disability_group="child"),
            b.child(dt.date(2016, 1, 1), disability_group=None),
            b.member(relation="parent", birth_date=dt.date(1950, 1, 1), disability_group="2"),
        ]
    )
    assert values(doc)["disabled_members"] == 4


def test_it_counts_chronically_ill_members() -> None:
    doc = b.card(members=[b.adult(chronic_illness=True), b.child(chronic_illness=True), b.spouse()])
    assert values(doc)["chronically_ill_members"] == 2


def test_it_counts_dependants_per_able_bodied_member() -> None:
    doc = b.card(
        members=[
            b.adult(),  # able
            b.spouse(),  # able
            b.child(),  # minor
            b.member(relation="parent", birth_date=born_years_ago(63)),  # 63 on the birthday
            b.member(relation="sibling", birth_date=dt.date(2000, 1, 1), employment="student"),
            b.member(relation="other", birth_date=dt.date(1970, 1, 1), employment="pensioner"),
            b.member(relation="other", birth_date=dt.date(1990, 1, 1), disability_group="1"),
            b.member(relation="other", birth_date=dt.date(1990, 1, 1), disability_group="2"),
            b.member(relation="other", birth_date=dt.date(1991, 1, 1), disability_group="3"),
        ]
    )
    # dependants: child, 63-year-old, student, pensioner, group 1, group 2 = 6; able: 3
    assert values(doc)["dependency_ratio"] == 2


def test_it_counts_a_62_year_old_as_able_bodied() -> None:
    doc = b.card(members=[b.adult(), b.member(relation="parent", birth_date=born_years_ago(63, 1))])
    assert values(doc)["dependency_ratio"] == 0


def test_it_counts_a_disabled_child_once_as_dependant() -> None:
    doc = b.card(members=[b.adult(), b.child(disability_group="child")])
    assert values(doc)["dependency_ratio"] == 1


def test_it_divides_dependants_by_at_least_one() -> None:
    doc = b.card(members=[b.adult(employment="pensioner"), b.child(), b.child(dt.date(2016, 1, 1))])
    assert values(doc)["dependency_ratio"] == 3
    assert values(b.card(members=[b.child(relation="applicant")]))["dependency_ratio"] == 1


def test_it_takes_the_dependant_age_from_the_rule_set() -> None:
    doc = b.ruleset_doc()
    doc["parameters"]["dependant_min_age"] = 60
    card = b.card(members=[b.adult(), b.member(relation="parent", birth_date=born_years_ago(61))])
    assert values(card)["dependency_ratio"] == 0
    assert values(card, compile_ruleset(doc))["dependency_ratio"] == 1


def test_it_counts_minors_up_to_the_day_before_18() -> None:
    assert values(b.card(members=[b.adult(), b.child(born_years_ago(18, 1))]))["minors"] == 1
    assert values(b.card(members=[b.adult(), b.child(born_years_ago(18))]))["minors"] == 0


# --------------------------------------------------------------------------- 22-23


def test_it_flags_a_single_parent_with_minors() -> None:
    assert values(b.card(members=[b.adult(), b.child()]))["single_parent"] is True
    assert values(b.card(members=[b.adult(), b.spouse(), b.child()]))["single_parent"] is False
    assert values(b.card(members=[b.adult()]))["single_parent"] is False


def test_it_counts_only_applicant_and_spouse_as_parents() -> None:
    grandma = b.member(relation="grandparent", birth_date=dt.date(1960, 1, 1))
    assert values(b.card(members=[b.adult(), grandma, b.child()]))["single_parent"] is True
    spouse_only = [b.spouse(), b.child()]
    assert values(b.card(members=spouse_only))["single_parent"] is True


def test_it_ignores_a_minor_spouse_when_counting_parents() -> None:
    young_spouse = b.spouse(birth_date=born_years_ago(18, 1))  # 17
    assert values(b.card(members=[b.adult(), young_spouse]))["single_parent"] is True
    adult_spouse = b.spouse(birth_date=born_years_ago(18))
    assert values(b.card(members=[b.adult(), adult_spouse, b.child()]))["single_parent"] is False


def test_it_flags_low_education_when_no_adult_has_secondary_or_more() -> None:
    low = [b.adult(education="basic_secondary"), b.spouse(education="none"), b.child()]
    assert values(b.card(members=low))["low_education"] is True
    for level in ("secondary", "vocational", "higher"):
        mixed = [b.adult(education="primary"), b.spouse(education=level)]
        assert values(b.card(members=mixed))["low_education"] is False, level


def test_it_ignores_minors_education_and_needs_an_adult() -> None:
    doc = b.card(members=[b.adult(education="primary"), b.child(education="secondary")])
    assert values(doc)["low_education"] is True
    assert values(b.card(members=[b.child(relation="applicant")]))["low_education"] is False


def test_it_takes_sufficient_education_from_the_rule_set() -> None:
    doc = b.ruleset_doc()
    doc["parameters"]["adult_education_sufficient"] = ["higher"]
    card = b.card(members=[b.adult(education="vocational")])
    assert values(card)["low_education"] is False
    assert values(card, compile_ruleset(doc))["low_education"] is True
