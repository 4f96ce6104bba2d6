"""Issue 9, findings 1 and 2: the second factor on every door.

"MFA passed" is the session's own record of a completed TOTP step; a password-only session
(``force_login``, the old admin login, a user who never enrolled) reaches nothing: no page, no
HTMX fragment, no export, no admin page, no session API call.
"""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse

from tests.auth import login_with_mfa, sign_in
from tests.conftest import PASSWORD
from tests.portal.access_matrix import OWN_ROUTES, PERSONAS, ROUTE_KWARGS
from tests.portal.factories import request_data, totp_now

# Routes anyone may open (no data): health, the OpenAPI schema and its viewer.
PUBLIC = {"healthz", "readyz", "api:schema", "api:docs"}


def _password_only(world, persona: str) -> Client:
    c = Client()
    c.force_login(world.user(persona))
    return c


def _url(name: str, world) -> str:
    kwargs = ROUTE_KWARGS[name](world) if name in ROUTE_KWARGS else {}
    return reverse(name, kwargs=kwargs)


@pytest.mark.parametrize("name", sorted(set(OWN_ROUTES) - PUBLIC))
def test_it_gives_a_password_only_session_nothing_on_any_route(name, world):
    url = _url(name, world)
    for persona in [p for p in PERSONAS if p != "anon"] + ["nomfa"]:
        for method, headers in (("get", {}), ("get", {"HTTP_HX_REQUEST": "true"}), ("post", {})):
            r = getattr(_password_only(world, persona), method)(url, **headers)
            assert r.status_code in (302, 403, 405), (persona, method, headers, r.status_code)
            if r.status_code == 302:
                target = r["Location"]
                assert target.startswith(
                    (reverse("account_login"), reverse("mfa_activate_totp"))
                ), (persona, target)
            assert request_data()["student_iin"].encode() not in r.content


def test_it_serves_htmx_fragments_only_after_totp(world):
    url = _url("requests:aid-request-status", world)
    r = _password_only(world, "pedagogue_a").get(url, HTTP_HX_REQUEST="true")
    assert r.status_code == 403 and r["HX-Redirect"].startswith(reverse("account_login"))
    c = login_with_mfa(Client(), world.user("pedagogue_a"))
    assert c.get(url, HTTP_HX_REQUEST="true").status_code == 200


def test_it_refuses_the_session_api_without_a_totp_step(world):
    for persona in ("pedagogue_a", "auditor", "nomfa"):
        c = _password_only(world, persona)
        r = c.get(reverse("api:aid-request-list"))
        assert r.status_code == 403, persona
        assert "detail" in r.json()
        r = c.post(
            reverse("api:aid-request-list"), data=request_data(), content_type="application/json"
        )
        assert r.status_code == 403, persona
    from portal.requests.models import AidRequest

    assert not AidRequest.objects.filter(student_full_name=request_data()["student_full_name"])


def test_it_refuses_the_session_api_even_past_the_middleware(world, rf):
    """Defence in depth: DRF's session authentication asks for the TOTP step itself."""
    from django.contrib.sessions.backends.db import SessionStore
    from rest_framework.request import Request

    from portal.accounts.authentication import MFASessionAuthentication

    request = rf.get("/api/v1/aid-requests/")
    request.user = world.user("pedagogue_a")
    request.session = SessionStore()
    request._dont_enforce_csrf_checks = True
    assert MFASessionAuthentication().authenticate(Request(request)) is None


def test_it_gives_the_admin_nothing_without_totp(world):
    for persona in ("superuser", "auditor", "rules_admin"):
        c = _password_only(world, persona)
        for url in (
            reverse("admin:index"),
            reverse("admin:portal_auditevent_changelist"),
            reverse("admin:scoring_assessment_changelist"),
        ):
            r = c.get(url)
            assert r.status_code in (302, 403), (persona, url)
            assert r.status_code == 403 or r["Location"].startswith(
                (reverse("account_login"), reverse("admin:login"))
            )


def test_it_takes_no_password_at_the_admin_login(world):
    c = Client()
    r = c.post(reverse("admin:login"), {"username": "superuser", "password": PASSWORD})
    assert r.status_code == 302 and r["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in c.session
    assert c.get(reverse("admin:index")).status_code == 302
    r = c.get(reverse("admin:login") + "?next=/admin/portal/auditevent/")
    assert r["Location"] == reverse("account_login") + "?next=%2Fadmin%2Fportal%2Fauditevent%2F"


def test_it_opens_the_admin_after_password_and_totp(world):
    c = Client()
    r = sign_in(c, "superuser")
    assert r["Location"] == reverse("mfa_authenticate")
    c.post(reverse("mfa_authenticate"), {"code": totp_now("superuser")})
    assert c.get(reverse("admin:index")).status_code == 200


def test_it_does_not_count_having_a_device_as_passing(world):
    """The old middleware marked a session MFA-passed because the user *had* TOTP."""
    c = _password_only(world, "auditor")
    r = c.get(reverse("audit:audit-event-list"))
    assert r.status_code == 302 and r["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in c.session  # the half session is ended
    assert c.get(reverse("audit:audit-event-export")).status_code == 302


def test_it_sends_a_user_without_totp_to_enrol_and_then_lets_them_in(world):
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    c = Client()
    sign_in(c, "nomfa")
    assert c.get(reverse("portal:home"))["Location"] == reverse("mfa_activate_totp")
    assert c.get(reverse("api:aid-request-list")).status_code == 403
    r = c.get(reverse("mfa_activate_totp"))
    if r.status_code == 302:  # allauth asks for the password again before enrolling
        c.post(r["Location"], {"password": PASSWORD})
        r = c.get(reverse("mfa_activate_totp"))
    secret = r.context["form"].secret
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    r = c.post(reverse("mfa_activate_totp"), {"code": code})
    assert r.status_code == 302
    assert c.get(reverse("portal:home")).status_code == 200


def test_it_does_not_let_totp_be_switched_off(world):
    from allauth.mfa.models import Authenticator

    c = Client()
    sign_in(c, "pedagogue_a")
    c.post(reverse("mfa_authenticate"), {"code": totp_now("pedagogue_a")})
    r = c.post(reverse("mfa_deactivate_totp"))
    assert r.status_code in (200, 302)
    user = world.user("pedagogue_a")
    assert Authenticator.objects.filter(user=user, type="totp").exists()
    assert c.get(reverse("portal:home")).status_code == 200


def test_it_lets_totp_be_replaced_with_a_new_device(world):
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    from portal.audit.models import AuditEvent

    user = world.user("principal_a")
    c = login_with_mfa(Client(), user)
    old = Authenticator.objects.get(user=user, type="totp")
    r = c.get(reverse("accounts:totp-replace"))
    if r.status_code == 302:  # a recent (re)authentication first
        assert r["Location"].startswith(reverse("account_reauthenticate"))
        c.post(r["Location"], {"password": PASSWORD})
        r = c.get(reverse("accounts:totp-replace"))
    assert r.status_code == 200
    secret = r.context["secret"]
    r = c.post(reverse("accounts:totp-replace"), {"code": "000000"})
    assert r.status_code == 400
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    r = c.post(reverse("accounts:totp-replace"), {"code": code})
    assert r.status_code == 302
    new = Authenticator.objects.get(user=user, type="totp")
    assert new.pk != old.pk and new.wrap().validate_code(
        format_hotp_value(hotp_value(secret, int(time.time()) // 30 + 1))
    )
    assert AuditEvent.objects.filter(action="mfa.totp_replace", actor_id=user.pk).exists()
