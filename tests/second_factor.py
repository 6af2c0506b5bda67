"""Staff past the second factor, for the tests that are not about it (tests/conftest.py makes
`force_login` and `api_for` use these), and codes for those that are."""

import time

from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from org.models import TokenSecondFactor
from org.second_factor import STEP_UP_SESSION_KEY


def enrol(user) -> TOTPDevice:
    """The user's confirmed authenticator (created the first time)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test phone", confirmed=True)


def code_of(device: TOTPDevice) -> str:
    """The code the device shows now. django-otp takes each time step's code once: the device
    forgets its last one and its throttling first, as if the next step had come."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None
    )
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def mark_verified(client, user) -> None:
    """The client's session has passed the second factor just now."""
    device = enrol(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[STEP_UP_SESSION_KEY] = [user.pk, int(time.time())]
    session.save()


def fresh_token(user) -> Token:
    """The user's API token, as if asked for with a code just now."""
    enrol(user)
    token, _created = Token.objects.get_or_create(user=user)
    TokenSecondFactor.objects.update_or_create(
        token=token, defaults={"verified_at": timezone.now()}
    )
    return token


def age_step_up(client, user, *, minutes: int) -> None:
    """The session's last code was given `minutes` ago (time travel for the step-up)."""
    session = client.session
    session[STEP_UP_SESSION_KEY] = [user.pk, int(time.time()) - minutes * 60]
    session.save()


def api_with_old_code(user, *, minutes: int):
    """An API client whose token last gave a code `minutes` ago."""
    from datetime import timedelta

    from rest_framework.test import APIClient

    token = fresh_token(user)
    TokenSecondFactor.objects.filter(token=token).update(
        verified_at=timezone.now() - timedelta(minutes=minutes)
    )
    client = APIClient()
    client.force_authenticate(user, token=token)
    return client
