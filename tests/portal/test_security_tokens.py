"""Issue 9, finding 3: API tokens (django-rest-knox) hashed at rest, expiring, revocable,
issued only to MFA-enrolled users, shown once, listed and revoked by their owner, last use
recorded."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from portal.accounts.models import ApiToken
from portal.audit.models import AuditEvent
from tests.auth import login_with_mfa
from tests.portal.factories import recorded_statements

LIST = "/api/v1/aid-requests/"


def _issue(username: str, *args: str) -> str:
    out = io.StringIO()
    call_command("api_token", username, *args, stdout=out)
    return out.getvalue().strip()


def _api(token: str) -> APIClient:
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return c


def test_it_stores_only_a_digest_of_the_token(world):
    token = _issue("pedagogue_a")
    assert len(token) >= 64
    row = ApiToken.objects.get(user=world.user("pedagogue_a"))
    assert token not in (row.digest, row.token_key) and row.digest != token
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM accounts_apitoken")
        dump = repr(cur.fetchall())
    assert token not in dump
    assert "authtoken_token" not in connection.introspection.table_names()


def test_it_expires_tokens_after_the_configured_days(world, settings):
    token = _issue("pedagogue_a")
    row = ApiToken.objects.get(user=world.user("pedagogue_a"))
    assert row.expiry is not None
    assert abs((row.expiry - timezone.now()) - dt.timedelta(days=30)) < dt.timedelta(minutes=1)
    assert _api(token).get(LIST).status_code == 200
    ApiToken.objects.filter(pk=row.pk).update(expiry=timezone.now() - dt.timedelta(seconds=1))
    assert _api(token).get(LIST).status_code == 403


def test_it_takes_the_lifetime_from_the_setting(world, settings):
    from knox.settings import knox_settings

    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": dt.timedelta(days=2)}
    try:
        _issue("pedagogue_a")
        row = ApiToken.objects.get(user=world.user("pedagogue_a"))
        assert (row.expiry - timezone.now()) < dt.timedelta(days=2, minutes=1)
    finally:
        knox_settings.reload()


def test_it_issues_tokens_only_to_users_with_totp(world):
    with pytest.raises(CommandError):
        _issue("nomfa")
    assert not ApiToken.objects.filter(user=world.user("nomfa")).exists()


def test_it_refuses_a_token_whose_owner_lost_totp(world):
    from allauth.mfa.models import Authenticator

    token = _issue("pedagogue_a")
    Authenticator.objects.filter(user=world.user("pedagogue_a")).delete()
    assert _api(token).get(LIST).status_code == 403


def test_it_revokes_and_rotates_from_the_command(world):
    first = _issue("pedagogue_a", "--name", "первый")
    second = _issue("pedagogue_a", "--name", "второй")
    listing = _issue("pedagogue_a", "--list")
    assert "первый" in listing and "второй" in listing and first not in listing
    row = ApiToken.objects.get(name="первый")
    _issue("pedagogue_a", "--revoke", str(row.public_id))
    assert _api(first).get(LIST).status_code == 403
    assert _api(second).get(LIST).status_code == 200
    third = _issue("pedagogue_a", "--rotate")
    assert _api(second).get(LIST).status_code == 403
    assert _api(third).get(LIST).status_code == 200
    assert AuditEvent.objects.filter(action="api_token.revoke").count() == 2


def test_it_records_the_last_use(world):
    token = _issue("pedagogue_a")
    row = ApiToken.objects.get(user=world.user("pedagogue_a"))
    assert row.last_used_at is None
    _api(token).get(LIST, REMOTE_ADDR="127.0.0.9")
    row.refresh_from_db()
    assert row.last_used_at is not None and row.last_used_ip == "127.0.0.9"


def test_it_lists_issues_shows_once_and_revokes_in_the_browser(world):
    user = world.user("principal_a")
    c = login_with_mfa(Client(), user)
    page = c.get(reverse("accounts:api-tokens"))
    assert page.status_code == 200 and "Токенов нет" in page.content.decode()
    r = c.post(reverse("accounts:api-tokens"), {"name": "Отчёты школы"})
    assert r.status_code == 200
    token = r.context["new_token"]
    assert token and token in r.content.decode()
    again = c.get(reverse("accounts:api-tokens")).content.decode()
    assert token not in again and "Отчёты школы" in again  # shown once, listed after
    assert _api(token).get(LIST).status_code == 200
    row = ApiToken.objects.get(user=user)
    assert c.post(reverse("accounts:api-token-revoke", args=[row.public_id])).status_code == 302
    assert _api(token).get(LIST).status_code == 403
    assert not ApiToken.objects.filter(user=user).exists()


def test_it_never_lets_one_user_revoke_anothers_token(world):
    _issue("pedagogue_a")
    row = ApiToken.objects.get(user=world.user("pedagogue_a"))
    c = login_with_mfa(Client(), world.user("pedagogue_c"))
    assert c.post(reverse("accounts:api-token-revoke", args=[row.public_id])).status_code == 404
    assert ApiToken.objects.filter(pk=row.pk).exists()
    page = c.get(reverse("accounts:api-tokens")).content.decode()
    assert row.name not in page or "Токенов нет" in page


def test_it_explains_a_bad_token_name(world):
    c = login_with_mfa(Client(), world.user("pedagogue_a"))
    r = c.post(reverse("accounts:api-tokens"), {"name": "x" * 101})
    assert r.status_code == 400 and r.context["form"].errors["name"]
    assert not ApiToken.objects.exists()


def test_it_migrates_plain_drf_tokens_to_digests(world):
    """The data migration: a plain key of an enrolled user becomes a knox digest."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("portal.accounts.migrations.0002_from_plain_authtoken")
    key = "0123456789abcdef0123456789abcdef01234567"
    user = world.user("pedagogue_a")
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamptz, "
            "user_id integer)"
        )
        cur.execute(
            "INSERT INTO authtoken_token VALUES (%s, now(), %s), (%s, now(), %s)",
            [key, user.pk, "f" * 40, world.user("nomfa").pk],
        )

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    migration.forwards(apps, editor)
    assert "authtoken_token" not in connection.introspection.table_names()
    assert ApiToken.objects.count() == 1
    assert _api(key).get(LIST).status_code == 200


def test_a_call_reads_no_other_token_and_issuing_removes_the_expired(world, settings):
    """Issue 12: knox read every token of the owner on every call; now only the one shown.
    The owner's expired tokens go when a new one is issued (they counted against the limit)."""

    token = _issue("pedagogue_a")
    old = ApiToken.objects.get(user=world.user("pedagogue_a"))
    _issue("pedagogue_a")
    ApiToken.objects.exclude(pk=old.pk).update(expiry=timezone.now() - dt.timedelta(seconds=1))
    with recorded_statements() as statements:
        assert _api(token).get(LIST).status_code == 200
    token_reads = [s for s in statements if 'FROM "accounts_apitoken"' in s]
    assert len(token_reads) == 1, token_reads  # the lookup by key, not the owner's list
    assert 'JOIN "auth_user"' in token_reads[0] and "mfa_authenticator" in token_reads[0]
    assert not [s for s in statements if s.startswith('SELECT %s AS "a" FROM "mfa_authenticator"')]
    assert ApiToken.objects.filter(user=world.user("pedagogue_a")).count() == 2
    _issue("pedagogue_a")
    assert ApiToken.objects.filter(user=world.user("pedagogue_a")).count() == 2  # expired gone


def test_the_token_statement_brings_the_scope_and_no_membership_means_no_scope(world):
    """Issue 12: the owner's membership comes with the token (one statement fewer per call);
    an owner without a membership still gets no scope (403 on family data)."""

    from schools.models import Membership

    token = _issue("pedagogue_a")
    with recorded_statements() as statements:
        assert _api(token).get(LIST).status_code == 200
    assert [s for s in statements if '"schools_membership"' in s] == [
        s for s in statements if 'FROM "accounts_apitoken"' in s
    ]
    Membership.objects.filter(user=world.user("pedagogue_a")).delete()
    assert _api(token).get(LIST).status_code == 403
