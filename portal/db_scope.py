"""Defence in depth under the scope: two database roles and PostgreSQL row-level security.

* **Roles.** Migrations run as the *owner* (``DATABASE_URL`` of ``manage.py migrate``); the web
  server, the Celery worker and beat connect as the *application role*
  (``DATABASE_APP_ROLE``, default ``komek_app``): no ownership, no DDL, no TRUNCATE, and on
  the audit table only SELECT and INSERT — so the application cannot empty, alter or unhook
  its own audit log. :func:`app_role_grant` (run after every ``migrate``, see
  ``portal.apps``) gives the role exactly that; ``portal.launcher`` creates the role.
* **Row-level security** on the school-owned aid-request tables (:data:`RLS_TABLES`): a row is
  visible to the application role only when its school is in the connection's
  ``komek.school_ids`` setting, or when ``komek.all_schools`` is ``on``. Nothing set → no row:
  a query that forgot ``.for_scope(scope)`` gets nothing rather than everything.
  :func:`db_scope_apply` sets both from the request's :class:`~schools.scope.Scope` (the
  middleware for pages, ``ScopedAPIView`` for the API) and :func:`db_scope_clear` resets them
  when the request ends. National scopes (ministry analysts, auditors, rules administrators,
  superusers) see every school, as their scope says.
* **Cross-school jobs** say so: :func:`cross_school` (``with cross_school("reason"):``) —
  Celery tasks (around every task, ``portal.celery``), the statistics rebuild, the pilot
  seeding and report, the impact preview's scan processes.

The owner is not subject to row-level security (it is not forced), so migrations and the
operator's own commands see every row.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connection as default_connection
from django.db.backends.signals import connection_created
from django.dispatch import receiver

log = logging.getLogger(__name__)

SCHOOL_IDS = "komek.school_ids"
ALL_SCHOOLS = "komek.all_schools"
AUDIT_TABLE = "portal_auditevent"

# table → the policy's condition (``komek_school_visible`` is created by the migration)
RLS_TABLES: dict[str, str] = {
    "portal_aidrequest": "komek_school_visible(school_id)",
    "portal_aidrequestscoring": (
        "EXISTS (SELECT 1 FROM portal_aidrequest r WHERE r.id = request_id)"
    ),
    "portal_decision": "EXISTS (SELECT 1 FROM portal_aidrequest r WHERE r.id = request_id)",
    # migration 0009: the family's letters and notices
    "portal_letter": "komek_school_visible(school_id)",
    "portal_notice": "EXISTS (SELECT 1 FROM portal_aidrequest r WHERE r.id = request_id)",
    # the appeals migration: the family's appeals and their attachments
    "portal_appeal": "komek_school_visible(school_id)",
    "portal_appealattachment": ("EXISTS (SELECT 1 FROM portal_appeal a WHERE a.id = appeal_id)"),
    # migration 0015: payments, visible with their decision
    "portal_payment": "EXISTS (SELECT 1 FROM portal_decision d WHERE d.id = decision_id)",
    # migration 0018: the schools' budgets and the retention records of the requests
    "portal_budget": "komek_school_visible(school_id)",
    "portal_retentionhold": "EXISTS (SELECT 1 FROM portal_aidrequest r WHERE r.id = request_id)",
    "portal_retentionerasure": (
        "EXISTS (SELECT 1 FROM portal_aidrequest r WHERE r.id = request_id)"
    ),
}

#: SQL that makes a raw connection cross-school (for processes outside Django's connection).
CROSS_SCHOOL_SQL = f"SELECT set_config('{ALL_SCHOOLS}', 'on', false)"


def _values_for(scope: Any) -> tuple[str, str]:
    if scope is None or getattr(scope, "level", "none") == "none":
        return "", ""
    if scope.sees_all_schools:
        return "", "on"
    return ",".join(str(int(i)) for i in sorted(scope.school_ids)), ""


#: Attribute on the driver's connection object: the two settings as last *committed* on it
#: (set outside any transaction), or ``None`` when not known. A set inside a transaction is
#: not known (a rollback would take it back), and a new connection has no attribute.
_KNOWN = "_komek_rls_settings"


def _known(conn: Any) -> tuple[str, str] | None:
    raw = conn.connection
    return getattr(raw, _KNOWN, None) if raw is not None else None


def _set(school_ids: str, all_schools: str, connection: Any = None) -> None:
    """Set both settings, unless the connection is known to hold them already (measured: the
    redundant ``set_config`` round trips were a fifth of an API call's statements)."""
    conn = connection or default_connection
    if conn.vendor != "postgresql":
        return
    wanted = (school_ids, all_schools)
    if _known(conn) == wanted:
        return
    if conn.connection is not None:
        setattr(conn.connection, _KNOWN, None)  # unknown until the statement succeeds
    with conn.cursor() as cur:
        cur.execute(
            "SELECT set_config(%s, %s, false), set_config(%s, %s, false)",
            [SCHOOL_IDS, school_ids, ALL_SCHOOLS, all_schools],
        )
    if conn.connection is not None and not conn.in_atomic_block and conn.get_autocommit():
        setattr(conn.connection, _KNOWN, wanted)


def db_scope_apply(scope: Any) -> None:
    """The connection sees the rows of ``scope``'s schools (all of them for a national scope,
    none for no scope)."""
    _set(*_values_for(scope))


def db_scope_clear() -> None:
    """The connection sees no school-owned row (the state between requests)."""
    if default_connection.connection is None:
        return  # nothing was ever set on a connection that is not open
    try:
        _set("", "")
    except Exception:  # noqa: BLE001 - a broken connection is closed by Django anyway
        log.debug("could not clear the row-level security settings", exc_info=True)


_cross = threading.local()


@contextmanager
def cross_school(reason: str) -> Iterator[None]:
    """A deliberate cross-school job (``reason`` names it in the debug log): every school's
    rows are visible inside the block; the previous settings come back after it.

    A connection opened inside the block (Celery's worker closes an obsolete one before each
    task; a task drops one after a database error) is made cross-school too, as it opens
    (``connection_created``): otherwise row-level security would hide every row from it."""
    conn = default_connection
    if conn.vendor != "postgresql":
        yield
        return
    previous = _known(conn)
    if previous is None:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT coalesce(current_setting(%s, true), ''), "
                "coalesce(current_setting(%s, true), '')",
                [SCHOOL_IDS, ALL_SCHOOLS],
            )
            previous = cur.fetchone()
    log.debug("cross-school database access: %s", reason)
    _set("", "on")
    _cross.depth = getattr(_cross, "depth", 0) + 1
    try:
        yield
    finally:
        _cross.depth -= 1
        try:
            _set(*previous)
        except Exception:  # noqa: BLE001 - the connection broke inside the block
            log.debug("could not restore the row-level security settings", exc_info=True)


@receiver(connection_created, dispatch_uid="portal.db_scope.cross_school_on_connect")
def _cross_school_on_connect(sender: Any, connection: Any, **kwargs: Any) -> None:
    if getattr(_cross, "depth", 0) and connection.vendor == "postgresql":
        _set("", "on", connection)


# --------------------------------------------------------------------------- roles


def app_role_name() -> str:
    return getattr(settings, "DATABASE_APP_ROLE", "") or "komek_app"


def app_role_grant(connection: Any = None, role: str | None = None) -> bool:
    """Give the application role exactly its privileges on this database (idempotent; run by
    the owner after ``migrate``). Returns False (and changes nothing) when the role does not
    exist or the connection is not the owner's."""
    conn = connection or default_connection
    if conn.vendor != "postgresql":
        return False
    role = role or app_role_name()
    q = conn.ops.quote_name
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cur.fetchone() is None:
            return False
        cur.execute("SELECT current_user = %s", [role])
        if cur.fetchone()[0]:
            return False  # the application role never grants itself anything
        cur.execute("SELECT current_database(), current_schema()")
        database, schema = cur.fetchone()
        r, s = q(role), q(schema)
        cur.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') "
            "AND pg_has_role(current_user, c.relowner, 'USAGE')",
            [schema],
        )
        tables = [row[0] for row in cur.fetchall()]
        statements = [
            f"GRANT CONNECT ON DATABASE {q(database)} TO {r}",
            f"GRANT USAGE ON SCHEMA {s} TO {r}",
            f"REVOKE CREATE ON SCHEMA {s} FROM {r}",
            f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {r}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
            f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {s} TO {r}",
        ]
        if AUDIT_TABLE in tables:
            # append-only, also for the application itself
            statements.append(f"REVOKE ALL ON {q(AUDIT_TABLE)} FROM {r}")
            statements.append(f"GRANT SELECT, INSERT ON {q(AUDIT_TABLE)} TO {r}")
        for sql in statements:
            cur.execute(sql)
    return True


def app_role_grant_after_migrate(sender: Any = None, using: str = "default", **kwargs: Any) -> None:
    """``post_migrate``: refresh the application role's privileges (new tables included)."""
    from django.db import connections

    try:
        app_role_grant(connections[using])
    except Exception:  # noqa: BLE001 - e.g. an owner without the right to grant: say so
        log.warning("could not grant the application role its privileges", exc_info=True)


def cross_school_job(reason: str) -> Any:
    """Decorator form of :func:`cross_school` (management commands, batch functions)."""
    from functools import wraps

    def decorate(fn: Any) -> Any:
        @wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with cross_school(reason):
                return fn(*args, **kwargs)

        return run

    return decorate
