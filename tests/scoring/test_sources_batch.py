"""Several cards in one call: ``POST v1/cards/batch`` of the simulator and the client's
``fetch_many`` (the same cards as one GET each, one call for the chunk, retries and breaker
as for one fetch, a service without the endpoint asked one card at a time)."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
from django.conf import settings
from django.core.management import call_command

from scoring.circuit import CircuitBreaker, redis_client
from scoring.simulator.faults import requests_seen
from scoring.simulator.generator import generate_card
from scoring.sources import (
    CardMalformed,
    CardNotFound,
    CardRequestRejected,
    CardServiceUnavailable,
    FetchedCard,
    HttpFamilyCardSource,
    card_breaker,
    get_card_source,
)
from tests.scoring.conftest import make_iin, sim_headers

PEOPLE = [make_iin(dt.date(2014, 5, 20), "M", serial) for serial in (1, 20, 40, 60)]
ADULT = "850307300124"


def test_a_batch_brings_the_same_cards_as_one_get_each_in_one_call(card_service):
    source = get_card_source()
    before = requests_seen()
    got = source.fetch_many([*PEOPLE, ADULT])
    assert requests_seen() - before == 1
    assert all(isinstance(g, FetchedCard) for g in got)
    for iin, fetched in zip([*PEOPLE, ADULT], got, strict=True):
        alone = source.fetch(iin)
        assert fetched.sha256 == alone.sha256  # exact numbers kept: the same frozen card
        assert fetched.raw == alone.raw
        assert any(m.iin == iin for m in fetched.card.members)


def test_each_person_of_a_batch_gets_an_answer_of_its_own(card_service):
    call_command("familycard_load", "--unknown", ADULT)
    before = requests_seen()
    got = get_card_source().fetch_many([PEOPLE[0], ADULT, "123", PEOPLE[1]])
    assert requests_seen() - before == 1
    assert isinstance(got[0], FetchedCard) and isinstance(got[3], FetchedCard)
    assert isinstance(got[1], CardNotFound)
    assert isinstance(got[2], CardRequestRejected)  # never sent: not an ИИН


def test_a_batch_to_a_failing_service_is_retried_then_unavailable(card_service, set_faults):
    set_faults(error_rate=1.0)
    before = requests_seen()
    got = get_card_source().fetch_many(PEOPLE)
    assert requests_seen() - before == 3  # FAMILY_CARD_ATTEMPTS, for the whole batch
    assert all(isinstance(g, CardServiceUnavailable) for g in got)
    assert {g.reason for g in got} == {"http_5xx"}


def test_malformed_cards_of_a_batch_fail_one_by_one(card_service, set_faults):
    set_faults(malformed_rate=1.0)
    got = get_card_source().fetch_many(PEOPLE[:2])
    assert all(isinstance(g, CardMalformed) for g in got)


def source_answering(handler, **kwargs) -> HttpFamilyCardSource:
    return HttpFamilyCardSource(
        "http://cards.test",
        connect_timeout=0.5,
        read_timeout=0.5,
        attempts=kwargs.pop("attempts", 2),
        breaker=kwargs.pop("breaker", None) or card_breaker(),
        backoff_base=0.001,
        backoff_max=0.01,
        transport=httpx.MockTransport(handler),
        **kwargs,
    )


def card_answer(iin: str) -> httpx.Response:
    body = json.dumps(generate_card(iin, as_of=dt.date(2026, 9, 15)), default=str)
    return httpx.Response(200, text=body)


def test_a_service_without_the_batch_endpoint_is_asked_one_card_at_a_time(redis_prefix):
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        if request.url.path.endswith("/batch"):
            return httpx.Response(404, json={"error": "not_found"})
        return card_answer(request.url.params["iin"])

    source = source_answering(handler)
    got = source.fetch_many(PEOPLE[:3])
    assert all(isinstance(g, FetchedCard) for g in got)
    assert calls == ["POST /v1/cards/batch"] + ["GET /v1/cards"] * 3
    source.fetch_many(PEOPLE[:2])  # remembered: no second try of the batch endpoint
    assert calls[4:] == ["GET /v1/cards"] * 2


def test_an_answer_for_other_people_is_malformed_not_trusted(redis_prefix):
    def handler(request: httpx.Request) -> httpx.Response:
        iins = json.loads(request.content)["iins"]
        items = [{"iin": i, "status": 404} for i in reversed(iins)]
        return httpx.Response(200, json={"cards": items})

    got = source_answering(handler).fetch_many(PEOPLE[:2])
    assert all(isinstance(g, CardMalformed) for g in got)


def test_an_open_breaker_refuses_the_whole_batch_without_a_call(redis_prefix):
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503)

    breaker = CircuitBreaker(
        "batch-test",
        client=redis_client(settings.REDIS_URL),
        failure_threshold=2,
        cooldown_seconds=60,
        key_prefix=redis_prefix + "circuit:",
    )
    source = source_answering(handler, breaker=breaker, attempts=2)
    first = source.fetch_many(PEOPLE[:2])
    assert {g.reason for g in first} == {"http_5xx"} and len(calls) == 2
    second = source.fetch_many(PEOPLE[:2])
    assert {g.reason for g in second} == {"circuit_open"} and len(calls) == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "invalid_iins"),
        ({"iins": "850307300124"}, "invalid_iins"),
        ({"iins": []}, "invalid_iins"),
        ({"iins": [ADULT] * 101}, "invalid_iins"),
        ({"iins": [ADULT], "as_of": "15.09.2026"}, "invalid_as_of"),
        ({"iins": [ADULT], "region": "ALA"}, "invalid_region"),
        ({"iins": [ADULT], "region": ["KAR"]}, "invalid_region"),
        ({"iins": [ADULT], "as_of": 20260915}, "invalid_as_of"),
        ([ADULT], "invalid_iins"),
    ],
)
def test_the_batch_endpoint_names_what_is_wrong(card_service, body, field):
    r = httpx.post(card_service + "/v1/cards/batch", json=body, headers=sim_headers())
    assert r.status_code == 400 and r.json()["error"] == field


def test_the_batch_endpoint_is_never_anonymous_and_only_takes_post(card_service):
    url = card_service + "/v1/cards/batch"
    assert httpx.post(url, json={"iins": [ADULT]}).status_code == 401
    assert httpx.get(url, headers=sim_headers()).status_code == 405
    r = httpx.post(url, content=b"{not json", headers=sim_headers())
    assert r.status_code == 400 and r.json()["error"] == "invalid_json"
