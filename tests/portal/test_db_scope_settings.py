"""Issue 12: the row-level security settings are sent only when they change.

Every API call set them at its start, after authentication, around the duplicate lookup
(reading them first) and at its end. A connection now remembers what it holds, but only what
was committed: a setting made inside a transaction is not known afterwards (a rollback takes
it back), and a new connection knows nothing.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from portal.db_scope import ALL_SCHOOLS, SCHOOL_IDS, cross_school, db_scope_apply, db_scope_clear
from schools.scope import scope_for

pytestmark = pytest.mark.django_db(transaction=True)


def _settings() -> tuple[str, str]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT coalesce(current_setting(%s, true), ''), "
            "coalesce(current_setting(%s, true), '')",
            [SCHOOL_IDS, ALL_SCHOOLS],
        )
        return tuple(cur.fetchone())


class _Statements(list):
    def __call__(self, execute, sql, params, many, context):  # noqa: ANN001, ANN204
        self.append(sql)
        return execute(sql, params, many, context)


def test_the_same_settings_are_not_sent_twice(world):
    pedagogue = scope_for(world.user("pedagogue_a"))
    db_scope_clear()
    sent = _Statements()
    with connection.execute_wrapper(sent):
        db_scope_clear()
        db_scope_apply(pedagogue)
        db_scope_apply(pedagogue)
        with cross_school("test"):  # known: the previous settings are not read back
            pass
        db_scope_clear()
        db_scope_clear()
    assert [s for s in sent if "current_setting" in s] == []
    assert len(sent) == 4, sent  # apply, cross-school on, back to the school, clear
    assert _settings() == ("", "")


def test_a_setting_taken_back_by_a_rollback_is_sent_again(world):
    pedagogue = scope_for(world.user("pedagogue_a"))
    national = scope_for(world.user("auditor"))
    db_scope_apply(pedagogue)
    with pytest.raises(RuntimeError), transaction.atomic():
        db_scope_apply(national)
        assert _settings() == ("", "on")
        raise RuntimeError
    assert _settings() == (str(world.school_a.pk), "")  # the rollback took it back
    with pytest.raises(RuntimeError), transaction.atomic():
        db_scope_clear()
        raise RuntimeError
    assert _settings() == (str(world.school_a.pk), "")
    db_scope_apply(national)  # not skipped on a belief
    assert _settings() == ("", "on")
    db_scope_clear()
    assert _settings() == ("", "")


def test_a_new_connection_knows_nothing(world):
    db_scope_apply(scope_for(world.user("auditor")))
    connection.close()
    assert _settings() == ("", "")  # a new connection sees no school-owned row
    sent = _Statements()
    with connection.execute_wrapper(sent):
        db_scope_apply(scope_for(world.user("auditor")))
    assert any("set_config" in s for s in sent)
    assert _settings() == ("", "on")
    db_scope_clear()
