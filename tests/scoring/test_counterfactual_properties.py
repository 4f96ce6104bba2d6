"""Property tests of what would change the outcome (Hypothesis).

Two kinds:

* **against a brute-force oracle**: cards with tiny money (ПМ of a few tenge) under random
  rule sets (random band edges, operators including ``==``, thresholds, marker modes,
  hidden-income factors, extra rules on declared income, per-capita income, hidden income);
  the oracle walks every integer value of every input one step at a time, re-assessing the edited
  card with the engine, and finds the first change of category; the suggestion must be exactly
  that (same value, same category) — or absent when the oracle finds none. The living area is
  walked on a grid of 0.05 m² fine enough to hit every boundary and every interval between;
* **on realistic cards** with the shipped rule set: the suggested change gives the suggested
  category, the change one tenge / one unit smaller does not, nor does any smaller change
  drawn at random; marker plans leave category 6 and each change one unit smaller does not;
  point flips agree with the engine on a rule set where that point is switched.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.card import parse_card
from scoring.counterfactual import (
    FLAG_INPUTS,
    INPUTS,
    LIVING_AREA,
    Change,
    input_value,
    set_input,
    what_would_change,
)
from scoring.engine import assess
from scoring.ruleset import compile_ruleset, load_default_ruleset
from tests.scoring import cards as b
from tests.scoring.test_properties import EDUCATION, EMPLOYMENT, RELATIONS, card_docs

ORACLE_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

AS_OF = dt.date(2026, 9, 15)
SMALL = ["0", "0.5", "1", "1.5", "2", "3", "4", "6", "9", "10"]
RATIO_EDGES = ["0.25", "0.5", "0.55", "0.75", "1", "1.5", "2", "2.5", "3", "3.5"]
NUMERIC_OPS = [">=", ">", "<=", "<", "=="]
MONEY_CAP = 1500  # above every cut of the tiny rule sets (ratios ≤ 10 × 4 members × ПМ ≤ 12 …)
COUNT_CAP = 60
AREA_CAP = Fraction(30)


# --------------------------------------------------------------------------- strategies


@st.composite
def tiny_rulesets(draw: st.DrawFn):
    doc = b.ruleset_doc()
    doc["version"] = "TINY"
    p = doc["parameters"]
    p["subsistence_minimum"] = {"2026": draw(st.integers(3, 12))}
    p["minimum_wage"] = {"2026": draw(st.integers(1, 10))}
    p["hidden_income_factor"] = draw(st.sampled_from(["0", "1", "1.5", "2.25"]))
    edges = sorted(
        draw(st.sets(st.sampled_from(RATIO_EDGES), min_size=4, max_size=4)), key=Fraction
    )
    for band, edge in zip(doc["bands"][:4], edges, strict=True):
        band["income_ratio_below"] = edge
    hw = doc["high_welfare"]
    hw["mode"] = draw(st.sampled_from(["any", "all", "at_least"]))
    hw["min_count"] = draw(st.integers(1, len(hw["markers"])))
    for rule in [*hw["markers"], *doc["vulnerability_points"], *doc["wealth_points"]]:
        if isinstance(rule["value"], bool) or not draw(st.booleans()):
            continue
        rule["op"] = draw(st.sampled_from(NUMERIC_OPS))
        rule["value"] = draw(st.sampled_from(SMALL))
    extra = draw(
        st.lists(
            st.one_of(
                st.tuples(
                    st.sampled_from(["declared_income", "per_capita_income", "informal_income"]),
                    st.sampled_from(NUMERIC_OPS),
                    st.sampled_from(["0", "5", "12", "20", "40", "60"]),
                ),
                st.tuples(st.just("hidden_income"), st.just("is"), st.booleans()),
            ),
            max_size=2,
        )
    )
    for criterion, op, value in extra:
        section = draw(st.sampled_from(["vulnerability_points", "wealth_points"]))
        doc[section].append({"criterion": criterion, "op": op, "value": value, "points": 1})
    return compile_ruleset(doc)


small_money = st.one_of(st.just(0), st.integers(0, 20))


@st.composite
def tiny_cards(draw: st.DrawFn):
    members = []
    for i in range(draw(st.integers(1, 4))):
        birth = draw(st.dates(dt.date(1950, 1, 1), dt.date(2025, 1, 1)))
        sex = draw(st.sampled_from(["M", "F"]))
        members.append(
            b.member(
                relation="applicant" if i == 0 else draw(st.sampled_from(RELATIONS)),
                birth_date=birth,
                sex=sex,
                salary=draw(small_money),
                pension=draw(st.one_of(st.just(0), small_money)),
                business=draw(st.one_of(st.just(0), st.just(0), small_money)),
                other=draw(st.one_of(st.just(0), small_money)),
                disability_group=draw(st.sampled_from([None, None, "1", "3", "child"])),
                chronic_illness=draw(st.booleans()),
                education=draw(st.sampled_from(EDUCATION)),
                employment=draw(st.sampled_from(EMPLOYMENT)),
                informal_work_signal=draw(st.booleans()),
                iin=b.iin_for(birth, sex, serial=i + 1),
            )
        )
    doc = b.card(
        members=members,
        as_of=AS_OF,
        housing=[b.home(50)] * draw(st.integers(0, 3)),
        land_plots=draw(st.integers(0, 3)),
        vehicles=draw(
            st.lists(
                st.builds(b.car, st.integers(2015, 2026), st.sampled_from(["car", "motorcycle"])),
                max_size=3,
            )
        ),
        livestock_units=draw(st.integers(0, 12)),
        deposits=draw(st.integers(0, 300)),
        living_area=draw(st.integers(0, 400).map(lambda tenths: tenths / 10)),
        legal_entities=[
            b.legal_entity(draw(st.booleans()), serial=k + 1)
            for k in range(draw(st.integers(0, 2)))
        ],
        individual_entrepreneur=draw(st.booleans()),
        monthly_payments=draw(st.one_of(st.just(0), st.integers(0, 40))),
        overdue=draw(st.booleans()),
        turnover=draw(st.one_of(st.none(), st.integers(0, 300))),
    )
    return parse_card(doc)


# --------------------------------------------------------------------------- the oracle


def _category(card, ruleset) -> int:
    return assess(card, ruleset, card_sha256="-").category


def oracle_int(card, ruleset, name: str, step: int):
    """First value (one step at a time) whose category differs: (value, category), None when
    the card cannot go that way any further, "beyond" when the cap is reached."""
    current = _category(card, ruleset)
    u = input_value(card, ruleset, name)
    cap = (
        MONEY_CAP
        if name in ("family_income", "card_turnover", "credit_payments", "deposits")
        else COUNT_CAP
    )
    for _ in range(cap):
        u += step
        if u < 0:
            return None
        try:
            edited = set_input(card, ruleset, name, u)
        except ValueError:
            return None
        category = _category(edited, ruleset)
        if category != current:
            return u, category
    return "beyond"


def oracle_area(card, ruleset, step: int):
    """Walk the living area by 0.05 m²: (new value, exclusive, category) or None."""
    current = _category(card, ruleset)
    a0 = input_value(card, ruleset, LIVING_AREA)
    grid = Fraction(1, 20)
    u = a0
    while Fraction(0) <= u + step * grid <= a0 + AREA_CAP:
        u += step * grid
        category = _category(set_input(card, ruleset, LIVING_AREA, u), ruleset)
        if category != current:
            on_boundary = (u * 10).denominator == 1  # boundaries are t·n with t in tenths
            return (u if on_boundary else u - step * grid), not on_boundary, category
    return None


def _suggested(cf, name: str, direction: str):
    s = cf.for_input(name, direction)
    return None if s is None else (s.changes[0], s.category)


@ORACLE_SETTINGS
@given(card=tiny_cards(), ruleset=tiny_rulesets())
def test_it_agrees_with_a_brute_force_walk_of_every_input(card, ruleset) -> None:
    cf = what_would_change(card, ruleset)
    for name in INPUTS:
        if name in FLAG_INPUTS:
            current = input_value(card, ruleset, name)
            try:
                flipped = _category(set_input(card, ruleset, name, not current), ruleset)
            except ValueError:
                flipped = cf.category
            got = _suggested(cf, name, "on" if not current else "off")
            want = None if flipped == cf.category else flipped
            assert (got[1] if got else None) == want, name
            continue
        for step, direction in ((-1, "decrease"), (1, "increase")):
            got = _suggested(cf, name, direction)
            if name == LIVING_AREA:
                want = oracle_area(card, ruleset, step)
                if want is None:
                    beyond = got is not None and (got[0].new > got[0].current + AREA_CAP)
                    assert got is None or beyond, (name, direction, got)
                else:
                    value, exclusive, category = want
                    assert got is not None, (name, direction, want)
                    assert (got[0].new, got[0].exclusive, got[1]) == (value, exclusive, category)
                continue
            want = oracle_int(card, ruleset, name, step)
            if want is None:
                assert got is None, (name, direction, got)
            elif want == "beyond":
                assert got is None or abs(got[0].new - got[0].current) > MONEY_CAP, (name, got)
            else:
                assert got is not None, (name, direction, want)
                assert (got[0].new, got[1]) == want, (name, direction)


# --------------------------------------------------------------------------- realistic cards


def _toward(change: Change, units: int):
    """The change's new value moved ``units`` back toward the current value."""
    step = -units if change.direction == "increase" else units
    return change.new + step


@PROPERTY_SETTINGS
@given(doc=card_docs(), data=st.data())
def test_it_suggests_changes_that_move_and_nothing_smaller(doc, data) -> None:
    ruleset = load_default_ruleset()
    card = parse_card(doc)
    cf = what_would_change(card, ruleset)
    for s in cf.of_kind("input"):
        [c] = s.changes
        if c.input in FLAG_INPUTS:
            assert _category(set_input(card, ruleset, c.input, c.new), ruleset) == s.category
            continue
        if c.exclusive:  # more than the amount: the boundary itself does not move it
            assert _category(set_input(card, ruleset, c.input, c.new), ruleset) == cf.category
            beyond = c.new + (
                Fraction(1, 10**15) if c.direction == "increase" else -Fraction(1, 10**15)
            )
            assert _category(set_input(card, ruleset, c.input, beyond), ruleset) == s.category
            continue
        moved = set_input(card, ruleset, c.input, c.new)
        assert _category(moved, ruleset) == s.category != cf.category
        unit = Fraction(1, 10**15) if c.input == LIVING_AREA else 1
        smaller = c.new - unit if c.direction == "increase" else c.new + unit
        if smaller != c.current:
            assert _category(set_input(card, ruleset, c.input, smaller), ruleset) == cf.category
        share = data.draw(st.fractions(0, 1).filter(lambda f: f < 1), label=c.input)
        if c.input != LIVING_AREA:
            some = c.current + int((c.new - c.current) * share)  # toward zero: strictly less
        else:
            some = c.current + (c.new - c.current) * share
            some = Fraction(round(some * 1000), 1000)
            if (some - c.current) * (c.new - some) <= 0 and some != c.current:
                continue
        assert _category(set_input(card, ruleset, c.input, some), ruleset) == cf.category


def _apply(card, ruleset, changes, skip=None, back: int = 0):
    for i, c in enumerate(changes):
        value = c.new
        if c.exclusive:
            value = c.new + (
                Fraction(1, 10**15) if c.direction == "increase" else -Fraction(1, 10**15)
            )
        if i == skip and c.input not in FLAG_INPUTS:
            value = c.new if c.exclusive else _toward(c, back)
        elif i == skip:
            value = c.current
        card = set_input(card, ruleset, c.input, value)
    return card


def high_welfare_docs() -> st.SearchStrategy[dict]:
    """Cards with several markers: homes, cars, a legal entity, a high income."""

    def boost(doc: dict, homes: int, cars: int, entity: bool, rich: bool) -> dict:
        doc["property"]["housing"] = [b.home(50)] * homes
        doc["property"]["vehicles"] = [b.car(2003)] * cars + doc["property"]["vehicles"]
        if entity:
            doc["business"]["legal_entities"] = [b.legal_entity(True, 7)]
        if rich:
            doc["members"][0]["incomes"]["other"] += 5 * b.PM_2026 * len(doc["members"])
        return doc

    return st.builds(
        boost,
        card_docs(),
        st.integers(0, 4),
        st.integers(0, 3),
        st.booleans(),
        st.booleans(),
    )


@PROPERTY_SETTINGS
@given(
    doc=high_welfare_docs(),
    mode=st.sampled_from([("any", 1), ("all", 1), ("at_least", 2), ("at_least", 3)]),
)
def test_it_plans_the_markers_of_each_mode_minimally(doc, mode) -> None:
    rdoc = b.ruleset_doc()
    rdoc["version"] = "T-mode"
    rdoc["high_welfare"]["mode"], rdoc["high_welfare"]["min_count"] = mode
    ruleset = compile_ruleset(rdoc)
    card = parse_card(doc)
    cf = what_would_change(card, ruleset)
    if cf.category != 6:
        assert not cf.of_kind("markers")
        return
    fired = len(assess(card, ruleset).markers)
    for plan in cf.of_kind("markers"):
        assert not plan.hypothetical
        if mode[0] == "any":
            assert len(plan.rules) == fired
        elif mode[0] == "all":
            assert len(plan.rules) == 1
        assert _category(_apply(card, ruleset, plan.changes), ruleset) == plan.category != 6
        for i in range(len(plan.changes)):  # each change one unit smaller: still 6
            back_card = _apply(card, ruleset, plan.changes, skip=i, back=1)
            assert _category(back_card, ruleset) == 6, (plan, i)


def _switched(ruleset_doc: dict, effect: str, position: int, fired: bool, value) -> dict:
    section = "vulnerability_points" if effect == "vulnerability" else "wealth_points"
    rule = ruleset_doc[section][position]
    if fired:
        rule["points"] = 0  # contributes nothing: as if it did not hold
    elif isinstance(value, bool):
        rule["op"], rule["value"] = "is", value  # holds for this card
    else:
        rule["op"], rule["value"] = ">=", "0"  # every such criterion is ≥ 0
    ruleset_doc["version"] = "T-switched"
    return ruleset_doc


@PROPERTY_SETTINGS
@given(doc=card_docs())
def test_it_flips_points_as_the_engine_would(doc) -> None:
    ruleset = load_default_ruleset()
    card = parse_card(doc)
    cf = what_would_change(card, ruleset)
    base = assess(card, ruleset)
    decisive = {(s.rules[0].effect, s.rules[0].position): s.category for s in cf.of_kind("point")}
    for effect, rules in (("vulnerability", ruleset.vulnerability), ("wealth", ruleset.wealth)):
        for cond in rules:
            fired = bool(cond.test(base.values[cond.index], cond.threshold))
            value = base.values[cond.index]
            switched = compile_ruleset(
                _switched(b.ruleset_doc(), effect, cond.position, fired, value)
            )
            category = _category(card, switched)
            if category == cf.category:
                assert (effect, cond.position) not in decisive
            else:
                assert decisive[(effect, cond.position)] == category


@PROPERTY_SETTINGS
@given(doc=card_docs())
def test_it_flags_borderline_exactly_when_a_small_income_change_moves_the_category(doc) -> None:
    ruleset = load_default_ruleset()
    card = parse_card(doc)
    cf = what_would_change(card, ruleset)
    driving = "card_turnover" if assess(card, ruleset).value("hidden_income") else "family_income"
    limit = cf.margin * cf.family_size * cf.subsistence_minimum
    expected = any(
        s.changes[0].amount <= limit for s in cf.of_kind("input") if s.changes[0].input == driving
    )
    assert cf.borderline == expected
    # and directly: the change of the limit (whole tenge) in each direction
    whole = int(limit)
    current = input_value(card, ruleset, driving)
    moved = False
    for value in (current - whole, current + whole):
        try:
            edited = set_input(card, ruleset, driving, value)
        except ValueError:
            continue
        # the category may change at some value up to the limit; only a suggestion says where
        moved |= _category(edited, ruleset) != cf.category
    if moved:
        assert cf.borderline
