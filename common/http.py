"""Small helpers of the HTML views and the API."""

from django.http import FileResponse
from django.utils.http import url_has_allowed_host_and_scheme

from common.errors import NotFound


def safe_next(request, default: str) -> str:
    """Where to go after a form: the posted `next` when it is a path on this site, else
    `default` (never another host: a crafted link must not bounce a user off the bank's
    site)."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def stored_file_response(stored, *, filename: str, content_type: str | None = None):
    """A stored upload (a FieldFile) sent as a download under its client's name, never
    sniffed by the browser as another type. NotFound (404) when the store has lost it."""
    try:
        handle = stored.open("rb")
    except FileNotFoundError:
        raise NotFound() from None
    response = FileResponse(
        handle, as_attachment=True, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
