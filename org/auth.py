"""Authentication that loads, with the user, what every scoped request reads next, in one
query: the staff profile and its branch, or the applicant profile (select_related), the roles
with their groups' permissions (org.roles.role_grant_rows) and the branch subtree
(org.selectors.branch_subtree_column), kept on the user for the request; with a token, also
when it last came with a second factor (org.second_factor.step_up_fresh reads it). The permission rules
and scopes read them from there (org.roles.roles_of, org.selectors.branch_scope_ids), and read
them themselves for a user loaded any other way."""

import ipaddress

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import F
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions, throttling
from rest_framework.authtoken.models import Token

from org.roles import remember_role_grants, role_grant_rows
from org.selectors import branch_subtree_column, remember_branch_subtree

# What a scoped request reads after the user: their profiles and the staff member's branch.
USER_RELATED = ("staff_profile__branch", "applicant_profile")


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, with the user's profiles, branch, roles and branch subtree,
    and the time of the token's last second factor, in the same query."""

    model = Token

    def authenticate_credentials(self, key):
        try:
            token = (
                _with_access(
                    Token.objects.select_related(*(f"user__{related}" for related in USER_RELATED)),
                    user="user",
                )
                .annotate(second_factor_at=F("second_factor__verified_at"))
                .get(key=key)
            )
        except Token.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        _remember_access(token.user, token)
        return (token.user, token)


class ProfileModelBackend(ModelBackend):
    """Django's model backend; the session's user comes with its profiles, branch, roles and
    branch subtree (one query)."""

    def get_user(self, user_id):
        try:
            user = _with_access(
                get_user_model().objects.select_related(*USER_RELATED), user=None
            ).get(pk=user_id)
        except (get_user_model().DoesNotExist, TypeError, ValueError):
            return None
        _remember_access(user, user)
        return user if self.user_can_authenticate(user) else None


def _with_access(queryset, *, user: str | None):
    """`queryset` (of tokens or of users: `user` is the path to the user, None for the user
    itself) with the user's role grants and branch subtree as two array columns."""
    prefix = f"{user}__" if user else ""
    return queryset.annotate(
        loanflow_role_grants=role_grant_rows(f"{prefix}pk"),
        loanflow_branch_subtree=branch_subtree_column(f"{prefix}staff_profile__branch__path"),
    )


def _remember_access(user, row) -> None:
    remember_role_grants(
        user,
        [(g["role"], g["app_label"], g["codename"]) for g in row.loanflow_role_grants],
    )
    if getattr(user, "staff_profile", None) is not None:
        remember_branch_subtree(user, row.loanflow_branch_subtree)


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
