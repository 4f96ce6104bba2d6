"""The SMS gateway simulator: off by default, refused with DEBUG off, never anonymous."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from portal.checks import sms_simulator_check
from portal.notices.simulator.models import SimulatedSms

BASE_DIR = Path(__file__).resolve().parents[3]
SECRET = "q" * 40
MESSAGES = "/sms-sim/v1/messages"

PROBE = (
    "import django; django.setup(); from django.conf import settings; "
    "from django.urls import resolve, Resolver404\n"
    "try:\n    resolve('/sms-sim/v1/messages'); mounted = True\n"
    "except Resolver404:\n    mounted = False\n"
    "print('portal.notices.simulator' in settings.INSTALLED_APPS, mounted)"
)


def _probe(**overrides: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMS_SIM")}
    env.update({"DEBUG": "1", "DJANGO_SETTINGS_MODULE": "portal.settings", **overrides})
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_it_is_neither_installed_nor_mounted_by_default():
    assert _probe() == "False False"
    assert _probe(SMS_SIM_ENABLED="1", SMS_SIM_SECRET=SECRET) == "True True"


def test_the_system_check_refuses_it_with_debug_off_and_without_a_secret(settings):
    settings.SMS_SIM_ENABLED = True
    settings.DEBUG = False
    settings.SMS_SIM_ALLOW_PRODUCTION = False
    settings.SMS_SIM_SECRET = SECRET
    assert [e.id for e in sms_simulator_check()] == ["komek.E003"]
    settings.SMS_SIM_ALLOW_PRODUCTION = True
    assert sms_simulator_check() == []
    settings.DEBUG = True
    settings.SMS_SIM_SECRET = "short"
    assert [e.id for e in sms_simulator_check()] == ["komek.E004"]
    settings.SMS_SIM_ENABLED = False
    assert sms_simulator_check() == []


@pytest.mark.django_db
def test_it_never_answers_anonymously_and_validates_messages(settings):
    settings.SMS_SIM_SECRET = SECRET
    body = {"to": "+77011234567", "text": "t"}
    assert Client().post(MESSAGES, body, content_type="application/json").status_code == 401
    assert Client().get(MESSAGES).status_code == 401
    auth = Client(HTTP_AUTHORIZATION=f"Bearer {SECRET}")
    for bad, field in (({"to": "123", "text": "t"}, "to"), ({"to": "+77011234567"}, "text")):
        r = auth.post(MESSAGES, bad, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
        assert r.status_code == 400 and r.json()["error"] == field
    assert auth.post(MESSAGES, body, content_type="application/json").json()["error"] == (
        "idempotency_key"
    )
    first = auth.post(MESSAGES, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    again = auth.post(MESSAGES, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    inbox = auth.get(MESSAGES, {"to": "+77011234567"}).json()["messages"]
    assert [m["text"] for m in inbox] == ["t"] and SimulatedSms.objects.count() == 1
