"""Full prepayment closes the loan: the money recorded pays principal and interest to the
date exactly under the allocation rule, the loan and its application end closed."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from applications.models import LoanApplication
from audit.models import AuditEvent
from postloan.models import Loan, Prepayment, ScheduleRevision
from tests.postloan.conftest import TODAY
from tests.postloan.prepayment_helpers import (
    pay_instalments_due_by,
    product_with,
    schedule_of,
    scheduled_loan,
)

pytestmark = pytest.mark.django_db
D = Decimal


def _file(api, user, loan, kind="full", value_date=TODAY, **extra):
    return api(user).post(
        reverse("api-postloan-prepayments", args=[loan.application_id]),
        {"kind": kind, "value_date": value_date.isoformat(), **extra},
        format="json",
    )


def _confirm(api, user, pk):
    return api(user).post(reverse("api-postloan-prepayment-confirm", args=[pk]), {}, format="json")


@pytest.mark.parametrize("pay_due", [True, False])
def test_full_prepayment_closes_the_loan(api, staff, company, rules, pay_due):
    loan = scheduled_loan(
        company=company,
        rm=staff["rm"],
        checker=staff["checker"],
        product=product_with(fee_rate="1"),
        method="equal_principal",
        start=TODAY - timedelta(days=100),
    )
    if pay_due:
        pay_instalments_due_by(loan, TODAY, recorded_by=staff["rm"])
    quote = (
        api(staff["rm"]).get(reverse("api-postloan-payoff-quote", args=[loan.application_id])).data
    )
    filed = _file(api, staff["rm"], loan)
    assert filed.status_code == 201, filed.data
    assert filed.data["total"] == quote["total"]
    assert filed.data["status"] == "requested"
    confirmed = _confirm(api, staff["checker"], filed.data["id"])
    assert confirmed.status_code == 200, confirmed.data
    prepayment = Prepayment.objects.select_related("repayment").get(pk=filed.data["id"])
    assert prepayment.status == "confirmed"
    assert prepayment.repayment.amount == (
        D(quote["principal"]) + D(quote["interest"]) + D(quote["overdue_interest"])
    )
    # Overdue, the loan accrued overdue interest for yesterday, and it is paid too.
    assert (D(quote["overdue_interest"]) > 0) is not pay_due
    assert prepayment.fee == (D(quote["principal"]) / 100).quantize(D("0.01"))
    loan = Loan.objects.get(pk=loan.pk)
    assert loan.status == "closed"
    assert loan.outstanding_total == 0 and loan.outstanding_principal == 0
    assert LoanApplication.objects.get(pk=loan.application_id).status == "closed"
    assert AuditEvent.objects.filter(
        application_id=loan.application_id, kind="transition", to_state="closed"
    ).exists()
    # No instalment is left unpaid, none is after the value date, and the schedule before
    # is kept.
    assert all(i.due_date <= TODAY for i in schedule_of(loan))
    assert sum((i.principal for i in schedule_of(loan)), D("0")) == D("120000.00")
    assert ScheduleRevision.objects.filter(loan=loan).count() == 1


def test_a_closed_loan_takes_no_prepayment_and_no_quote(api, staff, company, rules):
    loan = scheduled_loan(
        company=company,
        rm=staff["rm"],
        checker=staff["checker"],
        product=product_with(),
        start=TODAY - timedelta(days=10),
    )
    filed = _file(api, staff["rm"], loan)
    assert _confirm(api, staff["checker"], filed.data["id"]).status_code == 200
    assert _file(api, staff["rm"], loan).status_code == 409
    response = api(staff["rm"]).get(
        reverse("api-postloan-payoff-quote", args=[loan.application_id])
    )
    assert response.status_code == 409
    assert _confirm(api, staff["checker"], filed.data["id"]).status_code == 409
