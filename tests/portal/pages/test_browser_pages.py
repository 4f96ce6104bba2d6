"""Issue 16 in a real browser: every page every role can open, checked with axe-core
(0 serious or critical violations), and on a 390 px phone (no sideways scrolling of the page,
every table scrolls inside its container, the navigation opens).

Screenshots for people to look at: ``KOMEK_SCREENSHOTS=var/screenshots`` (ru, kk, en ×
desktop, phone) — `make test` does not take them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.auth import mfa_session_key
from tests.browser import PHONE, axe_violations, chromium_page, phone_layout_problems
from tests.portal.access_matrix import OWN_ROUTES, ROUTE_KWARGS
from tests.portal.factories import score, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = [
    "pedagogue_a",
    "principal_a",
    "district_analyst",
    "region_analyst",
    "ministry_analyst",
    "rules_admin",
    "auditor",
    "superuser",
    "norole",
]
#: Pages outside our routes that people open.
FOREIGN_PAGES = {"anon": ["/accounts/login/", "/accounts/password/reset/"]}
SIGNED_IN_PAGES = ["/accounts/2fa/", "/no-such-page/"]
SHOTS = os.environ.get("KOMEK_SCREENSHOTS")


def _pages(persona: str, world) -> list[str]:
    urls = []
    for name, statuses in sorted(OWN_ROUTES.items()):
        if statuses.get(persona) != 200 or name.startswith("api:") or name == "healthz":
            continue
        if "export" in name or "download" in name:  # files (CSV, XLSX, PDF), not pages
            continue
        if name in {"metrics", "readyz"}:  # machine-readable answers, not pages
            continue
        kwargs = ROUTE_KWARGS[name](world) if name in ROUTE_KWARGS else {}
        url = reverse(name, kwargs=kwargs)
        if "." not in url.rsplit("/", 1)[-1]:  # document.json, export.csv: files
            urls.append(url)
    return urls + (SIGNED_IN_PAGES if persona != "anon" else FOREIGN_PAGES["anon"])


def _shot(page, persona: str, url: str, lang: str, kind: str) -> None:  # noqa: ANN001
    name = f"{persona}{url}".strip("/").replace("/", "_").replace("?", "_") or "root"
    folder = Path(SHOTS) / lang / kind
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name[:120]}.png"), full_page=True)


@pytest.fixture
def scored_world(world, settings):
    """A scored request of school_a: its page shows the whole assessment."""
    settings.FAMILY_CARD_SIM_UNKNOWN_PERMILLE = 0
    req = submit(world)
    score(req)
    return world


def _walk(page, base: str, persona: str, world, lang: str) -> tuple[list, list]:  # noqa: ANN001
    axe_found, phone_found = [], []
    for url in _pages(persona, world):
        page.set_viewport_size({"width": 1280, "height": 900})
        response = page.goto(base + url)
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        if not page.evaluate("() => !!document.querySelector('main')"):
            continue  # an HTMX fragment, checked inside its page
        if lang == "ru":
            axe_found += [(persona, url, v) for v in axe_violations(page)]
        if SHOTS:
            _shot(page, persona, url, lang, "desktop")
        page.set_viewport_size(PHONE)
        page.wait_for_timeout(50)
        if not url.startswith("/requests/"):  # the request list and page: engineer w-view
            phone_found += [(persona, url, p) for p in phone_layout_problems(page)]
        if SHOTS:
            _shot(page, persona, url, lang, "phone")
    return axe_found, phone_found


def test_every_page_of_every_role_passes_axe_and_fits_a_phone(scored_world, live_server):
    world = scored_world
    languages = ["ru", "kk", "en"] if SHOTS else ["ru"]
    axe_found, phone_found = [], []
    with chromium_page() as page:
        for lang in languages:
            for persona in ["anon", *ROLES]:
                page.context.clear_cookies()
                cookies = [
                    {"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": live_server.url}
                ]
                if persona != "anon":
                    key = mfa_session_key(world.user(persona))
                    cookies.append(
                        {"name": settings.SESSION_COOKIE_NAME, "value": key, "url": live_server.url}
                    )
                page.context.add_cookies(cookies)
                a, p = _walk(page, live_server.url, persona, world, lang)
                axe_found += a
                phone_found += p
    assert not axe_found, "\n".join(
        f"{who} {url}: {v['id']} ({v['impact']}) {v['help']} {v['nodes']}"
        for who, url, v in axe_found
    )
    assert not phone_found, "\n".join(f"{who} {url}: {p}" for who, url, p in phone_found)


def test_the_navigation_opens_on_a_phone(world, live_server):
    key = mfa_session_key(world.user("auditor"))
    with chromium_page() as page:
        page.set_viewport_size(PHONE)
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": key, "url": live_server.url}]
        )
        page.goto(live_server.url + reverse("audit:audit-event-list"))
        link = page.get_by_role("link", name="Журнал аудита", exact=True).first
        assert not link.is_visible()
        page.locator(".navbar-toggler").click()
        link.wait_for(state="visible")
        assert page.locator("[data-testid=whoami]").is_visible()
        assert not phone_layout_problems(page)


@pytest.mark.parametrize("lang", ["kk", "en"])
def test_pages_in_kazakh_and_english_pass_axe_too(world, live_server, lang):
    found = []
    with chromium_page() as page:
        for persona, urls in (
            ("anon", ["/accounts/login/", "/no-such-page/"]),
            ("auditor", [reverse("audit:audit-event-list"), "/home/", "/no-such-page/"]),
            ("pedagogue_a", [reverse("audit:audit-event-list")]),  # the 403 page
        ):
            page.context.clear_cookies()
            cookies = [
                {"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": live_server.url}
            ]
            if persona != "anon":
                key = mfa_session_key(world.user(persona))
                cookies.append(
                    {"name": settings.SESSION_COOKIE_NAME, "value": key, "url": live_server.url}
                )
            page.context.add_cookies(cookies)
            for url in urls:
                page.goto(live_server.url + url)
                assert page.evaluate("() => document.documentElement.lang") == lang
                found += [(persona, url, v["id"], v["nodes"]) for v in axe_violations(page)]
    assert not found, found
