"""Issue 12: PostgreSQL parses and plans a statement the portal repeats once per connection
(psycopg's prepared statements, which Django turns off unless asked)."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_a_repeated_statement_is_prepared_on_the_connection():
    assert connection.settings_dict["OPTIONS"]["prepare_threshold"] == 5
    sql = "SELECT count(*) FROM schools_region WHERE id > %s"
    with connection.cursor() as cur:
        for n in range(7):
            cur.execute(sql, [n])
        cur.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cur.fetchall()]
    assert any("schools_region" in s for s in prepared), prepared
