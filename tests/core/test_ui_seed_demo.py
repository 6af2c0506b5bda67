"""manage.py seed_demo: every state, legal back-dated histories, idempotent, and every demo
application's staff and portal pages render."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Q
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
    # Every state of a loan's application, a change's own end state ("change applied": an
    # extension or a restructuring in force) included.
    assert set(LoanApplication.objects.values_list("status", flat=True)) == set(Status.values)
    assert "demo-Loanflow-2026" in seeded and "owner01" in seeded and "approver2" in seeded
    assert "http://127.0.0.1:8123/login/" in seeded
    assert "http://127.0.0.1:8123/portal/login/" in seeded


def test_every_history_follows_the_legal_transitions_in_time_order(seeded):
    for application in LoanApplication.objects.filter(reference__startswith="DEMO-"):
        # The back-dated history, then the transitions the demo took through the services
        # (a loan renewed by a demo change is closed as repaid by it).
        events = list(
            AuditEvent.objects.filter(application=application)
            .filter(Q(data__demo=True) | Q(kind="transition"))
            .order_by("at", "id")
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
        if events[-1].data.get("demo"):
            assert application.status_changed_at == events[-1].at
        else:  # the database stamps a live audit row's time, the service the record's
            assert abs(application.status_changed_at - events[-1].at) < timedelta(seconds=5)


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


def test_it_seeds_changes_to_live_loans_through_the_services_staff_use(seeded, client):
    """A renewal without repayment of principal paid out (the old loan repaid by it and
    closed), an extension and a restructuring applied on their agreements, and an extension
    waiting in approval: each on the staff loan page and the owner's loan card, with its
    history."""
    from django.contrib.auth.models import User

    from approvals.models import ApprovalRecord
    from postloan.models import Loan, ScheduleRevision

    changes = LoanApplication.objects.filter(change_of__isnull=False).select_related(
        "loan_change", "change_of__company"
    )
    by_kind = {(c.change_kind, c.status): c for c in changes}
    renewal = by_kind[("renewal_without_repayment", "disbursed")]
    extension = by_kind[("extension", "change_applied")]
    restructuring = by_kind[("restructuring", "change_applied")]
    waiting = by_kind[("extension", "in_approval")]
    # Through the services: filed, reviewed by a colleague, approved on its route.
    for change in (renewal, extension, restructuring, waiting):
        actions = set(
            AuditEvent.objects.filter(application=change).values_list("action", flat=True)
        )
        assert {"change_file", "start_investigation", "change_review_confirm"} <= actions
        assert change.loan_change.reviewed_by_id not in (None, change.filed_by_id)
    assert ApprovalRecord.objects.get(application=waiting).status == "in_progress"
    for applied in (extension, restructuring):
        assert applied.loan_change.applied_on and applied.loan_change.agreement_reference
        assert ScheduleRevision.objects.filter(change=applied).exists()
    assert Loan.objects.get(application=restructuring.change_of).restructured_on
    # The renewal is a loan of its own; the loan it renewed was repaid by it and closed.
    old = Loan.objects.get(application=renewal.change_of)
    assert old.status == "closed" and old.outstanding_principal == 0
    assert Loan.objects.get(application=renewal).status == "active"
    assert ScheduleRevision.objects.filter(loan=old, change=renewal).exists()

    client.force_login(User.objects.get(username="approver2"))  # head office: sees all
    for change in (renewal, extension, restructuring, waiting):
        html = client.get(reverse("application-detail", args=[change.change_of_id])).content
        assert change.reference in html.decode(), change.change_kind
    html = client.get(reverse("application-detail", args=[renewal.pk])).content.decode()
    assert 'id="loan-change-of"' in html and renewal.change_of.reference in html
    for change in (renewal, extension, restructuring, waiting):
        client.force_login(change.change_of.company.applicants.first().user)
        html = client.get(reverse("portal-application", args=[change.change_of_id])).content
        assert change.reference in html.decode(), change.change_kind
