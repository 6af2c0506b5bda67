"""Authentication that loads, with the user, what every scoped request reads next: the staff
profile and its branch, or the applicant profile (one query, select_related). The roles and the
branch subtree are read once per request when first asked for (org.roles.roles_of,
org.selectors.branch_scope_ids) and kept on the user."""

import ipaddress

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions, throttling
from rest_framework.authtoken.models import Token

# What a scoped request reads after the user: their profiles and the staff member's branch.
USER_RELATED = ("staff_profile__branch", "applicant_profile")


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, with the user's profiles and branch in the same query."""

    model = Token

    def authenticate_credentials(self, key):
        try:
            token = Token.objects.select_related(
                *(f"user__{related}" for related in USER_RELATED)
            ).get(key=key)
        except Token.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)


class ProfileModelBackend(ModelBackend):
    """Django's model backend; the session's user comes with its profiles and branch."""

    def get_user(self, user_id):
        try:
            user = get_user_model().objects.select_related(*USER_RELATED).get(pk=user_id)
        except (get_user_model().DoesNotExist, TypeError, ValueError):
            return None
        return user if self.user_can_authenticate(user) else None


def client_address(request) -> str | None:
    """The address of the client, for lock-outs and throttles. Without trusted proxies
    (LOANFLOW_TRUSTED_PROXIES=0) it is the connection's address and X-Forwarded-For is
    ignored, since a client can write anything there. Behind N trusted proxies, each
    appending the address it saw, it is the N-th address from the right: what the outermost
    trusted proxy saw. A request that did not come through them (too few addresses, or not an
    address) is known by its connection's address."""
    remote = request.META.get("REMOTE_ADDR")
    trusted = settings.LOANFLOW_TRUSTED_PROXIES
    if trusted <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < trusted:
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-trusted]))
    except ValueError:
        return remote


class AuthTokenThrottle(throttling.SimpleRateThrottle):
    """At most LOANFLOW_TOKEN_RATE token requests per client address."""

    scope = "auth_token"

    def get_rate(self) -> str:
        return settings.LOANFLOW_TOKEN_RATE

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}
