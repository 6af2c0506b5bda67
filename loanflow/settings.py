"""LoanFlow settings: one module, configured from environment variables only.

DATABASE_URL names the PostgreSQL server (required in production; `make run` sets it to an
embedded PostgreSQL under var/pg; elsewhere it defaults to the local server on 127.0.0.1).
Without REDIS_URL, Celery uses a local filesystem:// broker under var/. DJANGO_PRODUCTION=true
turns on the production hardening that `manage.py check --deploy` inspects.
"""

import ipaddress
import re
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp import constants as csp_constants
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Exchange, Queue

from loanflow.env import env_bool, env_int, env_list, env_str
from loanflow.observability import init_sentry, logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("LOANFLOW_VAR_DIR", str(BASE_DIR / "var")))

PRODUCTION = env_bool("DJANGO_PRODUCTION", False)
DEBUG = env_bool("DJANGO_DEBUG", not PRODUCTION)
if PRODUCTION:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY")
else:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY", "insecure-development-key-change-me")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_celery_beat",
    "axes",
    # Second factor (TOTP, and recovery codes as static tokens) for the roles in
    # org.roles.SECOND_FACTOR_ROLES: org/second_factor.py.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "pgtrigger",
    "rules",
    # LoanFlow: the organisation, then the credit stages in process order.
    "org",
    "customers",
    "audit",
    "applications",
    "intake",
    "investigation",
    "pricing",
    "approvals",
    "disbursement",
    "contracts",
    "postloan",
    "sla",
    "notifications",
    "analytics",
    "portal",
    "messaging",
    "complaints",
    "datasources",
    "facilities",
    "backups",
]

MIDDLEWARE = [
    # First: liveness and readiness answer load balancers before host validation, the HTTPS
    # redirect, sessions or anything else that could touch a dependency.
    "loanflow.health.HealthMiddleware",
    # Then every request gets its id (logs, response header, the tasks it enqueues), and is
    # counted and timed for /metrics.
    "loanflow.observability.RequestIdMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before anything reads the request: a NUL in it is a 400 (common/middleware.py).
    "common.middleware.RejectUnstorableTextMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): the session's second factor (django-otp).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A session idle past LOANFLOW_SESSION_IDLE_MINUTES is logged out; then a user whose role
    # needs a second factor reaches nothing but the code's pages until the session has one.
    "org.middleware.SessionIdleTimeoutMiddleware",
    "org.middleware.SecondFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    # An SME owner reaches only the pages opened to owners (org/audience.py).
    "org.audience.OwnersStayInThePortalMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, nearest the views: a view that finds the database or Redis gone answers 503.
    "common.unavailable.DependencyUnavailableMiddleware",
]

ROOT_URLCONF = "loanflow.urls"
WSGI_APPLICATION = "loanflow.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# PostgreSQL only. `make run` starts an embedded server (scripts/embedded_pg.py) and sets
# DATABASE_URL to its socket; everywhere else DATABASE_URL names the server to use. Outside
# production an unset DATABASE_URL means the local server `make test` uses, so manage.py's
# checks and catalogue commands run on a developer's machine; production requires it.
if PRODUCTION:
    _database_url = env_str("DATABASE_URL")
else:
    _database_url = env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/loanflow")
DATABASES = {"default": environ.Env.db_url_config(_database_url)}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        f"DATABASE_URL must point to PostgreSQL, not {DATABASES['default']['ENGINE']}."
    )
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A hung or unreachable server fails a connection attempt after this many seconds (libpq
# counts anything under 2 as 2), so a request answers 503 instead of waiting for gunicorn's
# timeout. DATABASE_STATEMENT_TIMEOUT (milliseconds, 0: none) cancels a runaway statement; the
# web server sets it (gunicorn.conf.py), migrations, beat and the workers leave it unset,
# because a nightly job or a migration may rightly run for minutes. PgBouncer in transaction
# mode does not pass `options` on: set it on the web's database role there (docs/operations.md).
_database_options = DATABASES["default"].setdefault("OPTIONS", {})
_database_options["connect_timeout"] = env_int("DATABASE_CONNECT_TIMEOUT", 3)
_statement_timeout = env_int("DATABASE_STATEMENT_TIMEOUT", 0)
if _statement_timeout:
    _database_options["options"] = f"-c statement_timeout={_statement_timeout}"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication ---------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "org.auth.ProfileModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
# A lock-out holds one username from one client address: an attacker elsewhere cannot lock
# out the owner of the account.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# How many proxies in front of LoanFlow append to X-Forwarded-For (the documented TLS proxy: 1).
# 0, the default, ignores the header: a client could write any address into it.
LOANFLOW_TRUSTED_PROXIES = env_int("LOANFLOW_TRUSTED_PROXIES", 0)
if LOANFLOW_TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured("LOANFLOW_TRUSTED_PROXIES must be 0 or more.")
AXES_CLIENT_IP_CALLABLE = "org.auth.client_address"
# POST /api/v1/auth/token/ per client address (org.auth.AuthTokenThrottle), as DRF writes rates ("10/minute", "100/hour").
LOANFLOW_TOKEN_RATE = env_str("LOANFLOW_TOKEN_RATE", "10/minute")
if not re.fullmatch(r"\d+/(s|m|h|d)[a-z]*", LOANFLOW_TOKEN_RATE):
    raise ImproperlyConfigured(
        f"LOANFLOW_TOKEN_RATE={LOANFLOW_TOKEN_RATE!r} is not a rate such as 10/minute."
    )
# The owner's eligibility check (portal: page and API) per owner, as DRF writes rates: it
# reveals the pre-screen's thresholds, so it is not for probing them in bulk.
LOANFLOW_ELIGIBILITY_RATE = env_str("LOANFLOW_ELIGIBILITY_RATE", "30/hour")
if not re.fullmatch(r"\d+/(s|m|h|d)[a-z]*", LOANFLOW_ELIGIBILITY_RATE):
    raise ImproperlyConfigured(
        f"LOANFLOW_ELIGIBILITY_RATE={LOANFLOW_ELIGIBILITY_RATE!r} is not a rate such as 30/hour."
    )

# Sign-up on the portal (portal.verification): a six-digit code proves the owner holds the
# mobile number or e-mail address; it expires after LOANFLOW_CODE_MINUTES, locks after
# LOANFLOW_CODE_ATTEMPTS wrong tries, and another is sent at most every
# LOANFLOW_CODE_RESEND_SECONDS. Text messages go through LOANFLOW_SMS_BACKEND, a class path
# (common.messaging): the log here, the bank's SMS gateway adapter in production.
LOANFLOW_CODE_MINUTES = env_int("LOANFLOW_CODE_MINUTES", 10)
LOANFLOW_CODE_ATTEMPTS = env_int("LOANFLOW_CODE_ATTEMPTS", 5)
LOANFLOW_CODE_RESEND_SECONDS = env_int("LOANFLOW_CODE_RESEND_SECONDS", 60)
for _name in ("LOANFLOW_CODE_MINUTES", "LOANFLOW_CODE_ATTEMPTS"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be 1 or more.")
LOANFLOW_SMS_BACKEND = env_str("LOANFLOW_SMS_BACKEND", "common.messaging.LogSmsBackend")
# Contract signatures are sealed by LOANFLOW_ESIGN_PROVIDER, a class path (contracts/esign.py):
# the built-in keyed seal here, a licensed CA's e-seal service adapter in production.
LOANFLOW_ESIGN_PROVIDER = env_str("LOANFLOW_ESIGN_PROVIDER", "contracts.esign.BuiltInProvider")

# External data sources (datasources/): the credit bureau, tax, business registry and courts.
# Each source's adapter is a class path; the simulated ones (deterministic per credit code) ship
# with the product and serve tests, demo data and `make run`. A production adapter reads its
# endpoint, token and client certificate from LOANFLOW_DATASOURCE_<SOURCE>_URL / _TOKEN / _CERT.
LOANFLOW_DATASOURCE_ADAPTERS = {
    source: env_str(
        f"LOANFLOW_DATASOURCE_{source.upper()}_ADAPTER",
        f"datasources.adapters.Simulated{source.title()}",
    )
    for source in ("bureau", "tax", "registry", "courts")
}
LOANFLOW_DATASOURCE_ENDPOINTS = {
    source: {
        "url": env_str(f"LOANFLOW_DATASOURCE_{source.upper()}_URL", ""),
        "token": env_str(f"LOANFLOW_DATASOURCE_{source.upper()}_TOKEN", ""),
        "cert": env_str(f"LOANFLOW_DATASOURCE_{source.upper()}_CERT", ""),
    }
    for source in ("bureau", "tax", "registry", "courts")
}
# An answer younger than this is reused for the same company and source (a new call record
# that points at it), not asked again.
LOANFLOW_DATASOURCE_CACHE_HOURS = env_int("LOANFLOW_DATASOURCE_CACHE_HOURS", 24)
# One call's timeout; attempts per query, the first retry after BACKOFF seconds, doubling.
LOANFLOW_DATASOURCE_TIMEOUT_SECONDS = env_int("LOANFLOW_DATASOURCE_TIMEOUT_SECONDS", 10)
LOANFLOW_DATASOURCE_MAX_ATTEMPTS = env_int("LOANFLOW_DATASOURCE_MAX_ATTEMPTS", 4)
LOANFLOW_DATASOURCE_BACKOFF_SECONDS = env_int("LOANFLOW_DATASOURCE_BACKOFF_SECONDS", 30)
# The circuit breaker (state in Django's cache): after this many failures in a row a source is
# not called for OPEN_SECONDS; queries wait and are retried when it closes.
LOANFLOW_DATASOURCE_BREAKER_FAILURES = env_int("LOANFLOW_DATASOURCE_BREAKER_FAILURES", 5)
LOANFLOW_DATASOURCE_BREAKER_OPEN_SECONDS = env_int("LOANFLOW_DATASOURCE_BREAKER_OPEN_SECONDS", 120)
# Fault tests and drills: the simulated sources answer with an error ("error") or time out
# ("timeout") for the listed sources (all when empty); "" answers normally.
LOANFLOW_DATASOURCE_SIMULATED_FAULT = env_str("LOANFLOW_DATASOURCE_SIMULATED_FAULT", "")
LOANFLOW_DATASOURCE_SIMULATED_FAULT_SOURCES = env_list(
    "LOANFLOW_DATASOURCE_SIMULATED_FAULT_SOURCES", []
)
# How long a consent the applicant gives runs, unless they say otherwise.
LOANFLOW_CONSENT_DAYS = env_int("LOANFLOW_CONSENT_DAYS", 90)
# The nightly post-loan re-query asks the sources at most this many times a run (the
# longest-waiting loans first; the rest the next nights), so the batch stays bounded.
LOANFLOW_DATASOURCE_REQUERY_LIMIT = env_int("LOANFLOW_DATASOURCE_REQUERY_LIMIT", 500)

# Second factor (org/second_factor.py). The name authenticator apps show for LoanFlow's codes.
OTP_TOTP_ISSUER = env_str("LOANFLOW_OTP_ISSUER", "LoanFlow")
# How recent the last code must be for a credit decision, a committee close, a disbursement
# confirmation or a write-off approval (step-up); older, the action asks for a new code.
LOANFLOW_STEP_UP_MINUTES = env_int("LOANFLOW_STEP_UP_MINUTES", 5)
# Sessions: logged out after this many minutes without a request, and when the browser closes;
# never older than LOANFLOW_SESSION_MAX_HOURS whatever the activity.
LOANFLOW_SESSION_IDLE_MINUTES = env_int("LOANFLOW_SESSION_IDLE_MINUTES", 30)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = env_int("LOANFLOW_SESSION_MAX_HOURS", 12) * 3600
for _name in ("LOANFLOW_STEP_UP_MINUTES", "LOANFLOW_SESSION_IDLE_MINUTES"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be 1 or more.")
if SESSION_COOKIE_AGE < 3600:
    raise ImproperlyConfigured("LOANFLOW_SESSION_MAX_HOURS must be 1 or more.")

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = env_str("DJANGO_LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("DJANGO_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Stored files (common/storage.py): "default" holds the bank's own files (credit memos,
# site-visit photos, post-loan attachments), "documents" the applicants' uploads. On the local
# disk by default (in docker compose, named volumes), or in an S3-compatible object store with
# LOANFLOW_STORAGE=s3. No store has a public URL: every file goes out through a view that
# checks the user's scope.
MEDIA_ROOT = Path(env_str("LOANFLOW_MEDIA_ROOT", str(VAR_DIR / "media")))
LOANFLOW_DOCUMENTS_ROOT = Path(env_str("LOANFLOW_DOCUMENTS_ROOT", str(VAR_DIR / "documents")))
LOANFLOW_STORAGE = env_str("LOANFLOW_STORAGE", "filesystem")
# manage.py backup: where backups go, and the PostgreSQL client's folder (else pg_dump on PATH).
LOANFLOW_BACKUP_DIR = Path(env_str("LOANFLOW_BACKUP_DIR", str(VAR_DIR / "backups")))
LOANFLOW_PG_BIN = env_str("LOANFLOW_PG_BIN", "")
if LOANFLOW_STORAGE == "s3":
    _s3 = {
        "bucket_name": env_str("LOANFLOW_S3_BUCKET"),
        "endpoint_url": env_str("LOANFLOW_S3_ENDPOINT_URL", "") or None,
        "region_name": env_str("LOANFLOW_S3_REGION", "") or None,
        "access_key": env_str("LOANFLOW_S3_ACCESS_KEY_ID", "") or None,
        "secret_key": env_str("LOANFLOW_S3_SECRET_ACCESS_KEY", "") or None,
        "default_acl": "private",
        "querystring_auth": True,
        "file_overwrite": False,
    }
    _file_stores = {
        alias: {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {**_s3, "location": prefix}}
        for alias, prefix in (("default", "media"), ("documents", "documents"))
    }
elif LOANFLOW_STORAGE == "filesystem":
    _file_stores = {
        alias: {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "base_url": None},
        }
        for alias, root in (("default", MEDIA_ROOT), ("documents", LOANFLOW_DOCUMENTS_ROOT))
    }
else:
    raise ImproperlyConfigured("LOANFLOW_STORAGE must be filesystem or s3.")
STORAGES = {
    **_file_stores,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("LOANFLOW_MAX_UPLOAD_BYTES", 10 * 1024 * 1024) + 1_048_576
LOANFLOW_MAX_UPLOAD_BYTES = env_int("LOANFLOW_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)

# --- Email ---------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "LoanFlow <loanflow@localhost>")

# --- Celery ------------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
# Seconds to wait for Redis (broker and cache) to accept a connection, and for an answer: a
# hung Redis costs a request this long, never gunicorn's timeout.
REDIS_CONNECT_TIMEOUT = env_int("REDIS_CONNECT_TIMEOUT", 1)
REDIS_SOCKET_TIMEOUT = env_int("REDIS_SOCKET_TIMEOUT", 2)
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Fail fast when Redis is down: a request must never hang on the broker.
        "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
        "socket_timeout": REDIS_SOCKET_TIMEOUT,
        "max_retries": 1,
        # A task a killed worker held goes back to the queue after this long (acks_late). No
        # task waits in the broker with a countdown (retries are the sweeps' work), and the
        # longest task (a PDF) takes seconds: ten minutes, not Celery's default hour
        # (tests/core/test_killed_worker.py measures the redelivery).
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 600),
        # Workers look for such tasks every 10 s; kombu's default scans only every tenth
        # look (100 s), measured to leave a killed worker's task waiting a minute more.
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
    }
else:
    _queue_dir = VAR_DIR / "celery" / "queue"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        # The exchange table (kombu's default: ./control, wherever the process started).
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
# --- Cache -------------------------------------------------------------------------------------
# Short-lived shared figures (head office's approval queue counts, 15 s). CACHE_URL names a
# Redis database of its own (compose: redis://redis:6379/1), never the broker's: clearing the
# cache empties its database. Without it each process keeps its own copy.
CACHE_URL = env_str("CACHE_URL", "")
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "OPTIONS": {
                "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
            },
        }
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# No result backend: nothing reads a task's return value (the database holds every outcome).
# With Redis as one, each publish subscribed the web process to the task's result channel and
# the worker stored every result for a day.
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = TIME_ZONE
# Three queues, each with its own worker in production (docker-compose.yml), so that a burst
# of one kind never delays another: `sla` for deadlines and e-mails (small, time-bound),
# `pdf` for WeasyPrint renders (CPU-heavy, memory grows: its worker restarts its children),
# and Celery's default `celery` for the rest (the name tasks queued before the split used).
# Every project task is routed here by name; tests/core/test_celery_queues.py fails on a task
# that is not. A worker started without --queues consumes all three (make run, the tests).
LOANFLOW_CELERY_QUEUES = ["sla", "pdf", "celery"]
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name) for name in LOANFLOW_CELERY_QUEUES
]
CELERY_TASK_ROUTES = {
    "sla.tasks.sweep": {"queue": "sla"},
    "notifications.tasks.send_email": {"queue": "sla"},
    "notifications.tasks.send_emails": {"queue": "sla"},
    "notifications.tasks.requeue_undelivered": {"queue": "sla"},
    # A new approval task told to its queue: small and as urgent as an e-mail.
    "approvals.tasks.announce_task": {"queue": "sla"},
    "investigation.render_credit_memo": {"queue": "pdf"},
    "disbursement.tasks.render_offer_pdf": {"queue": "pdf"},
    # Renders the offers it finds inline.
    "disbursement.tasks.render_pending_offers": {"queue": "pdf"},
    "contracts.tasks.render_contract_pdf": {"queue": "pdf"},
    "contracts.tasks.render_signed_contract_pdf": {"queue": "pdf"},
    # Renders the contracts it finds inline.
    "contracts.tasks.render_pending_contracts": {"queue": "pdf"},
    # Files the loan files' new documents (reads and hashes them; renders nothing).
    "contracts.tasks.file_loan_files": {"queue": "celery"},
    "sla.tasks.calendar_coverage": {"queue": "celery"},
    "investigation.requeue_pending_memos": {"queue": "celery"},
    "investigation.data_fast_track": {"queue": "celery"},
    "investigation.data_fast_track_sweep": {"queue": "celery"},
    "approvals.tasks.fast_track_decide": {"queue": "celery"},
    "approvals.tasks.release_stale_claims": {"queue": "celery"},
    "postloan.tasks.daily_job": {"queue": "celery"},
    "postloan.tasks.start_missing_clocks": {"queue": "celery"},
    # A risk officer's "Refresh now": one grouped read of the bank's exposure (seconds).
    "postloan.tasks.exposure_snapshot_refresh": {"queue": "celery"},
    "facilities.tasks.expire_facilities": {"queue": "celery"},
    "audit.tasks.verify_trail": {"queue": "celery"},
    "analytics.tasks.record_loan_month_ends": {"queue": "celery"},
    "datasources.fetch_source_answer": {"queue": "celery"},
    "datasources.advance_data_route": {"queue": "celery"},
    "datasources.requeue_due_queries": {"queue": "celery"},
    "datasources.requery_active_loans": {"queue": "celery"},
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Every periodic job in one place. Each is a thin task over a service that is also a
# management command, so an operator can run it by hand after an outage.
CELERY_BEAT_SCHEDULE = {
    # Every minute: fire due SLA reminders and escalations (claims rows, exactly once).
    "sla-sweep": {"task": "sla.tasks.sweep", "schedule": timedelta(minutes=1)},
    # Every minute: re-queue emails the broker lost (Redis outage) or due for a retry.
    "notifications-requeue-undelivered": {
        "task": "notifications.tasks.requeue_undelivered",
        "schedule": timedelta(minutes=1),
    },
    # Every minute: return claimed approval tasks left untouched past the claim timeout.
    "approvals-release-stale-claims": {
        "task": "approvals.tasks.release_stale_claims",
        "schedule": timedelta(minutes=1),
    },
    # Daily at 00:30 bank time, before the post-loan job: facilities past their expiry expire
    # (nothing more is drawn under them; their loans run on).
    "facilities-expire": {
        "task": "facilities.tasks.expire_facilities",
        "schedule": crontab(hour=0, minute=30),
    },
    # Daily at 01:30 bank time: days past due, classification floors, inspections, warnings.
    "postloan-daily": {
        "task": "postloan.tasks.daily_job",
        "schedule": crontab(hour=1, minute=30),
    },
    # Monthly, on the 1st at 02:30 bank time, after the post-loan job: every loan's position
    # at the month just ended, for the vintage curves (analytics.services).
    "analytics-loan-month-ends": {
        "task": "analytics.tasks.record_loan_month_ends",
        "schedule": crontab(day_of_month=1, hour=2, minute=30),
    },
    # Daily at 03:00 bank time, after the post-loan job: recompute the audit trail's hash
    # chains and notify the administrators of a break (docs/adr/0013).
    "audit-verify-trail": {
        "task": "audit.tasks.verify_trail",
        "schedule": crontab(hour=3, minute=0),
    },
    # Daily at 08:00 bank time: warn when this or next year's holiday calendar is missing.
    "sla-calendar-coverage": {
        "task": "sla.tasks.calendar_coverage",
        "schedule": crontab(hour=8, minute=0),
    },
    # Every 5 minutes: render offer letters whose render was never enqueued (broker down).
    "disbursement-render-pending-offers": {
        "task": "disbursement.tasks.render_pending_offers",
        "schedule": timedelta(minutes=5),
    },
    # Every minute: external-data queries due for their next attempt (a retry after backoff,
    # a source whose circuit breaker has closed again, an enqueue the broker lost), and the
    # data-driven routes of online submissions whose answers are in but whose task was lost.
    "datasources-requeue-due-queries": {
        "task": "datasources.requeue_due_queries",
        "schedule": timedelta(minutes=1),
    },
    # Daily at 02:15 bank time, after the post-loan job has classified the loans: ask the
    # sources again about active loans due by their class's interval (consent permitting).
    "datasources-requery-active-loans": {
        "task": "datasources.requery_active_loans",
        "schedule": crontab(hour=2, minute=15),
    },
    # Every 5 minutes: render contract PDFs (and signed PDFs) whose render was never enqueued.
    "contracts-render-pending": {
        "task": "contracts.tasks.render_pending_contracts",
        "schedule": timedelta(minutes=5),
    },
    # Nightly at 01:45: file the documents the cases produced in the day (the loan file).
    "contracts-file-loan-files": {
        "task": "contracts.tasks.file_loan_files",
        "schedule": crontab(hour=1, minute=45),
    },
    # Every minute: the data-driven fast track for cases whose sources have all answered
    # but whose decision task was lost (broker down, worker restart).
    "investigation-data-fast-track-sweep": {
        "task": "investigation.data_fast_track_sweep",
        "schedule": timedelta(minutes=1),
    },
    # Every 5 minutes: re-enqueue credit memos still pending (their enqueue was lost).
    "investigation-requeue-pending-memos": {
        "task": "investigation.requeue_pending_memos",
        "schedule": timedelta(minutes=5),
    },
}

# --- REST framework ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "org.auth.TokenAuthentication",
    ],
    # Every endpoint is internal to the bank unless it opens itself to SME owners
    # (org.permissions: StaffOnly, OwnersOnly, OpenToOwners).
    "DEFAULT_PERMISSION_CLASSES": ["org.permissions.StaffOnly"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "EXCEPTION_HANDLER": "common.api.exception_handler",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Throttles key on the client address as the lock-outs do (org.auth.client_address).
    "NUM_PROXIES": LOANFLOW_TRUSTED_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "LoanFlow API",
    "DESCRIPTION": "SME loan origination: intake, investigation, approval, disbursement, "
    "post-loan monitoring.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the vendored sidecar package: the docs work offline, no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "TAGS": [
        {
            "name": "portal",
            "description": "For SME owners (the applicant role) only: their own company's "
            "applications as the portal shows them, in plain language, and the portal's "
            "actions. Every other endpoint except me/ and notifications/ is internal to the "
            "bank and answers an owner 403.",
        },
    ],
    "ENUM_NAME_OVERRIDES": {
        # applications
        "ApplicationStatusEnum": "applications.models.Status",
        "RepaymentMethodEnum": "applications.models.RepaymentMethod",
        "GuaranteeTypeEnum": "applications.models.GuaranteeType",
        # investigation
        "InvestigationVerificationStatusEnum": "investigation.models.VerificationItem.Status",
        "InvestigationVerificationSourceEnum": "investigation.models.VerificationItem.Source",
        "CreditMemoStatusEnum": "investigation.models.CreditMemo.Status",
        "GuarantorKindEnum": "intake.models.Guarantor.Kind",
        "RiskLevelEnum": "investigation.models.IndustryRisk",
        "CollateralTypeEnum": "intake.models.Collateral.Kind",
        # intake
        "IntakeInfoRequestKindEnum": "intake.models.InfoRequest.Kind",
        "IntakeInfoRequestStatusEnum": "intake.models.InfoRequest.Status",
        "IntakeDocumentStatusEnum": "intake.models.Document.Status",
        "IntakeStageEnum": "intake.models.Stage",
        "IntakeReviewDecisionEnum": ["accept", "reject"],
        # notifications
        "NotificationKindEnum": "notifications.models.Kind",
        "PrepaymentKindEnum": "postloan.models.Prepayment.Kind",
        "OwnerRequestKindEnum": "postloan.models.OwnerRequest.Kind",
        # messaging
        "SurveyStageEnum": "messaging.models.SurveyStage",
        "MessageSideEnum": "messaging.models.Side",
        # approvals
        "ApprovalTaskStatusEnum": "approvals.models.ApprovalTask.Status",
        "ApprovalTaskKindEnum": "approvals.models.ApprovalTask.Kind",
        "ApprovalDecisionEnum": "approvals.models.ApprovalTask.Decision",
        "CommitteeVoteEnum": "approvals.models.CommitteeVote.Vote",
        # datasources
        "DataSourceEnum": "datasources.models.Source",
        "ConsentStatusEnum": "datasources.models.Consent.Status",
        "ConsentChannelEnum": "datasources.models.Consent.Channel",
        "SourceQueryStatusEnum": "datasources.models.SourceQuery.Status",
        "SourceFactStatusEnum": "datasources.models.SourceFact.Status",
    },
}

# --- Security (production) ---------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Content-Security-Policy, enforced on every page (django-csp): scripts, styles, fonts and
# images from this origin only, no inline script, no inline event handler, no inline style, no
# eval. Pages load their code from static files and embed data as JSON (`json_script`); the API
# docs use drf-spectacular's split view (its init script is a file too). LOANFLOW_CSP_REPORT_URI
# names an endpoint that browsers send violation reports to.
LOANFLOW_CSP_REPORT_URI = env_str("LOANFLOW_CSP_REPORT_URI", "")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp_constants.SELF],
        "script-src": [csp_constants.SELF],
        "style-src": [csp_constants.SELF],
        # data: for the SVG icons inside the admin's and Swagger UI's stylesheets.
        "img-src": [csp_constants.SELF, "data:"],
        "font-src": [csp_constants.SELF],
        "connect-src": [csp_constants.SELF],
        "object-src": [csp_constants.NONE],
        "base-uri": [csp_constants.SELF],
        "form-action": [csp_constants.SELF],
        "frame-ancestors": [csp_constants.NONE],
        **({"report-uri": LOANFLOW_CSP_REPORT_URI} if LOANFLOW_CSP_REPORT_URI else {}),
    },
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    # Probes speak plain HTTP inside the network (loanflow.health answers them first anyway).
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^api/v1/health/$", r"^metrics$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Logs, metrics, error reports (loanflow/observability.py, loanflow/metrics.py) ---------------
# text: plain lines with the request id in brackets (`make run`); json: one JSON object a line
# with request_id, user_id and, in workers, task_name (the production image).
LOANFLOW_LOG_FORMAT = env_str("LOANFLOW_LOG_FORMAT", "text")
if LOANFLOW_LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured("LOANFLOW_LOG_FORMAT must be text or json.")
LOGGING = logging_config(
    log_format=LOANFLOW_LOG_FORMAT, level=env_str("LOANFLOW_LOG_LEVEL", "INFO")
)
# /metrics answers these client addresses or networks (org.auth.client_address, so behind
# LOANFLOW_TRUSTED_PROXIES the forwarded address), or a request with
# "Authorization: Bearer <LOANFLOW_METRICS_TOKEN>"; anyone else gets a 404.
LOANFLOW_METRICS_ALLOWED_ADDRESSES = env_list(
    "LOANFLOW_METRICS_ALLOWED_ADDRESSES", ["127.0.0.1", "::1"]
)
try:
    LOANFLOW_METRICS_ALLOWED_NETWORKS = [
        ipaddress.ip_network(value, strict=False) for value in LOANFLOW_METRICS_ALLOWED_ADDRESSES
    ]
except ValueError as exc:
    raise ImproperlyConfigured(f"LOANFLOW_METRICS_ALLOWED_ADDRESSES: {exc}") from exc
LOANFLOW_METRICS_TOKEN = env_str("LOANFLOW_METRICS_TOKEN", "")
# django-prometheus serves only its middleware (see MIDDLEWARE): its database and cache
# backends would wrap every query and cache call, and its app would count migrations at start.
# Unhandled errors of the web and the workers go to Sentry when SENTRY_DSN is set.
SENTRY_DSN = env_str("SENTRY_DSN", "")
SENTRY_ENVIRONMENT = env_str("SENTRY_ENVIRONMENT", "production" if PRODUCTION else "development")
LOANFLOW_RELEASE = env_str("LOANFLOW_RELEASE", "")
init_sentry(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, release=LOANFLOW_RELEASE)

# --- LoanFlow ----------------------------------------------------------------------------------
LOANFLOW_DEFAULT_CURRENCY = "CNY"
LOANFLOW_SITE_URL = env_str("LOANFLOW_SITE_URL", "http://127.0.0.1:8000")
# The owner's portal shows a loan's five-category class, in plain words, only where the bank
# chooses to (off by default: many banks keep the class internal).
LOANFLOW_PORTAL_SHOWS_CLASSIFICATION = env_bool("LOANFLOW_PORTAL_SHOWS_CLASSIFICATION", False)
# The nightly job reminds owners this many calendar days before each instalment is due (0: no
# reminder before; the first-day-overdue reminder is always sent).
LOANFLOW_REMINDER_DAYS_BEFORE = env_int("LOANFLOW_REMINDER_DAYS_BEFORE", 3)
if LOANFLOW_REMINDER_DAYS_BEFORE < 0:
    raise ImproperlyConfigured("LOANFLOW_REMINDER_DAYS_BEFORE must be 0 or more.")
# A payout's value date (disbursement.services.disbursement_record) may be at most this many
# days before today, and after it: a loan back-dated by years is overdue, even classified, on
# the day it is confirmed.
LOANFLOW_VALUE_DATE_MAX_PAST_DAYS = env_int("LOANFLOW_VALUE_DATE_MAX_PAST_DAYS", 15)
LOANFLOW_VALUE_DATE_MAX_FUTURE_DAYS = env_int("LOANFLOW_VALUE_DATE_MAX_FUTURE_DAYS", 30)
for _name in ("LOANFLOW_VALUE_DATE_MAX_PAST_DAYS", "LOANFLOW_VALUE_DATE_MAX_FUTURE_DAYS"):
    if globals()[_name] < 0:
        raise ImproperlyConfigured(f"{_name} must be 0 or more.")
# A claimed approval task left untouched this long returns to its queue (swept every minute).
APPROVALS_CLAIM_TIMEOUT_MINUTES = env_int("APPROVALS_CLAIM_TIMEOUT_MINUTES", 120)
# Readiness (/readyz) answers 503 after this many seconds even when a dependency hangs.
LOANFLOW_READINESS_TIMEOUT = float(env_str("LOANFLOW_READINESS_TIMEOUT", "1.5"))
