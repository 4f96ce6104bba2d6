"""Playwright with Debian's chromium (never a downloaded browser)."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium_page(locale: str = "ru-RU"):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Debian chromium not found at {CHROMIUM}: `make test` installs it with apt")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale=locale)
            yield context.new_page()
        finally:
            browser.close()


# --- accessibility: axe-core (static/vendor/axe, from npm), injected only here ---------------
AXE_JS = Path(__file__).resolve().parents[1] / "static" / "vendor" / "axe" / "axe.min.js"
#: The impacts that fail a page (issue 16: 0 serious or critical violations).
AXE_FAILING = ("serious", "critical")
_AXE_RUN = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' — ' + (n.failureSummary || '').split('\\n').slice(0, 2).join(' ')),
  }));
}"""


def axe_violations(page, impacts: tuple[str, ...] = AXE_FAILING) -> list[dict]:  # noqa: ANN001
    """Run axe-core on the page as it is now; the violations of the given impacts.

    The script is evaluated through the DevTools protocol, so the page's own
    Content-Security-Policy (script-src 'self') stays as it is and nothing is loaded from
    anywhere but this checkout."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
    return [v for v in page.evaluate(_AXE_RUN) if v["impact"] in impacts]


def assert_accessible(page, where: str = "") -> None:  # noqa: ANN001
    found = axe_violations(page)
    assert not found, f"axe-core on {where or page.url}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in found
    )


# --- phones: 390 px wide ------------------------------------------------------------------------
PHONE = {"width": 390, "height": 844}
_OVERFLOW = r"""() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  if (document.documentElement.scrollWidth > width + 1) {
    const wide = [...document.body.querySelectorAll('*')].filter(e => {
      const r = e.getBoundingClientRect();
      return r.right > width + 1 && r.width > 0 && ![...e.children].some(c => c.getBoundingClientRect().right > width + 1);
    }).slice(0, 3).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : ''));
    out.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + width + ' (' + wide.join(', ') + ')');
  }
  for (const t of document.querySelectorAll('table')) {
    let el = t.parentElement, scrolls = false;
    while (el && el !== document.body) {
      const o = getComputedStyle(el).overflowX;
      if (o === 'auto' || o === 'scroll') { scrolls = true; break; }
      el = el.parentElement;
    }
    if (!scrolls && t.getBoundingClientRect().width > width + 1)
      out.push('a table wider than the screen outside a scrolling container: ' + (t.id || t.className));
  }
  return out;
}"""


def phone_layout_problems(page) -> list[str]:  # noqa: ANN001
    """Sideways scrolling of the whole page, or a table that does not scroll in its box."""
    return page.evaluate(_OVERFLOW)
