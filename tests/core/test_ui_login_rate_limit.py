"""Login attempts are rate-limited (django-axes) on the staff and the portal login."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Loanflow-2026"


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5


@pytest.mark.parametrize("login_url", ["login", "portal-login"])
def test_the_sixth_attempt_is_locked_out_even_with_the_right_password(
    axes_on, client, staff, owner, login_url
):
    username = "olivia_owner" if login_url == "portal-login" else "alice_rm"
    url = reverse(login_url)
    for _ in range(5):
        response = client.post(url, {"username": username, "password": "wrong-password"})
        assert response.status_code in (200, 429)
    response = client.post(url, {"username": username, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("home")).status_code == 302


def test_a_right_password_before_the_limit_still_logs_in(axes_on, client, staff):
    for _ in range(4):
        client.post(reverse("login"), {"username": "alice_rm", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "alice_rm", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff["rm"].pk)
