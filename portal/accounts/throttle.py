"""Sign-in throttling: per account, with growing delays; per client IP only as a high ceiling.

Two steps are throttled, each with its own counters: the password (``"password"``, keyed by
the account the login names, or by the login text when no such account exists) and the second
factor (``"totp"``, keyed by the account). After ``SIGNIN_FREE_FAILURES`` failures each next
attempt of that counter has to wait ``SIGNIN_DELAY_BASE × 2^k`` seconds (at most
``SIGNIN_DELAY_MAX``): a guessing attack slows to a crawl, nobody is locked out for good.

A browser that completed a whole sign-in of an account (password and TOTP) gets a signed
"known device" cookie; its attempts for that account count on a counter of their own. So an
attacker who fails on purpose (wrong passwords, or wrong TOTP codes after a stolen password)
delays only strangers' browsers, never the owner's; and a school behind one address is never
locked out by one colleague's typos (the per-IP ceiling counts hundreds of failures).

Every refusal has the same message (:func:`refusal_message`). Counters live in the cache
(Redis), never in the database.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.cache import cache
from django.db.models import Q
from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import ngettext

DEVICE_COOKIE = "komek_device"
_DEVICE_SALT = "komek.accounts.device"
_PREFIX = "komek:signin:"


# --------------------------------------------------------------------------- client IP


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: ``REMOTE_ADDR``, or with ``TRUSTED_PROXY_COUNT`` = N proxies in
    front, the N-th entry from the right of ``X-Forwarded-For`` (the one our nearest trusted
    proxy saw). Entries further left are written by the client and never trusted. A request
    that did not pass all N proxies falls back to ``REMOTE_ADDR``."""
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    candidate = request.META.get("REMOTE_ADDR", "")
    if count > 0:
        parts = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        parts = [p for p in parts if p]
        if len(parts) >= count:
            candidate = parts[-count]
    try:
        return str(ipaddress.ip_address(candidate.strip("[]")))
    except ValueError:
        return None


# --------------------------------------------------------------------------- known devices


def _device_nonce(request: HttpRequest, user_pk: Any) -> str | None:
    raw = request.COOKIES.get(DEVICE_COOKIE)
    if not raw or user_pk is None:
        return None
    try:
        value = signing.loads(
            raw, salt=_DEVICE_SALT, max_age=int(settings.SIGNIN_DEVICE_COOKIE_AGE)
        )
    except signing.BadSignature:
        return None
    devices = value.get("d") if isinstance(value, dict) else None
    if not isinstance(devices, dict):
        return None
    nonce = devices.get(str(user_pk))
    return nonce if isinstance(nonce, str) else None


def remember_device(request: HttpRequest, response: HttpResponseBase, user_pk: Any) -> None:
    """After a complete sign-in: mark this browser as a known device of ``user_pk``."""
    devices: dict[str, str] = {}
    raw = request.COOKIES.get(DEVICE_COOKIE)
    if raw:
        try:
            value = signing.loads(
                raw, salt=_DEVICE_SALT, max_age=int(settings.SIGNIN_DEVICE_COOKIE_AGE)
            )
            if isinstance(value, dict) and isinstance(value.get("d"), dict):
                devices = {str(k): str(v) for k, v in value["d"].items()}
        except signing.BadSignature:
            devices = {}
    devices.setdefault(str(user_pk), secrets.token_urlsafe(12))
    devices = dict(list(devices.items())[-10:])  # a shared computer: the last ten accounts
    response.set_cookie(
        DEVICE_COOKIE,
        signing.dumps({"d": devices}, salt=_DEVICE_SALT),
        max_age=int(settings.SIGNIN_DEVICE_COOKIE_AGE),
        secure=bool(getattr(settings, "SESSION_COOKIE_SECURE", False)),
        httponly=True,
        samesite="Lax",
    )


# --------------------------------------------------------------------------- counters


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds


def account_for_login(login: str) -> Any:
    """The user a login names (username or e-mail, case-insensitive), or None."""
    login = (login or "").strip()
    if not login:
        return None
    User = get_user_model()
    return (
        User.objects.filter(Q(username__iexact=login) | Q(email__iexact=login))
        .only("pk")
        .order_by("pk")
        .first()
    )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _counter_key(request: HttpRequest, step: str, user_pk: Any, login: str = "") -> str:
    if user_pk is None:
        return f"{_PREFIX}{step}:login:{_digest(login.strip().lower())}"
    nonce = _device_nonce(request, user_pk)
    if nonce:
        return f"{_PREFIX}{step}:device:{user_pk}:{_digest(nonce)}"
    return f"{_PREFIX}{step}:account:{user_pk}"


def _ip_key(request: HttpRequest) -> str:
    ip = client_ip(request) or "unknown"
    return f"{_PREFIX}ip:{_digest(ip)}"


def delay_for(failures: int) -> float:
    """Seconds to wait after ``failures`` consecutive failures (0 while still free)."""
    free = int(settings.SIGNIN_FREE_FAILURES)
    if failures < free:
        return 0.0
    exponent = min(failures - free, 30)
    return min(float(settings.SIGNIN_DELAY_BASE) * (2**exponent), float(settings.SIGNIN_DELAY_MAX))


def check(request: HttpRequest, step: str, user_pk: Any, login: str = "") -> Verdict:
    """May this attempt go ahead? (Does not count it.)"""
    now = time.time()
    ip_failures = cache.get(_ip_key(request)) or []
    window = int(settings.SIGNIN_IP_WINDOW)
    recent = [t for t in ip_failures if t > now - window]
    if len(recent) >= int(settings.SIGNIN_IP_FAILURE_LIMIT):
        return Verdict(False, max(1, math.ceil(min(recent) + window - now)))
    state = cache.get(_counter_key(request, step, user_pk, login)) or {}
    not_before = float(state.get("not_before", 0))
    if now < not_before:
        return Verdict(False, max(1, math.ceil(not_before - now)))
    return Verdict(True)


def failed(request: HttpRequest, step: str, user_pk: Any, login: str = "") -> None:
    """Count one failure of ``step`` (and one on the client IP's ceiling)."""
    now = time.time()
    key = _counter_key(request, step, user_pk, login)
    state = cache.get(key) or {}
    failures = int(state.get("failures", 0)) + 1
    wait = delay_for(failures)
    memory = int(settings.SIGNIN_FAILURE_MEMORY)
    cache.set(key, {"failures": failures, "not_before": now + wait}, memory)
    window = int(settings.SIGNIN_IP_WINDOW)
    ip_key = _ip_key(request)
    recent = [t for t in (cache.get(ip_key) or []) if t > now - window]
    recent.append(now)
    cache.set(ip_key, recent[-int(settings.SIGNIN_IP_FAILURE_LIMIT) :], window)


def succeeded(request: HttpRequest, step: str, user_pk: Any, login: str = "") -> None:
    cache.delete(_counter_key(request, step, user_pk, login))


def refusal_message(verdict: Verdict) -> str:
    """The one message of every throttled sign-in step (password, code, IP ceiling)."""
    minutes = max(1, math.ceil(verdict.retry_after / 60))
    return ngettext(
        "Слишком много неудачных попыток входа. Повторите через %(minutes)d минуту.",
        "Слишком много неудачных попыток входа. Повторите через %(minutes)d минуты.",
        minutes,
    ) % {"minutes": minutes}
