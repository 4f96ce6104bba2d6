"""Issue 9, finding 10: a Content-Security-Policy (django-csp) with no inline script or style,
the attribute behaviours of static/js/komek.js, and ``Cache-Control: no-store`` on every
response that may carry family data. (The browser check of the main pages, with DEBUG off,
is in test_production_mode.py.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.auth import login_with_mfa
from tests.browser import chromium_page

BASE_DIR = Path(__file__).resolve().parents[2]
TEMPLATES = BASE_DIR / "templates"

INLINE = [
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"\sstyle\s*=", re.I), "inline style attribute"),
    (re.compile(r"<style[\s>]", re.I), "inline <style>"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I), "inline script"),
    (re.compile(r"\shx-on", re.I), "hx-on (evaluated script)"),
]


def test_templates_have_no_inline_script_handlers_or_styles():
    found = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        for pattern, what in INLINE:
            for m in pattern.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{path.relative_to(BASE_DIR)}:{line}: {what}")
    assert not found


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def test_every_page_sends_the_policy(world):
    c = login_with_mfa(Client(), world.user("pedagogue_a"))
    for url in ("/home/", "/requests/", "/stats/", "/account/tokens/", "/api/v1/docs/"):
        policy = _policy(c.get(url))
        assert policy["script-src"] == ["'self'"], url
        assert policy["style-src"] == ["'self'"], url
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
        assert "'unsafe-inline'" not in str(policy) and "'unsafe-eval'" not in str(policy)
    anon = _policy(Client().get(reverse("account_login")))
    assert anon["default-src"] == ["'self'"]


def test_swagger_ui_loads_its_setup_as_a_script_file(world):
    page = Client().get("/api/v1/docs/")
    body = page.content.decode()
    assert "<style" not in body and re.search(r'<script src="[^"]*\?[^"]*script', body)
    script = Client().get("/api/v1/docs/?script=")
    assert script.status_code == 200 and "javascript" in script["Content-Type"]


def test_it_forbids_caching_of_every_dynamic_response(world):
    from tests.portal.access_matrix import aid_request_kwargs

    req = aid_request_kwargs(world)["public_id"]
    c = login_with_mfa(Client(), world.user("pedagogue_a"))
    auditor = login_with_mfa(Client(), world.user("auditor"))
    responses = {
        "page": c.get(reverse("requests:aid-request-detail", kwargs={"public_id": req})),
        "fragment": c.get(
            reverse("requests:aid-request-status", kwargs={"public_id": req}),
            HTTP_HX_REQUEST="true",
        ),
        "list": c.get(reverse("requests:aid-request-list")),
        "api": c.get(reverse("api:aid-request-detail", kwargs={"public_id": req})),
        "api list": c.get(reverse("api:aid-request-list")),
        "stats export": c.get(reverse("stats:export-csv")),
        "audit export": auditor.get(reverse("audit:audit-event-export")),
        "login": Client().get(reverse("account_login")),
    }
    for what, r in responses.items():
        assert r.status_code == 200, what
        assert "no-store" in r["Cache-Control"] and "private" in r["Cache-Control"], what


BEHAVIOURS = """
<form id="confirm" data-confirm="Точно?" action="about:blank"><button type="submit">go</button></form>
<form id="once" data-disable-on-submit action="about:blank" target="sink"><button type="submit" name="b" value="1">go</button></form>
<form id="auto" action="about:blank" target="sink"><select data-autosubmit name="s"><option>a</option><option>b</option></select></form>
<div class="progress"><div id="bar" data-progress="42"></div></div>
<iframe name="sink"></iframe>
"""


@pytest.mark.browser
def test_komek_js_implements_the_attribute_behaviours():
    js = (BASE_DIR / "static" / "js" / "komek.js").read_text()
    with chromium_page() as page:
        page.set_content(BEHAVIOURS)
        page.add_script_tag(content=js)
        page.evaluate("""() => {
            window.__submits = [];
            document.addEventListener('submit', e => {
                window.__submits.push(e.target.id); e.preventDefault();
            });
        }""")
        asked = []

        def on_dialog(dialog):  # noqa: ANN001
            asked.append(dialog.message)
            dialog.dismiss()  # "Cancel": the form must not be submitted

        page.on("dialog", on_dialog)
        page.click("#confirm button")
        assert asked == ["Точно?"]
        assert "confirm" not in page.evaluate("window.__submits")
        page.click("#once button")
        page.wait_for_function("document.querySelector('#once button').disabled")
        assert page.evaluate("window.__submits").count("once") == 1
        page.select_option("#auto select", "b")
        page.wait_for_function("window.__submits.includes('auto')")
        assert page.evaluate("document.getElementById('bar').style.width") == "42%"
