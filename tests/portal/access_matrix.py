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
    "network_admin",
    "superuser",
    "norole",
    "district_reviewer",
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
    "readyz": everyone(200, anon=200),
    "metrics": only({"superuser": 200}),
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
    "admin:": "Django admin: is_staff + model permissions + the TOTP step; its login is allauth's",
    "account_": "django-allauth sign-in, sign-out, password reset (no sign-up: adapter closed)",
    "mfa_": "django-allauth MFA: TOTP and recovery codes, own-account only",
    "set_language": "Django i18n: sets the language cookie/session only",
    "familycard-sim:": "family card simulator: a stand-in for an external service, no user data",
    "django.views.static": "static files",
}


# --- aid requests, the audit log and the REST API (portal.requests.urls, portal.audit.urls, portal.api.urls) -------
SCHOOL_STAFF = {"pedagogue_a": 200, "principal_a": 200, "pedagogue_c": 200}
FAMILY_READERS = {**SCHOOL_STAFF, "auditor": 200, "superuser": 200}
# An aid request of school_a: its own staff 200, another school's staff 404, analysts 403.
FAMILY_OBJECT = only(
    {"pedagogue_a": 200, "principal_a": 200, "pedagogue_c": 404, "auditor": 200, "superuser": 200}
)
POST_ONLY_PAGE = everyone(405)
# DRF checks authentication and the family-data role before the method: 403 first, then 405.
POST_ONLY_API = only(
    {"pedagogue_a": 405, "principal_a": 405, "pedagogue_c": 405, "auditor": 405, "superuser": 405},
    default=403,
)
POST_ONLY_API["anon"] = 403

OWN_ROUTES.update(
    {
        "requests:aid-request-list": only(FAMILY_READERS),
        "requests:aid-request-create": only(SCHOOL_STAFF),
        "requests:validate-iin": POST_ONLY_PAGE,
        "requests:aid-request-detail": FAMILY_OBJECT,
        "requests:aid-request-status": FAMILY_OBJECT,
        "requests:aid-request-decide": POST_ONLY_PAGE,
        "requests:aid-request-contest": POST_ONLY_PAGE,
        "requests:aid-request-withdraw": POST_ONLY_PAGE,
        # The correction page of a request in needs_review; the matrix's request is queued,
        # so its own staff are sent back to the request page (302).
        "requests:aid-request-resubmit": only(
            {"pedagogue_a": 302, "principal_a": 302, "pedagogue_c": 404}
        ),
        "audit:audit-event-list": only({"auditor": 200, "superuser": 200}),
        "audit:audit-event-export": only({"auditor": 200, "superuser": 200}),
        "audit:audit-person-views": POST_ONLY_PAGE,
        "api:aid-request-list": {**only(FAMILY_READERS), "anon": 403},
        "api:aid-request-detail": {**FAMILY_OBJECT, "anon": 403},
        "api:aid-request-decision": POST_ONLY_API,
        "api:aid-request-contest": POST_ONLY_API,
        "api:aid-request-withdraw": POST_ONLY_API,
        "api:aid-request-batch": POST_ONLY_API,
        "api:aid-request-search": POST_ONLY_API,
        "requests:class-list-upload": only(SCHOOL_STAFF),
        # an unknown batch: 404 for school staff, 403 for every other role
        "requests:class-list-progress": only(
            {"pedagogue_a": 404, "principal_a": 404, "pedagogue_c": 404}
        ),
        "api:aid-request-resubmit": POST_ONLY_API,
        "api:schema": everyone(200, anon=200),
        "api:docs": everyone(200, anon=200),
    }
)

# Routes with a URL argument: name → callable(world) → reverse() kwargs.
OBJECT_ROUTES = {
    "requests:aid-request-detail",
    "requests:aid-request-status",
    "requests:aid-request-decide",
    "requests:aid-request-contest",
    "requests:aid-request-withdraw",
    "requests:aid-request-resubmit",
    "api:aid-request-detail",
    "api:aid-request-decision",
    "api:aid-request-contest",
    "api:aid-request-withdraw",
    "api:aid-request-resubmit",
}


def aid_request_kwargs(world) -> dict:  # noqa: ANN001
    """An aid request of school_a (created once per world) for the object routes."""
    from portal.requests.models import AidRequest
    from tests.portal.factories import request_data

    req = AidRequest.objects.filter(school=world.school_a).first()
    if req is None:
        req = AidRequest(
            school=world.school_a, created_by=world.user("pedagogue_a"), **request_data()
        )
        req.save()
    return {"public_id": req.public_id}


ROUTE_KWARGS = dict.fromkeys(OBJECT_ROUTES, aid_request_kwargs)
ROUTE_KWARGS["requests:class-list-progress"] = lambda world: {"batch_id": "0" * 32}


# --- rules administration (portal.rules.urls) ---------------------------------------------------
RULES_ADMINS = {"rules_admin": 200, "superuser": 200}
RULES_PAGE = only(RULES_ADMINS)

OWN_ROUTES.update(
    {
        "rules:ruleset-list": RULES_PAGE,
        "rules:ruleset-create": POST_ONLY_PAGE,
        "rules:ruleset-diff": RULES_PAGE,
        "rules:golden-list": RULES_PAGE,
        "rules:golden-toggle": POST_ONLY_PAGE,
        "rules:ruleset-detail": RULES_PAGE,
        "rules:ruleset-edit": RULES_PAGE,
        "rules:ruleset-document": RULES_PAGE,
        "rules:ruleset-approve": POST_ONLY_PAGE,
        "rules:ruleset-publish": POST_ONLY_PAGE,
        "rules:ruleset-preview": POST_ONLY_PAGE,
        "rules:preview-detail": RULES_PAGE,
        "rules:preview-progress": RULES_PAGE,
        "rules:ruleset-rescore": POST_ONLY_PAGE,
        "rules:rescore-progress": RULES_PAGE,
        # Affected requests of a preview: family data, only the viewer's own schools.
        "rules:preview-affected": only(FAMILY_READERS),
    }
)


def rules_draft_kwargs(world) -> dict:  # noqa: ANN001
    """A draft rule set (created once per world) for the rule-set object routes."""
    from scoring.models import RuleSet
    from scoring.services import ruleset_import

    draft = RuleSet.objects.filter(version="MATRIX-DRAFT").first()
    if draft is None:
        doc = RuleSet.objects.get(version="KZ-2026.1").document
        draft = ruleset_import(document={**doc, "version": "MATRIX-DRAFT"})
    return {"public_id": draft.public_id}


def rules_preview_kwargs(world) -> dict:  # noqa: ANN001
    import datetime as dt

    from portal.rules.models import ImpactPreview
    from scoring.models import RuleSet

    draft = RuleSet.objects.get(public_id=rules_draft_kwargs(world)["public_id"])
    preview = ImpactPreview.objects.filter(ruleset=draft).first() or ImpactPreview.objects.create(
        ruleset=draft,
        document_sha256=draft.document_sha256,
        period_from=dt.date(2026, 1, 1),
        period_to=dt.date(2026, 12, 31),
        status="done",
    )
    return {"public_id": preview.public_id}


def rules_rescore_kwargs(world) -> dict:  # noqa: ANN001
    """A finished re-scoring batch of the published rule set (created once per world)."""
    from portal.rules.models import RescoreBatch
    from scoring.models import RuleSet

    ruleset = RuleSet.objects.get(version="KZ-2026.1")
    batch = RescoreBatch.objects.filter(ruleset=ruleset).first() or RescoreBatch.objects.create(
        ruleset=ruleset, status="done"
    )
    return {"public_id": batch.public_id}


def rules_golden_kwargs(world) -> dict:  # noqa: ANN001
    import uuid

    return {"public_id": uuid.uuid4()}  # POST-only route: the method is refused first


_RULES_OBJECT_ROUTES = {
    "rules:ruleset-detail": rules_draft_kwargs,
    "rules:ruleset-edit": rules_draft_kwargs,
    "rules:ruleset-document": rules_draft_kwargs,
    "rules:ruleset-approve": rules_draft_kwargs,
    "rules:ruleset-publish": rules_draft_kwargs,
    "rules:ruleset-preview": rules_draft_kwargs,
    "rules:preview-detail": rules_preview_kwargs,
    "rules:preview-progress": rules_preview_kwargs,
    "rules:preview-affected": rules_preview_kwargs,
    "rules:golden-toggle": rules_golden_kwargs,
    "rules:ruleset-rescore": rules_draft_kwargs,
    "rules:rescore-progress": rules_rescore_kwargs,
}
OBJECT_ROUTES |= set(_RULES_OBJECT_ROUTES)
ROUTE_KWARGS.update(_RULES_OBJECT_ROUTES)

ROUTE_KWARGS["schools:school-detail"] = lambda world: {"public_id": world.school_a.public_id}


# --- statistics and dashboards (portal.stats.urls, api:stats) -----------------------------------
# Aggregates: analysts see their unit, school staff their school; other roles 403. Without
# arguments each user gets the dashboard of their own unit.
STATS_VIEWERS = {**ANALYSTS, "pedagogue_a": 200, "principal_a": 200, "pedagogue_c": 200}
OWN_ROUTES.update(
    {
        "stats:dashboard": only(STATS_VIEWERS),
        "stats:export-csv": only(STATS_VIEWERS),
        "stats:export-xlsx": only(STATS_VIEWERS),
        "api:stats": {**only(STATS_VIEWERS), "anon": 403},
    }
)


# --- the user's own account pages (portal.accounts.urls) ----------------------------------------
# Every signed-in user (with the second factor) manages their own API tokens and TOTP device.
OWN_ROUTES.update(
    {
        "accounts:api-tokens": everyone(200),
        "accounts:api-token-revoke": POST_ONLY_PAGE,
        # Replacing the device asks for the password again first (allauth's reauthentication).
        "accounts:totp-replace": everyone(302),
    }
)
ROUTE_KWARGS["accounts:api-token-revoke"] = rules_golden_kwargs  # a random id: POST only


# --- network administration (portal.administration.urls) ---------------------------------------
# Schools and staff of the network: the network administrator (and superusers); no family data.
NETWORK_ADMINS = {"network_admin": 200, "superuser": 200}
ADMIN_PAGE = only(NETWORK_ADMINS)
OWN_ROUTES.update(
    {
        "administration:home": ADMIN_PAGE,
        "administration:school-list": ADMIN_PAGE,
        "administration:school-create": ADMIN_PAGE,
        "administration:import-schools": ADMIN_PAGE,
        "administration:school-edit": ADMIN_PAGE,
        "administration:school-deactivate": ADMIN_PAGE,  # GET: the confirmation page
        "administration:school-activate": POST_ONLY_PAGE,
        "administration:staff-list": ADMIN_PAGE,
        "administration:staff-create": ADMIN_PAGE,
        "administration:import-staff": ADMIN_PAGE,
        "administration:staff-edit": ADMIN_PAGE,
        "administration:staff-move": ADMIN_PAGE,
        "administration:staff-deactivate": ADMIN_PAGE,
        "administration:staff-activate": POST_ONLY_PAGE,
        "administration:staff-mfa-reset": ADMIN_PAGE,
    }
)

# --- the family's side: decision letters, verification, notices (portal.letters, .notices) -----
FOREIGN_PREFIXES["sms-sim:"] = "SMS gateway simulator: a stand-in for an external service"
OWN_ROUTES.update(
    {
        # Public: whether a letter with a code exists (date, school, decision; nothing else).
        "letters:verify-form": everyone(200, anon=200),
        "letters:verify": everyone(200, anon=200),
        # The letter of a decided request of school_a (names on it: family-level data).
        "letters:letter-download": FAMILY_OBJECT,
        "api:aid-request-letter": {**FAMILY_OBJECT, "anon": 403},
        "notices:notices-opt-out": POST_ONLY_PAGE,
    }
)


def admin_school_kwargs(world) -> dict:  # noqa: ANN001
    return {"public_id": world.school_a.public_id}


def admin_member_kwargs(world) -> dict:  # noqa: ANN001
    return {"public_id": world.user("pedagogue_a").membership.public_id}


for _name in ("school-edit", "school-deactivate", "school-activate"):
    ROUTE_KWARGS[f"administration:{_name}"] = admin_school_kwargs
for _name in ("staff-edit", "staff-move", "staff-deactivate", "staff-activate", "staff-mfa-reset"):
    ROUTE_KWARGS[f"administration:{_name}"] = admin_member_kwargs


def decided_request_kwargs(world) -> dict:  # noqa: ANN001
    """A decided aid request of school_a (created once per world) for the letter routes."""
    from portal.requests.models import AidRequest, Decision
    from tests.portal.factories import request_data, student_iin

    req = AidRequest.objects.filter(school=world.school_a, status="decided").first()
    if req is None:
        req = AidRequest(
            school=world.school_a,
            created_by=world.user("pedagogue_a"),
            status="decided",
            **request_data(student_iin=student_iin(77)),
        )
        req.save()
        Decision.objects.create(request=req, outcome="reject", decided_by=world.user("pedagogue_a"))
    return {"public_id": req.public_id}


ROUTE_KWARGS.update(
    {
        "letters:verify": lambda world: {"code": "0000-0000-0000-0000-0000"},
        "letters:letter-download": decided_request_kwargs,
        "api:aid-request-letter": decided_request_kwargs,
        "notices:notices-opt-out": aid_request_kwargs,
    }
)
OBJECT_ROUTES |= {"letters:letter-download", "api:aid-request-letter", "notices:notices-opt-out"}


# --- privacy: the register of processing, retention holds (portal.privacy.urls) -------------
OWN_ROUTES.update(
    {
        "privacy:register": only(
            {"auditor": 200, "rules_admin": 200, "network_admin": 200, "superuser": 200}
        ),
        "privacy:retention-holds": only({"auditor": 200, "superuser": 200}),
        "privacy:retention-hold-release": POST_ONLY_PAGE,
        "privacy:person-record": only({"auditor": 200, "superuser": 200}),
    }
)
# --- budgets (portal.budgets: api:budget-detail, budgets:*) -------------------------------------
BUDGET_VIEWERS = {
    "pedagogue_a": 200,
    "principal_a": 200,
    "pedagogue_c": 404,  # another school: out of scope
    "district_analyst": 200,
    "region_analyst": 200,
    "ministry_analyst": 200,
    "superuser": 200,
}
OWN_ROUTES["api:budget-detail"] = {**only(BUDGET_VIEWERS), "anon": 403}
ROUTE_KWARGS["api:budget-detail"] = lambda world: {
    "school_bin": world.school_a.bin,
    "academic_year": "2026-2027",
}
BUDGET_PAGE = only({**BUDGET_VIEWERS, "pedagogue_c": 200})  # each sees its own schools
OWN_ROUTES["budgets:budget-list"] = BUDGET_PAGE
OWN_ROUTES["budgets:budget-export-csv"] = BUDGET_PAGE
OWN_ROUTES["budgets:budget-set"] = POST_ONLY_PAGE
OWN_ROUTES["budgets:budget-import"] = POST_ONLY_PAGE

# --- payments (portal.payments: the register for the bank and its reconciliation) -------------
OWN_ROUTES["api:payment-register"] = {
    **only({"pedagogue_a": 200, "principal_a": 200, "pedagogue_c": 200}),  # the school's own job
    "anon": 403,
}
OWN_ROUTES["api:payment-reconciliation"] = POST_ONLY_API


# --- appeals (portal.appeals: appeals:*, api:aid-request-appeal, api:appeal-*) -----------------
# Readers: the school's staff (their school's), the district's reviewer (the district's: school_a
# is in it), the auditor and superusers (all). Everyone else 403; another school's staff 404.
APPEAL_READERS = {**FAMILY_READERS, "district_reviewer": 200}
APPEAL_OBJECT = only({**APPEAL_READERS, "pedagogue_c": 404})
OWN_ROUTES.update(
    {
        # The matrix's request is queued (no decision): its staff are sent back to it.
        "appeals:appeal-create": only({"pedagogue_a": 302, "principal_a": 302, "pedagogue_c": 404}),
        "appeals:appeal-list": only(APPEAL_READERS),
        "appeals:appeal-detail": APPEAL_OBJECT,
        "appeals:appeal-decide": POST_ONLY_PAGE,
        # an unknown attachment: 404 for readers, 403 for every other role
        "appeals:appeal-attachment": only(dict.fromkeys(APPEAL_READERS, 404)),
        "api:aid-request-appeal": {
            **only(dict.fromkeys(APPEAL_READERS, 405), default=403),
            "anon": 403,
        },
        "api:appeal-list": {**only(APPEAL_READERS), "anon": 403},
        "api:appeal-detail": {**APPEAL_OBJECT, "anon": 403},
        "api:appeal-decision": {
            **only(dict.fromkeys(APPEAL_READERS, 405), default=403),
            "anon": 403,
        },
    }
)


def appeal_kwargs(world) -> dict:  # noqa: ANN001
    """An open appeal against the decision of a decided request of school_a (created once)."""
    from django.utils import timezone

    from portal.appeals.models import Appeal
    from portal.requests.models import Decision

    appeal = Appeal.objects.filter(school=world.school_a).first()
    if appeal is None:
        req_id = decided_request_kwargs(world)["public_id"]
        decision = Decision.objects.get(request__public_id=req_id)
        appeal = Appeal.objects.create(
            request=decision.request,
            decision=decision,
            school=world.school_a,
            reason="Не согласны",
            filed_by=world.user("pedagogue_a"),
            answer_due=timezone.localdate(),
        )
    return {"public_id": appeal.public_id}


ROUTE_KWARGS.update(
    {
        "appeals:appeal-create": aid_request_kwargs,
        "appeals:appeal-detail": appeal_kwargs,
        "appeals:appeal-decide": appeal_kwargs,
        "appeals:appeal-attachment": lambda world: {
            "public_id": "0" * 8 + "-0000-4000-8000-" + "0" * 12
        },
        "api:aid-request-appeal": aid_request_kwargs,
        "api:appeal-detail": appeal_kwargs,
        "api:appeal-decision": appeal_kwargs,
    }
)
OBJECT_ROUTES |= {
    "appeals:appeal-create",
    "appeals:appeal-detail",
    "appeals:appeal-decide",
    "appeals:appeal-attachment",
    "api:aid-request-appeal",
    "api:appeal-detail",
    "api:appeal-decision",
}
# --- the second signature (a principal of the school) and payments in the browser ----------
PRINCIPALS = {"principal_a": 200}
OWN_ROUTES.update(
    {
        "requests:signature-list": only(PRINCIPALS),
        "requests:aid-request-sign": POST_ONLY_PAGE,
        "api:signature-list": {**only(PRINCIPALS), "anon": 403},
        "api:aid-request-sign": POST_ONLY_API,
        # the school's own payments: each school's staff sees its own (pedagogue_c: school_c)
        "payments:payment-list": only(SCHOOL_STAFF),
        "payments:payment-register-csv": only(SCHOOL_STAFF),
    }
)
ROUTE_KWARGS["requests:aid-request-sign"] = aid_request_kwargs
ROUTE_KWARGS["api:aid-request-sign"] = aid_request_kwargs
OBJECT_ROUTES |= {"requests:aid-request-sign", "api:aid-request-sign"}
