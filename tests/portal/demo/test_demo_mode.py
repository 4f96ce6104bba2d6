"""Issue 16: `make demo` runs the portal as deployed (DEBUG off: no debug page ever lists the
URLs), over plain HTTP on loopback, and installs the browser the browser checks need."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from portal.launcher import DEMO_KEYS, demo_env

BASE_DIR = Path(__file__).resolve().parents[3]


def _demo(**given: str) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        # A newcomer's shell: none of what `make test` exports for the suite.
        if k not in {"DEBUG", "KOMEK_TESTING", "FAMILY_CARD_SIM_ALLOW_PRODUCTION", "IIN_HMAC_KEY"}
    }
    base.update(SECRET_KEY="demo-test-" + "k" * 50, **given)
    return demo_env(base, 8123)


def test_the_demo_runs_with_debug_off_over_plain_http():
    env = _demo()
    assert env["DEBUG"] == "0"
    assert env["SECURE_SSL_REDIRECT"] == "0" and env["SESSION_COOKIE_SECURE"] == "0"
    assert env["FAMILY_CARD_URL"] == "http://127.0.0.1:8123/familycard-sim"
    assert {"SECRET_KEY", "IIN_HMAC_KEY", "DEBUG", "FAMILY_CARD_SIM_SECRET"} <= set(DEMO_KEYS)
    assert len(env["IIN_HMAC_KEY"]) >= 32 and demo_env(dict(env), 8123) == env  # kept
    probe = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.EMAIL_BACKEND.rsplit('.', 2)[-2], s.FAMILY_CARD_SIM_ENABLED)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.stdout.split() == ["False", "False", "False", "False", "console", "True"], out.stderr
    check = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_developer_can_still_ask_for_debug():
    assert _demo(DEBUG="1")["DEBUG"] == "1"


def test_make_demo_installs_the_browser():
    makefile = (BASE_DIR / "Makefile").read_text()
    demo = re.search(r"^demo:(.*)$", makefile, re.M)
    assert demo and "browser" in demo.group(1).split()
