"""Every /rules/ route gives every persona the status of the access matrix (object routes get
their arguments from ROUTE_KWARGS)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.portal.access_matrix import OWN_ROUTES, PERSONAS, ROUTE_KWARGS

RULES_ROUTES = sorted(n for n in OWN_ROUTES if n.startswith("rules:"))


@pytest.mark.parametrize("name", RULES_ROUTES)
def test_it_gives_each_persona_the_rules_matrix_status(name, world, client_for):
    kwargs = ROUTE_KWARGS[name](world) if name in ROUTE_KWARGS else {}
    url = reverse(name, kwargs=kwargs)
    got = {p: client_for(p).get(url).status_code for p in PERSONAS}
    assert got == {p: OWN_ROUTES[name][p] for p in PERSONAS}


def test_it_sends_anonymous_users_to_sign_in(client):
    response = client.get(reverse("rules:ruleset-list"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
