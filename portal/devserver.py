"""Development servers that give their database connections back.

Django's threaded development server (``runserver``, ``familycard_sim serve``) answers each
connection in a new thread; with ``CONN_MAX_AGE`` > 0 every thread left its PostgreSQL
connection open after it ended, and a few dev servers together exhausted ``max_connections``.
:class:`ClosingWSGIServer` closes the thread's connections when it has answered.
"""

from __future__ import annotations

from typing import Any

from django.core.servers.basehttp import WSGIServer
from django.db import connections


class ClosingWSGIServer(WSGIServer):
    def shutdown_request(self, request: Any) -> None:
        try:
            super().shutdown_request(request)
        finally:
            # Runs in the thread that answered (socketserver.ThreadingMixIn.process_request_thread).
            connections.close_all()


def install_for_runserver() -> None:
    """``runserver`` (and staticfiles' subclass of it) builds its server from ``server_cls``."""
    from django.core.management.commands import runserver

    runserver.Command.server_cls = ClosingWSGIServer
