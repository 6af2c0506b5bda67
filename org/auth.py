"""Authentication that loads, with the user, what every scoped request reads next: the staff
profile and its branch, or the applicant profile (one query, select_related). The roles and the
branch subtree are read once per request when first asked for (org.roles.roles_of,
org.selectors.branch_scope_ids) and kept on the user."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
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
