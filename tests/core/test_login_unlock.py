"""An administrator unlocks a locked-out login: in the admin or with manage.py login_unlock;
the unlock is in the audit trail."""

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Loanflow-2026"
MALLORY = "203.0.113.66"


@pytest.fixture
def locked_out(settings, client, staff):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(5):
        client.post(
            reverse("login"),
            {"username": "alice_rm", "password": "guess"},
            REMOTE_ADDR=MALLORY,
        )
    assert _login_status(client) == 429


def _login_status(client) -> int:
    response = client.post(
        reverse("login"), {"username": "alice_rm", "password": PASSWORD}, REMOTE_ADDR=MALLORY
    )
    return response.status_code


def test_an_administrator_unlocks_a_login_in_the_admin(locked_out, client, staff):
    admin_client = type(client)()
    admin_client.force_login(staff["admin"])
    response = admin_client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "unlock_login", "_selected_action": [staff["rm"].pk]},
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="alice_rm").exists()
    assert _login_status(client) == 302
    event = AuditEvent.objects.get(action="login_unlock")
    assert (event.actor, event.subject_id) == (staff["admin"], staff["rm"].pk)


def test_manage_py_login_unlock_unlocks_a_login(locked_out, client, staff):
    call_command("login_unlock", "alice_rm")
    assert _login_status(client) == 302
    event = AuditEvent.objects.get(action="login_unlock")
    assert event.data["attempts_cleared"] == 1
