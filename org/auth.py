"""Authentication that loads, with the user, what every scoped request reads next: the staff
profile and its branch (one query instead of three)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

WITH_USER = ("staff_profile__branch", "applicant_profile")


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, with the user's staff profile and branch joined in."""

    model = Token

    def authenticate_credentials(self, key):
        try:
            token = Token.objects.select_related(
                "user", *(f"user__{path}" for path in WITH_USER)).get(key=key)
        except Token.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)


class ProfileModelBackend(ModelBackend):
    """Django's model backend; the session's user comes with its profiles and branch."""

    def get_user(self, user_id):
        user = (get_user_model()._default_manager.select_related(*WITH_USER)
                .filter(pk=user_id).first())
        return user if user is not None and self.user_can_authenticate(user) else None
