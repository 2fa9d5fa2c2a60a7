"""WardFlow settings, read from the environment.

Production defaults are safe: without DEBUG=1 the app refuses to start with a missing or default SECRET_KEY.
`make run` and `make test` set the development values themselves.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

INSECURE_SECRET_KEYS = {"", "change-me", "changeme", "secret", "django-insecure"}
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not DEBUG and (
    SECRET_KEY.strip() in INSECURE_SECRET_KEYS or SECRET_KEY.startswith("django-insecure") or len(SECRET_KEY) < 50
):
    raise ImproperlyConfigured(
        "SECRET_KEY is missing, a known default or shorter than 50 characters. Set a long random SECRET_KEY "
        "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(64))'), or DEBUG=1 for development."
    )
if DEBUG and not SECRET_KEY:
    SECRET_KEY = "development-only-key-never-used-in-production-" + "x" * 20

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "wardflow.staff",
    "wardflow.patients",
    "wardflow.audit",
    "wardflow.ops",
    "alerts",
    "screening",
    "titration",
    "interop",
    "documents",
    "web",
]

MIDDLEWARE = [
    "wardflow.ops.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "wardflow.ops.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "web.middleware.IdleLogoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a login refused by the lockout into its answer (axes).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "web.context.ward",
            ],
        },
    },
]

# PostgreSQL only: the audit chain relies on its triggers and advisory locks.
DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wardflow")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")), conn_health_checks=True
    )
}
# Django's PostgreSQL backend, its health check answered without a round trip when the connection is idle and the
# server has not written to it (config/postgresql).
DATABASES["default"]["ENGINE"] = "config.postgresql"
# Parameters bound by the server, so that a connection keeps the plan of a statement once it has sent it five times
# (prepared from the sixth): an observation POST plans its statements once per connection, not once per request
# (README, Performance). A pooler in transaction mode that cannot carry prepared statements (PgBouncer before 1.21, or
# without max_prepared_statements) needs DB_PREPARED_STATEMENTS=0.
if os.environ.get("DB_PREPARED_STATEMENTS", "1") == "1":
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "server_side_binding": True,
        "prepare_threshold": 5,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

AUTH_USER_MODEL = "staff.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login lockout (21 CFR 11.300(d)): after LOGIN_FAILURE_LIMIT wrong passwords for a user name within the cool-off,
# that user name cannot log in (web, admin, API token) until LOGIN_LOCKOUT_MINUTES after the last failure.
AUTHENTICATION_BACKENDS = [
    "wardflow.staff.backends.LoginLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15"))
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
# By user name alone (whatever the address or browser, so axes.W006's bypass does not apply): ward tablets and
# workstations share addresses behind the hospital's proxies, and one address must not lock out a whole ward.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "wardflow.staff.lockout.lockout_response"
# API tokens (knox): stored as hashes, expiring, revoked on logout, password change and deactivation.
API_TOKEN_TTL_HOURS = int(os.environ.get("API_TOKEN_TTL_HOURS", "10"))
KNOX_TOKEN_MODEL = "knox.AuthToken"  # noqa: S105 (a model name, named by the staff migrations)
REST_KNOX = {"TOKEN_TTL": timedelta(hours=API_TOKEN_TTL_HOURS), "AUTH_HEADER_PREFIX": "Token", "AUTO_REFRESH": False}
LOGIN_URL = "login"
LOGIN_URL_PATH = "/accounts/login/"
# Shared ward tablets log out after this much inactivity (automatic refreshes do not count).
IDLE_LOGOUT_SECONDS = int(os.environ.get("IDLE_LOGOUT_SECONDS", "900"))
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Security: safe in production, relaxed only under DEBUG.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
if env_bool("BEHIND_TLS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts and styles only from the app's own static files, no inline script or
# eval (HTMX and Chart.js are vendored), no plugins, no framing; images may be data: URLs (Swagger UI's icons).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Browser features no ward page uses, switched off for every page (wardflow.ops.middleware).
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer", "autoplay", "camera", "display-capture", "geolocation", "gyroscope", "magnetometer",
        "microphone", "midi", "payment", "usb", "xr-spatial-tracking",
    )
)  # fmt: skip

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first so that unauthenticated calls answer 401 with a WWW-Authenticate header.
        "wardflow.staff.auth.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_SCHEMA_CLASS": "wardflow.api.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "wardflow.api.errors.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "wardflow.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "COERCE_DECIMAL_TO_STRING": True,
    # `?format=csv` is the audit export's own switch (api.md), not a renderer override.
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "WardFlow API",
    "DESCRIPTION": "Intrathecal baclofen screening, titration and refills. Rule ids refer to the clinical protocol.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from our own static files: ward networks are closed, no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "wardflow.api.schema.declare_csv_exports",
    ],
}

# Celery: beat drives the due-check dispatcher and the health heartbeat.
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A frozen broker must never hold a web request: every task sent after commit has its row in PostgreSQL for the
# periodic sweep, so a publish gives up quickly (connecting is retried for this long at most, each socket call waits
# this long at most, no publish retry) and the failure is only logged.
BROKER_TIMEOUT_SECONDS = float(os.environ.get("BROKER_TIMEOUT_SECONDS", "1"))
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT_SECONDS
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
    "socket_timeout": BROKER_TIMEOUT_SECONDS,
}
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BEAT_SCHEDULE = {
    "scheduler-heartbeat": {"task": "wardflow.ops.tasks.beat_heartbeat", "schedule": 30.0},
    "purge-idempotency-keys": {"task": "wardflow.ops.tasks.purge_idempotency_keys", "schedule": 3600.0},
    "dispatch-due-checks": {"task": "alerts.tasks.dispatch_due_checks", "schedule": 30.0},
    "send-alert-emails": {"task": "alerts.tasks.send_alert_emails", "schedule": 60.0},
}
# /healthz fails when the beat heartbeat is older than this.
BEAT_MAX_SILENCE_SECONDS = int(os.environ.get("BEAT_MAX_SILENCE_SECONDS", "120"))
# Idempotency-Key records are kept at least this long (api.md conventions).
IDEMPOTENCY_KEY_TTL_HOURS = int(os.environ.get("IDEMPOTENCY_KEY_TTL_HOURS", "48"))

# Audit checkpoints (D3): the signing key and the append-only checkpoint file live outside the database; beat takes
# a checkpoint every AUDIT_CHECKPOINT_MINUTES (each one verifies the events since the previous) and re-hashes the
# whole chain once a day.
AUDIT_CHECKPOINT_KEY_FILE = Path(
    os.environ.get("AUDIT_CHECKPOINT_KEY_FILE")
    or (BASE_DIR / "var" / "audit-checkpoint-key.pem" if DEBUG else "/run/secrets/audit_checkpoint_key")
)
AUDIT_CHECKPOINT_FILE = Path(
    os.environ.get("AUDIT_CHECKPOINT_FILE")
    or (BASE_DIR / "var" / "audit-checkpoints.jsonl" if DEBUG else "/var/lib/wardflow/audit-checkpoints.jsonl")
)
AUDIT_CHECKPOINT_MINUTES = float(os.environ.get("AUDIT_CHECKPOINT_MINUTES", "5"))
CELERY_BEAT_SCHEDULE["audit-checkpoint"] = {
    "task": "wardflow.audit.tasks.take_checkpoint",
    "schedule": AUDIT_CHECKPOINT_MINUTES * 60,
}
CELERY_BEAT_SCHEDULE["audit-full-verification"] = {"task": "wardflow.audit.tasks.verify_full", "schedule": 86400.0}

# Alert e-mail to the target staff (the in-app inbox always has the alert). `make run` uses the console backend.
ALERT_EMAIL_ENABLED = env_bool("ALERT_EMAIL_ENABLED")
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "wardflow@localhost")

# FHIR (issue 15): the canonical base of WardFlow's own code and identifier systems, the system of the hospital's
# medical record numbers, and the implanting centre printed on the emergency card.
FHIR_CANONICAL_BASE = os.environ.get("FHIR_CANONICAL_BASE", "urn:wardflow:fhir")
FHIR_MRN_SYSTEM = os.environ.get("FHIR_MRN_SYSTEM", "urn:wardflow:mrn")
IMPLANTING_CENTRE_NAME = os.environ.get("IMPLANTING_CENTRE_NAME", "WardFlow implanting centre")
IMPLANTING_CENTRE_PHONE = os.environ.get("IMPLANTING_CENTRE_PHONE", "")

# Hospital overrides of the protocol's `policy` defaults (protocol.md); see wardflow/protocol.py.
WARDFLOW_POLICY = {}

LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "wardflow.ops.logging.RequestContextFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(user)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # WeasyPrint and fontTools narrate every step of every PDF at INFO: only their warnings are worth a log line.
    "loggers": {name: {"level": "WARNING"} for name in ("weasyprint", "fontTools")},
}
