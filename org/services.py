"""Logins: an API token for a username and password (with the same lock-out as the login
pages), and an administrator's unlock of a locked-out login."""

from axes.utils import reset as axes_reset
from django.contrib.auth import authenticate, get_user_model
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from audit.models import AuditEvent
from audit.services import audit_record
from common.errors import InvalidInput, LockedOut, NotFound
from org.roles import primary_role


def auth_token_obtain(*, request, username: str, password: str) -> Token:
    """The user's API token. Goes through the authentication backends, django-axes first, so
    failures count towards the lock-out of this username from this address, and a locked-out
    login gets no token even with the right password."""
    user = authenticate(request=request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        raise LockedOut()
    if user is None:
        raise InvalidInput(
            _("Unable to log in with provided credentials."), code="invalid_credentials"
        )
    token, _created = Token.objects.get_or_create(user=user)
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
        audit_record(
            action="login_unlock",
            actor=by,
            actor_role=primary_role(by),
            kind=AuditEvent.Kind.ACTION,
            subject_type="auth.user",
            subject_id=user.pk,
            data={"username": username, "attempts_cleared": cleared},
        )
    return cleared
