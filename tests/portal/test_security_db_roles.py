"""Two database roles and row-level security (issue 9, item 6).

The suite itself connects as the owner (it creates the test database and migrates it); these
tests switch the connection to the application role (``SET LOCAL ROLE``, inside the test's
transaction) and try what an attacker with the application's connection would: empty or
unhook the audit log, read other schools' requests with a query that forgot the scope.
"""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from portal.audit.models import AuditEvent
from portal.audit.services import audit_record
from portal.db_scope import (
    AUDIT_TABLE,
    RLS_TABLES,
    app_role_grant,
    cross_school,
    db_scope_apply,
    db_scope_clear,
)
from portal.requests.models import AidRequest, AidRequestScoring, Decision
from schools.scope import scope_for
from tests.dburl import app_role
from tests.portal.factories import recorded_statements, score, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def role() -> str:
    found = app_role()
    if found is None:
        pytest.skip("no application role (run through portal.launcher / make test)")
    return found[0]


@pytest.fixture
def as_app(role):
    """Run the rest of the test as the application role (back to the owner afterwards)."""
    q = connection.ops.quote_name

    def switch() -> None:
        with connection.cursor() as cur:
            cur.execute(f"SET LOCAL ROLE {q(role)}")

    yield switch
    with connection.cursor() as cur:
        cur.execute("RESET ROLE")


def _fails(sql: str) -> str:
    """Run ``sql`` in a savepoint; the error text (the test fails if it succeeds)."""
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)
    except DatabaseError as exc:
        return str(exc)
    pytest.fail(f"the application role may: {sql}")


def test_the_application_role_is_no_superuser_owner_or_rls_bypasser(role):
    with connection.cursor() as cur:
        cur.execute(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles "
            "WHERE rolname = %s",
            [role],
        )
        assert cur.fetchone() == (False, False, False, False)
        cur.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND pg_get_userbyid(c.relowner) = %s",
            [role],
        )
        assert cur.fetchone()[0] == 0


def test_migrate_grants_the_role_exactly_its_privileges(role):
    with connection.cursor() as cur:
        cur.execute(
            "SELECT privilege, has_table_privilege(%s, %s, privilege) FROM unnest(ARRAY["
            "'SELECT','INSERT','UPDATE','DELETE','TRUNCATE','TRIGGER','REFERENCES']) privilege",
            [role, AUDIT_TABLE],
        )
        audit = dict(cur.fetchall())
        cur.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r' "
            "AND NOT has_table_privilege(%s, c.oid, 'SELECT')",
            [role],
        )
        unreadable = [r[0] for r in cur.fetchall()]
        cur.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r' "
            "AND has_table_privilege(%s, c.oid, 'TRUNCATE')",
            [role],
        )
        truncatable = [r[0] for r in cur.fetchall()]
    assert audit == {
        "SELECT": True,
        "INSERT": True,
        "UPDATE": False,
        "DELETE": False,
        "TRUNCATE": False,
        "TRIGGER": False,
        "REFERENCES": False,
    }
    assert not unreadable
    assert not truncatable
    assert app_role_grant() is True  # idempotent


def test_the_application_cannot_empty_alter_or_unhook_the_audit_log(world, as_app):
    user = world.user("pedagogue_a")
    as_app()
    db_scope_apply(scope_for(user))
    event = audit_record(action="aid_request.list_view", scope=scope_for(user), actor=user)
    assert AuditEvent.objects.filter(pk=event.pk).exists()  # INSERT and SELECT: yes
    t = connection.ops.quote_name(AUDIT_TABLE)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
            [AUDIT_TABLE],
        )
        triggers = [r[0] for r in cur.fetchall()]
    assert triggers
    for sql in (
        f"TRUNCATE {t}",
        f"UPDATE {t} SET action = 'x'",  # noqa: S608
        f"DELETE FROM {t}",  # noqa: S608
        f"ALTER TABLE {t} DISABLE TRIGGER ALL",
        f"ALTER TABLE {t} DISABLE TRIGGER {connection.ops.quote_name(triggers[0])}",
        f"DROP TRIGGER {connection.ops.quote_name(triggers[0])} ON {t}",
        f"DROP TABLE {t}",
        f"ALTER TABLE {t} OWNER TO CURRENT_USER",
        f"ALTER TABLE {t} DISABLE ROW LEVEL SECURITY",
        "TRUNCATE portal_aidrequest CASCADE",
        "CREATE TABLE komek_attacker (x int)",
        "ALTER TABLE portal_aidrequest DISABLE ROW LEVEL SECURITY",
        "DROP POLICY komek_school_scope ON portal_aidrequest",
    ):
        message = _fails(sql)
        assert "permission denied" in message or "must be owner" in message or "denied" in message
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.fixture
def two_schools(world, no_enqueue):
    """A scored and decided request at school A (Karaganda), one at school C (Shymkent)."""
    from portal.requests import services

    a = submit(world, "pedagogue_a")
    score(a)
    a.refresh_from_db()
    user = world.user("pedagogue_a")
    services.aid_request_decide(
        scope=scope_for(user), actor=user, aid_request=a, outcome="reject", reason="тест"
    )
    c = submit(world, "pedagogue_c")
    score(c)
    return a, c


def test_a_query_that_forgets_the_scope_gets_nothing(world, two_schools, as_app):
    as_app()
    db_scope_clear()
    assert AidRequest.objects.unscoped().count() == 0
    assert AidRequestScoring.objects.count() == 0
    assert Decision.objects.count() == 0
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM portal_aidrequest")
        assert cur.fetchone()[0] == 0


def test_rows_follow_the_scope_of_the_request(world, two_schools, as_app):
    a, c = two_schools
    as_app()
    db_scope_apply(scope_for(world.user("pedagogue_a")))
    assert list(AidRequest.objects.unscoped().values_list("pk", flat=True)) == [a.pk]
    assert set(AidRequestScoring.objects.values_list("request_id", flat=True)) == {a.pk}
    assert Decision.objects.count() == 1
    db_scope_apply(scope_for(world.user("pedagogue_c")))
    assert list(AidRequest.objects.unscoped().values_list("pk", flat=True)) == [c.pk]
    assert Decision.objects.count() == 0
    db_scope_apply(scope_for(world.user("region_analyst")))  # Karaganda region
    assert list(AidRequest.objects.unscoped().values_list("pk", flat=True)) == [a.pk]
    db_scope_apply(scope_for(world.user("auditor")))  # national
    assert AidRequest.objects.unscoped().count() == 2
    db_scope_apply(scope_for(world.user("norole")))
    assert AidRequest.objects.unscoped().count() == 0


def test_a_row_cannot_be_written_into_another_school(world, two_schools, as_app):
    _a, c = two_schools
    as_app()
    db_scope_apply(scope_for(world.user("pedagogue_a")))
    # invisible, so not updatable either
    assert AidRequest.objects.unscoped().filter(pk=c.pk).update(comment="x") == 0
    with connection.cursor() as cur:
        cur.execute("SELECT set_config('komek.school_ids', %s, false)", [str(world.school_a.pk)])
    a, c = world.school_a.pk, world.school_c.pk
    message = _fails(f"UPDATE portal_aidrequest SET school_id = {c} WHERE school_id = {a}")  # noqa: S608
    assert "row-level security" in message
    message = _fails(
        "SELECT set_config('komek.school_ids', '1) OR (true', false); "
        "SELECT count(*) FROM portal_aidrequest"
    )
    assert "invalid input syntax" in message


def test_cross_school_jobs_say_so(world, two_schools, as_app):
    as_app()
    db_scope_clear()
    with cross_school("test: a rebuild"):
        assert AidRequest.objects.unscoped().count() == 2
    assert AidRequest.objects.unscoped().count() == 0


def test_the_rls_tables_are_the_policys(role):
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relrowsecurity"
        )
        enabled = {r[0] for r in cur.fetchall()}
    assert set(RLS_TABLES) <= enabled


def test_pages_and_the_api_work_as_the_application_role(world, two_schools, as_app, client_for):
    a, c = two_schools
    pedagogue = client_for("pedagogue_a")
    auditor = client_for("auditor")
    as_app()
    db_scope_clear()
    page = pedagogue.get("/requests/")
    assert page.status_code == 200
    assert str(a.public_id) in page.content.decode()
    assert str(c.public_id) not in page.content.decode()
    assert pedagogue.get(f"/requests/{a.public_id}/").status_code == 200
    assert pedagogue.get(f"/requests/{c.public_id}/").status_code == 404
    r = pedagogue.get("/api/v1/aid-requests/")
    assert r.status_code == 200 and r.json()["count"] == 1
    assert auditor.get(f"/requests/{c.public_id}/").status_code == 200
    assert pedagogue.get("/payments/").status_code == 200
    assert pedagogue.get("/payments/register.csv").status_code == 200
    # between requests the connection sees nothing again
    assert AidRequest.objects.unscoped().count() == 0


def test_payments_follow_the_scope_of_their_decision(world, two_schools, as_app):
    from portal.payments.models import Payment

    a, _c = two_schools
    decision = Decision.objects.get(request=a)
    Payment.objects.create(decision=decision, reference="KMK-RLS", amount_kzt=1)
    as_app()
    db_scope_clear()
    assert Payment.objects.count() == 0
    db_scope_apply(scope_for(world.user("pedagogue_a")))
    assert Payment.objects.count() == 1
    db_scope_apply(scope_for(world.user("pedagogue_c")))
    assert Payment.objects.count() == 0


def test_budgets_follow_the_scope_of_their_school(world, two_schools, as_app, client_for):
    from portal.budgets.models import Budget

    Budget.objects.create(school=world.school_a, academic_year="2026-2027", amount_kzt=10)
    Budget.objects.create(school=world.school_c, academic_year="2026-2027", amount_kzt=20)
    finance = client_for("district_finance")
    as_app()
    db_scope_clear()
    assert Budget.objects.count() == 0
    db_scope_apply(scope_for(world.user("district_finance")))  # Kazybek Bi: school_a only
    assert list(Budget.objects.values_list("amount_kzt", flat=True)) == [10]
    db_scope_apply(scope_for(world.user("ministry_analyst")))
    assert Budget.objects.count() == 2
    db_scope_clear()
    assert finance.get("/budgets/").status_code == 200


def test_appeals_follow_the_scope_and_the_reviewer_works_as_the_application_role(
    world, no_enqueue, as_app, client_for, settings, tmp_path
):
    from portal.appeals.models import Appeal, AppealAttachment
    from portal.appeals.services import appeal_file
    from tests.portal.appeals.helpers import decided, png_file

    settings.MEDIA_ROOT = tmp_path
    req = decided(world)
    user = world.user("pedagogue_a")
    appeal = appeal_file(
        scope=scope_for(user), actor=user, aid_request=req, reason="Доводы", files=[png_file()]
    )
    reviewer, other = client_for("district_reviewer"), client_for("district_reviewer_tem")
    as_app()
    db_scope_clear()
    assert Appeal.objects.count() == 0 and AppealAttachment.objects.count() == 0
    assert reviewer.get(f"/appeals/{appeal.public_id}/").status_code == 200
    assert other.get(f"/appeals/{appeal.public_id}/").status_code == 404
    r = reviewer.post(
        f"/api/v1/appeals/{appeal.public_id}/decision/",
        {"outcome": "upheld", "note": "Проверено"},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    db_scope_clear()
    assert Appeal.objects.count() == 0


def test_a_real_application_connection_cannot_become_the_owner(role):
    """Over its own login (not SET ROLE from the owner's session): no way up."""
    import psycopg

    from tests.dburl import app_database_url

    with psycopg.connect(app_database_url(), autocommit=True) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == role
        assert conn.execute("SELECT count(*) FROM portal_aidrequest").fetchone()[0] == 0
        owner = connection.settings_dict["USER"]
        for sql in (
            f"SET ROLE {connection.ops.quote_name(owner)}",
            "SET session_replication_role = replica",
            f"TRUNCATE {AUDIT_TABLE}",
            "ALTER ROLE CURRENT_USER BYPASSRLS",
            "CREATE EXTENSION IF NOT EXISTS dblink",
        ):
            with pytest.raises(psycopg.Error):
                conn.execute(sql)


def test_a_celery_task_runs_cross_school_and_leaves_nothing_behind(
    world, two_schools, as_app, no_enqueue, monkeypatch
):
    import datetime as dt

    from django.utils import timezone

    from portal.requests import tasks
    from portal.requests.tasks import aid_requests_requeue_stuck

    # The sweeper re-queues `queued` requests only while the scoring queue is empty; messages
    # other tests left on the shared broker must not decide this test.
    monkeypatch.setattr(tasks, "_scoring_backlog", lambda: 0)

    stuck = submit(world, "pedagogue_c", aid_kind="meals")
    AidRequest.objects.filter(pk=stuck.pk).update(
        status_changed_at=timezone.now() - dt.timedelta(days=1)
    )
    as_app()
    db_scope_apply(scope_for(world.user("pedagogue_a")))  # a school-A request is running
    result = aid_requests_requeue_stuck.apply()  # task_prerun / task_postrun signals
    assert result.get() == 1  # saw the Shymkent request although the caller's scope is A
    assert list(AidRequest.objects.unscoped().values_list("school_id", flat=True)) == [
        world.school_a.pk
    ]  # the caller's scope is back


def test_the_duplicate_lookup_crosses_schools_without_touching_the_connection(
    world, as_app, no_enqueue
):
    """Issue 12: one child, one grant is a SECURITY DEFINER function (migration 0020): as
    the application role, scoped to one school, it finds the other school's request, and the
    connection's settings are not switched to all schools and back around it."""
    from portal.budgets.duplicates import aid_request_duplicates, request_code
    from tests.portal.factories import student_iin

    a = submit(world, "pedagogue_a", student_iin=student_iin(41))
    c = submit(world, "pedagogue_c", student_iin=student_iin(41))
    as_app()
    db_scope_apply(scope_for(world.user("pedagogue_a")))
    assert AidRequest.objects.unscoped().filter(pk=c.pk).count() == 0  # hidden from A
    with recorded_statements() as statements:
        found = aid_request_duplicates(aid_request=a)
    assert [(d.school_name, d.request_code) for d in found] == [
        (world.school_c.name, request_code(c))
    ]
    assert len(statements) == 1 and "set_config" not in statements[0]
    with connection.cursor() as cur:
        cur.execute("SELECT current_setting('komek.all_schools', true)")
        assert cur.fetchone()[0] in (None, "")
