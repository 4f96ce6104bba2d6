"""The role × route access matrix. Every URL pattern of the project must be classified here:
either as one of our own routes with the status each persona gets, or as a route of a
third-party component with the reason it is safe.

Expected statuses: 200 ok, 302 redirect (to sign-in for anonymous users), 403 wrong role,
404 out of scope, 405 method not allowed for GET.
"""

from __future__ import annotations

PERSONAS = [
    "anon",
    "pedagogue_a",
    "principal_a",
    "pedagogue_c",
    "district_analyst",
    "region_analyst",
    "ministry_analyst",
    "rules_admin",
    "auditor",
    "superuser",
    "norole",
]

ANALYSTS = {
    "district_analyst": 200,
    "region_analyst": 200,
    "ministry_analyst": 200,
    "superuser": 200,
}


def everyone(code: int, anon: int = 302, **overrides: int) -> dict[str, int]:
    row = dict.fromkeys(PERSONAS, code)
    row["anon"] = anon
    row.update(overrides)
    return row


def only(allowed: dict[str, int], default: int = 403) -> dict[str, int]:
    row = dict.fromkeys(PERSONAS, default)
    row["anon"] = 302
    row.update(allowed)
    return row


# Our routes: name → {persona: status on GET}. Args are filled by the test from the world.
OWN_ROUTES: dict[str, dict[str, int]] = {
    "home-root": everyone(200),
    "healthz": everyone(200, anon=200),
    "portal:home": everyone(200),
    "schools:school-list": only(ANALYSTS),
    # school_a (KAR, district KAZ): out of scope → 404, in scope → 200.
    "schools:school-detail": everyone(
        200,
        pedagogue_c=404,
        norole=404,
    ),
}

# Third-party and framework routes, classified by name prefix, with why they are covered.
FOREIGN_PREFIXES: dict[str, str] = {
    "admin/": "Django admin (unnamed catch-all and object routes): same guard as admin:",
    "admin:": "Django admin: is_staff + model permissions; login guarded by django-axes",
    "account_": "django-allauth sign-in, sign-out, password reset (no sign-up: adapter closed)",
    "mfa_": "django-allauth MFA: TOTP and recovery codes, own-account only",
    "set_language": "Django i18n: sets the language cookie/session only",
    "familycard-sim:": "family card simulator: a stand-in for an external service, no user data",
    "django.views.static": "static files",
}
