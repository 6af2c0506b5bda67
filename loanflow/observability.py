"""Logs that name their request, and error reports to Sentry.

Every request gets a request id: the caller's X-Request-ID when it is a sane token, else a new
one. It is echoed in the response's X-Request-ID header, bound to the log context (structlog's
contextvars) for every line logged while the request runs, and carried in the headers of the
Celery tasks the request enqueues, so a worker's lines name the request that caused them.

LOANFLOW_LOG_FORMAT=json writes one JSON object a line (the production image); text, the
default, the plain lines `make run` has always printed, with the request id in brackets.
"""

import logging
import re
import time
import uuid

import structlog
from django.utils.functional import SimpleLazyObject, empty
from structlog.contextvars import bind_contextvars, clear_contextvars, get_contextvars

REQUEST_ID_HEADER = "X-Request-ID"
# Celery message header carrying the request id from the web process to the worker.
TASK_HEADER = "loanflow_request_id"
# A caller's id is kept when it could not smuggle anything into a log line or a header.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

request_logger = logging.getLogger("loanflow.request")
REQUEST_LINE_FIELDS = ("method", "path", "status", "duration_ms")


# --- Log formatting ------------------------------------------------------------------------


def json_formatter() -> logging.Formatter:
    """One JSON object a line, with the bound context (request_id, user_id, task) merged in."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            # Only the request line's own fields: other extras (django.request's request object,
            # the text format's request_id) would repeat or garble the context.
            structlog.stdlib.ExtraAdder(allow=REQUEST_LINE_FIELDS),
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )


class RequestIdFilter(logging.Filter):
    """Gives each record the bound request id ("-" outside a request) for the text format."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = get_contextvars().get("request_id", "-")
        return True


def logging_config(*, log_format: str, level: str) -> dict:
    """The LOGGING dict for the web, beat and worker processes."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "loanflow.observability.RequestIdFilter"}},
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
            "json": {"()": "loanflow.observability.json_formatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if log_format == "json" else "plain",
                "filters": [] if log_format == "json" else ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "INFO"}},
    }


# --- Web requests --------------------------------------------------------------------------


def request_id_from(value: str | None) -> str:
    if value and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def known_user_id(request) -> int | None:
    """The user's id if the request has already looked the user up. A user nobody asked for
    stays unasked: loading the session for a log line would cost a query, and a second wait
    when the database hangs."""
    user = getattr(request, "user", None)
    # AuthenticationMiddleware's lazy user (type(), not isinstance(), which would load it).
    if type(user) is SimpleLazyObject and user._wrapped is empty:
        return None
    # DRF authenticates in the view and sets the user on the Django request too.
    if user is not None and user.is_authenticated:
        return user.pk
    return None


class RequestIdMiddleware:
    """Binds the request id (and, once known, the user id) to the log context, logs one line
    per request with its outcome and time, and echoes the id in the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        # Cleared here rather than on the way out: Django logs a 4xx or 5xx answer
        # (django.request) after the last middleware has returned, and that line should name
        # the request too.
        clear_contextvars()
        bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        user_id = known_user_id(request)
        if user_id is not None:
            bind_contextvars(user_id=user_id)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        request_logger.info(
            "%s %s %s %sms",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
            },
        )
        response[REQUEST_ID_HEADER] = request_id
        return response


# --- Celery --------------------------------------------------------------------------------


def task_publish_add_request_id(headers=None, **kwargs) -> None:
    """before_task_publish: a task enqueued while a request runs carries its id."""
    request_id = get_contextvars().get("request_id")
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


def task_prerun_bind_context(task=None, task_id=None, **kwargs) -> None:
    """task_prerun: a worker's lines name the task and the request that enqueued it. An eager
    task runs inside the caller's context, which already names the request."""
    if task is None or task.request.is_eager:
        return
    clear_contextvars()
    context = {"task_id": task_id, "task_name": task.name}
    request_id = getattr(task.request, TASK_HEADER, None)
    if request_id:
        context["request_id"] = request_id
    bind_contextvars(**context)


def task_postrun_clear_context(task=None, **kwargs) -> None:
    if task is not None and not task.request.is_eager:
        clear_contextvars()


def celery_setup_logging(**kwargs) -> None:
    """setup_logging: workers and beat log through settings.LOGGING (JSON in production), not
    Celery's own format."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


# --- Sentry --------------------------------------------------------------------------------


def init_sentry(*, dsn: str, environment: str, release: str) -> bool:
    """Report unhandled errors of the web and the workers to Sentry; nothing without a DSN.
    Personal data (user names, addresses, cookies, bodies) is never sent."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        traces_sample_rate=0.0,
    )
    return True
