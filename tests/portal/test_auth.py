"""Sign-in: password + TOTP for every role, clear errors, lockouts and session timeouts."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse

from tests.auth import login_with_mfa, sign_in
from tests.conftest import PASSWORD
from tests.portal.factories import totp_now


def test_it_signs_in_with_password_then_totp(world):
    c = Client()
    r = sign_in(c, "pedagogue_a")
    assert r.status_code == 302 and r["Location"] == reverse("mfa_authenticate")
    r = c.post(reverse("mfa_authenticate"), {"code": totp_now("pedagogue_a")})
    assert r.status_code == 302
    home = c.get(reverse("portal:home"))
    assert home.status_code == 200
    assert world.school_a.name_ru in home.content.decode()


def test_it_signs_in_with_the_email_address_too(world):
    c = Client()
    r = sign_in(c, "region_analyst@test.kz")
    assert r["Location"] == reverse("mfa_authenticate")


def test_it_says_clearly_when_the_password_is_wrong(world):
    c = Client(HTTP_ACCEPT_LANGUAGE="ru")
    r = sign_in(c, "pedagogue_a", "wrong-password")
    assert r.status_code == 200
    assert "Имя пользователя и/или пароль неверны" in r.content.decode()


def test_it_rejects_a_wrong_totp_code(world):
    c = Client()
    sign_in(c, "pedagogue_a")
    good = totp_now("pedagogue_a")
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    r = c.post(reverse("mfa_authenticate"), {"code": wrong})
    assert r.status_code == 200
    assert "Неверный код" in r.content.decode()
    assert c.get(reverse("portal:home")).status_code == 302


def test_it_accepts_a_recovery_code(world):
    from allauth.mfa.models import Authenticator
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    rc = RecoveryCodes(Authenticator.objects.get(user=world.user("auditor"), type="recovery_codes"))
    c = Client()
    sign_in(c, "auditor")
    r = c.post(reverse("mfa_authenticate"), {"code": rc.get_unused_codes()[0]})
    assert r.status_code == 302
    assert c.get(reverse("portal:home")).status_code == 200


def test_it_sends_a_user_without_mfa_to_set_it_up_first(world):
    c = Client()
    r = sign_in(c, "nomfa")
    assert r.status_code == 302
    r = c.get(reverse("portal:home"))
    assert r.status_code == 302 and r["Location"] == reverse("mfa_activate_totp")
    r = c.get(reverse("mfa_activate_totp"))
    if r.status_code == 302:  # allauth asks to confirm the password before enrolling
        assert r["Location"].startswith(reverse("account_reauthenticate"))
        c.post(r["Location"], {"password": PASSWORD})
        r = c.get(reverse("mfa_activate_totp"))
    assert r.status_code == 200
    assert "secret" in r.context or "totp_url" in r.context or b"otpauth" in r.content


def test_it_locks_sign_in_after_repeated_failures(world):
    c = Client()
    for _ in range(5):
        sign_in(c, "principal_a", "wrong-password")
    r = sign_in(c, "principal_a")  # even the right password is refused now
    body = r.content.decode()
    assert r.status_code in (200, 429)
    assert "Слишком много" in body or "Too many" in body
    assert c.get(reverse("portal:home")).status_code == 302


def test_it_has_no_public_sign_up(world):
    r = Client().get(reverse("account_signup"))
    assert "Регистрация закрыта" in r.content.decode() or r.status_code in (403, 404)


def _signed_in(world, persona: str) -> Client:
    c = login_with_mfa(Client(), world.user(persona))
    assert c.get(reverse("portal:home")).status_code == 200
    return c


@pytest.mark.parametrize(("key", "age"), [("_last_seen", 31 * 60), ("_started_at", 12 * 3600 + 5)])
def test_it_ends_idle_and_old_sessions(world, key, age):
    c = _signed_in(world, "pedagogue_a")
    session = c.session
    session[key] = int(time.time()) - age
    session.save()
    r = c.get(reverse("portal:home"))
    assert r.status_code == 302 and r["Location"].startswith(reverse("account_login"))
    assert c.get(reverse("portal:home")).status_code == 302


def test_it_keeps_an_active_session(world):
    c = _signed_in(world, "pedagogue_a")
    session = c.session
    session["_last_seen"] = int(time.time()) - 29 * 60
    session.save()
    assert c.get(reverse("portal:home")).status_code == 200


def test_it_switches_language(world):
    c = _signed_in(world, "pedagogue_a")
    c.post(reverse("set_language"), {"language": "kk", "next": "/home/"})
    assert "Менің мектебім" in c.get(reverse("portal:home")).content.decode()
    c.post(reverse("set_language"), {"language": "en", "next": "/home/"})
    assert "My school" in c.get(reverse("portal:home")).content.decode()
