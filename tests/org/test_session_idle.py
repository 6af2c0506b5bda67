"""Sessions end after LOANFLOW_SESSION_IDLE_MINUTES without a request, and at browser close;
an active session's last request is written at most once a minute."""

import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from org.middleware import LAST_SEEN_SESSION_KEY

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Loanflow-2026"


def _seen(client, *, minutes_ago: float) -> None:
    session = client.session
    session[LAST_SEEN_SESSION_KEY] = int(time.time() - minutes_ago * 60)
    session.save()


def test_a_staff_session_idle_past_the_limit_is_logged_out(client, staff, settings):
    assert settings.LOANFLOW_SESSION_IDLE_MINUTES == 30  # the default
    client.force_login(staff["approver"])
    assert client.get(reverse("home")).status_code == 200
    _seen(client, minutes_ago=31)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert SESSION_KEY not in client.session
    follow = client.get(response.url)
    assert "without activity" in follow.content.decode()


def test_a_session_within_the_limit_stays_and_its_time_is_refreshed(client, staff):
    client.force_login(staff["rm"])
    _seen(client, minutes_ago=29)
    assert client.get(reverse("home")).status_code == 200
    assert time.time() - client.session[LAST_SEEN_SESSION_KEY] < 5
    # 29 minutes after that request, still in: measured from the last request, not the login.
    _seen(client, minutes_ago=29)
    assert client.get(reverse("home")).status_code == 200


def test_the_last_request_time_is_written_at_most_once_a_minute(client, staff):
    client.force_login(staff["rm"])
    _seen(client, minutes_ago=0.5)
    before = client.session[LAST_SEEN_SESSION_KEY]
    client.get(reverse("home"))
    assert client.session[LAST_SEEN_SESSION_KEY] == before


def test_the_idle_limit_is_configurable(client, staff, settings):
    settings.LOANFLOW_SESSION_IDLE_MINUTES = 5
    client.force_login(staff["rm"])
    _seen(client, minutes_ago=6)
    assert client.get(reverse("home")).status_code == 302


def test_an_api_call_on_an_idle_session_is_refused(client, staff):
    client.force_login(staff["rm"])
    _seen(client, minutes_ago=31)
    assert client.get(reverse("api-me")).status_code in (401, 403)


def test_a_portal_session_also_ends_when_idle(client, owner):
    client.force_login(owner)
    assert client.get(reverse("portal-home")).status_code == 200
    _seen(client, minutes_ago=31)
    response = client.get(reverse("portal-home"))
    assert response.status_code == 302


def test_the_session_cookie_ends_with_the_browser(client, staff):
    response = client.post(
        reverse("login"), {"username": staff["rm"].username, "password": PASSWORD}
    )
    cookie = response.cookies["sessionid"]
    assert cookie["expires"] == "" and cookie["max-age"] == ""
