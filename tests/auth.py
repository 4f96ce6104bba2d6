"""Signing test clients in the way the portal accepts: password *and* a completed TOTP step.

``force_login`` alone makes a password-only session, which reaches nothing (issue 9): use
:func:`login_with_mfa` for a fully signed-in client, or :func:`mfa_session_key` for a browser.
"""

from __future__ import annotations

import time

from django.test import Client
from django.urls import reverse


def mark_mfa_passed(client: Client, user) -> None:  # noqa: ANN001
    """Write allauth's record of a password and a TOTP step into the client's session."""
    from allauth.account.internal.flows.login import (
        _AUTHENTICATION_METHODS_USER_SESSION_KEY,
        AUTHENTICATION_METHODS_SESSION_KEY,
    )
    from allauth.mfa.models import Authenticator

    totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    now = time.time()
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": now, "username": user.get_username()},
        {"method": "mfa", "at": now, "type": "totp", "id": totp.pk if totp else 0},
    ]
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session.save()


def login_with_mfa(client: Client, user) -> Client:  # noqa: ANN001
    client.force_login(user)
    mark_mfa_passed(client, user)
    return client


def mfa_session_key(user) -> str:  # noqa: ANN001
    """A session cookie value of a fully signed-in user (for a browser's context)."""
    return login_with_mfa(Client(), user).session.session_key


def sign_in(client: Client, username: str, password: str | None = None):  # noqa: ANN201
    """The first step of the sign-in form (password), as a browser posts it."""
    from tests.conftest import PASSWORD

    return client.post(
        reverse("account_login"), {"login": username, "password": password or PASSWORD}
    )
