"""The second factor of staff sign-in: TOTP from an authenticator app (django-otp), with ten
recovery codes (a static device) issued at enrolment.

Who needs it: the roles in org.roles.SECOND_FACTOR_ROLES, and anyone who may enter the admin.
After the password such a user is sent to enter a code (or, without an authenticator yet, to
enrol one); until then the session reaches nothing else (org.middleware). An API token is
issued to them only with a code (org.services.auth_token_obtain).

Step-up: a credit decision, a committee close, a disbursement confirmation and a write-off
approval need a code entered within LOANFLOW_STEP_UP_MINUTES: the session's last code, the
API token's last code (TokenSecondFactor), or one sent with the action itself as `otp`. One
decorator, `step_up_required`, guards the views and API views of all four.
"""

import functools
import time
from base64 import b32encode
from collections.abc import Callable
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.request import Request

from audit.services import audit_account
from common.errors import DomainError, Forbidden, InvalidInput
from org.models import TokenSecondFactor
from org.roles import SECOND_FACTOR_ROLES, roles_of

RECOVERY_CODE_COUNT = 10
# [user id, seconds since the epoch] of the session's last code (bound to its user).
STEP_UP_SESSION_KEY = "loanflow_second_factor_at"


class StepUpRequired(Forbidden):
    """403: the action needs a code entered within the last LOANFLOW_STEP_UP_MINUTES."""

    code = "step_up_required"
    default_message = gettext_lazy(
        "Confirm this action with a code from your authenticator app: send it as `otp` "
        "(your last code is more than the allowed minutes old)."
    )


def requires_second_factor(user) -> bool:
    """Whether the user signs in with a second factor: a role that commits the bank's money
    or administers the system, or access to the admin."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_staff or user.is_superuser or roles_of(user) & SECOND_FACTOR_ROLES)


def has_second_factor(user) -> bool:
    """Whether the user has a confirmed authenticator."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def second_factor_url(user, *, next_url: str = "") -> str:
    """Where a user who needs a second factor goes after the password: the code page, or the
    enrolment page if they have no authenticator yet."""
    name = "second-factor-verify" if has_second_factor(user) else "second-factor-enrol"
    url = reverse(name)
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


# --- Enrolment ------------------------------------------------------------------------------


def enrolment_device(*, user) -> TOTPDevice:
    """The authenticator being enrolled: a new secret the first time, the same one until it
    is confirmed (so reloading the page does not invalidate a scanned QR code)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def device_secret(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it typed in: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def device_qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an SVG QR code, drawn here (no script, no outside service)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4, border=2)


def _invalid_code() -> InvalidInput:
    message = _("That code is wrong or already used. Enter the current code from your app.")
    return InvalidInput(message, code="invalid_otp", details={"otp": [message]})


def enrolment_confirm(*, user, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the authenticator being enrolled with a code it shows, and issue the recovery
    codes (shown once). Any earlier authenticator of the user is removed."""
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("-pk")
            .first()
        )
        if device is None or not device.verify_token(_clean(code)):
            raise _invalid_code()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = recovery_codes_issue(user=user)
        audit_account(
            action="second_factor_enrol",
            account=user,
            actor=user,
            data={"recovery_codes": len(codes)},
        )
    return device, codes


def recovery_codes_issue(*, user) -> list[str]:
    """New recovery codes for the user (the old ones stop working). Each works once."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


# --- Verification -----------------------------------------------------------------------------


def _clean(code: str | None) -> str:
    return "".join((code or "").split()).lower()


def second_factor_check(*, user, code: str | None):
    """The user's device that accepts `code` (a current TOTP code, or a recovery code, which
    is then used up), or None. Wrong codes slow further tries (django-otp's throttling)."""
    code = _clean(code)
    if not code or user is None or not user.is_authenticated:
        return None
    with transaction.atomic():
        for model in (TOTPDevice, StaticDevice):
            devices = model.objects.devices_for_user(user, confirmed=True).select_for_update()
            for device in devices:
                if device.verify_token(code):
                    if model is StaticDevice:
                        audit_account(
                            action="second_factor_recovery_code_use",
                            account=user,
                            actor=user,
                            data={"remaining": device.token_set.count()},
                        )
                    return device
    return None


def second_factor_login(request, device) -> None:
    """Mark the session as passed the second factor with `device`, and its code as fresh."""
    otp_login(request, device)
    request.session[STEP_UP_SESSION_KEY] = [request.user.pk, int(time.time())]


def second_factor_reset(*, user, by=None) -> int:
    """Remove the user's authenticator and recovery codes (a lost phone): at their next
    request they enrol again. Their API token is revoked, since it was issued against the old
    authenticator. `by` is the administrator (None from the command line). Returns how many
    devices were removed."""
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[1].get(TOTPDevice._meta.label, 0)
        removed += (
            StaticDevice.objects.filter(user=user).delete()[1].get(StaticDevice._meta.label, 0)
        )
        tokens = Token.objects.filter(user=user).delete()[0]
        audit_account(
            action="second_factor_reset",
            account=user,
            actor=by,
            data={"username": user.get_username(), "devices": removed, "tokens": tokens},
        )
    return removed


# --- Step-up ------------------------------------------------------------------------------------


def _window_seconds() -> int:
    return settings.LOANFLOW_STEP_UP_MINUTES * 60


def token_second_factor_record(*, token: Token) -> None:
    """The token's holder has just given a code."""
    row, _created = TokenSecondFactor.objects.update_or_create(
        token=token, defaults={"verified_at": timezone.now()}
    )
    token.second_factor_at = row.verified_at


def step_up_fresh(request) -> bool:
    """Whether the request's last code is recent enough: the API token's when the request
    came with one (read with the token by org.auth), else the session's (for the session's
    own user)."""
    token = getattr(request, "auth", None)
    if isinstance(token, Token):
        if hasattr(token, "second_factor_at"):  # read with the token (org.auth)
            at = token.second_factor_at
        else:
            at = (
                TokenSecondFactor.objects.filter(token=token)
                .values_list("verified_at", flat=True)
                .first()
            )
        return at is not None and (timezone.now() - at).total_seconds() < _window_seconds()
    mark = request.session.get(STEP_UP_SESSION_KEY)
    return (
        isinstance(mark, list)
        and len(mark) == 2
        and mark[0] == request.user.pk
        and time.time() - mark[1] < _window_seconds()
    )


def step_up_ensure(request, *, code: str | None = None) -> None:
    """Let the action go on if its user needs no second factor, if `code` is a good one (and
    then it counts as the request's fresh code), or if the last code is fresh; else raise
    StepUpRequired (403), or InvalidInput (400, `otp`) for a wrong code."""
    user = request.user
    if not requires_second_factor(user):
        return
    if _clean(code):
        device = second_factor_check(user=user, code=code)
        if device is None:
            raise _invalid_code()
        token = getattr(request, "auth", None)
        if isinstance(token, Token):
            token_second_factor_record(token=token)
        else:
            second_factor_login(request, device)
        return
    if not step_up_fresh(request):
        raise StepUpRequired()


def step_up_otp_field():
    """The `otp` field of a step-up action's API input (read by step_up_required)."""
    from rest_framework import serializers

    return serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text=gettext_lazy(
            "A current code from your authenticator app (or a recovery code), needed when your "
            "last code is older than LOANFLOW_STEP_UP_MINUTES (else 403 step_up_required)."
        ),
    )


def without_otp(data: dict) -> dict:
    """An API input's validated data without its step-up `otp`, for the service."""
    return {key: value for key, value in data.items() if key != "otp"}


def _posted_code(request) -> str:
    if isinstance(request, Request):
        data = request.data
        value = data.get("otp") if hasattr(data, "get") else None
    else:
        value = request.POST.get("otp")
    return value if isinstance(value, str) else ""


def _same_site_referer(request) -> str | None:
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return None


def step_up_required(
    *,
    when: Callable[..., bool] | None = None,
    return_to: Callable[..., str] | None = None,
):
    """Guard a view or an API view's method: see step_up_ensure. `when(request, **kwargs)`
    limits it to some of the view's actions. An API view answers 403 `step_up_required` (or
    400 for a wrong `otp`); a page sends the user to enter a code and then back to
    `return_to(request, **kwargs)` (else the page they came from) to submit again."""

    def decorate(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            request = next(a for a in args[:2] if isinstance(a, HttpRequest | Request))
            if when is not None and not when(request, **kwargs):
                return view(*args, **kwargs)
            if isinstance(request, Request):
                step_up_ensure(request, code=_posted_code(request))
                return view(*args, **kwargs)
            try:
                step_up_ensure(request, code=_posted_code(request))
            except DomainError as exc:
                back = (return_to(request, **kwargs) if return_to else None) or (
                    _same_site_referer(request) or reverse("home")
                )
                if isinstance(exc, StepUpRequired):
                    messages.info(
                        request,
                        _(
                            "Confirm with a code from your authenticator app, then submit "
                            "again. Your last code is more than %(minutes)d minutes old."
                        )
                        % {"minutes": settings.LOANFLOW_STEP_UP_MINUTES},
                    )
                else:
                    messages.error(request, str(exc.message))
                return redirect(f"{reverse('second-factor-verify')}?{urlencode({'next': back})}")
            return view(*args, **kwargs)

        return guarded

    return decorate
