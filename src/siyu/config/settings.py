"""Django settings for Siyu, read from ``SIYU_*`` environment variables.

Development defaults are safe for a laptop: SQLite in ``SIYU_DATA_DIR``, the
database task backend, an in-memory cache. ``SIYU_ENV=production`` refuses to
start without a real secret key and explicit allowed hosts.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from siyu.config.env import env_bool, env_int, env_list, env_str

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # src/siyu

DEVELOPMENT_SECRET_KEY = "siyu-development-secret-key-never-use-in-production"  # noqa: S105

# pytest sets PYTEST_VERSION: a test run defaults to the test environment.
SIYU_ENV = env_str("SIYU_ENV", "test" if os.environ.get("PYTEST_VERSION") else "development")
if SIYU_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured(
        f"SIYU_ENV must be development, production or test, not {SIYU_ENV!r}"
    )
PRODUCTION = SIYU_ENV == "production"

SECRET_KEY = env_str("SIYU_SECRET_KEY", DEVELOPMENT_SECRET_KEY)
if PRODUCTION and (SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "SIYU_ENV=production refuses to start with the development secret key: "
        "set SIYU_SECRET_KEY to a random string of at least 32 characters."
    )

DEBUG = env_bool("SIYU_DEBUG", default=not PRODUCTION)

DATA_DIR = Path(env_str("SIYU_DATA_DIR", str(Path.cwd() / "siyu-data"))).resolve()

ALLOWED_HOSTS = env_list(
    "SIYU_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("SIYU_ENV=production needs SIYU_ALLOWED_HOSTS (comma-separated).")
CSRF_TRUSTED_ORIGINS = env_list("SIYU_CSRF_TRUSTED_ORIGINS", [])

# Siyu's apps come first: where two catalogues translate the same English text
# (e.g. "Filter"), the app listed first wins, and ours should beat the admin's.
INSTALLED_APPS = [
    "siyu.core",
    "siyu.stores",
    "siyu.catalog",
    "siyu.webhooks",
    "siyu.customers",
    "siyu.inventory",
    "siyu.orders",
    "siyu.payments",
    "siyu.storefront",
    "siyu.community",
    "siyu.guides",
    "siyu.marketing",
    "siyu.promotions",
    "siyu.distribution",
    "siyu.loyalty",
    "siyu.referrals",
    "siyu.groupbuy",
    "siyu.bargain",
    "siyu.analytics",
    "siyu.web",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "channels",
    "django_tasks_db",
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
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "siyu.core.middleware.TenancyMiddleware",
    "siyu.customers.middleware.StorefrontMiddleware",
    "siyu.analytics.middleware.VisitMiddleware",
    "siyu.marketing.middleware.AttributionMiddleware",
    "siyu.distribution.middleware.ShareLinkMiddleware",
    "siyu.referrals.middleware.InviteMiddleware",
    "siyu.core.middleware.IdempotencyMiddleware",
]

ROOT_URLCONF = "siyu.config.urls"
WSGI_APPLICATION = "siyu.config.wsgi.application"
ASGI_APPLICATION = "siyu.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.static",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "siyu.web.context_processors.console",
            ],
            "builtins": ["siyu.web.templatetags.siyu"],
        },
    }
]

# --- database -------------------------------------------------------------

DATABASE_URL = env_str("SIYU_DATABASE_URL", f"sqlite:///{DATA_DIR / 'siyu.sqlite3'}")
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("SIYU_DB_CONN_MAX_AGE", 60))
if _db["ENGINE"] == "django.db.backends.sqlite3":
    if _db["NAME"] and _db["NAME"] != ":memory:":
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets readers proceed while one writer writes; IMMEDIATE transactions
    # take the write lock up front so two writers queue instead of deadlocking.
    _db["CONN_MAX_AGE"] = 0 if SIYU_ENV == "test" else _db.get("CONN_MAX_AGE", 0)
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            "PRAGMA busy_timeout=30000; PRAGMA cache_size=-64000;"
        ),
    }
    _db["TEST"] = {"NAME": env_str("SIYU_TEST_SQLITE_NAME", "") or None}
else:
    _db.setdefault("OPTIONS", {})
    _db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, Redis ------------------------------------------------------------

REDIS_URL = env_str("SIYU_REDIS_URL", "")
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if REDIS_URL and SIYU_ENV == "test" and _XDIST_WORKER.startswith("gw"):
    # Parallel test processes (pytest-xdist gw0, gw1, ...) each get their own Redis
    # database, since tests clear the cache: gwN uses the URL's database + 1 + N.
    _redis = urlsplit(REDIS_URL)
    _redis_db = int(_redis.path.strip("/") or 0) + 1 + int(_XDIST_WORKER[2:])
    REDIS_URL = urlunsplit(_redis._replace(path=f"/{_redis_db % 16}"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "siyu.core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("SIYU_CACHE_PREFIX", "siyu"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions live in the database; with a shared cache (Redis) they are read through it, which
# saves a query on every logged-in request. A per-process cache (no Redis) would let one web
# process keep a session another has ended, so without Redis every read goes to the database.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if REDIS_URL
    else "django.contrib.sessions.backends.db"
)

# --- real time (Django Channels: group chat, 1:1 chat) ----------------------------

ASGI_APPLICATION = "siyu.config.asgi.application"
# The in-memory layer reaches only consumers of the same process: without Redis, `siyu serve`
# serves pages and websockets from one ASGI process. With Redis every process shares the layer.
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env_str("SIYU_CACHE_PREFIX", "siyu") + ":ws",
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Where pages open their websocket: empty means the page's own origin (`/ws/...`).
WEBSOCKET_URL = env_str("SIYU_WEBSOCKET_URL", "")

# --- background tasks (django.tasks) -------------------------------------------

TASKS_BACKEND = env_str("SIYU_TASKS_BACKEND", "immediate" if SIYU_ENV == "test" else "db")
TASK_QUEUES = ["default", "webhooks", "events"]
if TASKS_BACKEND == "immediate":
    TASKS = {
        "default": {
            "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
            "QUEUES": TASK_QUEUES,
        }
    }
elif TASKS_BACKEND == "db":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": TASK_QUEUES}}
else:
    raise ImproperlyConfigured("SIYU_TASKS_BACKEND must be 'db' or 'immediate'.")

# --- auth -----------------------------------------------------------------------

AUTH_USER_MODEL = "core.User"
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
if SIYU_ENV == "test":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION and env_bool("SIYU_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("SIYU_BEHIND_PROXY", default=False) else None
)
X_FRAME_OPTIONS = "DENY"

# --- i18n, time ------------------------------------------------------------------

LANGUAGE_CODE = env_str("SIYU_LANGUAGE", "zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LANGUAGE_COOKIE_NAME = "siyu_language"
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"  # stored in UTC; shown in the merchant's zone (Merchant.time_zone)
DEFAULT_MERCHANT_TIME_ZONE = env_str("SIYU_DEFAULT_TIME_ZONE", "Asia/Shanghai")
LOCALE_PATHS: list[Path] = []

# --- static and media ---------------------------------------------------------------

STATIC_URL = "/static/"
BASE_STATIC_VENDOR = PACKAGE_DIR / "web" / "static" / "vendor"  # filled by `npm run build`
STATIC_ROOT = Path(env_str("SIYU_STATIC_ROOT", str(DATA_DIR / "static")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("SIYU_MEDIA_ROOT", str(DATA_DIR / "media")))
SERVE_MEDIA = env_bool("SIYU_SERVE_MEDIA", default=True)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
MAX_IMAGE_UPLOAD_BYTES = env_int("SIYU_MAX_IMAGE_BYTES", 8 * 1024 * 1024)

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG

# --- Siyu ---------------------------------------------------------------------------

WEBHOOK_TIMEOUT_SECONDS = float(env_str("SIYU_WEBHOOK_TIMEOUT", "10"))
WEBHOOK_MAX_ATTEMPTS = env_int("SIYU_WEBHOOK_MAX_ATTEMPTS", 8)
# Webhook targets on private networks are refused in production (SSRF guard).
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("SIYU_WEBHOOK_ALLOW_PRIVATE", default=not PRODUCTION)
IDEMPOTENCY_KEY_TTL_HOURS = env_int("SIYU_IDEMPOTENCY_TTL_HOURS", 24)
API_PAGE_SIZE_MAX = 200

# The shop. PUBLIC_URL is how payment providers and customers reach this site
# (notification and return addresses are built from it).
PUBLIC_URL = env_str("SIYU_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
ORDER_PAYMENT_MINUTES = env_int("SIYU_ORDER_PAYMENT_MINUTES", 15)
PAYMENT_GATEWAYS = env_list("SIYU_PAYMENT_GATEWAYS", ["sandbox"])
# The sandbox gateway signs its notifications with this key (derived from the secret key unless set).
SANDBOX_GATEWAY_KEY = env_str("SIYU_SANDBOX_GATEWAY_KEY", "") or f"sandbox:{SECRET_KEY}"
SMS_BACKEND = env_str("SIYU_SMS_BACKEND", "outbox")
OTP_TTL_SECONDS = env_int("SIYU_OTP_TTL_SECONDS", 300)
OTP_RESEND_SECONDS = env_int("SIYU_OTP_RESEND_SECONDS", 60)
OTP_MAX_SENDS_PER_HOUR = env_int("SIYU_OTP_MAX_SENDS_PER_HOUR", 5)
OTP_MAX_ATTEMPTS = env_int("SIYU_OTP_MAX_ATTEMPTS", 5)
# Customer timeline entries older than this many days are pruned (nightly).
TIMELINE_DAYS = env_int("SIYU_TIMELINE_DAYS", 730)
# Partitions of a targeted message's send, each in a thread with its own connection
# (PostgreSQL; at most the number of cores; SQLite sends in one).
SEND_PARALLELISM = env_int("SIYU_SEND_PARALLELISM", 2)

if PRODUCTION:
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {
        "handlers": ["console"],
        "level": env_str("SIYU_LOG_LEVEL", "INFO"),
    },
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
    },
}
