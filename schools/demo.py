"""Demo staff: one account per role, MFA already enrolled, so a newcomer signs in at once.

Demo TOTP secrets are derived from the username (public by design: demo data only; the
accounts are flagged `is_demo` and `demo_totp` refuses any other account).
"""

from __future__ import annotations

import base64
import hashlib

from django.contrib.auth import get_user_model
from django.db import transaction

from schools.models import District, Membership, Region, Role, School
from schools.services import staff_member_create

DEMO_PASSWORD = "Komek-demo-2026"  # noqa: S105 - documented demo credential

# username, full name, role, unit selector
DEMO_STAFF = [
    ("pedagogue", "Ахметова Айгерим Сериковна", Role.PEDAGOGUE, ("school", "KAR-KAZ")),
    ("principal", "Ибраев Нурлан Болатович", Role.PRINCIPAL, ("school", "KAR-KAZ")),
    ("pedagogue_shy", "Садыкова Гульнара Ержановна", Role.PEDAGOGUE, ("school", "SHY-ALF")),
    ("district_analyst", "Ким Елена Викторовна", Role.DISTRICT_ANALYST, ("district", "KAR-KAZ")),
    ("region_analyst", "Жумабеков Асхат Муратович", Role.REGION_ANALYST, ("region", "KAR")),
    ("region_analyst_shy", "Турсынбаева Динара Алиевна", Role.REGION_ANALYST, ("region", "SHY")),
    ("ministry_analyst", "Омаров Ерлан Кайратович", Role.MINISTRY_ANALYST, None),
    ("rules_admin", "Петрова Ольга Сергеевна", Role.RULES_ADMIN, None),
    ("rules_admin2", "Сейткали Бауыржан Маратович", Role.RULES_ADMIN, None),
    ("auditor", "Абдрахманова Сауле Нурлановна", Role.AUDITOR, None),
    ("network_admin", "Искакова Мадина Ерболовна", Role.NETWORK_ADMIN, None),
    (
        "district_finance",
        "Нурпеисова Айжан Талгатовна",
        Role.DISTRICT_FINANCE,
        ("district", "KAR-KAZ"),
    ),
    (
        "district_reviewer",
        "Есенова Гаухар Бекболатовна",
        Role.DISTRICT_REVIEWER,
        ("district", "KAR-KAZ"),
    ),
]


def demo_totp_secret(username: str) -> str:
    digest = hashlib.sha256(f"komek-demo-totp:{username}".encode()).digest()[:20]
    return base64.b32encode(digest).decode("ascii")


def enroll_mfa(user, secret: str) -> None:  # noqa: ANN001
    from allauth.mfa.models import Authenticator
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP

    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, secret)
    RecoveryCodes.activate(user)


def _unit(selector: tuple[str, str] | None) -> dict:
    if selector is None:
        return {}
    kind, code = selector
    if kind == "school":
        return {
            "school": School.objects.filter(district__code=code).order_by("number", "pk").first()
        }
    if kind == "district":
        return {"district": District.objects.get(code=code)}
    return {"region": Region.objects.get(code=code)}


@transaction.atomic
def demo_staff_ensure(password: str = DEMO_PASSWORD) -> list[Membership]:
    User = get_user_model()
    out = []
    for username, full_name, role, selector in DEMO_STAFF:
        membership = (
            Membership.objects.filter(user__username=username).select_related("user").first()
        )
        if membership is None:
            membership = staff_member_create(
                username=username,
                full_name=full_name,
                email=f"{username}@demo.komek.kz",
                role=role,
                unit_kwargs=_unit(selector),
                is_demo=True,
                password=password,
            )
        enroll_mfa(membership.user, demo_totp_secret(username))
        out.append(membership)
    if not User.objects.filter(username="admin").exists():
        admin = User.objects.create_superuser("admin", "admin@demo.komek.kz", password)
        enroll_mfa(admin, demo_totp_secret("admin"))
    return out


def demo_current_code(username: str) -> str | None:
    """The current TOTP code of a demo account (None for any non-demo account)."""
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        return None
    is_demo = Membership.objects.filter(user=user, is_demo=True).exists() or (
        user.is_superuser and user.email.endswith("@demo.komek.kz")
    )
    if not is_demo:
        return None
    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(demo_totp_secret(username), counters[len(counters) // 2]))
