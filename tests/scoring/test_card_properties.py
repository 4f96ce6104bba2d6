"""Property tests of card reading (Hypothesis): the category does not depend on how a number is
written; the fast path and the explaining path agree; no document of any shape escapes as
anything but a CardError; the canonical JSON is the same whichever writer produced it."""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import os
import struct
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from schools.identifiers import iin_birth_date, iin_error, iin_matches_birth_date
from scoring import card as card_module
from scoring.card import CardError, card_problems, parse_card, parse_card_explained
from scoring.engine import assess
from scoring.jsondoc import (
    canonical_json,
    load_json_document,
    number_text,
    storage_json,
)
from scoring.ruleset import load_default_ruleset
from tests.scoring import cards as b

RULES = load_default_ruleset()
PM = b.PM_2026
PROPERTY = settings(
    max_examples=int(os.environ.get("KOMEK_HYPOTHESIS_EXAMPLES", "120")),  # more: a deep run
    deadline=None,
    database=None,  # no .hypothesis/ directory in the project tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --------------------------------------------------------------------------- notations


def notations(value: Fraction) -> list[str]:
    """Ways JSON can write ``value`` (a finite decimal): plain, with zeros, with exponents."""
    q = Decimal(value.numerator) / Decimal(value.denominator)
    assert Decimal(q) * value.denominator == value.numerator  # finite decimal
    sign, digits, exponent = q.normalize().as_tuple()
    text = "".join(map(str, digits))
    out = {format(q, "f"), format(q.normalize(), "E"), format(q, "e")}
    out.add(f"{text}E{exponent}")  # 27 → 27E0, 2.7 → 27E-1
    out.add(f"{text}0E{exponent - 1}")  # 270E-1
    out.add(f"0.{text}E+{len(digits) + exponent}")  # 0.27E+2
    out.add(format(q, "f") + ("0" if "." in format(q, "f") else ".000"))
    if value.denominator == 1:
        out.update({str(value.numerator), f"{value.numerator}.0"})
    return sorted(o for o in out if not o.startswith("-"))


def _raw(doc: dict, numbers: dict[str, str]) -> str:
    text = json.dumps(doc)
    for name, raw in numbers.items():
        text = text.replace(f'"@{name}"', raw)
    return text


@st.composite
def boundary_cards(draw: st.DrawFn) -> tuple[dict, dict[str, Fraction]]:
    """A card whose income ratio, area per person and deposits ratio sit on or beside the
    thresholds of the default rule set, with placeholders for the numbers."""
    n = draw(st.integers(1, 4))
    ratio = draw(st.sampled_from([Fraction(55, 100), 1, 2, 3, 4]))
    nudge = draw(st.sampled_from([0, 1, -1]))  # tenge around the boundary
    income = max(0, ratio * n * PM + nudge)
    area = Fraction(9 * n) + draw(st.sampled_from([0, Fraction(1, 10), Fraction(-1, 10)]))
    deposits = 6 * n * PM + draw(st.sampled_from([0, 1, -1]))
    members = [b.adult(salary="@salary")] + [b.child(dt.date(2010 + k, 1, 5)) for k in range(n - 1)]
    doc = b.card(
        members=members,
        living_area="@area",
        deposits="@deposits",
        housing=[b.home("@home")],
    )
    values = {
        "salary": Fraction(int(income)),
        "area": area,
        "home": area,
        "deposits": Fraction(deposits),
    }
    assume(all(v > 0 for v in values.values()))
    return doc, values


@PROPERTY
@given(boundary_cards(), st.data())
def test_the_category_does_not_depend_on_how_numbers_are_written(case, data) -> None:
    doc, values = case
    plain = {name: notations(v)[0] for name, v in values.items()}
    reference = assess(parse_card(_raw(doc, plain)), RULES)
    written = {
        name: data.draw(st.sampled_from(notations(v)), label=name) for name, v in values.items()
    }
    text = _raw(doc, written)
    for parse in (parse_card, lambda t: parse_card_explained(t).card):
        result = assess(parse(text), RULES)
        assert result.category == reference.category
        assert result.values == reference.values


def test_notations_cover_the_usual_forms() -> None:
    assert {"27", "27.0", "2.7E+1", "270E-1", "0.27E+2"} <= set(notations(Fraction(27)))
    assert {"26.9", "269E-1", "2.69E+1"} <= set(notations(Fraction(269, 10)))


# --------------------------------------------------------------------------- two paths, one answer

_JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.decimals(allow_nan=False, allow_infinity=False, places=None),
    st.text(max_size=14),
)
_JSON = st.recursive(
    _JSON_LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(doc: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutated_cards(draw: st.DrawFn) -> dict:
    members = [b.adult(salary=draw(st.integers(0, 400_000)))]
    for k in range(draw(st.integers(0, 3))):
        members.append(b.child(dt.date(2012 + k, 2, 3)))
    doc = b.card(
        members=members,
        living_area=draw(st.sampled_from([Decimal("54.1"), 30, Decimal("1e-400")])),
        legal_entities=[b.legal_entity()] if draw(st.booleans()) else [],
        vehicles=[b.car(draw(st.integers(1890, 2110)))] if draw(st.booleans()) else [],
    )
    for _ in range(draw(st.integers(0, 3))):
        paths = _paths(doc)[1:]
        where = draw(st.sampled_from(paths))
        parent = doc
        for part in where[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "tweak", "duplicate", "add"]))
        key = where[-1]
        if action == "replace":
            parent[key] = draw(_JSON)
        elif action == "delete":
            del parent[key]
        elif action == "tweak" and isinstance(parent[key], str):
            parent[key] = draw(
                st.sampled_from(
                    [parent[key] + "\n", parent[key][:-1], " " + parent[key], parent[key][::-1]]
                )
            )
        elif action == "tweak" and isinstance(parent[key], (int, Decimal)):
            parent[key] = draw(st.sampled_from([-1, 0, Decimal("0.5"), Decimal("1E+3"), 2100]))
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        elif action == "add" and isinstance(parent[key], dict):
            parent[key][draw(st.text(max_size=6))] = draw(_JSON)
    return doc


@PROPERTY
@given(mutated_cards())
@example(b.card())
def test_the_fast_path_accepts_exactly_what_the_explaining_path_accepts(doc) -> None:
    problems = card_problems(doc)
    fast = card_module._fast_parse(doc)
    if fast is None:
        assert problems, "valid card refused by the fast path (only slower, but a divergence)"
        with pytest.raises(CardError):
            parse_card(doc)
    else:
        assert problems == []
        explained = parse_card_explained(doc)
        assert explained.card == fast.card and explained.sha256 == fast.sha256


@PROPERTY
@given(mutated_cards(), st.data())
def test_text_with_a_repeated_key_is_refused_and_other_text_parses_as_its_document(
    doc, data
) -> None:
    text = json.dumps(doc, default=str)
    colons = [i for i, ch in enumerate(text) if ch == ":"]
    if data.draw(st.booleans(), label="repeat a key") and colons:
        # repeat one "key": value pair right after itself
        at = data.draw(st.sampled_from(colons), label="colon")
        start = text.rfind('"', 0, text.rfind('"', 0, at))
        try:
            decoded, end = json.JSONDecoder().raw_decode(text, at + 1 + (text[at + 1] == " "))
        except ValueError:
            return
        pair = text[start:end]
        text = text[:end] + ", " + pair + text[end:]
        if text.count(pair) < 2 or not pair.startswith('"'):
            return
        with pytest.raises(CardError):
            parse_card(text)
        return
    try:
        expected = parse_card_explained(json.loads(text, parse_float=Decimal))
    except CardError:
        with pytest.raises(CardError):
            parse_card(text)
        return
    assert parse_card(text) == expected.card


@PROPERTY
@given(st.one_of(_JSON, mutated_cards()))
def test_no_document_escapes_as_anything_but_a_card_error(doc) -> None:
    for given_doc in (doc, _dumps_or_none(doc)):
        if given_doc is None:
            continue
        try:
            parse_card(given_doc)
        except CardError as exc:
            assert exc.problems
            for problem in exc.problems:
                assert problem.path.isprintable()


def _dumps_or_none(doc: object) -> str | None:
    try:
        return canonical_json(doc).decode("utf-8")
    except (TypeError, ValueError):
        return None


@PROPERTY
@given(st.binary(max_size=300) | st.text(max_size=300))
def test_no_text_escapes_as_anything_but_a_card_error(text) -> None:
    with pytest.raises(CardError):
        parse_card(text)


# --------------------------------------------------------------------------- canonical JSON


@PROPERTY
@given(st.integers(0, 2**64 - 1))
def test_number_text_is_the_float_repr_whenever_a_float_holds_the_number(bits) -> None:
    value = struct.unpack("<d", struct.pack("<Q", bits))[0]
    assume(math.isfinite(value) and value != 0)
    assert number_text(Decimal(repr(value))) == repr(value)


@PROPERTY
@given(_JSON)
def test_the_fast_and_the_exact_writers_give_the_same_bytes(doc) -> None:
    try:
        fast = canonical_json(doc, floats=False)  # orjson
    except (TypeError, ValueError):
        return
    assert fast == canonical_json(doc)  # json.dumps with the exact fallback
    from scoring.jsondoc import _write

    assert fast == _write(doc, storage=False, ensure_ascii=False).encode("utf-8")


@PROPERTY
@given(_JSON)
def test_stored_json_reads_back_to_the_same_canonical_json(doc) -> None:
    try:
        canonical = canonical_json(doc)
    except (TypeError, ValueError):
        return
    assert canonical_json(load_json_document(storage_json(doc), max_bytes=None, max_depth=64)) == (
        canonical
    )


@PROPERTY
@given(
    st.text(alphabet="0123456789", min_size=12, max_size=12),
    st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 31)),
)
def test_the_quick_iin_check_agrees_with_the_full_one(digits, birth) -> None:
    from schools.identifiers import make_identifier

    for value in {digits, make_identifier(digits[:11]) or digits}:
        expected = iin_error(value) is None and iin_birth_date(value) == birth
        assert iin_matches_birth_date(value, birth) is expected
        own = iin_birth_date(value)
        if own is not None:
            assert iin_matches_birth_date(value, own) is (iin_error(value) is None)
