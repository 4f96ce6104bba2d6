"""Helpers of the tests that run a REAL Celery worker (a subprocess on Redis)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from portal.requests.models import AidRequest

ROOT = Path(__file__).resolve().parents[2]
WORKER_APP_NAME = "komek-test-worker"


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def status_of(req: AidRequest) -> str:
    return AidRequest.objects.get(pk=req.pk).status


class Worker:
    """A real worker on the test's queue and its sweeper queue; ``beat=True`` embeds beat."""

    def __init__(self, env: dict[str, str], queue: str) -> None:
        self.env, self.queue = env, queue
        self.proc: subprocess.Popen | None = None
        self.beat = False

    def start(self, **env: str) -> None:
        self.env = {**self.env, **env}
        cmd = [
            sys.executable, "-m", "celery", "-A", "portal", "worker", "-P", "solo",
            "-Q", f"{self.queue},{self.queue}-sweeper", "--without-heartbeat", "--without-gossip", "--without-mingle",
            "--loglevel", "WARNING",
        ]  # fmt: skip
        if self.beat:
            schedule = Path(tempfile.gettempdir()) / f"komek-beat-{self.queue}"
            cmd += ["-B", "-s", str(schedule)]
        self.proc = subprocess.Popen(  # noqa: S603 - fixed argv
            cmd, cwd=ROOT, env=self.env, start_new_session=True
        )

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
