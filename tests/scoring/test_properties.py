"""Property tests of the scoring engine (Hypothesis)."""

from __future__ import annotations

import copy
import datetime as dt
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.card import canonical_json, card_sha256, parse_card
from scoring.engine import Assessment, assess
from scoring.ruleset import load_default_ruleset
from tests.scoring import cards as b

RELATIONS = ["spouse", "child", "parent", "sibling", "grandchild", "grandparent", "other"]
EDUCATION = ["none", "primary", "basic_secondary", "secondary", "vocational", "higher"]
EMPLOYMENT = [
    "employed",
    "self_employed",
    "entrepreneur",
    "unemployed",
    "pensioner",
    "student",
    "child",
    "caregiver",
    "other",
]
VEHICLE_KINDS = ["car", "truck", "motorcycle", "agricultural"]

PROPERTY_SETTINGS = settings(
    max_examples=75,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the project tree
    suppress_health_check=[HealthCheck.too_slow],
)

money = st.one_of(st.just(0), st.integers(0, 400_000))


@st.composite
def card_docs(draw: st.DrawFn) -> dict:
    as_of = draw(st.dates(dt.date(2024, 1, 1), dt.date(2026, 12, 31)))
    members = []
    used: set[str] = set()
    for i in range(draw(st.integers(1, 7))):
        birth = draw(st.dates(dt.date(1935, 1, 1), as_of))
        sex = draw(st.sampled_from(["M", "F"]))
        # The first issuable serial from i + 1 may repeat a member's ИИН of the same birth
        # date and sex: a card never lists one person twice.
        serial = i + 1
        while (iin := b.iin_for(birth, sex, serial=serial)) in used:
            serial += 1
        used.add(iin)
        members.append(
            b.member(
                relation="applicant" if i == 0 else draw(st.sampled_from(RELATIONS)),
                birth_date=birth,
                sex=sex,
                salary=draw(money),
                pension=draw(money),
                social_benefits=draw(money),
                business=draw(st.one_of(st.just(0), money)),
                other=draw(st.one_of(st.just(0), money)),
                disability_group=draw(st.sampled_from([None, None, None, "1", "2", "3", "child"])),
                chronic_illness=draw(st.booleans()),
                education=draw(st.sampled_from(EDUCATION)),
                employment=draw(st.sampled_from(EMPLOYMENT)),
                informal_work_signal=draw(st.booleans()),
                iin=iin,
            )
        )
    area = draw(
        st.one_of(
            st.integers(0, 300),
            st.integers(0, 3000).map(lambda tenths: tenths / 10),
        )
    )
    homes = draw(st.lists(st.integers(10, 300).map(lambda a: b.home(float(a))), max_size=3))
    vehicles = draw(
        st.lists(
            st.builds(b.car, st.integers(1990, 2027), st.sampled_from(VEHICLE_KINDS)),
            max_size=3,
        )
    )
    entities = draw(
        st.lists(st.builds(b.legal_entity, st.booleans(), st.integers(1, 900)), max_size=2)
    )
    return b.card(
        members=members,
        as_of=as_of,
        housing=homes,
        land_plots=draw(st.integers(0, 4)),
        vehicles=vehicles,
        livestock_units=draw(st.integers(0, 20)),
        deposits=draw(st.one_of(st.just(0), st.integers(0, 5_000_000))),
        living_area=area,
        legal_entities=entities,
        individual_entrepreneur=draw(st.booleans()),
        monthly_payments=draw(st.one_of(st.just(0), st.integers(0, 500_000))),
        overdue=draw(st.booleans()),
        turnover=draw(st.one_of(st.none(), st.integers(0, 3_000_000))),
    )


def _score(doc: dict) -> Assessment:
    return assess(parse_card(doc), load_default_ruleset())


@PROPERTY_SETTINGS
@given(card_docs())
def test_it_scores_deterministically(doc: dict) -> None:
    first = _score(doc)
    again = _score(copy.deepcopy(doc))
    assert first == again
    assert first.to_dict() == again.to_dict()
    assert assess(parse_card(doc), load_default_ruleset()) == first


@PROPERTY_SETTINGS
@given(card_docs())
def test_it_keeps_categories_consistent(doc: dict) -> None:
    a = _score(doc)
    assert 1 <= a.category <= 6
    assert a.high_welfare == (a.category == 6) == bool(a.markers)
    assert 1 <= a.base_category <= 5
    assert a.net == a.vulnerability_points - a.wealth_points
    if not a.high_welfare:
        assert a.category == min(5, max(1, a.base_category + a.shift))


@PROPERTY_SETTINGS
@given(card_docs(), st.integers(1990, 2027), st.sampled_from(["car", "truck"]))
def test_it_never_lowers_the_category_for_another_car(doc: dict, year: int, kind: str) -> None:
    before = _score(doc)
    richer = copy.deepcopy(doc)
    richer["property"]["vehicles"].append(b.car(year, kind))
    after = _score(richer)
    assert after.category >= before.category
    counted = [v for v in richer["property"]["vehicles"] if v["kind"] in ("car", "truck")]
    if len(counted) >= 2:
        assert after.category == 6


@PROPERTY_SETTINGS
@given(card_docs(), st.integers(10, 300))
def test_it_never_lowers_the_category_for_another_home(doc: dict, area: int) -> None:
    before = _score(doc)
    richer = copy.deepcopy(doc)
    richer["property"]["housing"].append(b.home(area, "house"))
    after = _score(richer)
    assert after.category >= before.category
    if len(richer["property"]["housing"]) >= 2:
        assert after.category == 6


@PROPERTY_SETTINGS
@given(card_docs())
def test_it_round_trips_card_to_dict_to_card(doc: dict) -> None:
    card = parse_card(doc)
    assert canonical_json(card.to_dict()) == canonical_json(doc)
    again = parse_card(canonical_json(card.to_dict()))
    assert again == card
    assert again.sha256() == card.sha256() == card_sha256(doc)


@PROPERTY_SETTINGS
@given(card_docs())
def test_it_round_trips_assessment_to_dict_to_assessment(doc: dict) -> None:
    a = _score(doc)
    data = json.loads(json.dumps(a.to_dict()))
    back = Assessment.from_dict(data)
    assert back == a
    assert back.to_dict() == data
