"""Repaid in full closes the loan; a write-off needs a second risk officer."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from applications.models import LoanApplication
from audit.models import AuditEvent
from postloan.models import InspectionTask, Loan
from tests.postloan.conftest import TODAY

pytestmark = pytest.mark.django_db
D = Decimal


def test_the_last_repayment_closes_the_loan_and_its_open_tasks(api, staff, make_loan):
    loan = make_loan(
        [
            (TODAY - timedelta(days=5), D("1000.00"), D("50.00")),
            (TODAY + timedelta(days=25), D("1000.00"), D("50.00")),
        ]
    )
    url = reverse("api-postloan-repayments", args=[loan.application_id])
    first = api(staff["rm"]).post(
        url, {"amount": "1050.00", "value_date": TODAY.isoformat()}, format="json"
    )
    assert first.data["loan"]["status"] == "active"
    last = api(staff["rm"]).post(
        url, {"amount": "1050.00", "value_date": TODAY.isoformat()}, format="json"
    )
    assert last.status_code == 201
    assert last.data["loan"]["status"] == "closed"
    application = LoanApplication.objects.get(pk=loan.application_id)
    assert application.status == "closed" and application.closed_at
    event = AuditEvent.objects.get(application=application, kind="transition", to_state="closed")
    assert event.actor_role == "system"
    assert not InspectionTask.objects.filter(loan=loan, status="open").exists()


def test_the_generic_endpoints_refuse_close_and_write_off(api, staff, make_loan):
    loan = make_loan()
    for name in ("close", "write-off"):
        response = api(staff["risk"]).post(
            reverse(f"api-application-{name}", args=[loan.application_id]), {}, format="json"
        )
        assert response.status_code == 403
        assert response.data["code"] == "use_stage_endpoint"


def test_a_write_off_is_proposed_and_approved_by_a_different_risk_officer(
    api, staff, make_loan, head_office
):
    from org.roles import Role
    from tests.factories import make_staff

    loan = make_loan()
    second = make_staff(Role.RISK_OFFICER, head_office, username="oscar_risk")
    proposed = api(staff["risk"]).post(
        reverse("api-postloan-write-off-propose", args=[loan.application_id]),
        {"reason": "Borrower insolvent, collateral realised"},
        format="json",
    )
    assert proposed.status_code == 201, proposed.data
    url = reverse("api-postloan-write-off-approve", args=[proposed.data["id"]])
    same = api(staff["risk"]).post(url, {}, format="json")
    assert same.status_code == 403 and same.data["code"] == "segregation_of_duties"
    assert api(staff["rm"]).post(url, {}, format="json").status_code == 403
    assert LoanApplication.objects.get(pk=loan.application_id).status == "disbursed"
    approved = api(second).post(url, {"comment": "Approved by the risk committee"}, format="json")
    assert approved.status_code == 200, approved.data
    assert LoanApplication.objects.get(pk=loan.application_id).status == "written_off"
    assert Loan.objects.get(pk=loan.pk).status == "written_off"


def test_a_rejected_write_off_cannot_be_approved_afterwards(api, staff, make_loan, head_office):
    from org.roles import Role
    from postloan.models import WriteOff
    from tests.factories import make_staff

    loan = make_loan()
    second = make_staff(Role.RISK_OFFICER, head_office, username="oscar_risk")
    proposed = api(staff["risk"]).post(
        reverse("api-postloan-write-off-propose", args=[loan.application_id]),
        {"reason": "Borrower insolvent"},
        format="json",
    )
    assert proposed.status_code == 201, proposed.data
    reject = reverse("api-postloan-write-off-reject", args=[proposed.data["id"]])
    approve = reverse("api-postloan-write-off-approve", args=[proposed.data["id"]])
    assert (
        api(second).post(reject, {"comment": "Collateral covers it"}, format="json").status_code
        == 200
    )
    again = api(second).post(approve, {}, format="json")
    assert again.status_code == 409 and again.data["code"] == "already_decided"
    write_off = WriteOff.objects.get(pk=proposed.data["id"])
    assert (write_off.status, write_off.decided_by) == ("rejected", second)
    assert LoanApplication.objects.get(pk=loan.application_id).status == "disbursed"
