"""Sessions: the idle time-out, and the second factor required before a session of a user
whose role needs one reaches anything but the code's pages (org.second_factor)."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from org.second_factor import requires_second_factor, second_factor_url

# Seconds since the epoch of the session's last request, refreshed at most once a minute.
LAST_SEEN_SESSION_KEY = "loanflow_seen_at"
REFRESH_SECONDS = 60


class SessionIdleTimeoutMiddleware:
    """Log a session out after LOANFLOW_SESSION_IDLE_MINUTES without a request. The last
    request's time is written at most once a minute, so an active session costs one session
    write a minute, not one a request (as SESSION_SAVE_EVERY_REQUEST would)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Without a session cookie (API tokens, first visits) there is nothing to load.
        if settings.SESSION_COOKIE_NAME in request.COOKIES and SESSION_KEY in request.session:
            now = int(time.time())
            seen = request.session.get(LAST_SEEN_SESSION_KEY)
            if isinstance(seen, int) and now - seen > settings.LOANFLOW_SESSION_IDLE_MINUTES * 60:
                logout(request)
                messages.info(
                    request,
                    _("You were logged out after %(minutes)d minutes without activity.")
                    % {"minutes": settings.LOANFLOW_SESSION_IDLE_MINUTES},
                )
            elif not isinstance(seen, int) or now - seen >= REFRESH_SECONDS:
                request.session[LAST_SEEN_SESSION_KEY] = now
        return self.get_response(request)


class SecondFactorRequiredMiddleware:
    """A session whose user needs a second factor and has not given one reaches only the
    login, logout, code and enrolment pages, static files and the language switch: pages
    redirect to the code (or enrolment) page, the API answers 403 `second_factor_required`.
    Requests authenticated by an API token carry no session and are not concerned: the token
    itself was issued only with a code."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._open_paths: frozenset[str] | None = None

    def open_paths(self) -> frozenset[str]:
        if self._open_paths is None:
            self._open_paths = frozenset(
                reverse(name)
                for name in (
                    "login",
                    "logout",
                    "portal-login",
                    "second-factor-verify",
                    "second-factor-enrol",
                    "set_language",
                )
            )
        return self._open_paths

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()
            and request.path_info not in self.open_paths()
            and not request.path_info.startswith(settings.STATIC_URL)
            and requires_second_factor(user)
        ):
            if request.path_info.startswith("/api/"):
                return JsonResponse(
                    {
                        "detail": _(
                            "Your session has not passed the second factor: enter a code from "
                            "your authenticator app on the web site first."
                        ),
                        "code": "second_factor_required",
                    },
                    status=403,
                )
            next_url = request.get_full_path() if request.method == "GET" else ""
            return redirect(second_factor_url(user, next_url=next_url))
        return self.get_response(request)
