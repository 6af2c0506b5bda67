"""A post-reviewer's concern about an automatic approval does something: it holds a payout not
yet made until a branch head or a credit reviewer other than its author clears it, raises an
early-warning alert on a loan already paid out, and counts against the fast-track rule."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from applications.models import LoanApplication
from approvals.models import ApprovalTask, MatrixVersion, PostReviewConcern
from approvals.selectors import fast_track_concerns
from approvals.services import approval_fast_track_sweep
from audit.models import AuditEvent
from disbursement.models import Disbursement
from notifications.models import Notification
from org.roles import Role
from postloan import demo as postloan_demo
from postloan.models import Alert
from postloan.services import loan_open
from tests.factories import make_signed_contracts, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewed(matrix, in_approval):
    """reviewed() -> (application, its post-review task): approved by the fast track, every
    automatic approval sampled for review."""
    MatrixVersion.objects.filter(pk=matrix.pk).update(fast_track_review_percent=100)

    def make():
        application = in_approval(amount=str(Decimal("150000")), grade="A", route="fast_track")
        approval_fast_track_sweep()
        application.refresh_from_db()
        assert application.status == "approved"
        return application, ApprovalTask.objects.get(application=application, kind="post_review")

    return make


def _decide(api, user, task, decision="concern", comment="Turnover looks inflated"):
    return api(user).post(
        reverse("api-approvals-decide", args=[task.pk]),
        {"decision": decision, "comment": comment},
        format="json",
    )


def _clear(api, user, concern, reason="Bank statements checked: turnover as declared"):
    return api(user).post(
        reverse("api-approvals-concern-clear", args=[concern.pk]), {"reason": reason}, format="json"
    )


def _contract_signed(application, staff):
    LoanApplication.objects.filter(pk=application.pk).update(status="contract_signed")
    make_signed_contracts(application, prepared_by=staff["rm"], bank_signer=staff["head"])


def _record(api, staff, application):
    return api(staff["disburser"]).post(
        reverse("api-disbursement-record", args=[application.pk]),
        {
            "account_number": "6222020200112233",
            "amount": str(application.amount),
            "value_date": timezone.localdate().isoformat(),
        },
        format="json",
    )


def test_a_concern_holds_the_payout_until_another_person_clears_it(reviewed, api, staff, branch):
    # kim holds both the approver's and the credit reviewer's role: she may clear concerns,
    # but not her own.
    kim = make_staff([Role.APPROVER, Role.CREDIT_REVIEWER], branch, username="kim_both")
    application, task = reviewed()
    response = _decide(api, kim, task)
    assert response.status_code == 200, response.data
    concern = PostReviewConcern.objects.get(application=application)
    assert concern.status == "open" and concern.raised_by == kim and concern.alert is None
    assert AuditEvent.objects.filter(
        application=application, action="post_review_concern_raised", actor=kim
    ).exists()
    panel = api(staff["rm"]).get(reverse("api-approvals-application", args=[application.pk]))
    assert [c["status"] for c in panel.data["concerns"]] == ["open"]

    _contract_signed(application, staff)
    refused = _record(api, staff, application)
    assert refused.status_code == 409
    assert refused.data["code"] == "post_review_concern"
    assert "Turnover looks inflated" in refused.data["missing"][0]
    assert not Disbursement.objects.filter(application=application).exists()

    # A payout recorded before the concern (or by any other path) is not confirmed either.
    Disbursement.objects.create(
        application=application,
        account_number="1",
        amount=application.amount,
        currency="CNY",
        value_date=timezone.localdate(),
        maker=staff["disburser"],
    )
    confirm_url = reverse("api-disbursement-confirm", args=[application.pk])
    held = api(staff["checker"]).post(confirm_url, {}, format="json")
    assert held.status_code == 409 and held.data["code"] == "post_review_concern"

    own = _clear(api, kim, concern)
    assert own.status_code == 403 and own.data["code"] == "segregation_of_duties"
    assert AuditEvent.objects.filter(
        application=application, action="clear_post_review_concern", kind="refusal"
    ).exists()
    assert _clear(api, staff["approver"], concern).status_code == 403  # not their role
    assert _clear(api, staff["reviewer"], concern, reason=" ").status_code == 400
    concern.refresh_from_db()
    assert concern.status == "open"

    cleared = _clear(api, staff["reviewer"], concern)
    assert cleared.status_code == 200, cleared.data
    assert cleared.data["status"] == "cleared" and cleared.data["cleared_by"] == "carol_reviewer"
    event = AuditEvent.objects.get(application=application, action="post_review_concern_cleared")
    assert event.actor == staff["reviewer"] and "Bank statements" in event.comment
    assert _clear(api, staff["head"], concern).status_code == 409

    paid = api(staff["checker"]).post(confirm_url, {}, format="json")
    assert paid.status_code == 200, paid.data
    application.refresh_from_db()
    assert application.status == "disbursed"


def test_the_branch_head_clears_a_concern_on_the_case_page(reviewed, api, staff, client):
    application, task = reviewed()
    client.force_login(staff["approver"])
    review_page = client.get(reverse("approvals-task", args=[task.pk]))
    assert b'id="concern-hint"' in review_page.content
    assert _decide(api, staff["approver"], task).status_code == 200
    concern = PostReviewConcern.objects.get(application=application)
    client.force_login(staff["head"])
    page = client.get(reverse("application-detail", args=[application.pk]))
    assert page.status_code == 200
    assert b"Turnover looks inflated" in page.content and b"Clear the concern" in page.content
    response = client.post(
        reverse("approvals-concern-clear", args=[concern.pk]), {"reason": "Explained by the RM"}
    )
    assert response.status_code == 302
    concern.refresh_from_db()
    assert concern.status == "cleared" and concern.cleared_by == staff["head"]


def test_a_concern_on_a_loan_already_paid_out_raises_an_early_warning_alert(reviewed, api, staff):
    postloan_demo.seed()
    application, task = reviewed()
    LoanApplication.objects.filter(pk=application.pk).update(
        status="disbursed", relationship_manager=staff["rm"]
    )
    application.refresh_from_db()
    loan = loan_open(application=application, actor=staff["checker"])
    assert _decide(api, staff["approver"], task).status_code == 200
    alert = Alert.objects.get(loan=loan)
    assert alert.rule.kind == "post_review_concern" and alert.status == "open"
    assert alert.evidence["comment"] == "Turnover looks inflated"
    assert alert.evidence["reviewer"] == "dave_approver"
    assert alert.evidence["review_task"] == task.pk
    assert PostReviewConcern.objects.get(application=application).alert == alert
    assert AuditEvent.objects.filter(
        application=application, action="post_review_concern_alert", subject_id=alert.pk
    ).exists()
    assert Notification.objects.filter(
        user=staff["rm"], kind="early_warning", application=application
    ).exists()


def test_concerns_count_against_the_fast_track_rule(reviewed, api, staff, matrix):
    (_first, confirmed), (_second, concerned) = reviewed(), reviewed()
    assert _decide(api, staff["approver"], confirmed, decision="confirm").status_code == 200
    assert _decide(api, staff["approver"], concerned).status_code == 200
    cohort = LoanApplication.objects.all()
    (row,) = fast_track_concerns(applications=cohort)
    assert row["matrix_version"] == 1 and row["rule"]
    assert (row["decided"], row["reviewed"], row["concerns"], row["concerns_open"]) == (2, 2, 1, 1)
    _clear(api, staff["head"], PostReviewConcern.objects.get())
    (row,) = fast_track_concerns(applications=cohort)
    assert (row["concerns"], row["concerns_open"]) == (1, 0)
    # Counted only over the cohort it is given (the figure's filters and the reader's scope).
    assert fast_track_concerns(applications=cohort.filter(pk=concerned.application_id)) == [
        {**row, "decided": 1, "reviewed": 1}
    ]
    assert fast_track_concerns(applications=cohort.none()) == []
    # The fast track's figure shows them, counted against the rule (its cohort: submitted in
    # the period).
    cohort.update(submitted_at=timezone.now())
    figure = api(staff["head"]).get("/api/v1/analytics/data-route/").json()
    assert figure["by_rule"] == [row]
