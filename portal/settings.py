"""Komek settings: everything comes from the environment (12-factor).

Importing this module never starts a server. With no DATABASE_URL / CELERY_BROKER_URL the
launcher (`python -m portal.launcher`, used by `make demo` and `make test`) starts embedded
PostgreSQL and Redis under var/ and passes their URLs in the environment.
"""

from __future__ import annotations

import datetime as dt
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [p.strip() for p in os.environ.get(name, default).split(",") if p.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or env_bool("KOMEK_TESTING"):
        SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"  # noqa: S105
    else:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")

# The ИИН is kept unique and looked up through HMAC-SHA256 with this key (schools/iinkey.py), so
# that no database or application log carries it. Required with DEBUG off (komek.E010); a fixed
# development key otherwise. Changing it needs `manage.py iin_rehash` (recomputes the stored digests).
IIN_HMAC_DEV_KEY = "dev-only-iin-hmac-key-do-not-use-in-production"  # noqa: S105
IIN_HMAC_KEY = os.environ.get("IIN_HMAC_KEY", "") or (
    IIN_HMAC_DEV_KEY if DEBUG or env_bool("KOMEK_TESTING") else ""
)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    "csp",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "schools",
    "scoring",
    "portal",
    "portal.accounts",
]
# The family card simulator is a development tool: installed and mounted only when enabled
# explicitly (`make demo` and `make test` do); with DEBUG off a system check refuses it unless
# FAMILY_CARD_SIM_ALLOW_PRODUCTION and a FAMILY_CARD_SIM_SECRET are set (portal/checks.py).
FAMILY_CARD_SIM_ENABLED = env_bool("FAMILY_CARD_SIM_ENABLED", False)
if FAMILY_CARD_SIM_ENABLED:
    INSTALLED_APPS.insert(INSTALLED_APPS.index("portal"), "scoring.simulator")

MIDDLEWARE = [
    "portal.metrics.RequestTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.middleware.BodySizeLimitMiddleware",
    "csp.middleware.CSPMiddleware",
    "portal.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.middleware.ScopeMiddleware",
    "portal.middleware.RequireMFAMiddleware",
]

ROOT_URLCONF = "portal.urls"
CSRF_FAILURE_VIEW = "portal.errors.csrf_failure"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "portal.context_processors.navigation",
            ],
        },
    }
]

# --- Database: PostgreSQL only -------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Run through `make demo` / `make test` (they start an embedded "
        "PostgreSQL when none is configured) or export DATABASE_URL=postgres://…"
    )
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        # A connection killed under a worker (PostgreSQL restarted, pg_terminate_backend) is
        # noticed before it is reused instead of failing the next task.
        conn_health_checks=True,
    )
}
# Server-side parameter binding: psycopg then prepares a statement run five times on a
# connection, so PostgreSQL parses and plans it once per connection instead of every time.
if env_bool("DB_SERVER_SIDE_BINDING", True):
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
    # Django turns psycopg's preparation off unless asked (for transaction-mode poolers, which
    # Komek does not use): on, PostgreSQL's CPU per API submission fell from 5.4 to 2.7 ms
    # (bench/api.py). DB_PREPARE_THRESHOLD= (empty) turns it off behind such a pooler.
    _prepare = os.environ.get("DB_PREPARE_THRESHOLD", "5")
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = int(_prepare) if _prepare else None
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("Komek runs on PostgreSQL only (DATABASE_URL must be postgres://)")
DATABASES["default"].setdefault("TEST", {})
if os.environ.get("KOMEK_TEST_DB_NAME"):
    DATABASES["default"]["TEST"]["NAME"] = os.environ["KOMEK_TEST_DB_NAME"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The application's database role (portal/db_scope.py): the web server, worker and beat connect
# as it (DATABASE_URL of those processes); `migrate` runs as the owner and grants it its
# privileges. Row-level security applies to it, not to the owner.
DATABASE_APP_ROLE = os.environ.get("DATABASE_APP_ROLE", "komek_app")

# --- Redis / Celery --------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
if not CELERY_BROKER_URL:
    raise ImproperlyConfigured(
        "CELERY_BROKER_URL is not set. Run through `make demo` / `make test` or export "
        "CELERY_BROKER_URL=redis://127.0.0.1:6379/0"
    )


def _redis_url_from_broker(url: str) -> str:
    if url.startswith("redis+socket://"):
        return "unix://" + url[len("redis+socket://") :]
    return url


REDIS_URL = os.environ.get("REDIS_URL") or _redis_url_from_broker(CELERY_BROKER_URL)

CACHES = {
    "default": {
        "BACKEND": "portal.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX")
        or (f"komek-test-{os.getpid()}" if env_bool("KOMEK_TESTING") else "komek"),
    }
}

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "komek")
CELERY_TIMEZONE = "Asia/Almaty"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Timing invariants (asserted in tests/portal/test_celery_settings.py):
#   card fetch deadline (all attempts)  <  task soft limit  <  hard limit
#   <  sweeper threshold for `scoring`  <  broker visibility timeout
FAMILY_CARD_CONNECT_TIMEOUT = float(os.environ.get("FAMILY_CARD_CONNECT_TIMEOUT", "2"))
FAMILY_CARD_READ_TIMEOUT = float(os.environ.get("FAMILY_CARD_READ_TIMEOUT", "5"))
FAMILY_CARD_ATTEMPTS = int(os.environ.get("FAMILY_CARD_ATTEMPTS", "3"))
# The whole card fetch (every attempt, the backoffs and a body that trickles in) ends by then.
FAMILY_CARD_DEADLINE = float(os.environ.get("FAMILY_CARD_DEADLINE", "20"))
# fetch_many(): ИИНs per POST v1/cards/batch of the card service (0: one GET per card).
FAMILY_CARD_BATCH_SIZE = int(os.environ.get("FAMILY_CARD_BATCH_SIZE", "50"))
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
# Retries of the scoring task: transient failures (card service, database) are retried with
# exponential backoff and jitter while both budgets last: at most SCORING_TASK_MAX_RETRIES
# counted retries and SCORING_RETRY_BUDGET seconds since the first try. Refusals of an open
# circuit breaker are rescheduled without counting (only the time budget applies). After the
# budget a request the card service could not answer goes to needs_review (card_unavailable)
# and is re-queued automatically once the service answers again.
SCORING_TASK_MAX_RETRIES = int(os.environ.get("SCORING_TASK_MAX_RETRIES", "5"))
SCORING_RETRY_BACKOFF_BASE = float(os.environ.get("SCORING_RETRY_BACKOFF_BASE", "2"))
SCORING_RETRY_BACKOFF_MAX = 120
SCORING_RETRY_BUDGET = float(os.environ.get("SCORING_RETRY_BUDGET", "300"))
# Card client: backoff between attempts inside one task, and the shared circuit breaker (opens
# on the failure rate over a window; several half-open probes).
FAMILY_CARD_BACKOFF_BASE = float(os.environ.get("FAMILY_CARD_BACKOFF_BASE", "0.5"))

# Statistics above the school: counts below this are hidden, with complementary suppression
# (portal/stats/suppression.py).
STATS_MIN_CELL = int(os.environ.get("STATS_MIN_CELL", "5"))
FAMILY_CARD_BACKOFF_MAX = float(os.environ.get("FAMILY_CARD_BACKOFF_MAX", "4"))
FAMILY_CARD_BREAKER_FAILURES = int(os.environ.get("FAMILY_CARD_BREAKER_FAILURES", "5"))
FAMILY_CARD_BREAKER_RATE = float(os.environ.get("FAMILY_CARD_BREAKER_RATE", "0.5"))
FAMILY_CARD_BREAKER_WINDOW = float(os.environ.get("FAMILY_CARD_BREAKER_WINDOW", "30"))
FAMILY_CARD_BREAKER_PROBES = int(os.environ.get("FAMILY_CARD_BREAKER_PROBES", "3"))
FAMILY_CARD_BREAKER_COOLDOWN = float(os.environ.get("FAMILY_CARD_BREAKER_COOLDOWN", "15"))
# The stuck-request sweeper (portal.aid_requests_requeue_stuck, on its own queue
# "<default queue>-sweeper"): a request `queued` for longer than STUCK_QUEUED_AFTER while the
# scoring queue is empty lost its message (broker restart, broker down at submission); one in
# `scoring` for longer than STUCK_SCORING_AFTER (just above the hard time limit) lost its
# worker. Beat runs it every SWEEPER_INTERVAL seconds; every worker also runs it as soon as
# it (re)connects to the broker.
STUCK_QUEUED_AFTER = timedelta(seconds=float(os.environ.get("STUCK_QUEUED_AFTER", "20")))
STUCK_SCORING_AFTER = timedelta(
    seconds=float(os.environ.get("STUCK_SCORING_AFTER", str(CELERY_TASK_TIME_LIMIT + 10)))
)
STUCK_REQUEST_THRESHOLD = STUCK_SCORING_AFTER  # the older name
SWEEPER_INTERVAL = float(os.environ.get("SWEEPER_INTERVAL", "10"))
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Single submissions (and their notices) that arrive while a drain task waits for a worker
# are scored (and delivered) by it, set-based (portal/coalesce.py); > 0 also delays each drain
# by this many seconds (a countdown: dearer in Celery's event loop than it saves, measured).
COALESCE_WINDOW = float(os.environ.get("COALESCE_WINDOW", "0"))
CELERY_TASK_ROUTES = ("portal.celery.route_task",)
# Every task's (soft, hard) time limits in seconds, applied through CELERY_TASK_ANNOTATIONS.
# Each hard limit is below the visibility timeout (a task still running when the broker
# redelivers it would run twice); tests/portal/test_celery_settings.py checks every task.
CELERY_TASK_TIME_LIMITS: dict[str, tuple[int, int]] = {
    "portal.aid_request_score": (CELERY_TASK_SOFT_TIME_LIMIT, CELERY_TASK_TIME_LIMIT),
    "portal.aid_requests_score_batch": (CELERY_TASK_SOFT_TIME_LIMIT, CELERY_TASK_TIME_LIMIT),
    "portal.aid_requests_drain": (CELERY_TASK_SOFT_TIME_LIMIT, CELERY_TASK_TIME_LIMIT),
    "portal.aid_requests_requeue_stuck": (CELERY_TASK_SOFT_TIME_LIMIT, CELERY_TASK_TIME_LIMIT),
    "portal.aid_requests_requeue_held": (CELERY_TASK_SOFT_TIME_LIMIT, CELERY_TASK_TIME_LIMIT),
    "portal.rules_impact_preview": (1800, 1900),
    "portal.rules_rescore_open_requests": (3300, 3400),
    "notices.notice_deliver": (CELERY_TASK_SOFT_TIME_LIMIT, CELERY_TASK_TIME_LIMIT),
    "notices.notices_deliver_batch": (CELERY_TASK_SOFT_TIME_LIMIT, CELERY_TASK_TIME_LIMIT),
    "notices.notices_drain": (CELERY_TASK_SOFT_TIME_LIMIT, CELERY_TASK_TIME_LIMIT),
    "notices.notices_requeue_pending": (CELERY_TASK_SOFT_TIME_LIMIT, CELERY_TASK_TIME_LIMIT),
    "portal.privacy_retention_run": (1800, 1900),
}
CELERY_TASK_ANNOTATIONS = {
    name: {"soft_time_limit": soft, "time_limit": hard}
    for name, (soft, hard) in CELERY_TASK_TIME_LIMITS.items()
}
CELERY_BEAT_SCHEDULE: dict = {
    "aid-requests-requeue-stuck": {
        "task": "portal.aid_requests_requeue_stuck",
        "schedule": SWEEPER_INTERVAL,
        "options": {"expires": SWEEPER_INTERVAL * 3},
    },
    "notices-requeue-pending": {"task": "notices.notices_requeue_pending", "schedule": 60.0},
    # portal.privacy: erase family data whose retention period has passed (daily, 02:30)
    "privacy-retention-run": {
        "task": "portal.privacy_retention_run",
        "schedule": crontab(hour=2, minute=30),
    },
}
# /metrics (Prometheus text format): staff with a session, or `Authorization: Bearer <token>`.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

# --- Family card service ---------------------------------------------------------------------
FAMILY_CARD_URL = os.environ.get("FAMILY_CARD_URL", "")  # "" → this site's /familycard-sim
# The shared secret the simulator demands (`Authorization: Bearer …`); the card client sends
# FAMILY_CARD_API_KEY, which defaults to it. FAMILY_CARD_SIM_ALLOW_PRODUCTION: the deliberate
# override that lets the simulator run with DEBUG off (never on a real deployment).
FAMILY_CARD_SIM_SECRET = os.environ.get("FAMILY_CARD_SIM_SECRET", "")
FAMILY_CARD_SIM_ALLOW_PRODUCTION = env_bool("FAMILY_CARD_SIM_ALLOW_PRODUCTION", False)
FAMILY_CARD_API_KEY = os.environ.get("FAMILY_CARD_API_KEY", "") or FAMILY_CARD_SIM_SECRET
# The simulator (scoring.simulator): synthetic cards as of this date; the share (‰) of valid
# ИИНs it answers 404 for; injected faults (run-time overrides live in Redis under the prefix:
# `manage.py familycard_sim faults …`). A "timeout" sleeps FAMILY_CARD_SIM_TIMEOUT_SLEEP seconds
# (longer than the client's read timeout) and then answers 504.
FAMILY_CARD_SIM_AS_OF = os.environ.get("FAMILY_CARD_SIM_AS_OF", "2026-09-15")
FAMILY_CARD_SIM_UNKNOWN_PERMILLE = int(os.environ.get("FAMILY_CARD_SIM_UNKNOWN_PERMILLE", "0"))
FAMILY_CARD_SIM_LATENCY_MS = int(os.environ.get("FAMILY_CARD_SIM_LATENCY_MS", "0"))
FAMILY_CARD_SIM_ERROR_RATE = float(os.environ.get("FAMILY_CARD_SIM_ERROR_RATE", "0"))
FAMILY_CARD_SIM_TIMEOUT_RATE = float(os.environ.get("FAMILY_CARD_SIM_TIMEOUT_RATE", "0"))
FAMILY_CARD_SIM_MALFORMED_RATE = float(os.environ.get("FAMILY_CARD_SIM_MALFORMED_RATE", "0"))
FAMILY_CARD_SIM_TRICKLE_MS = int(os.environ.get("FAMILY_CARD_SIM_TRICKLE_MS", "0"))
FAMILY_CARD_SIM_TIMEOUT_SLEEP = float(os.environ.get("FAMILY_CARD_SIM_TIMEOUT_SLEEP", "10"))
FAMILY_CARD_SIM_REDIS_PREFIX = os.environ.get(
    "FAMILY_CARD_SIM_REDIS_PREFIX", "komek:familycard-sim:"
)

# --- The family's side: decision letters, verification, notices (portal.letters, .notices) ---
# A decision can be appealed within LETTER_APPEAL_DAYS calendar days (printed on the letter).
LETTER_APPEAL_DAYS = int(os.environ.get("LETTER_APPEAL_DAYS", "30"))
# Appeals (portal.appeals): the district's reviewer answers within APPEAL_ANSWER_WORKING_DAYS
# working days (weekends, public holidays and the days off they move to not counted); an
# appeal carries at most APPEAL_ATTACHMENTS_MAX files (PDF, JPEG, PNG; type checked by content) of at most
# APPEAL_ATTACHMENT_MAX_BYTES each, kept in the default storage under MEDIA_ROOT.
APPEAL_ANSWER_WORKING_DAYS = int(os.environ.get("APPEAL_ANSWER_WORKING_DAYS", "15"))


def _dates(name: str) -> frozenset[dt.date]:
    """A comma-separated list of ISO dates from the environment (e.g. 2027-05-17,2027-01-08)."""
    out = set()
    for part in os.environ.get(name, "").split(","):
        if part.strip():
            try:
                out.add(dt.date.fromisoformat(part.strip()))
            except ValueError:
                raise ImproperlyConfigured(
                    f"{name}: {part.strip()!r} is not a date (YYYY-MM-DD, comma-separated)"
                ) from None
    return frozenset(out)


# The government's announcements for the appeal deadline's working days
# (portal/appeals/rules.py): extra days off (a transfer, Kurban ait of a year not listed there)
# and days worked instead (a Saturday).
NON_WORKING_DAYS = _dates("NON_WORKING_DAYS")
WORKING_DAYS = _dates("WORKING_DAYS")
APPEAL_ATTACHMENTS_MAX = int(os.environ.get("APPEAL_ATTACHMENTS_MAX", "5"))
APPEAL_ATTACHMENT_MAX_BYTES = int(
    os.environ.get("APPEAL_ATTACHMENT_MAX_BYTES", str(4 * 1024 * 1024))
)
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = "/media-not-served/"  # attachments are served only by their audited view
# An approval above this amount (₸), or any decision against the recommendation, takes effect
# only when a principal of the school (not the decider) signs it (portal.requests.services).
KOMEK_SIGNATURE_ABOVE_KZT = int(os.environ.get("KOMEK_SIGNATURE_ABOVE_KZT", "100000"))
# The public /verify/ page: at most VERIFY_RATE_LIMIT look-ups per client IP per window (s).
VERIFY_RATE_LIMIT = int(os.environ.get("VERIFY_RATE_LIMIT", "30"))
VERIFY_RATE_WINDOW = int(os.environ.get("VERIFY_RATE_WINDOW", "600"))
# The SMS gateway (HTTP): "" → this site's /sms-sim (the simulator, development and tests).
SMS_GATEWAY_URL = os.environ.get("SMS_GATEWAY_URL", "")
SMS_SIM_ENABLED = env_bool("SMS_SIM_ENABLED", False)
SMS_SIM_SECRET = os.environ.get("SMS_SIM_SECRET", "")
SMS_SIM_ALLOW_PRODUCTION = env_bool("SMS_SIM_ALLOW_PRODUCTION", False)
SMS_GATEWAY_KEY = os.environ.get("SMS_GATEWAY_KEY", "") or SMS_SIM_SECRET
SMS_GATEWAY_TIMEOUT = float(os.environ.get("SMS_GATEWAY_TIMEOUT", "5"))
SMS_SENDER = os.environ.get("SMS_SENDER", "Komek")
NOTICE_MAX_RETRIES = int(os.environ.get("NOTICE_MAX_RETRIES", "5"))
NOTICE_STUCK_THRESHOLD = timedelta(minutes=5)
if SMS_SIM_ENABLED:
    INSTALLED_APPS.insert(INSTALLED_APPS.index("portal"), "portal.notices.simulator")

# --- Privacy: retention of family data (portal.privacy) --------------------------------------
# Days after a request is closed before its family data (ИИН, names, phone, e-mail, the frozen
# card, notices, letters) is erased: approved requests / rejected or withdrawn requests.
RETENTION_APPROVED_DAYS = int(os.environ.get("RETENTION_APPROVED_DAYS", "1825"))
RETENTION_CLOSED_DAYS = int(os.environ.get("RETENTION_CLOSED_DAYS", "365"))

# --- Auth ------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if env_bool("KOMEK_TESTING"):
    # Fast hashing in tests only; production keeps Django's default (PBKDF2).
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:home"
ACCOUNT_ADAPTER = "portal.accounts.adapters.AccountAdapter"
ACCOUNT_FORMS = {"login": "portal.accounts.forms.StaffLoginForm"}
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""  # our subjects name the portal (templates/account/email/)
MFA_ADAPTER = "portal.accounts.adapters.MFAAdapter"
MFA_FORMS = {
    "authenticate": "portal.accounts.forms.ThrottledAuthenticateForm",
    "reauthenticate": "portal.accounts.forms.ThrottledReauthenticateForm",
    "activate_totp": "portal.accounts.forms.RecordingActivateTOTPForm",
}
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
# Failed sign-ins (password and TOTP) are throttled by portal/accounts/throttle.py: per
# account with growing delays, per IP only as a high ceiling. allauth's own per-IP counting
# of failures is off; its "login" limit stays as a flood guard well above a school's staff.
ACCOUNT_RATE_LIMITS = {
    "login": os.environ.get("SIGNIN_IP_RATE", "300/m/ip"),
    "login_failed": "",
    "reset_password": "5/m/ip,3/5m/key",
    "reset_password_from_key": "20/m/ip",
}
ACCOUNT_SESSION_REMEMBER = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Komek"
MFA_RECOVERY_CODE_COUNT = 10
MFA_TOTP_TOLERANCE = 1

# Sign-in throttling (portal/accounts/throttle.py). Per account: SIGNIN_FREE_FAILURES
# failures without delay, then each further attempt waits SIGNIN_DELAY_BASE × 2^k seconds, at
# most SIGNIN_DELAY_MAX; counters are forgotten SIGNIN_FAILURE_MEMORY seconds after the last
# failure and cleared by a success. A browser that completed a sign-in of the account before
# (signed "known device" cookie) has its own counter, so nobody can lock a user out of their
# own browser. Per client IP: at most SIGNIN_IP_FAILURE_LIMIT failures per
# SIGNIN_IP_WINDOW seconds (a whole school signs in from one address).
SIGNIN_FREE_FAILURES = int(os.environ.get("SIGNIN_FREE_FAILURES", "3"))
SIGNIN_DELAY_BASE = float(os.environ.get("SIGNIN_DELAY_BASE", "2"))
SIGNIN_DELAY_MAX = float(os.environ.get("SIGNIN_DELAY_MAX", "900"))
SIGNIN_FAILURE_MEMORY = int(os.environ.get("SIGNIN_FAILURE_MEMORY", str(24 * 3600)))
SIGNIN_IP_FAILURE_LIMIT = int(os.environ.get("SIGNIN_IP_FAILURE_LIMIT", "200"))
SIGNIN_IP_WINDOW = int(os.environ.get("SIGNIN_IP_WINDOW", "900"))
SIGNIN_DEVICE_COOKIE_AGE = int(os.environ.get("SIGNIN_DEVICE_COOKIE_AGE", str(180 * 86400)))
# The client IP (audit rows, throttling): REMOTE_ADDR, or with TRUSTED_PROXY_COUNT = N
# reverse proxies in front of gunicorn, the N-th address from the right of X-Forwarded-For.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

SESSION_IDLE_TIMEOUT = int(os.environ.get("SESSION_IDLE_TIMEOUT", str(30 * 60)))
SESSION_ABSOLUTE_TIMEOUT = int(os.environ.get("SESSION_ABSOLUTE_TIMEOUT", str(12 * 3600)))
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Email -----------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Komek <noreply@komek.example.kz>")
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")

# --- i18n ------------------------------------------------------------------------------------
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Русский")), ("kk", _("Қазақша")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_vendor"]
TIME_ZONE = "Asia/Almaty"
USE_I18N = True
# Number and date formats per language; Kazakh's are ours (portal/formats/kk), Django has none.
FORMAT_MODULE_PATH = ["portal.formats"]
USE_THOUSAND_SEPARATOR = True
USE_TZ = True

# --- Static ----------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or env_bool("KOMEK_TESTING")
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or env_bool("KOMEK_TESTING")
# Files are looked up per request in development and tests: every test client builds the
# middleware anew, and indexing ~2,400 static files each time cost 0.1 s per client.
WHITENOISE_AUTOREFRESH = DEBUG or env_bool("KOMEK_TESTING")

# --- Request bodies ---------------------------------------------------------------------------
# Django refuses larger form bodies (400), the API's JSON parser larger JSON bodies (413), and
# portal.middleware.BodySizeLimitMiddleware any body whose Content-Length exceeds
# REQUEST_MAX_BODY_BYTES (413) before it is read. Uploaded files have their own field limits.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(1024 * 1024)))
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
REQUEST_MAX_BODY_BYTES = int(os.environ.get("REQUEST_MAX_BODY_BYTES", str(5 * 1024 * 1024)))

# --- REST ------------------------------------------------------------------------------------
# API tokens: django-rest-knox (SHA-512 digests at rest), expiring after API_TOKEN_TTL_DAYS.
KNOX_TOKEN_MODEL = "accounts.ApiToken"  # noqa: S105 - a model label
# knox's own model is swapped for ours: its migrations (which would create an unused
# knox_authtoken table) are not run.
MIGRATION_MODULES = {"knox": None}
API_TOKEN_TTL_DAYS = int(os.environ.get("API_TOKEN_TTL_DAYS", "30"))
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=API_TOKEN_TTL_DAYS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": int(os.environ.get("API_TOKEN_LIMIT_PER_USER", "10")),
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.accounts.authentication.MFASessionAuthentication",
        "portal.accounts.authentication.ApiTokenAuthentication",
    ],
    "DEFAULT_PARSER_CLASSES": ["portal.api.parsers.LimitedJSONParser"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Komek API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "AppealOutcomeEnum": "portal.appeals.models.Appeal.Outcome",
        "DecisionOutcomeEnum": "portal.requests.models.Decision.Outcome",
    },
}

# --- Security (production values when DEBUG is off) ------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts, styles, fonts and connections from this site
# only; no inline script, no inline style; the TOTP QR code is a data: image.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
if not DEBUG and not env_bool("KOMEK_TESTING"):
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Off only for plain HTTP on loopback (`make demo`); a deployment keeps the defaults.
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
