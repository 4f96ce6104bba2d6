"""Issue 9, finding 8 and production mode: the portal run as deployed.

``collectstatic`` with the production storage (WhiteNoise's compressed manifest), gunicorn with
DEBUG off on a free loopback port, a real browser (Debian chromium) signing in with TOTP and
opening each role's home page and the main pages with no Content-Security-Policy violation, and
the role × route access matrix walked over HTTP against that server.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.urls import reverse

from tests.auth import mfa_session_key
from tests.browser import chromium_page
from tests.conftest import PASSWORD
from tests.dburl import app_database_url, current_database_url
from tests.portal.access_matrix import OWN_ROUTES, PERSONAS, ROUTE_KWARGS
from tests.portal.factories import totp_now

BASE_DIR = Path(__file__).resolve().parents[2]
STATIC = BASE_DIR / "static"


def test_every_source_map_a_static_file_points_to_is_shipped():
    """The manifest storage follows ``sourceMappingURL`` comments: each must resolve."""
    pattern = re.compile(rb"[#@] ?sourceMappingURL=([^\s*]+)")
    missing = []
    for path in STATIC.rglob("*"):
        if path.suffix not in {".js", ".css"}:
            continue
        for ref in pattern.findall(path.read_bytes()[-400:]):
            target = path.parent / ref.decode()
            if not ref.startswith(b"data:") and not target.exists():
                missing.append(f"{path.relative_to(STATIC)} → {ref.decode()}")
    assert not missing


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _production_env(static_root: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "KOMEK_TESTING" and not k.startswith(("FAMILY_CARD_SIM", "SMS_SIM"))
    }
    env.update(
        {
            "DEBUG": "0",
            # The test process signs the sessions it hands to the browser with its own key.
            "SECRET_KEY": settings.SECRET_KEY,
            # The same ИИН key as the test process: both read and write the same rows.
            "IIN_HMAC_KEY": settings.IIN_HMAC_KEY,
            "ALLOWED_HOSTS": "localhost,127.0.0.1",
            "STATIC_ROOT": str(static_root),
            # The server connects as the application's own database role, as deployed: no
            # ownership, the audit log append-only, row-level security on aid requests.
            "DATABASE_URL": app_database_url() or current_database_url(),
            # TLS ends at the reverse proxy in front; on loopback the test speaks plain HTTP
            # (Chromium keeps Secure cookies for localhost).
            "SECURE_SSL_REDIRECT": "0",
            "CACHE_KEY_PREFIX": f"komek-prod-test-{uuid.uuid4().hex[:8]}",
            "FAMILY_CARD_URL": "http://127.0.0.1:9/unused",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


_BACKGROUND: dict[str, Any] = {}


def start_collectstatic() -> None:
    """``collectstatic`` into a scratch directory, in the background (WhiteNoise compresses
    about 50 MB: ~40 s of CPU). tests/conftest.py starts it as soon as these tests are
    collected, so it overlaps the tests that run before them; the fixture waits for it."""
    if "proc" in _BACKGROUND:
        return
    root = Path(tempfile.mkdtemp(prefix="komek-static-"))
    log = tempfile.TemporaryFile()  # noqa: SIM115 - read and closed by the fixture
    proc = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env={**_production_env(root), "DATABASE_URL": os.environ["DATABASE_URL"]},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    _BACKGROUND.update(proc=proc, root=root, log=log)


def stop_collectstatic() -> None:
    proc = _BACKGROUND.get("proc")
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)
    if "root" in _BACKGROUND:
        shutil.rmtree(_BACKGROUND["root"], ignore_errors=True)


@pytest.fixture(scope="module")
def static_root() -> Path:
    start_collectstatic()
    proc, root, log = _BACKGROUND["proc"], _BACKGROUND["root"], _BACKGROUND["log"]
    proc.wait(timeout=300)
    log.seek(0)
    output = log.read().decode(errors="replace")
    log.close()
    assert proc.returncode == 0, output[-3000:]
    assert (root / "staticfiles.json").exists()  # the manifest storage ran
    return root


@pytest.fixture(scope="module")
def production_server(django_db_setup, django_db_blocker, static_root, tmp_path_factory):
    with django_db_blocker.unblock():
        env = _production_env(static_root)
    port = _free_port()
    log_path = tmp_path_factory.mktemp("gunicorn") / "server.log"
    log = log_path.open("wb")  # a file, never a pipe nobody reads (it would fill and block)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "2",
            "--timeout",
            "60",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()
        with django_db_blocker.unblock():
            _wait_for_other_connections_to_close()
        output = log_path.read_text(errors="replace")
        # 403/404 are logged by Django as warnings; a 500 would be "Internal Server Error".
        assert "Internal Server Error" not in output, output[-6000:]


def _wait_for_other_connections_to_close(timeout: float = 10) -> None:
    """The server's connections end with its processes; wait for PostgreSQL to see that, so
    the test database can be dropped at the end of the run."""
    from django.db import connection

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT application_name, state, left(query, 80) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            others = cur.fetchall()
        if not others:
            return
        time.sleep(0.2)
    print("connections still open:", others)


pytestmark_db = pytest.mark.django_db(transaction=True)


@pytestmark_db
def test_it_serves_hashed_static_files_with_debug_off(world, production_server):
    page = httpx.get(f"{production_server}/accounts/login/")
    assert page.status_code == 200
    assert "no-store" in page.headers["cache-control"]
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    css = re.search(
        r'href="(/static/vendor/bootstrap/bootstrap\.min\.[0-9a-f]{12}\.css)"', page.text
    )
    assert css, "the page links the manifest's hashed file"
    asset = httpx.get(production_server + css.group(1))
    assert asset.status_code == 200 and "max-age" in asset.headers["cache-control"]
    assert httpx.get(f"{production_server}/familycard-sim/v1/health").status_code == 404


@pytestmark_db
def test_error_pages_with_debug_off_are_in_the_readers_language_and_list_no_urls(
    world, production_server
):
    """What `make demo` serves too (DEBUG off, portal.launcher.demo_env)."""
    for lang, words in (
        ("ru", "Страница не найдена"),
        ("kk", "Бет табылмады"),
        ("en", "Page not found"),
    ):
        r = httpx.get(f"{production_server}/no-such-page/", headers={"Accept-Language": lang})
        assert r.status_code == 404 and words in r.text
        assert "URLconf" not in r.text and "api/v1/" not in r.text and "Traceback" not in r.text
    icon = re.search(r'href="(/static/favicon\.[0-9a-f]{12}\.svg)"', r.text)
    assert icon and httpx.get(production_server + icon.group(1)).status_code == 200


CSP_PROBE = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sourceFile || ''));
});
"""


def _sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.locator("input[name=login]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url("**/2fa/authenticate/**")
    page.locator("input[name=code]").fill(totp_now(username))
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url("**/home/")


HOME_MARKERS = {
    "pedagogue_a": "school-name",
    "principal_a": "school-name",
    "district_analyst": "schools-total",
    "region_analyst": "schools-total",
    "ministry_analyst": "schools-total",
}


def _pages_for(persona: str, world) -> list[str]:
    from tests.portal.access_matrix import aid_request_kwargs, rules_draft_kwargs

    if persona == "pedagogue_a":
        req = aid_request_kwargs(world)["public_id"]
        return [
            "/requests/",
            "/requests/new/",
            reverse("requests:aid-request-detail", kwargs={"public_id": req}),
            "/stats/",
            "/account/tokens/",
            "/accounts/2fa/",
            "/api/v1/docs/",
        ]
    if persona == "region_analyst":
        return ["/stats/?level=region&code=KAR", "/schools/"]
    if persona == "rules_admin":
        draft = rules_draft_kwargs(world)["public_id"]
        return ["/rules/", f"/rules/{draft}/", "/rules/golden/", "/admin/"]
    if persona == "auditor":
        return ["/audit/", "/requests/", "/admin/"]
    return []


@pytestmark_db
@pytest.mark.browser
def test_each_role_signs_in_with_totp_and_the_main_pages_keep_the_csp(world, production_server):
    personas = [
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
    # The suite hashes passwords with MD5 for speed; the production settings accept only
    # Django's default (PBKDF2), as a deployment would.
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    hasher = PBKDF2PasswordHasher()
    for persona in personas:
        user = world.user(persona)
        user.password = hasher.encode(PASSWORD, hasher.salt())
        user.save(update_fields=["password"])
    violations: list[str] = []
    with chromium_page() as page:
        page.context.add_init_script(CSP_PROBE)
        console: list[str] = []
        page.on(
            "console",
            lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page.on("pageerror", lambda exc: console.append(f"pageerror: {exc}"))
        for persona in personas:
            page.context.clear_cookies()
            _sign_in(page, production_server, persona)
            assert page.locator("[data-testid=whoami]").count() == 1, persona
            if persona in HOME_MARKERS:
                assert page.get_by_test_id(HOME_MARKERS[persona]).count() >= 1, persona
            for url in _pages_for(persona, world):
                response = page.goto(production_server + url)
                assert response is not None and response.status == 200, (persona, url)
                assert "no-store" in response.headers.get("cache-control", ""), url
                page.wait_for_load_state("networkidle")
                if url.startswith("/stats/"):
                    page.wait_for_selector("canvas[data-drawn='1']", timeout=10_000)
                if url == "/api/v1/docs/":
                    page.wait_for_selector(".swagger-ui .info", timeout=15_000)
                violations += [f"{url}: {v}" for v in page.evaluate("window.__csp")]
            page.goto(production_server + "/home/")
            violations += [f"/home/ ({persona}): {v}" for v in page.evaluate("window.__csp")]
    assert not violations, violations
    assert not console, console


@pytestmark_db
def test_the_access_matrix_holds_against_the_production_settings(world, production_server):
    """The role × route walk of test_access_matrix.py, over HTTP against gunicorn."""
    cookies = {
        persona: (
            {}
            if persona == "anon"
            else {"Cookie": f"sessionid={mfa_session_key(world.user(persona))}"}
        )
        for persona in PERSONAS
    }
    mismatches = []
    with httpx.Client(base_url=production_server, timeout=60) as client:
        for name in sorted(OWN_ROUTES):
            kwargs = ROUTE_KWARGS[name](world) if name in ROUTE_KWARGS else {}
            url = reverse(name, kwargs=kwargs)
            for persona in PERSONAS:
                got = client.get(url, headers=cookies[persona]).status_code
                if got != OWN_ROUTES[name][persona]:
                    mismatches.append((name, persona, got, OWN_ROUTES[name][persona]))
    assert not mismatches, mismatches
