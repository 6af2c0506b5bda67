"""Extension (展期): filed, reviewed, routed, approved and applied on its supplementary
agreement; the new schedule runs from the change date on the principal not yet due, the old
schedule is kept, and the product's limits are 400s on the field."""

from decimal import Decimal

from django.urls import reverse

from applications.models import LoanApplication
from audit.models import AuditEvent
from disbursement.models import Instalment, Offer
from postloan.models import ChangeTerms, Loan
from sla.models import Deadline
from tests.changes.conftest import TODAY, approved_change, file_change, review_and_send
from tests.conftest import api_for

D = Decimal


def _schedule(loan):
    return list(Instalment.objects.filter(application=loan.application).order_by("number"))


def test_an_extension_end_to_end_gives_a_longer_schedule_and_keeps_the_old(staff, loan):
    before = _schedule(loan)
    outstanding = loan.outstanding_principal
    pk = approved_change(staff, loan, kind="extension", extension_months=6, reason="Slow season")
    change = LoanApplication.objects.get(pk=pk)
    assert change.status == "approved" and change.change_of_id == loan.application_id
    # No offer for an in-place change: the supplementary agreement instead.
    assert not Offer.objects.filter(application=change).exists()
    r = api_for(staff["rm"]).post(
        reverse("api-postloan-change-apply", args=[pk]),
        {"agreement_reference": "SA-2026-001"},
        format="json",
    )
    assert r.status_code == 200, r.data
    assert r.data["status"] == "change_applied"
    after = _schedule(loan)
    # The instalments already due stay, the principal not yet due is drawn again, six months
    # longer, and sums exactly.
    kept = [i for i in before if i.due_date <= TODAY]
    assert [(i.due_date, i.total) for i in after[: len(kept)]] == [
        (i.due_date, i.total) for i in kept
    ]
    assert sum(i.principal for i in after[len(kept) :]) == outstanding
    assert after[-1].due_date.year * 12 + after[-1].due_date.month == (
        before[-1].due_date.year * 12 + before[-1].due_date.month + 6
    )
    revision = loan.schedule_revisions.get()
    assert revision.change_id == pk and len(revision.instalments) == len(before)
    loan.refresh_from_db()
    assert loan.outstanding_principal == outstanding and loan.days_past_due == 0
    assert loan.application.__class__.objects.get(pk=loan.application_id).term_months == 18
    assert loan.term_months == 18
    actions = set(AuditEvent.objects.filter(application_id=pk).values_list("action", flat=True))
    assert {
        "change_file",
        "submit",
        "start_investigation",
        "change_review_confirm",
        "send_to_approval",
        "approve",
        "apply_change",
    } <= actions


def test_the_review_and_agreement_have_their_own_sla_steps(staff, loan):
    from sla.demo import seed

    seed()
    pk = file_change(staff, loan, kind="extension", extension_months=3)["id"]
    client = api_for(staff["rm2"])
    client.post(reverse("api-application-start-investigation", args=[pk]), {}, format="json")
    steps = set(
        Deadline.objects.filter(application_id=pk, status="pending").values_list("step", flat=True)
    )
    assert steps == {"change_review"}


def test_limits_per_product_are_400_on_the_field(staff, loan):
    ChangeTerms.objects.create(
        product=loan.application.product, max_extensions=1, max_extension_months=4
    )
    data = file_change(staff, loan, expect=400, kind="extension", extension_months=5)
    assert "extension_months" in data
    pk = approved_change(staff, loan, kind="extension", extension_months=4)
    api_for(staff["rm"]).post(
        reverse("api-postloan-change-apply", args=[pk]),
        {"agreement_reference": "SA-1"},
        format="json",
    )
    assert Loan.objects.get(pk=loan.pk).schedule_revisions.count() == 1
    response = api_for(staff["rm"]).post(
        reverse("api-postloan-changes", args=[loan.application_id]),
        {"kind": "extension", "extension_months": 1},
        format="json",
    )
    assert response.status_code == 400
    assert "extension_months" in response.data


def test_only_the_loans_rm_files_and_a_colleague_reviews(staff, loan):
    response = api_for(staff["rm2"]).post(
        reverse("api-postloan-changes", args=[loan.application_id]),
        {"kind": "extension", "extension_months": 3},
        format="json",
    )
    assert response.status_code == 403
    pk = file_change(staff, loan, kind="extension", extension_months=3)["id"]
    # The filer may not review their own change (logged), nor approve it.
    r = api_for(staff["rm"]).post(
        reverse("api-application-start-investigation", args=[pk]), {}, format="json"
    )
    assert r.status_code == 403
    assert AuditEvent.objects.filter(application_id=pk, kind="refusal").exists()
    # Not to approval before the review is confirmed.
    client = api_for(staff["rm2"])
    client.post(reverse("api-application-start-investigation", args=[pk]), {}, format="json")
    r = client.post(reverse("api-application-send-to-approval", args=[pk]), {}, format="json")
    assert r.status_code == 409 and r.data["code"] == "incomplete"
    # A second change while one is open: 409.
    again = api_for(staff["rm"]).post(
        reverse("api-postloan-changes", args=[loan.application_id]),
        {"kind": "extension", "extension_months": 3},
        format="json",
    )
    assert again.status_code == 409 and again.data["code"] == "open_change"


def test_an_extension_is_approved_as_filed_not_on_other_terms(staff, loan):
    pk = file_change(staff, loan, kind="extension", extension_months=6, reason="Slow season")["id"]
    review_and_send(staff, pk)
    state = api_for(staff["reviewer"]).get(reverse("api-approvals-application", args=[pk])).data
    step, task = state["steps"][state["current_step"]], state["current_task"]
    user = {"credit_reviewer": staff["reviewer"], "approver": staff["approver"]}[step["role"]]
    client = api_for(user)
    assert (
        client.post(reverse("api-approvals-claim", args=[task]), format="json").status_code == 200
    )
    refused = client.post(
        reverse("api-approvals-decide", args=[task]),
        {"decision": "approve", "comment": "Shorter", "term_months": 15},
        format="json",
    )
    assert refused.status_code == 400, refused.data
    assert "approved as filed" in str(refused.data["terms"])
    assert LoanApplication.objects.get(pk=pk).status == "in_approval"
