"""Refuse, at the edge, text that PostgreSQL cannot store.

PostgreSQL's text types cannot hold a NUL character, and a lone UTF-16 surrogate (which JSON's
`\\ud800` escapes produce) cannot even be encoded for the connection. Either one reaching a query
raised an unhandled error, a 500, on every endpoint that filters or stores what it is given. One
check here answers 400 for all of them: the path, the query string, form fields, JSON bodies,
the headers and the cookies (which carry the token and the session key); uploaded file names
come cleaned by Django.
"""

import json
import logging
import re

from django.contrib.auth.models import AnonymousUser
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# NUL, and the surrogate code points that are not characters (no UTF-8 encoding exists).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def has_unstorable(value) -> bool:
    """Whether a decoded JSON value, a string or any string inside it, cannot be stored."""
    if isinstance(value, str):
        return UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(has_unstorable(k) or has_unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_unstorable(item) for item in value)
    return False


def _multi_has_unstorable(data) -> bool:
    return any(
        UNSTORABLE.search(key) or any(UNSTORABLE.search(value) for value in values)
        for key, values in data.lists()
    )


def _json_body_has_unstorable(request) -> bool:
    body = request.body
    # A raw NUL is not valid JSON, and the parser answers 400 for it; only an escape decodes
    # to a character we must refuse, so a body without one needs no second parse.
    if b"\\u" not in body:
        return False
    try:
        data = json.loads(body)
    except ValueError:
        return False  # not JSON: the API's parser answers 400
    return has_unstorable(data)


def where_unstorable(request) -> str | None:
    """The part of the request that holds text PostgreSQL cannot store, or None."""
    if UNSTORABLE.search(request.path_info):
        return "path"
    if _multi_has_unstorable(request.GET):
        return "query"
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str) and UNSTORABLE.search(value):
            return "header"
    # A cookie's octal escapes (\000) become characters only once it is parsed.
    for key, value in request.COOKIES.items():
        if UNSTORABLE.search(key) or UNSTORABLE.search(value):
            return "cookie"
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    content_type = request.content_type or ""
    is_form = content_type in ("multipart/form-data", "application/x-www-form-urlencoded")
    # Django's multipart parser already drops non-printable characters (NUL and surrogates
    # among them) from uploaded file names; the field names and values are checked here.
    if is_form and (
        _multi_has_unstorable(request.POST) or any(UNSTORABLE.search(k) for k in request.FILES)
    ):
        return "form"
    is_json = content_type == "application/json" or content_type.endswith("+json")
    if is_json and _json_body_has_unstorable(request):
        return "body"
    return None


class RejectUnstorableTextMiddleware:
    """Answer 400 to a request carrying a NUL (or a lone surrogate) anywhere a view could read
    it, before any view or authentication does."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        where = where_unstorable(request)
        if where is not None:
            logger.info(
                "Refused %s %r: unstorable text in the %s", request.method, request.path, where
            )
            return self.refuse(request)
        return self.get_response(request)

    def refuse(self, request):
        message = _(
            "The request contains characters that cannot be accepted (a NUL byte or an "
            "invalid character). Remove them and try again."
        )
        if request.path_info.startswith("/api/"):
            return JsonResponse({"detail": message, "code": "invalid_characters"}, status=400)
        # The page is drawn for an anonymous visitor: the session cookie itself may be what
        # was refused, so it must not be looked up.
        request.user = AnonymousUser()
        return render(request, "bad_request.html", {"message": message}, status=400)
