"""While PostgreSQL or Redis is unavailable, answer 503 (and say so), never a 500.

The API answers the project's JSON error body (`detail`, `code`, as common.api does); a page
answers a plain 503 page that needs neither the database nor the session to render. Three
places catch the outage, because Django converts an exception into a response at each layer:
common.api.exception_handler (API views), DependencyUnavailableMiddleware (other views) and
`server_error`, the project's handler500 (a middleware that touched the database, e.g. the
session or the user).
"""

import logging
import sys

from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.defaults import server_error as django_server_error
from kombu.exceptions import OperationalError as BrokerOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

OUTAGES = (
    DatabaseOperationalError,
    DatabaseInterfaceError,
    RedisConnectionError,
    RedisTimeoutError,
    BrokerOperationalError,
)
RETRY_AFTER_SECONDS = "30"


def is_outage(exc: BaseException | None) -> bool:
    return isinstance(exc, OUTAGES)


def unavailable_body() -> dict:
    return {
        "detail": _("The service is temporarily unavailable; please try again shortly."),
        "code": "service_unavailable",
    }


def unavailable_response(request, exc: BaseException) -> HttpResponse:
    logger.warning("Answered 503, a dependency is unavailable: %s: %s", type(exc).__name__, exc)
    if request.path_info.startswith("/api/"):
        response = JsonResponse(unavailable_body(), status=503)
    else:
        # No request context: the context processors would read the session and the user.
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = RETRY_AFTER_SECONDS
    return response


class DependencyUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_outage(exception):
            return unavailable_response(request, exception)
        return None


def server_error(request, template_name="500.html"):
    """handler500: Django calls it while handling the exception, so sys.exc_info() has it."""
    exc = sys.exc_info()[1]
    if is_outage(exc):
        return unavailable_response(request, exc)
    return django_server_error(request, template_name)
