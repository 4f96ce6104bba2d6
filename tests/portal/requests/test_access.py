"""The access matrix rows of the aid-request pages and API, with their object arguments
(tests/portal/test_access_matrix.py fills no URL arguments for these routes)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.portal.access_matrix import OWN_ROUTES, PERSONAS, ROUTE_KWARGS

OURS = sorted(n for n in OWN_ROUTES if n.startswith(("requests:", "audit:", "api:")))


@pytest.mark.parametrize("name", OURS)
def test_it_gives_each_persona_the_matrix_status(name, world, client_for):
    kwargs = ROUTE_KWARGS[name](world) if name in ROUTE_KWARGS else {}
    url = reverse(name, kwargs=kwargs)
    got = {persona: client_for(persona).get(url).status_code for persona in PERSONAS}
    assert got == {p: OWN_ROUTES[name][p] for p in PERSONAS}
