"""Capabilities named on the scope, one `require()`, navigation built from them."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from portal.context_processors import navigation
from schools.scope import CAPABILITIES, NO_SCOPE, require, scope_for

pytestmark = pytest.mark.django_db

EXPECTED = {
    # persona: the capabilities it has
    "pedagogue_a": {
        "can_act_on_requests",
        "can_view_stats",
        "sees_family_data",
        "can_view_budgets",
    },
    "principal_a": {
        "can_act_on_requests",
        "can_sign_decisions",  # the second signature (never on its own decision)
        "can_view_stats",
        "sees_family_data",
        "can_view_budgets",
    },
    "district_analyst": {"can_view_stats", "can_view_schools", "can_view_budgets"},
    "region_analyst": {"can_view_stats", "can_view_schools", "can_view_budgets"},
    "ministry_analyst": {"can_view_stats", "can_view_schools", "can_view_budgets"},
    "district_finance": {"can_manage_budgets", "can_view_budgets"},
    "district_reviewer": {"can_review_appeals"},
    "rules_admin": {"can_admin_rules", "can_use_admin"},
    "auditor": {"can_audit", "can_use_admin", "sees_family_data"},
    # a superuser is no school's staff: it neither acts on requests nor signs decisions
    "superuser": set(CAPABILITIES) - {"can_act_on_requests", "can_sign_decisions"},
    "norole": set(),
}


@pytest.mark.parametrize("persona", EXPECTED)
def test_it_names_what_each_role_may_do(world, persona):
    scope = scope_for(world.user(persona))
    assert {c for c in CAPABILITIES if getattr(scope, c)} == EXPECTED[persona]
    for capability in CAPABILITIES:
        if capability in EXPECTED[persona]:
            require(scope, capability)
        else:
            with pytest.raises(PermissionDenied):
                require(scope, capability)


def test_it_refuses_no_scope_and_unknown_capabilities():
    with pytest.raises(PermissionDenied):
        require(None, "can_audit")
    with pytest.raises(PermissionDenied):
        require(NO_SCOPE, "sees_family_data")
    with pytest.raises(ValueError):
        require(NO_SCOPE, "is_god")


@pytest.mark.parametrize("persona", EXPECTED)
def test_it_builds_the_navigation_from_the_capabilities(world, persona):
    request = RequestFactory().get("/")
    request.user = world.user(persona)
    request.scope = scope = scope_for(request.user)
    hrefs = {href for _, href in navigation(request)["nav_items"]}
    assert ("/requests/" in hrefs) == (scope.can_act_on_requests or scope.can_audit)
    assert ("/admin/" in hrefs) == scope.can_use_admin
    assert any("stats" in h for h in hrefs) == scope.can_view_stats
    assert ("/signatures/" in hrefs) == scope.can_sign_decisions
    assert ("/payments/" in hrefs) == scope.can_act_on_requests
