"""A lock-out holds a username from one client address only, on the login pages and the token
endpoint alike; the client address comes from X-Forwarded-For only behind trusted proxies."""

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Loanflow-2026"
MALLORY = "203.0.113.66"  # the attacker
ALICE = "198.51.100.7"  # alice at her desk
PROXY = "10.0.0.2"  # the TLS proxy, as every request behind it comes from


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.LOANFLOW_TRUSTED_PROXIES = 0
    cache.clear()
    yield
    cache.clear()


def _login(client, *, address, password, forwarded=None):
    extra = {"REMOTE_ADDR": address}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(reverse("login"), {"username": "alice_rm", "password": password}, **extra)


def _token(*, address, password, forwarded=None):
    extra = {"REMOTE_ADDR": address}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return APIClient().post(
        reverse("api-token"), {"username": "alice_rm", "password": password}, **extra
    )


def test_an_attacker_from_one_address_cannot_lock_out_the_user_from_another(axes_on, client, staff):
    for _ in range(10):
        _login(client, address=MALLORY, password="guess")
    response = _login(client, address=ALICE, password=PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff["rm"].pk)


def test_repeated_failures_from_one_address_lock_that_address_and_user(axes_on, client, staff):
    for _ in range(5):
        _login(client, address=MALLORY, password="guess")
    response = _login(client, address=MALLORY, password=PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.get().ip_address == MALLORY


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(
    axes_on, settings, client, staff
):
    settings.LOANFLOW_TRUSTED_PROXIES = 1
    for _ in range(10):
        _login(client, address=PROXY, password="guess", forwarded=MALLORY)
    response = _login(client, address=PROXY, password=PASSWORD, forwarded=ALICE)
    assert response.status_code == 302
    assert AccessAttempt.objects.get().ip_address == MALLORY


def test_x_forwarded_for_is_ignored_unless_the_proxy_is_trusted(axes_on, client, staff):
    # Without a trusted proxy a client could dodge its lock-out by writing a new address
    # into the header each time.
    for number in range(5):
        _login(client, address=MALLORY, password="guess", forwarded=f"192.0.2.{number}")
    response = _login(client, address=MALLORY, password=PASSWORD, forwarded="192.0.2.99")
    assert response.status_code == 429
    assert AccessAttempt.objects.get().ip_address == MALLORY


def test_a_client_cannot_choose_its_address_in_front_of_the_trusted_proxy(
    axes_on, settings, client, staff
):
    # The proxy appends what it saw to what the client sent: only the last address counts.
    settings.LOANFLOW_TRUSTED_PROXIES = 1
    for number in range(5):
        _login(client, address=PROXY, password="guess", forwarded=f"192.0.2.{number}, {MALLORY}")
    response = _login(client, address=PROXY, password=PASSWORD, forwarded=f"192.0.2.9, {MALLORY}")
    assert response.status_code == 429


def test_the_token_endpoint_is_locked_out_like_the_login_form(axes_on, settings, staff):
    settings.LOANFLOW_TOKEN_RATE = "1000/minute"
    for _ in range(5):
        assert _token(address=MALLORY, password="guess").status_code in (400, 429)
    response = _token(address=MALLORY, password=PASSWORD)
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert "token" not in response.json()
    response = _token(address=ALICE, password=PASSWORD)
    assert response.status_code == 200
    assert response.json()["token"]


def test_the_token_endpoint_answers_429_beyond_its_rate(axes_on, settings, staff):
    settings.AXES_FAILURE_LIMIT = 1000
    settings.LOANFLOW_TOKEN_RATE = "3/minute"
    answers = [_token(address=MALLORY, password="guess").status_code for _ in range(3)]
    assert answers == [400, 400, 400]
    response = _token(address=MALLORY, password=PASSWORD)
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    assert _token(address=ALICE, password=PASSWORD).status_code == 200
