"""Logins: an API token for a username and password (with the same lock-out as the login
pages), and an administrator's unlock of a locked-out login."""

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from audit.services import audit_account
from common.errors import Forbidden, InvalidInput, LockedOut, NotFound
from org.second_factor import (
    has_second_factor,
    requires_second_factor,
    second_factor_check,
    token_second_factor_record,
)


def auth_token_obtain(*, request, username: str, password: str, otp: str = "") -> Token:
    """The user's API token. Goes through the authentication backends, django-axes first, so
    failures count towards the lock-out of this username from this address, and a locked-out
    login gets no token even with the right password. A user whose role needs a second factor
    also gives a code (`otp`), which then counts as the token's fresh code for a step-up."""
    user = authenticate(request=request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        raise LockedOut()
    if user is None:
        raise InvalidInput(
            _("Unable to log in with provided credentials."), code="invalid_credentials"
        )
    verified = False
    if requires_second_factor(user):
        if not has_second_factor(user):
            raise Forbidden(
                _(
                    "Your role signs in with two-factor authentication: log in to the web "
                    "site once to set up your authenticator app, then ask for a token with "
                    "its code."
                ),
                code="second_factor_enrolment_required",
            )
        if not otp.strip():
            message = _("Enter the code from your authenticator app.")
            raise InvalidInput(message, code="otp_required", details={"otp": [message]})
        if second_factor_check(user=user, code=otp) is None:
            message = _("That code is wrong or already used. Enter the current code from your app.")
            raise InvalidInput(message, code="invalid_otp", details={"otp": [message]})
        verified = True
    token, _created = Token.objects.get_or_create(user=user)
    if verified:
        token_second_factor_record(token=token)
    return token


def login_unlock(*, username: str, by=None) -> int:
    """Lift every lock-out of `username` (from any address) and clear its failed attempts.
    `by` is the administrator (None from the command line). Returns how many records of
    failed attempts were cleared."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise NotFound(_("There is no user %(username)s.") % {"username": username})
    with transaction.atomic():
        cleared = axes_reset(username=username)
        audit_account(
            action="login_unlock",
            account=user,
            actor=by,
            data={"username": username, "attempts_cleared": cleared},
        )
    return cleared


# The languages a person may choose (settings.LANGUAGES).
def preferred_language_set(*, user, language: str) -> int:
    """Keep the language a person chose in the interface as their preferred language: their
    notifications, e-mails and PDFs follow it (notifications.services.user_languages). Both
    profiles a login may have are updated; returns how many rows changed."""
    if language not in dict(settings.LANGUAGES):
        raise InvalidInput(details={"language": [_("Choose English or Simplified Chinese.")]})
    changed = 0
    for profile in ("staff_profile", "applicant_profile"):
        model = user._meta.get_field(profile).related_model
        changed += model.objects.filter(user=user).update(preferred_language=language)
    return changed
