"""Settings, read from the environment only.

Two modes, chosen by ``CONSULAR_ENV``:

- ``development`` (default): variables missing from the environment are read
  from ``.local/dev.env``, which ``scripts/bootstrap.sh`` writes with freshly
  generated random secrets and the local database's URL. No secret lives in
  this file.
- ``production``: nothing is read from disk except ``*_FILE`` secrets; a
  missing or obviously fake secret stops the process with a clear message.

Every variable is listed, with its default, in docs/configuration.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_DIR = BASE_DIR / ".local"

CONSULAR_ENV = os.environ.get("CONSULAR_ENV", "development").strip().lower()
if CONSULAR_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("CONSULAR_ENV must be 'development' or 'production'.")
PRODUCTION = CONSULAR_ENV == "production"


def _read_dev_env() -> dict[str, str]:
    path = LOCAL_DIR / "dev.env"
    if PRODUCTION or not path.exists():
        return {}
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


_DEV_ENV = _read_dev_env()


def env(name: str, default: str | None = None) -> str | None:
    """A variable from the environment, its ``NAME_FILE`` variant, or (development only) .local/dev.env."""
    if name in os.environ:
        return os.environ[name]
    file_name = os.environ.get(f"{name}_FILE") or _DEV_ENV.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE points at an unreadable file.") from exc
    return _DEV_ENV.get(name, default)


def env_int(name: str, default: int) -> int:
    raw = env(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer.") from exc


def env_bool(name: str, default: bool) -> bool:
    raw = env(name)
    if raw in (None, ""):
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false).")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


# --- Secrets -------------------------------------------------------------------
# Keys never derive from SECRET_KEY: each secret is its own variable.
SECRET_KEY = env("SECRET_KEY") or ""
MASTER_KEYS = env("MASTER_KEYS") or ""
BLIND_INDEX_KEY = env("BLIND_INDEX_KEY") or ""
DATABASE_URL = env("DATABASE_URL") or ""

# With MASTER_KEYS_FILE the provider re-reads the file when it changes, so
# `manage.py rotate_keys` can add a version that every process picks up.
MASTER_KEYS_FILE = os.environ.get("MASTER_KEYS_FILE") or _DEV_ENV.get("MASTER_KEYS_FILE") or ""
KEY_PROVIDER = (
    env(
        "KEY_PROVIDER",
        "consular.keys.FileKeyProvider"
        if MASTER_KEYS_FILE and "MASTER_KEYS" not in os.environ
        else "consular.keys.EnvironmentKeyProvider",
    )
    or ""
)
# MASTER_KEYS is what the environment provider reads; the file provider reads
# MASTER_KEYS_FILE, and another provider (a KMS, Vault) neither.
_KEYS_NEEDED = {
    "consular.keys.EnvironmentKeyProvider": ("MASTER_KEYS", MASTER_KEYS),
    "consular.keys.FileKeyProvider": ("MASTER_KEYS_FILE", MASTER_KEYS_FILE),
}.get(KEY_PROVIDER)

_missing = [
    name
    for name, value in (
        ("SECRET_KEY", SECRET_KEY),
        *([_KEYS_NEEDED] if _KEYS_NEEDED else []),
        ("BLIND_INDEX_KEY", BLIND_INDEX_KEY),
        ("DATABASE_URL", DATABASE_URL),
    )
    if not value
]
if _missing:
    hint = (
        "Set them in the environment (or as NAME_FILE paths)."
        if PRODUCTION
        else "Run `make run` or `scripts/bootstrap.sh` once to generate development values, "
        "or set them in the environment."
    )
    raise ImproperlyConfigured(f"Missing configuration: {', '.join(_missing)}. {hint}")
if PRODUCTION and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured("SECRET_KEY must be a random value of at least 50 characters in production.")
if PRODUCTION:
    # Parsed now, not at first use: a malformed key would otherwise pass every start-up
    # check and turn each login and registration into a 500 while /readyz says ready.
    from consular.keys import KeyConfigurationError, decode_key, parse_master_keys

    try:
        decode_key(BLIND_INDEX_KEY, name="BLIND_INDEX_KEY")
        if KEY_PROVIDER == "consular.keys.EnvironmentKeyProvider":
            parse_master_keys(MASTER_KEYS)
    except KeyConfigurationError as exc:
        raise ImproperlyConfigured(str(exc)) from exc

# --- Core ----------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,[::1],testserver")
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the service's host names in production.")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.postgres",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "consular",
    "accounts",
    "registrations",
    "crises",
    "feeds",
    "advisories",
    "notifications",
    "privacy",
    "api",
    "console",
    "config",
]

MIDDLEWARE = [
    "consular.middleware.RequestContextMiddleware",
    # Outside everything that may answer early (413, CSRF, errors), so those get it too.
    "consular.middleware.NoStoreApiMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "consular.middleware.BodySizeLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Sessions, the signed-in officer and the console's headers, for /console/ only: the API
    # authenticates by token and never reads a cookie.
    "console.middleware.ConsoleMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# PostgreSQL's JIT spends 10-20 ms compiling each of the join's short queries,
# more than it saves on them (measured with bench/affected_bench.py).
_db_options = DATABASES["default"].setdefault("OPTIONS", {})
# Added to, not replacing, options given in DATABASE_URL (`?options=-c statement_timeout=…`).
_db_options["options"] = f"{_db_options.get('options', '')} -c jit=off".strip()
# An unreachable server answers /readyz with a 503 within seconds instead of hanging
# each request until gunicorn kills the worker; a URL may still set its own.
_db_options.setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.EmailBlindIndexBackend"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email",)},
    },
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env("STATIC_ROOT", str(LOCAL_DIR / "static"))
# Development and tests serve straight from the apps' static folders; production
# serves what `collectstatic` gathered.
WHITENOISE_USE_FINDERS = not PRODUCTION
# The console's front-end packages, installed by scripts/bootstrap.sh (npm ci), served as
# local files under /static/console/vendor/: the browser fetches nothing from elsewhere.
_FRONTEND = BASE_DIR / "console" / "frontend" / "node_modules"
STATICFILES_DIRS = [
    ("console/vendor/leaflet", str(_FRONTEND / "leaflet" / "dist")),
    ("console/vendor/geoman", str(_FRONTEND / "@geoman-io" / "leaflet-geoman-free" / "dist")),
]

# --- Officer console -----------------------------------------------------------
SESSION_ENGINE = "django.contrib.sessions.backends.db"  # sign-out ends the session on the server
SESSION_COOKIE_AGE = env_int("CONSOLE_SESSION_SECONDS", 12 * 3600)
SESSION_COOKIE_PATH = "/console/"
SESSION_COOKIE_SAMESITE = "Strict"
SESSION_COOKIE_NAME = "console_session"
LOGIN_URL = "/console/login/"
# A tile server for the situation map's background (e.g. an operator's own, "https://tiles.example/{z}/{x}/{y}.png");
# empty: the bundled country boundaries drawn as shapes, which need no network at all.
CONSOLE_TILE_URL = env("CONSOLE_TILE_URL", "")
CONSOLE_TILE_ATTRIBUTION = env("CONSOLE_TILE_ATTRIBUTION", "")
CONSOLE_REFRESH_SECONDS = env_int("CONSOLE_REFRESH_SECONDS", 10)  # a crisis page's check-ins, while it is open
AREA_PREVIEWS_PER_MINUTE = env_int("AREA_PREVIEWS_PER_MINUTE", 60)  # the count while drawing, per user

# --- API -----------------------------------------------------------------------
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 1024 * 1024)
API_PAGE_SIZE = env_int("API_PAGE_SIZE", 50)
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 200)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.CappedPageNumberPagination",
    "DEFAULT_SCHEMA_CLASS": "api.schema.ContractSchema",
    "EXCEPTION_HANDLER": "api.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Consular crisis backend API",
    "DESCRIPTION": "Encrypted register of citizens abroad, crisis zones, aggregate-first counts.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.refuse_unknown_fields",
        "api.schema.empty_query_values_are_absent",
        "api.schema.blank_once",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CrisisStatusEnum": "crises.models.Status",
        "CrisisOriginEnum": "crises.models.Origin",
        "FeedKindEnum": "feeds.models.FeedSource.Kind",
        "RevealStatusEnum": "crises.models.RevealStatus",
        "SeverityEnum": "crises.models.Severity",
        "CheckInStatusEnum": "notifications.models.CheckInStatus",
        "CampaignStatusEnum": "notifications.models.CampaignStatus",
        "DeliveryStatusEnum": "notifications.models.DeliveryStatus",
        "ChannelEnum": "notifications.models.Channel",
        "RevealPendingStatusEnum": ["pending_approval"],
    },
}

# --- Accounts ------------------------------------------------------------------
CITIZEN_TOKEN_TTL_SECONDS = env_int("CITIZEN_TOKEN_TTL_SECONDS", 30 * 24 * 3600)
STAFF_TOKEN_TTL_SECONDS = env_int("STAFF_TOKEN_TTL_SECONDS", 12 * 3600)
LOGIN_FAILURES_PER_ACCOUNT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 5)
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 20)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60)
SIGNUPS_PER_ADDRESS = env_int("SIGNUPS_PER_ADDRESS", 10)
SIGNUP_WINDOW_SECONDS = env_int("SIGNUP_WINDOW_SECONDS", 3600)
# How many reverse proxies in front of the service append to X-Forwarded-For; 0
# means the client address is REMOTE_ADDR (a client-supplied header is ignored).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# --- Register --------------------------------------------------------------------
RETENTION_DAYS = env_int("RETENTION_DAYS", 90)
# A residence not confirmed for this long is counted apart as unconfirmed; its holder is reminded a month before.
RESIDENCE_CONFIRM_MONTHS = env_int("RESIDENCE_CONFIRM_MONTHS", 12)
# Erasures are also appended here, outside the database, so `reapply_erasures`
# can replay them on a database restored from an older backup.
ERASURE_LEDGER_FILE = env("ERASURE_LEDGER_FILE", "" if PRODUCTION else str(LOCAL_DIR / "erasure-ledger.jsonl"))
# Append-only anchors of the audit chain (manage.py verify_audit, hourly schedule):
# like the erasure ledger, keep it where the database's owner cannot rewrite it.
AUDIT_ANCHOR_FILE = env("AUDIT_ANCHOR_FILE", "" if PRODUCTION else str(LOCAL_DIR / "audit-anchors.jsonl"))

# --- Crises ------------------------------------------------------------------------
CRISIS_MAX_VERTICES = env_int("CRISIS_MAX_VERTICES", 100_000)
# Advisories for mobile apps: the language an advisory is read in when the app's
# Accept-Language matches none of its texts, and the public look-ups allowed a minute
# per client address in each web process.
ADVISORY_DEFAULT_LANGUAGE = env("ADVISORY_DEFAULT_LANGUAGE", "en") or "en"
ADVISORY_LOOKUPS_PER_MINUTE = env_int("ADVISORY_LOOKUPS_PER_MINUTE", 600)
# Networks a feed may be fetched from although they are not public (feeds/fetch.py refuses
# loopback, private and link-local addresses): the tests' local feed server, or an
# internal mirror run on purpose. Comma-separated CIDRs; empty by default.
FEED_FETCH_ALLOWED_NETWORKS = env_list("FEED_FETCH_ALLOWED_NETWORKS")
# Crisis areas are large request bodies: about 40 bytes a vertex in GeoJSON.
CRISIS_MAX_BODY_BYTES = env_int("CRISIS_MAX_BODY_BYTES", 16 * 1024 * 1024)
# Django's own cap, checked when a body is read, must not be below any view's own limit:
# consular.middleware.BodySizeLimitMiddleware refuses a body above the limit of the view
# it is for (API_MAX_BODY_BYTES unless the view declares more) before anything reads it.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(API_MAX_BODY_BYTES, CRISIS_MAX_BODY_BYTES)
SUPPRESS_BELOW = env_int("SUPPRESS_BELOW", 10)
# work_mem of the affected-citizen join's transaction (counts, dry run, fan-out): each sort or hash
# of it may use this much (a few of them at once); PostgreSQL's 4 MB default spills dense areas to disk.
JOIN_WORK_MEM = env("JOIN_WORK_MEM", "64MB")
REVEAL_APPROVAL_ABOVE = env_int("REVEAL_APPROVAL_ABOVE", 500)

# --- Notifications -----------------------------------------------------------------
# In development the links point at the local server, on the port `make run` serves (PORT).
_LOCAL_BASE_URL = f"http://127.0.0.1:{env_int('PORT', 8000)}"
PUBLIC_BASE_URL = (env("PUBLIC_BASE_URL", "" if PRODUCTION else _LOCAL_BASE_URL) or "").rstrip("/")
if PRODUCTION and not PUBLIC_BASE_URL.startswith("https://"):
    raise ImproperlyConfigured("PUBLIC_BASE_URL must be the service's https:// address in production.")
# The check-in page's form posts back to the public address; behind a proxy whose
# host name Django does not see, its Origin must be trusted explicitly.
CSRF_TRUSTED_ORIGINS = ["/".join(PUBLIC_BASE_URL.split("/")[:3])] if PUBLIC_BASE_URL else []
SMS_PROVIDER_URL = env("SMS_PROVIDER_URL", "")
SMS_PROVIDER_TOKEN = env("SMS_PROVIDER_TOKEN", "")
SMS_TIMEOUT_SECONDS = env_int("SMS_TIMEOUT_SECONDS", 10)
# Development only: without a provider URL, SMS messages are written to files here, as
# mail goes to EMAIL_FILE_PATH, so a campaign by SMS works on a fresh clone.
SMS_FILE_PATH = env("SMS_FILE_PATH", "" if PRODUCTION else str(LOCAL_DIR / "sms")) or ""
if PRODUCTION and SMS_FILE_PATH:
    raise ImproperlyConfigured("SMS_FILE_PATH is for development: in production set SMS_PROVIDER_URL.")
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    # Development: one private file a message (consular.outbox), removed with its person.
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "consular.outbox.PrivateFileEmailBackend",
)
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH") or str(LOCAL_DIR / "mail")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "consular-alerts@localhost")
EMAIL_MESSAGE_ID_DOMAIN = env("EMAIL_MESSAGE_ID_DOMAIN", "consular.invalid")
DELIVERY_MAX_ATTEMPTS = env_int("DELIVERY_MAX_ATTEMPTS", 5)
DELIVERY_LEASE_SECONDS = env_int("DELIVERY_LEASE_SECONDS", 300)
DELIVERY_BATCH_SIZE = env_int("DELIVERY_BATCH_SIZE", 1000)
DELIVERY_CLAIM_SIZE = env_int("DELIVERY_CLAIM_SIZE", 25)
DELIVERY_TASK_BUDGET_SECONDS = env_int("DELIVERY_TASK_BUDGET_SECONDS", 60)
CHECKIN_TOKEN_MAX_AGE_SECONDS = env_int("CHECKIN_TOKEN_MAX_AGE_SECONDS", 14 * 24 * 3600)

# --- Worker (django-q2) --------------------------------------------------------
Q_WORKERS = env_int("Q_WORKERS", 2)
Q_TASK_TIMEOUT_SECONDS = env_int("Q_TASK_TIMEOUT_SECONDS", 120)
Q_CLUSTER = {
    "name": "consular",
    "workers": Q_WORKERS,
    "timeout": Q_TASK_TIMEOUT_SECONDS,
    # django-q2 re-queues a task not acknowledged within `retry`: it should exceed the
    # timeout (a lower value only makes sense in tests of exactly that situation).
    "retry": env_int("Q_RETRY_SECONDS", Q_TASK_TIMEOUT_SECONDS + 60),
    "max_attempts": 1,
    "save_limit": 250,
    "ack_failures": True,
    "catch_up": False,
    "label": "Worker",
}
_redis_url = env("Q_REDIS_URL")
if _redis_url:
    Q_CLUSTER["redis"] = _redis_url
else:
    Q_CLUSTER["orm"] = "default"
WORKER_HEARTBEAT_MAX_AGE_SECONDS = env_int("WORKER_HEARTBEAT_MAX_AGE_SECONDS", 180)

# --- Logging -------------------------------------------------------------------
LOG_LEVEL = env("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "consular.logging.RequestContextFilter"}},
    "formatters": {"json": {"()": "consular.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # The runserver/request loggers put the raw path (ids, tokens) into their
        # messages; our own access log records the matched route instead.
        # Django's own default config holds "django" at INFO whatever LOG_LEVEL says.
        "django": {"level": LOG_LEVEL},
        "django.server": {"level": "ERROR"},
        "django.request": {"level": "ERROR"},
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- Production hardening ------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "no-referrer"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Load balancers probe over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_SECURE = True
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
