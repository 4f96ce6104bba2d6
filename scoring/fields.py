"""Model fields shared by the apps."""

from __future__ import annotations

from typing import Any

from django.db import models


class BulkJSONField(models.JSONField):
    """A ``JSONField`` that ``bulk_create`` inserts with ``VALUES`` rather than PostgreSQL's
    ``UNNEST`` of arrays (Django 5.2 picks ``UNNEST`` for fields without a placeholder).

    Sent as a ``jsonb[]`` array, every document is escaped once more by psycopg's text array
    dumper, one regular-expression match per quote in the JSON: measured 10 ms of CPU per
    scored request for a card and its trace, against 0.5 ms through ``VALUES`` (bench/
    pipeline.py --backlog). The column, the value and its encoding are unchanged.
    """

    def get_placeholder(self, value: Any, compiler: Any, connection: Any) -> str:
        return "%s"
