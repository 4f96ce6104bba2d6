"""Production settings pass Django's deployment checks when given real values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings


def test_it_passes_check_deploy_with_production_values():
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "KOMEK_TESTING", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        SECRET_KEY="x7Hq-" + "k3P9vZ2mWq8rT5yL1nB6cX4jF0gD7sA" * 2,
        ALLOWED_HOSTS="komek.edu.kz",
        DATABASE_URL=os.environ["DATABASE_URL"],
        CELERY_BROKER_URL=os.environ["CELERY_BROKER_URL"],
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_refuses_to_start_without_a_secret_key_in_production():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "KOMEK_TESTING", "SECRET_KEY"}}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
