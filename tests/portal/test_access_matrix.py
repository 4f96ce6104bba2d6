"""Walks every URL pattern: each must be classified in the access matrix, and each of our own
routes gives every persona exactly the status the matrix says."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.portal.access_matrix import FOREIGN_PREFIXES, OWN_ROUTES, PERSONAS, ROUTE_KWARGS


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield (f"{namespace}{p.name}" if p.name else None), prefix + str(p.pattern)


def all_routes():
    return list(_walk(get_resolver().url_patterns))


def _classified(name: str | None, route: str) -> bool:
    if name in OWN_ROUTES:
        return True
    return any(
        (name or "").startswith(prefix) or route.startswith(prefix) for prefix in FOREIGN_PREFIXES
    )


def test_it_classifies_every_url_pattern():
    unclassified = [(n, r) for n, r in all_routes() if not _classified(n, r)]
    assert not unclassified, f"routes missing from tests/portal/access_matrix.py: {unclassified}"


def test_it_has_no_stale_matrix_rows():
    names = {n for n, _r in all_routes()}
    assert set(OWN_ROUTES) <= names


def _url(name: str, world) -> str:
    kwargs = ROUTE_KWARGS[name](world) if name in ROUTE_KWARGS else {}
    return reverse(name, kwargs=kwargs)


@pytest.mark.parametrize("name", sorted(OWN_ROUTES))
def test_it_gives_each_persona_the_matrix_status(name, world, client_for):
    url = _url(name, world)
    got = {}
    for persona in PERSONAS:
        got[persona] = client_for(persona).get(url).status_code
    expected = {p: OWN_ROUTES[name][p] for p in PERSONAS}
    assert got == expected
