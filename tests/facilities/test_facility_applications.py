"""A facility application is not a loan to pay out: once its contract is signed (the facility
active) it stays contract_signed, yet it is never in the disbursement queue, runs no
disbursement clock and is not open work; and the rule "one open application per company and
product" counts neither it nor its drawdowns' loans, so drawdowns never block each other nor
the customer's renewal."""

import pytest
from django.urls import reverse

from applications.models import LoanApplication
from facilities.models import Drawdown, Facility
from sla.models import Deadline
from sla.services import APPLICATION
from tests import lifecycle
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db


def test_a_facility_application_is_not_in_the_disbursement_queue(
    api, staff, company, product, make_facility
):
    facility = make_facility()
    loan = ApplicationFactory(
        company=company, branch=company.home_branch, product=product, status="contract_signed"
    )

    queue = api(staff["disburser"]).get(reverse("api-disbursement-queue"))

    assert queue.status_code == 200, queue.data
    ids = {row["id"] for row in queue.data}
    assert loan.pk in ids
    assert facility.application_id not in ids
    assert list(LoanApplication.objects.facility_applications()) == [facility.application]


def test_a_drawdown_loan_with_a_signed_contract_is_in_the_disbursement_queue(
    api, staff, make_facility
):
    facility = make_facility()
    drawn = api(staff["rm"]).post(
        reverse("api-facility-drawdowns", args=[facility.pk]),
        {"amount": "100000.00", "term_months": 6},
        format="json",
    )
    application = Drawdown.objects.get(pk=drawn.data["id"]).application
    LoanApplication.objects.filter(pk=application.pk).update(status="contract_signed")

    queue = api(staff["disburser"]).get(reverse("api-disbursement-queue"))

    assert application.pk in {row["id"] for row in queue.data}


def test_the_signed_contract_of_a_facility_starts_no_disbursement_clock(
    api, staff, company, facility_product
):
    pk = lifecycle.file_draft(api, staff, company, facility_product, amount="2000000.00")
    lifecycle.walk_to(api, staff, pk, "approved")

    lifecycle.sign_contract(api, staff, pk)

    assert Facility.objects.get(application_id=pk).status == Facility.Status.ACTIVE
    clocks = Deadline.objects.filter(subject_type=APPLICATION, subject_id=pk)
    assert not clocks.filter(step="disbursement").exists()
    assert not clocks.filter(status__in=("pending", "paused")).exists()


def test_drawdowns_do_not_block_each_other_nor_the_renewal_of_the_facility(
    api, staff, company, facility_product, make_facility
):
    facility = make_facility()
    url = reverse("api-facility-drawdowns", args=[facility.pk])
    rm = api(staff["rm"])
    first = rm.post(url, {"amount": "100000.00", "term_months": 6}, format="json")
    second = rm.post(url, {"amount": "200000.00", "term_months": 3}, format="json")
    assert (first.status_code, second.status_code) == (201, 201), (first.data, second.data)
    assert {first.data["status"], second.data["status"]} == {"approved"}
    # Both drawdowns' loans are open (approved, not yet paid out), as is the facility's
    # application (contract_signed while the facility runs).

    renewal = rm.post(
        reverse("api-applications"),
        {
            "company": company.pk,
            "product": facility_product.pk,
            "amount": "1500000.00",
            "term_months": 24,
            "interest_rate": "4.35",
            "repayment_method": "equal_instalments",
            "guarantee_type": "credit",
            "purpose": "Renewal of the revolving line",
        },
        format="json",
    )

    assert renewal.status_code == 201, renewal.data
    # A second facility application while the renewal is open is still a duplicate.
    duplicate = rm.post(
        reverse("api-applications"),
        {
            "company": company.pk,
            "product": facility_product.pk,
            "amount": "1000000.00",
            "term_months": 24,
            "interest_rate": "4.35",
            "repayment_method": "equal_instalments",
            "guarantee_type": "credit",
        },
        format="json",
    )
    assert duplicate.status_code == 409
    assert duplicate.data["code"] == "duplicate_application"
