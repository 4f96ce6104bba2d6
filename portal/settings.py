"""Komek settings: everything comes from the environment (12-factor).

Importing this module never starts a server. With no DATABASE_URL / CELERY_BROKER_URL the
launcher (`python -m portal.launcher`, used by `make demo` and `make test`) starts embedded
PostgreSQL and Redis under var/ and passes their URLs in the environment.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
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
    "axes",
    "django_htmx",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "schools",
    "scoring",
    "scoring.simulator",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
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
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
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
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("Komek runs on PostgreSQL only (DATABASE_URL must be postgres://)")
DATABASES["default"].setdefault("TEST", {})
if os.environ.get("KOMEK_TEST_DB_NAME"):
    DATABASES["default"]["TEST"]["NAME"] = os.environ["KOMEK_TEST_DB_NAME"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
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
#   card request timeout × attempts  <  task soft limit  <  hard limit
#   <  stuck-request sweeper threshold  <  broker visibility timeout
FAMILY_CARD_CONNECT_TIMEOUT = float(os.environ.get("FAMILY_CARD_CONNECT_TIMEOUT", "2"))
FAMILY_CARD_READ_TIMEOUT = float(os.environ.get("FAMILY_CARD_READ_TIMEOUT", "5"))
FAMILY_CARD_ATTEMPTS = int(os.environ.get("FAMILY_CARD_ATTEMPTS", "3"))
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
SCORING_TASK_MAX_RETRIES = int(os.environ.get("SCORING_TASK_MAX_RETRIES", "5"))
SCORING_RETRY_BACKOFF_BASE = float(os.environ.get("SCORING_RETRY_BACKOFF_BASE", "2"))
SCORING_RETRY_BACKOFF_MAX = 120
# Card client: backoff between attempts inside one task, and the shared circuit breaker.
FAMILY_CARD_BACKOFF_BASE = float(os.environ.get("FAMILY_CARD_BACKOFF_BASE", "0.5"))
FAMILY_CARD_BACKOFF_MAX = float(os.environ.get("FAMILY_CARD_BACKOFF_MAX", "4"))
FAMILY_CARD_BREAKER_FAILURES = int(os.environ.get("FAMILY_CARD_BREAKER_FAILURES", "5"))
FAMILY_CARD_BREAKER_COOLDOWN = float(os.environ.get("FAMILY_CARD_BREAKER_COOLDOWN", "30"))
STUCK_REQUEST_THRESHOLD = timedelta(minutes=10)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULE: dict = {
    "aid-requests-requeue-stuck": {
        "task": "portal.aid_requests_requeue_stuck",
        "schedule": 60.0,
    },
}

# --- Family card service ---------------------------------------------------------------------
FAMILY_CARD_URL = os.environ.get("FAMILY_CARD_URL", "")  # "" → this site's /familycard-sim
FAMILY_CARD_SIM_ENABLED = env_bool("FAMILY_CARD_SIM_ENABLED", True)
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
FAMILY_CARD_SIM_TIMEOUT_SLEEP = float(os.environ.get("FAMILY_CARD_SIM_TIMEOUT_SLEEP", "10"))
FAMILY_CARD_SIM_REDIS_PREFIX = os.environ.get(
    "FAMILY_CARD_SIM_REDIS_PREFIX", "komek:familycard-sim:"
)

# --- Auth ------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
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
ACCOUNT_ADAPTER = "portal.auth_adapters.StaffOnlyAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "5/5m/ip,5/5m/key",
    "reset_password": "5/m/ip,3/5m/key",
    "reset_password_from_key": "20/m/ip",
}
ACCOUNT_SESSION_REMEMBER = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Komek"
MFA_RECOVERY_CODE_COUNT = 10
MFA_TOTP_TOLERANCE = 1

AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "account/lockout.html"
AXES_ENABLED = env_bool("AXES_ENABLED", True)

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

# --- REST ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
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
}

# --- Security (production values when DEBUG is off) ------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG and not env_bool("KOMEK_TESTING"):
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
AXES_VERBOSE = False
