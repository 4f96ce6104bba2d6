"""Issue 9, finding 4: the family card simulator is a development tool — installed and mounted
only when enabled explicitly, refused by a system check with DEBUG off (unless the deliberate
override with a shared secret), never anonymous."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.test import Client

from portal.checks import family_card_simulator_check
from scoring.sources import HttpFamilyCardSource, get_card_source

BASE_DIR = Path(__file__).resolve().parents[2]
CARDS = "/familycard-sim/v1/cards"
SECRET = "s" * 40


def _env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FAMILY_CARD_", "SMS_SIM"))}
    env.pop("KOMEK_TESTING", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests of this process
    env.update(
        {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DEBUG": "0",
            "ALLOWED_HOSTS": "komek.example.kz",
        }
    )
    env.update(overrides)
    return env


PROBE = (
    "import django; django.setup(); from django.conf import settings; "
    "from django.urls import resolve, Resolver404\n"
    "try:\n    resolve('/familycard-sim/v1/cards'); mounted = True\n"
    "except Resolver404:\n    mounted = False\n"
    "print('scoring.simulator' in settings.INSTALLED_APPS, mounted)"
)


def _probe(env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_it_is_neither_installed_nor_mounted_by_default():
    assert _probe(_env()) == "False False"
    assert _probe(_env(FAMILY_CARD_SIM_ENABLED="1")) == "True True"


def _check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "ERROR"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_system_check_refuses_it_with_debug_off():
    refused = _check(_env(FAMILY_CARD_SIM_ENABLED="1", FAMILY_CARD_SIM_SECRET=SECRET))
    assert refused.returncode != 0 and "komek.E001" in refused.stderr
    clean = _check(_env())
    assert clean.returncode == 0, clean.stderr
    assert "System check identified no issues" in clean.stdout, clean.stderr  # --deploy clean


def test_the_deliberate_override_needs_a_shared_secret(settings):
    settings.FAMILY_CARD_SIM_ENABLED = True
    settings.DEBUG = False
    settings.FAMILY_CARD_SIM_ALLOW_PRODUCTION = True
    settings.FAMILY_CARD_SIM_SECRET = "short"
    assert [e.id for e in family_card_simulator_check()] == ["komek.E002"]
    settings.FAMILY_CARD_SIM_SECRET = SECRET
    assert family_card_simulator_check() == []
    settings.FAMILY_CARD_SIM_ALLOW_PRODUCTION = False
    assert [e.id for e in family_card_simulator_check()] == ["komek.E001"]
    settings.DEBUG = True
    settings.FAMILY_CARD_SIM_SECRET = ""
    assert [e.id for e in family_card_simulator_check()] == ["komek.E002"]  # even in DEBUG


@pytest.mark.django_db
def test_it_never_answers_anonymously(settings):
    settings.FAMILY_CARD_SIM_SECRET = SECRET
    anonymous = Client().get(CARDS, {"iin": "850307300124"})
    assert anonymous.status_code == 401 and "members" not in anonymous.json()
    wrong = Client(HTTP_AUTHORIZATION="Bearer " + "t" * 40).get(CARDS, {"iin": "850307300124"})
    assert wrong.status_code == 401
    assert Client().get("/familycard-sim/v1/health").status_code == 401
    ok = Client(HTTP_AUTHORIZATION=f"Bearer {SECRET}").get(CARDS, {"iin": "850307300124"})
    assert ok.status_code == 200 and ok.json()["members"]
    settings.FAMILY_CARD_SIM_SECRET = ""  # no secret configured: nobody gets in
    assert (
        Client(HTTP_AUTHORIZATION="Bearer ").get(CARDS, {"iin": "850307300124"}).status_code == 401
    )


def test_the_card_client_sends_the_shared_secret(settings):
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization", ""))
        return httpx.Response(404, json={"error": "not_found"})

    settings.FAMILY_CARD_API_KEY = SECRET
    settings.FAMILY_CARD_URL = "http://cards.invalid"
    source = get_card_source()
    assert source.api_key == SECRET
    client = HttpFamilyCardSource(
        "http://cards.invalid",
        connect_timeout=1,
        read_timeout=1,
        attempts=1,
        breaker=source.breaker,
        transport=httpx.MockTransport(handler),
        api_key=SECRET,
    )
    with pytest.raises(Exception):  # noqa: B017 - CardNotFound; the header is what counts
        client.fetch("850307300124")
    assert seen == [f"Bearer {SECRET}"]
