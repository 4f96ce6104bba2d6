"""The family card simulator: generator, HTTP API, loading, faults, serving alone."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from statistics import mean

import httpx
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError

from schools.identifiers import iin_birth_date, iin_sex, is_valid_bin, is_valid_iin
from scoring.card import CardError, card_sha256, parse_card
from scoring.simulator import faults as sim_faults
from scoring.simulator.generator import (
    PersonNotFound,
    SeededRandom,
    generate_card,
    is_hash_unknown,
    region_for,
)
from scoring.simulator.models import SimulatedCard
from tests.dburl import current_database_url
from tests.scoring.conftest import AS_OF, make_iin, sim_headers

BASE_DIR = Path(__file__).resolve().parents[2]
CARDS_URL = "/familycard-sim/v1/cards"
HEALTH_URL = "/familycard-sim/v1/health"
PINNED_SHA256 = "67935758c94222aedb0902367aa9f45fe151c14d954da50bed89637854433cf8"


def sample_iins(count: int, seed: bytes = b"komek-tests") -> list[str]:
    """Valid ИИНs born 1935–2025, both sexes, reproducibly."""
    rng = SeededRandom(seed)
    out: list[str] = []
    while len(out) < count:
        birth = dt.date(rng.randint(1935, 2025), rng.randint(1, 12), rng.randint(1, 28))
        out.append(make_iin(birth, rng.choice(("M", "F")), rng.randint(0, 9000)))
    return out


def loaded_card(holder_iin: str, family_id: str, deposits: int = 123_000) -> dict:
    """A card to load: a synthetic one, renamed and changed so it is not the synthetic one."""
    doc = generate_card(holder_iin, as_of=AS_OF)
    doc["family_id"] = family_id
    doc["property"]["deposits_kzt"] = deposits
    return doc


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- generator


def test_it_generates_valid_cards_for_thousands_of_iins():
    iins = sample_iins(3000)
    regions = {"KAR": 0, "SHY": 0}
    for iin in iins:
        try:
            doc = generate_card(iin, as_of=AS_OF)
        except PersonNotFound:
            assert iin_birth_date(iin) > AS_OF
            continue
        card = parse_card(doc)  # raises CardError on any problem
        regions[card.region] += 1
        for e in card.business.legal_entities:
            assert is_valid_bin(e.bin)
    assert regions["KAR"] > regions["SHY"] > 500


def test_it_generates_valid_cards_in_both_regions_and_other_dates():
    for iin in sample_iins(300, seed=b"regions"):
        for region in ("KAR", "SHY"):
            for as_of in (dt.date(2025, 1, 31), dt.date(2028, 2, 29)):
                if iin_birth_date(iin) > as_of:
                    continue
                card = parse_card(generate_card(iin, as_of=as_of, region=region))
                assert card.region == region and card.as_of == as_of


def test_it_is_deterministic():
    for iin in sample_iins(50, seed=b"determinism"):
        a = generate_card(iin, as_of=AS_OF)
        b = generate_card(iin, as_of=AS_OF)
        assert a == b and card_sha256(a) == card_sha256(b)
    # Pinned: the stream is our own SHA-256 counter, the same on every Python version and in
    # every process. Change this value only on purpose, when the generator itself changes.
    doc = generate_card("850307300124", as_of=AS_OF)
    assert doc["family_id"] == "SIM-SHY-1af9f3c23ed602d4"
    assert card_sha256(doc) == PINNED_SHA256


def test_it_puts_the_holder_in_the_card_by_age():
    for iin in sample_iins(400, seed=b"holder"):
        birth = iin_birth_date(iin)
        if birth > AS_OF:
            continue
        doc = generate_card(iin, as_of=AS_OF)
        holders = [m for m in doc["members"] if m["iin"] == iin]
        assert len(holders) == 1
        holder = holders[0]
        adult = birth <= dt.date(AS_OF.year - 18, AS_OF.month, AS_OF.day)
        assert holder["relation"] == ("applicant" if adult else "child")
        assert holder["birth_date"] == birth.isoformat() and holder["sex"] == iin_sex(iin)
        assert sum(m["relation"] == "applicant" for m in doc["members"]) == 1
        iins = [m["iin"] for m in doc["members"]]
        assert len(set(iins)) == len(iins) and all(is_valid_iin(i) for i in iins)


def test_it_refuses_a_person_born_after_as_of():
    iin = make_iin(dt.date(2026, 12, 1), "F")
    with pytest.raises(PersonNotFound):
        generate_card(iin, as_of=AS_OF)


def test_it_draws_plausible_regional_distributions():
    pm = 50_851
    sizes: dict[str, list[int]] = {"KAR": [], "SHY": []}
    ratios, two_homes, two_cars, entities = [], 0, 0, 0
    iins = [i for i in sample_iins(2000, seed=b"realism") if iin_birth_date(i) <= AS_OF]
    for iin in iins:
        doc = generate_card(iin, as_of=AS_OF)
        n = len(doc["members"])
        sizes[doc["region"]].append(n)
        income = sum(sum(m["incomes"].values()) for m in doc["members"])
        ratios.append(income / n / pm)
        two_homes += len(doc["property"]["housing"]) >= 2
        two_cars += sum(v["kind"] in ("car", "truck") for v in doc["property"]["vehicles"]) >= 2
        entities += any(e["active"] for e in doc["business"]["legal_entities"])
    assert 2.3 < mean(sizes["KAR"]) < mean(sizes["SHY"]) < 4.5
    ratios.sort()
    assert 1.0 < ratios[len(ratios) // 2] < 4.0  # median per-capita income: 1–4 ПМ
    assert 0.03 < sum(r < 1 for r in ratios) / len(ratios) < 0.45
    assert 0.005 < two_homes / len(iins) < 0.08
    assert 0.01 < two_cars / len(iins) < 0.12
    assert 0.001 < entities / len(iins) < 0.05


def test_it_marks_unknown_persons_by_hash_share():
    iins = sample_iins(2000, seed=b"unknown")
    assert not any(is_hash_unknown(i, 0) for i in iins)
    assert all(is_hash_unknown(i, 1000) for i in iins)
    share = sum(is_hash_unknown(i, 100) for i in iins) / len(iins)
    assert 0.06 < share < 0.14
    assert {region_for(i) for i in iins} == {"KAR", "SHY"}


# --------------------------------------------------------------------------- HTTP API


def test_it_serves_a_synthetic_card(client, db, sim_settings):
    iin = "120902500338"
    response = client.get(CARDS_URL, {"iin": iin})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    doc = response.json()
    assert doc == generate_card(iin, as_of=AS_OF)
    parse_card(doc)


def test_it_honours_region_and_as_of_parameters(client, db, sim_settings):
    iin = "100515501231"
    for region in ("KAR", "SHY"):
        doc = client.get(CARDS_URL, {"iin": iin, "region": region, "as_of": "2026-01-10"}).json()
        assert doc["region"] == region and doc["as_of"] == "2026-01-10"
    default = client.get(CARDS_URL, {"iin": iin}).json()
    assert default["region"] == region_for(iin) and default["as_of"] == "2026-09-15"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "invalid_iin"),
        ({"iin": "12345"}, "invalid_iin"),
        ({"iin": "850307300125"}, "invalid_iin"),  # check digit
        ({"iin": "851307300120"}, "invalid_iin"),  # month 13
        ({"iin": "850307300124", "region": "AST"}, "invalid_region"),
        ({"iin": "850307300124", "as_of": "15.09.2026"}, "invalid_as_of"),
    ],
)
def test_it_answers_400_for_malformed_parameters(client, db, sim_settings, params, code):
    response = client.get(CARDS_URL, params)
    assert response.status_code == 400
    assert response.json()["error"] == code
    assert "850307300124" not in response.content.decode()


def test_it_answers_404_for_unknown_persons(client, db, sim_settings, settings):
    listed, other = "850307300124", "061211600012"
    call_command("familycard_load", "--unknown", listed)
    assert client.get(CARDS_URL, {"iin": listed}).status_code == 404
    assert client.get(CARDS_URL, {"iin": other}).status_code == 200
    settings.FAMILY_CARD_SIM_UNKNOWN_PERMILLE = 1000
    response = client.get(CARDS_URL, {"iin": other})
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    born_later = make_iin(dt.date(2026, 10, 1))
    settings.FAMILY_CARD_SIM_UNKNOWN_PERMILLE = 0
    assert client.get(CARDS_URL, {"iin": born_later}).status_code == 404


def test_it_answers_only_get(client, db, sim_settings):
    assert client.post(CARDS_URL, {"iin": "850307300124"}).status_code == 405


def test_it_reports_health_and_faults(client, db, sim_settings, set_faults):
    body = client.get(HEALTH_URL).json()
    assert body["status"] == "ok" and body["faults"]["source"] == "settings"
    set_faults(error_rate=1)
    body = client.get(HEALTH_URL).json()
    assert body["status"] == "ok"  # health itself is never faulted
    assert body["faults"]["error_rate"] == 1.0 and body["faults"]["source"] == "redis"


def test_it_injects_errors_timeouts_and_malformed_cards(client, db, sim_settings, settings):
    iin = "850307300124"
    call_command("familycard_sim", "faults", "--error-rate", "1")
    assert client.get(CARDS_URL, {"iin": iin}).status_code == 503
    settings.FAMILY_CARD_SIM_TIMEOUT_SLEEP = 0.05
    call_command("familycard_sim", "faults", "--error-rate", "0", "--timeout-rate", "1")
    started = time.monotonic()
    assert client.get(CARDS_URL, {"iin": iin}).status_code == 504
    assert time.monotonic() - started >= 0.05
    call_command("familycard_sim", "faults", "--timeout-rate", "0", "--malformed-rate", "1")
    response = client.get(CARDS_URL, {"iin": iin})
    assert response.status_code == 200
    with pytest.raises(CardError) as info:
        parse_card(response.json())
    assert "schema" in {p.path for p in info.value.problems}
    call_command("familycard_sim", "faults", "--reset")
    assert client.get(CARDS_URL, {"iin": iin}).status_code == 200


def test_it_adds_latency(client, db, sim_settings):
    call_command("familycard_sim", "faults", "--latency-ms", "80")
    started = time.monotonic()
    assert client.get(CARDS_URL, {"iin": "850307300124"}).status_code == 200
    assert time.monotonic() - started >= 0.08


def test_it_takes_faults_from_settings_until_overridden(client, db, sim_settings, settings):
    settings.FAMILY_CARD_SIM_ERROR_RATE = 1.0
    assert client.get(CARDS_URL, {"iin": "850307300124"}).status_code == 503
    sim_faults.faults_set(error_rate=0)
    assert client.get(CARDS_URL, {"iin": "850307300124"}).status_code == 200
    sim_faults.faults_reset()
    assert client.get(CARDS_URL, {"iin": "850307300124"}).status_code == 503


def test_it_shows_and_validates_faults_from_the_command(sim_settings, capsys):
    call_command("familycard_sim", "faults", "--latency-ms", "100", "--error-rate", "0.5")
    call_command("familycard_sim", "faults", "--timeout-rate", "0.25")
    call_command("familycard_sim", "faults", "--show")
    shown = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert shown["latency_ms"] == 100 and shown["error_rate"] == 0.5
    assert shown["timeout_rate"] == 0.25 and shown["source"] == "redis"
    with pytest.raises(CommandError):
        call_command("familycard_sim", "faults", "--reset", "--error-rate", "0")
    with pytest.raises((CommandError, SystemExit)):
        call_command("familycard_sim", "faults", "--error-rate", "1.5")
    call_command("familycard_sim", "faults", "--reset")
    faults, source = sim_faults.current_faults()
    assert source == "settings" and faults == sim_faults.Faults()


# --------------------------------------------------------------------------- loading


def test_it_loads_cards_and_serves_them_for_every_member(client, db, sim_settings, tmp_path):
    one = loaded_card("850307300124", "LOADED-1")
    two = loaded_card("061211600012", "LOADED-2", deposits=5_000)
    write_json(tmp_path / "one.json", one)
    write_json(tmp_path / "many.json", [two])
    out = _run_load(str(tmp_path / "one.json"), str(tmp_path / "many.json"))
    members = len(one["members"]) + len(two["members"])
    assert f"Загружено карт: 2; ИИН членов семей: {members}." in out
    for doc in (one, two):
        for m in doc["members"]:
            assert m["iin"] not in out
            response = client.get(CARDS_URL, {"iin": m["iin"]})
            assert response.status_code == 200
            assert response.json() == doc
            assert card_sha256(response.json()) == card_sha256(doc)
    assert SimulatedCard.objects.count() == members


def test_it_reloads_the_same_card_idempotently(client, db, sim_settings, tmp_path):
    doc = loaded_card("850307300124", "LOADED-1")
    path = write_json(tmp_path / "card.json", doc)
    _run_load(str(path))
    first = set(SimulatedCard.objects.values_list("iin", "card_sha256"))
    _run_load(str(path))
    assert set(SimulatedCard.objects.values_list("iin", "card_sha256")) == first
    changed = copy.deepcopy(doc)
    changed["property"]["deposits_kzt"] = 999_000
    write_json(path, changed)
    _run_load(str(path))
    assert SimulatedCard.objects.count() == len(doc["members"])
    served = client.get(CARDS_URL, {"iin": doc["members"][0]["iin"]}).json()
    assert served["property"]["deposits_kzt"] == 999_000


def test_it_rejects_a_bad_file_and_loads_nothing(db, sim_settings, tmp_path, capsys):
    good = write_json(tmp_path / "good.json", loaded_card("850307300124", "LOADED-1"))
    bad_card = loaded_card("061211600012", "LOADED-2")
    bad_card["members"][0]["iin"] = bad_card["members"][0]["iin"][:11] + str(
        (int(bad_card["members"][0]["iin"][11]) + 1) % 10
    )
    del bad_card["credit"]
    bad = write_json(tmp_path / "bad.json", [loaded_card("120902500338", "LOADED-3"), bad_card])
    with pytest.raises(CommandError):
        call_command("familycard_load", str(good), str(bad))
    err = capsys.readouterr().err
    assert SimulatedCard.objects.count() == 0
    assert f"{bad} [1] credit:" in err
    assert f"{bad} [1] members[0].iin:" in err
    assert "good.json" not in err
    assert bad_card["members"][0]["iin"] not in err


def test_it_rejects_files_that_are_not_json(db, sim_settings, tmp_path, capsys):
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("familycard_load", str(path), str(tmp_path / "missing.json"))
    err = capsys.readouterr().err
    assert "broken.json" in err and "missing.json" in err
    assert SimulatedCard.objects.count() == 0


def test_it_rejects_one_iin_in_two_different_cards(db, sim_settings, tmp_path, capsys):
    a = loaded_card("850307300124", "LOADED-1")
    b = loaded_card("850307300124", "LOADED-2")
    with pytest.raises(CommandError):
        call_command("familycard_load", str(write_json(tmp_path / "ab.json", [a, b])))
    assert "ab.json [1] members[0].iin:" in capsys.readouterr().err
    assert SimulatedCard.objects.count() == 0


def test_it_clears_loaded_data(db, sim_settings, tmp_path):
    _run_load(str(write_json(tmp_path / "c.json", loaded_card("850307300124", "LOADED-1"))))
    call_command("familycard_load", "--unknown", "061211600012")
    call_command("familycard_load", "--clear")
    assert SimulatedCard.objects.count() == 0
    with pytest.raises(CommandError):
        call_command("familycard_load", "--unknown", "061211600013")


def _run_load(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("familycard_load", *args, stdout=out)
    return out.getvalue()


# --------------------------------------------------------------------------- serving alone


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_it_serves_alone(transactional_db, sim_settings, tmp_path):
    """`manage.py familycard_sim serve` in its own process, on the test database."""
    doc = loaded_card("850307300124", "ALONE-1")
    _run_load(str(write_json(tmp_path / "alone.json", doc)))
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": current_database_url(),
        "REDIS_URL": django_settings.REDIS_URL,
        "FAMILY_CARD_SIM_REDIS_PREFIX": django_settings.FAMILY_CARD_SIM_REDIS_PREFIX,
        "KOMEK_TESTING": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "familycard_sim", "serve", "--port", str(port)],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                health = httpx.get(f"{base}/v1/health", timeout=1, headers=sim_headers())
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode()
                assert time.monotonic() < deadline, "the simulator did not start"
                time.sleep(0.1)
        assert health.status_code == 200 and health.json()["loaded"]["member_iins"] >= 1
        served = httpx.get(
            f"{base}/v1/cards", params={"iin": doc["members"][-1]["iin"]}, headers=sim_headers()
        )
        assert served.json() == doc
        sim_faults.faults_set(error_rate=1)  # the same Redis key reaches the other process
        assert (
            httpx.get(
                f"{base}/v1/cards", params={"iin": "061211600012"}, headers=sim_headers()
            ).status_code
            == 503
        )
        assert (
            httpx.get(f"{base}/familycard-sim/v1/health", headers=sim_headers()).status_code == 404
        )  # root only
    finally:
        proc.terminate()
        output = proc.communicate(timeout=10)[0].decode()
    for m in doc["members"]:
        assert m["iin"] not in output  # request lines are redacted
    assert "061211600012" not in output
    assert f"http://127.0.0.1:{port}/v1/health" in output


def _sessions_on_this_database() -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cur.fetchone()[0]


def test_the_dev_server_closes_its_database_connections(transactional_db, sim_settings):
    """Each request thread of `familycard_sim serve` gives its connection back."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": current_database_url(),
        "REDIS_URL": django_settings.REDIS_URL,
        "FAMILY_CARD_SIM_REDIS_PREFIX": django_settings.FAMILY_CARD_SIM_REDIS_PREFIX,
        "KOMEK_TESTING": "1",
        "CONN_MAX_AGE": "600",
    }
    before = _sessions_on_this_database()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "familycard_sim", "serve", "--port", str(port)],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/v1/health", timeout=1, headers=sim_headers())
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the simulator did not start"
                time.sleep(0.1)
        for i in range(15):  # a new connection, so a new thread, each time
            r = httpx.get(f"{base}/v1/cards", params={"iin": "061211600012"}, headers=sim_headers())
            assert r.status_code == 200, i
        time.sleep(0.3)
        assert _sessions_on_this_database() - before <= 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)
