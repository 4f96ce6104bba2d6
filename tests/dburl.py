"""The URL of the test database, for the real processes a test starts (worker, server, CLI)."""

from __future__ import annotations

from urllib.parse import quote

from django.db import connection


def current_database_url() -> str:
    """`DATABASE_URL` for the database this test process uses: TCP or a unix socket directory
    (embedded PostgreSQL), with the password if any."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    # A socket directory (embedded PostgreSQL) is percent-encoded as the host.
    netloc = quote(host, safe="") if host.startswith("/") else f"{host}:{db['PORT'] or 5432}"
    return f"postgres://{auth}@{netloc}/{db['NAME']}"


def app_role() -> tuple[str, str] | None:
    """The application's database role and password given by the launcher
    (``DATABASE_APP_ROLE`` / ``DATABASE_APP_PASSWORD``, set once it has created the role)."""
    import os

    role = os.environ.get("DATABASE_APP_ROLE")
    if not role or "DATABASE_APP_PASSWORD" not in os.environ:
        return None  # the launcher sets both once it has created the role
    return role, os.environ.get("DATABASE_APP_PASSWORD", "")


def app_database_url() -> str | None:
    """`DATABASE_URL` of the test database for the application role (None without one)."""
    found = app_role()
    if found is None:
        return None
    role, password = found
    url = current_database_url()
    host = url.split("@", 1)[1]
    auth = quote(role, safe="") + (":" + quote(password, safe="") if password else "")
    return f"postgres://{auth}@{host}"
