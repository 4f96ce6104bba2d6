"""System checks of the deployment: the family card simulator is a development tool."""

from __future__ import annotations

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


@register("komek", deploy=False)
def sms_simulator_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """The SMS gateway simulator, like the card simulator: refused with DEBUG off unless
    SMS_SIM_ALLOW_PRODUCTION, and never without an SMS_SIM_SECRET of 32 characters or more."""
    if not getattr(settings, "SMS_SIM_ENABLED", False):
        return []
    errors: list[Error] = []
    if not settings.DEBUG and not getattr(settings, "SMS_SIM_ALLOW_PRODUCTION", False):
        errors.append(
            Error(
                "The SMS gateway simulator (SMS_SIM_ENABLED) is enabled with DEBUG off.",
                hint="Unset SMS_SIM_ENABLED and set SMS_GATEWAY_URL and SMS_GATEWAY_KEY.",
                id="komek.E003",
            )
        )
    if len(getattr(settings, "SMS_SIM_SECRET", "") or "") < MIN_SIM_SECRET_LENGTH:
        errors.append(
            Error(
                f"The SMS simulator needs SMS_SIM_SECRET (at least {MIN_SIM_SECRET_LENGTH} "
                "characters): it never answers anonymously.",
                id="komek.E004",
            )
        )
    return errors
