"""System checks of the deployment: the family card simulator is a development tool; the
ИИН key is a real secret."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.checks import Error, register

MIN_SIM_SECRET_LENGTH = 32


@register("komek", deploy=False)
def family_card_simulator_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """With DEBUG off the simulator is refused, unless the deliberate override
    FAMILY_CARD_SIM_ALLOW_PRODUCTION is set together with a FAMILY_CARD_SIM_SECRET (at least
    32 characters) that every caller must present."""
    if not getattr(settings, "FAMILY_CARD_SIM_ENABLED", False):
        return []
    errors: list[Error] = []
    secret = getattr(settings, "FAMILY_CARD_SIM_SECRET", "") or ""
    if not settings.DEBUG and not getattr(settings, "FAMILY_CARD_SIM_ALLOW_PRODUCTION", False):
        errors.append(
            Error(
                "The family card simulator (FAMILY_CARD_SIM_ENABLED) is enabled with DEBUG off.",
                hint="It serves synthetic family cards and is a development tool: unset "
                "FAMILY_CARD_SIM_ENABLED and point FAMILY_CARD_URL at the real service. "
                "(FAMILY_CARD_SIM_ALLOW_PRODUCTION=1 with a FAMILY_CARD_SIM_SECRET overrides.)",
                id="komek.E001",
            )
        )
    if len(secret) < MIN_SIM_SECRET_LENGTH:
        errors.append(
            Error(
                "The family card simulator needs FAMILY_CARD_SIM_SECRET "
                f"(at least {MIN_SIM_SECRET_LENGTH} characters): it never answers anonymously.",
                hint="`make demo` and `make test` generate one; the card client sends it "
                "(FAMILY_CARD_API_KEY defaults to it).",
                id="komek.E002",
            )
        )
    return errors


MIN_IIN_HMAC_KEY_LENGTH = 32


@register("komek", deploy=False)
def iin_hmac_key_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """With DEBUG off, IIN_HMAC_KEY must come from the environment: a real secret of at least
    32 characters, not the development key (the keyed hash of every ИИН depends on it)."""
    if settings.DEBUG:
        return []
    key = getattr(settings, "IIN_HMAC_KEY", "") or ""
    dev = getattr(settings, "IIN_HMAC_DEV_KEY", None)
    testing = os.environ.get("KOMEK_TESTING") == "1"
    if len(key) < MIN_IIN_HMAC_KEY_LENGTH or (key == dev and not testing):
        return [
            Error(
                "IIN_HMAC_KEY is missing, too short or the development key, with DEBUG off.",
                hint="Set IIN_HMAC_KEY to a random secret of at least "
                f"{MIN_IIN_HMAC_KEY_LENGTH} characters (e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`), the same for every process, kept like "
                "SECRET_KEY.",
                id="komek.E010",
            )
        ]
    return []
