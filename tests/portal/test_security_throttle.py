"""Issue 9, finding 9: sign-in throttling per account with growing delays, the client IP only
as a high ceiling (taken through a configured number of trusted proxies), wrong TOTP codes
that cannot lock out a chosen account or a school, one consistent message."""

from __future__ import annotations

import time

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from portal.accounts import throttle
from tests.auth import sign_in
from tests.conftest import PASSWORD
from tests.portal.factories import totp_now

MESSAGE_RU = "Слишком много неудачных попыток входа"


def _wrong_code(username: str) -> str:
    return f"{(int(totp_now(username)) + 500_000) % 1_000_000:06d}"


def _totp(username: str, step: int = 0) -> str:
    """The code of a neighbouring 30 s window (a code is accepted once only)."""
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    from schools.demo import demo_totp_secret

    return format_hotp_value(hotp_value(demo_totp_secret(username), int(time.time()) // 30 + step))


def _full_sign_in(client: Client, username: str, step: int = 0) -> bool:
    r = sign_in(client, username)
    if r.status_code != 302 or r["Location"] != reverse("mfa_authenticate"):
        return False
    r = client.post(reverse("mfa_authenticate"), {"code": _totp(username, step)})
    return r.status_code == 302 and client.get(reverse("portal:home")).status_code == 200


@pytest.fixture
def clock(monkeypatch):
    """Move the throttle's clock forward without sleeping."""
    state = {"offset": 0.0}
    real = time.time
    monkeypatch.setattr(throttle.time, "time", lambda: real() + state["offset"])

    def advance(seconds: float) -> None:
        state["offset"] += seconds

    return advance


def test_it_grows_the_delay_per_account(world, settings, clock):
    settings.SIGNIN_FREE_FAILURES = 3
    settings.SIGNIN_DELAY_BASE = 2
    assert [throttle.delay_for(n) for n in range(1, 8)] == [0, 0, 2, 4, 8, 16, 32]
    c = Client()
    for _ in range(3):
        assert MESSAGE_RU not in sign_in(c, "principal_a", "wrong").content.decode()
    # Now delayed: even the right password waits.
    assert MESSAGE_RU in sign_in(c, "principal_a").content.decode()
    clock(3)
    sign_in(c, "principal_a", "wrong")  # 4th failure: 4 s
    clock(3)
    assert MESSAGE_RU in sign_in(c, "principal_a").content.decode()
    clock(2)
    assert _full_sign_in(c, "principal_a")


def test_it_caps_the_delay(world, settings):
    settings.SIGNIN_DELAY_MAX = 900
    assert throttle.delay_for(100) == 900


def test_it_does_not_lock_out_a_school_behind_one_address(world):
    """Many failures of one colleague (same IP) never stop the others."""
    for _ in range(8):
        sign_in(Client(REMOTE_ADDR="10.1.1.1"), "principal_a", "wrong")
    assert _full_sign_in(Client(REMOTE_ADDR="10.1.1.1"), "pedagogue_a")


def test_it_keeps_a_high_ceiling_per_address(world, settings):
    settings.SIGNIN_IP_FAILURE_LIMIT = 20
    for i in range(20):
        sign_in(Client(REMOTE_ADDR="10.2.2.2"), f"nobody{i}", "wrong")
    r = sign_in(Client(REMOTE_ADDR="10.2.2.2"), "pedagogue_a")
    assert MESSAGE_RU in r.content.decode()
    assert _full_sign_in(Client(REMOTE_ADDR="10.2.2.3"), "pedagogue_a")


def test_it_does_not_let_an_attacker_lock_out_the_owner(world):
    """An attacker fails on purpose for a chosen account; the owner's own browser (known from
    an earlier complete sign-in) is not delayed."""
    owner = Client(REMOTE_ADDR="10.3.3.3")
    assert _full_sign_in(owner, "pedagogue_a")
    owner.post(reverse("account_logout"))
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(10):
        sign_in(attacker, "pedagogue_a", "wrong")
    assert MESSAGE_RU in sign_in(attacker, "pedagogue_a").content.decode()
    assert _full_sign_in(owner, "pedagogue_a", step=1)


def test_wrong_totp_codes_do_not_lock_out_the_owner_or_the_school(world):
    """An attacker who knows the password hammers wrong TOTP codes."""
    owner = Client(REMOTE_ADDR="10.4.4.4")
    assert _full_sign_in(owner, "auditor")
    owner.post(reverse("account_logout"))
    attacker = Client(REMOTE_ADDR="10.4.4.4")  # even from the school's own address
    sign_in(attacker, "auditor")
    for _ in range(8):
        attacker.post(reverse("mfa_authenticate"), {"code": _wrong_code("auditor")})
    # The attacker's browser is now delayed, even with the right code …
    r = attacker.post(reverse("mfa_authenticate"), {"code": totp_now("auditor")})
    assert MESSAGE_RU in r.content.decode()
    # … the owner's is not, and neither are colleagues behind the same address.
    assert _full_sign_in(owner, "auditor", step=1)
    assert _full_sign_in(Client(REMOTE_ADDR="10.4.4.4"), "principal_a")


def test_it_slows_down_guessing_of_totp_codes(world):
    c = Client()
    sign_in(c, "pedagogue_c")
    messages = []
    for _ in range(6):
        r = c.post(reverse("mfa_authenticate"), {"code": _wrong_code("pedagogue_c")})
        messages.append(MESSAGE_RU in r.content.decode())
    assert messages[:3] == [False, False, False] and all(messages[3:])


def test_it_takes_the_client_ip_from_the_trusted_proxies(settings):
    rf = RequestFactory()
    spoofed = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.9")
    settings.TRUSTED_PROXY_COUNT = 0
    assert throttle.client_ip(spoofed) == "10.0.0.1"  # no proxy: the header is the client's
    settings.TRUSTED_PROXY_COUNT = 1
    assert throttle.client_ip(spoofed) == "198.51.100.9"
    settings.TRUSTED_PROXY_COUNT = 2
    assert throttle.client_ip(spoofed) == "1.2.3.4"
    settings.TRUSTED_PROXY_COUNT = 3  # did not pass all proxies: the socket's address
    assert throttle.client_ip(spoofed) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    junk = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="not-an-ip")
    assert throttle.client_ip(junk) is None


def test_it_throttles_by_the_forwarded_address_behind_a_proxy(world, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.SIGNIN_IP_FAILURE_LIMIT = 5
    for i in range(5):
        sign_in(Client(HTTP_X_FORWARDED_FOR="198.51.100.1"), f"nobody{i}", "wrong")
    blocked = sign_in(Client(HTTP_X_FORWARDED_FOR="198.51.100.1"), "pedagogue_a")
    assert MESSAGE_RU in blocked.content.decode()
    # Another client behind the same proxy (same REMOTE_ADDR) is not affected.
    assert _full_sign_in(Client(HTTP_X_FORWARDED_FOR="198.51.100.2"), "pedagogue_a")


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("ru", "Слишком много неудачных попыток входа. Повторите через 2 минуты."),
        ("kk", "Кіру әрекеттері тым көп сәтсіз болды. 2 минуттан кейін қайталаңыз."),
        ("en", "Too many failed sign-in attempts. Try again in 2 minutes."),
    ],
)
def test_it_has_one_message_in_every_language(language, text):
    with translation.override(language):
        assert throttle.refusal_message(throttle.Verdict(False, 90)) == text


def test_it_shows_the_same_message_for_password_code_and_address(world, settings):
    settings.SIGNIN_IP_FAILURE_LIMIT = 1000
    c = Client(HTTP_ACCEPT_LANGUAGE="ru")
    for _ in range(4):
        sign_in(c, "rules_admin", "wrong")
    password_msg = sign_in(c, "rules_admin", "wrong").content.decode()
    c2 = Client()
    sign_in(c2, "rules_admin2")
    for _ in range(4):
        c2.post(reverse("mfa_authenticate"), {"code": _wrong_code("rules_admin2")})
    code_msg = c2.post(reverse("mfa_authenticate"), {"code": "000000"}).content.decode()
    assert MESSAGE_RU in password_msg and MESSAGE_RU in code_msg
    assert PASSWORD not in password_msg
