"""manage.py seed_demo: every state, legal back-dated histories, idempotent, and every demo
application's staff and portal pages render."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from applications.models import LoanApplication, Status
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

LEGAL = {  # transition -> (allowed from-states, to-state or None when it depends)
    "submit": ({"draft"}, "submitted"),
    "start_investigation": ({"submitted"}, "investigation"),
    "send_to_approval": ({"investigation"}, "in_approval"),
    "approve": ({"in_approval"}, "approved"),
    "decline": ({"submitted", "in_approval"}, "declined"),
    "return_to_investigation": ({"in_approval"}, "investigation"),
    "request_information": ({"submitted", "investigation", "in_approval"}, "info_requested"),
    "resume": ({"info_requested"}, None),
    "sign_contract": ({"approved"}, "contract_signed"),
    "disburse": ({"contract_signed"}, "disbursed"),
    "close": ({"disbursed"}, "closed"),
    "write_off": ({"disbursed"}, "written_off"),
    "withdraw": (
        {"draft", "submitted", "investigation", "in_approval", "info_requested", "approved"},
        "withdrawn",
    ),
}


@pytest.fixture
def seeded(settings, monkeypatch):
    monkeypatch.setenv("PORT", "8123")  # `make run` serves on $PORT
    out = StringIO()
    call_command("seed_demo", applications=40, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_creates_applications_in_every_state_and_prints_the_logins(seeded):
    # Every state of a loan's application; a change application's own end state ("change
    # applied", an extension or restructuring in force) needs a change filed on a live loan,
    # which the demo leaves to the user (docs/changes.md).
    assert set(LoanApplication.objects.values_list("status", flat=True)) == set(Status.values) - {
        Status.CHANGE_APPLIED
    }
    assert "demo-Loanflow-2026" in seeded and "owner01" in seeded and "approver2" in seeded
    assert "http://127.0.0.1:8123/login/" in seeded
    assert "http://127.0.0.1:8123/portal/login/" in seeded


def test_every_history_follows_the_legal_transitions_in_time_order(seeded):
    for application in LoanApplication.objects.filter(reference__startswith="DEMO-"):
        events = list(
            AuditEvent.objects.filter(application=application, data__demo=True).order_by("at", "id")
        )
        assert events[0].action == "create" and events[0].to_state == "draft"
        state, before = "draft", None
        for event in events[1:]:
            sources, target = LEGAL[event.action]
            assert event.from_state == state, (application.reference, event.action)
            assert state in sources
            assert target is None or event.to_state == target
            state = event.to_state
        assert state == application.status, application.reference
        for event in events:
            assert before is None or event.at >= before
            before = event.at
        assert application.status_changed_at == events[-1].at


def test_running_it_again_creates_nothing_new(seeded):
    counts = (LoanApplication.objects.count(), AuditEvent.objects.filter(data__demo=True).count())
    call_command("seed_demo", applications=40, stdout=StringIO(), stderr=StringIO())
    assert (
        LoanApplication.objects.count(),
        AuditEvent.objects.filter(data__demo=True).count(),
    ) == counts


def test_every_demo_application_page_renders_for_staff_and_its_owner(seeded, client):
    from django.contrib.auth.models import User

    client.force_login(User.objects.get(username="approver2"))  # head office: sees all
    applications = list(LoanApplication.objects.select_related("company"))
    for application in applications:
        response = client.get(reverse("application-detail", args=[application.pk]))
        assert response.status_code == 200, (application.reference, application.status)
    for application in applications[:12]:
        owner = application.company.applicants.first().user
        client.force_login(owner)
        response = client.get(reverse("portal-application", args=[application.pk]))
        assert response.status_code == 200, (application.reference, application.status)


def test_demo_approvers_log_in_with_a_code_of_the_printed_secret(seeded, client):
    import time
    from base64 import b32decode

    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from applications.management.commands.seed_demo import DEMO_TOTP_SECRET

    assert "oathtool --totp -b " + DEMO_TOTP_SECRET in seeded
    with_device = TOTPDevice.objects.filter(confirmed=True).values_list("user__username", flat=True)
    assert set(with_device) >= {"approver", "committee1", "checker", "risk"}
    assert not TOTPDevice.objects.filter(user__username="rm").exists()
    response = client.post(
        reverse("login"), {"username": "approver", "password": "demo-Loanflow-2026"}
    )
    assert response.url.startswith(reverse("second-factor-verify"))
    totp = TOTP(b32decode(DEMO_TOTP_SECRET))
    totp.time = time.time()
    response = client.post(reverse("second-factor-verify"), {"otp": f"{totp.token():06d}"})
    assert response.status_code == 302
    assert client.get("/approvals/queue/").status_code == 200
