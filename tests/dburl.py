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
