"""Issue 12: the web server's and the worker's loaded heap is frozen out of the collector."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from portal import runtime


def _probe(code: str, **env: str) -> str:
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        env={**os.environ, "KOMEK_TESTING": "1", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return out.stdout.strip()


def test_loading_the_wsgi_application_freezes_the_heap_and_raises_the_thresholds():
    code = "import gc, portal.wsgi; print(gc.get_freeze_count() > 1000, gc.get_threshold())"
    assert _probe(code) == f"True {runtime.DEFAULT_THRESHOLD}"
    assert _probe(code, KOMEK_GC_THRESHOLD="700,10,10") == "True (700, 10, 10)"


def test_the_worker_settles_its_heap_when_ready():
    from celery import signals

    from portal import celery as portal_celery

    assert any(r[1]() is portal_celery._settle_heap for r in signals.worker_ready.receivers)
    assert any(r[1]() is portal_celery._settle_heap for r in signals.worker_process_init.receivers)


@pytest.mark.parametrize("raw", ["10", "1,2", "a,b,c", "1,-2,3"])
def test_a_bad_threshold_names_the_setting(monkeypatch, raw):
    monkeypatch.setenv("KOMEK_GC_THRESHOLD", raw)
    with pytest.raises(ValueError, match="KOMEK_GC_THRESHOLD"):
        runtime.threshold()
