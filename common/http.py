"""Small helpers of the HTML views."""

from django.utils.http import url_has_allowed_host_and_scheme


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
