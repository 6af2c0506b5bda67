"""A customer's total exposure with the bank: what its active loans still owe in principal, the
undrawn part of its open facilities (tests/facilities/test_exposure_overview.py) and what its
applications in approval ask for, per currency; nobody else's."""

from datetime import date
from decimal import Decimal

import pytest

from postloan.models import Loan
from postloan.selectors import customer_exposure
from tests.factories import ApplicationFactory, CompanyFactory

pytestmark = pytest.mark.django_db


def _loan(company, staff, *, outstanding: str, status="active", currency="CNY"):
    application = ApplicationFactory(company=company, status="disbursed", currency=currency)
    return Loan.objects.create(
        application=application,
        branch=application.branch,
        relationship_manager=staff["rm"],
        status=status,
        currency=currency,
        principal=Decimal("1000000"),
        outstanding_principal=Decimal(outstanding),
        disbursed_on=date(2026, 1, 5),
    )


def test_exposure_adds_active_loans_applications_in_approval_and_loans_approved_not_paid_out(
    company, staff, django_assert_max_num_queries
):
    _loan(company, staff, outstanding="250000")
    _loan(company, staff, outstanding="100000")
    _loan(company, staff, outstanding="0", status="closed")
    _loan(company, staff, outstanding="50000", currency="USD")
    ApplicationFactory(company=company, status="in_approval", amount=Decimal("800000"))
    ApplicationFactory(company=company, status="investigation", amount=Decimal("900000"))
    ApplicationFactory(company=company, status="declined", amount=Decimal("700000"))
    # Approved (or its contract signed) and not paid out yet: the bank has committed it.
    ApplicationFactory(company=company, status="approved", amount=Decimal("300000"))
    ApplicationFactory(company=company, status="contract_signed", amount=Decimal("200000"))
    other = CompanyFactory(home_branch=company.home_branch)
    _loan(other, staff, outstanding="999999")
    ApplicationFactory(company=other, status="in_approval", amount=Decimal("555555"))

    with django_assert_max_num_queries(3):
        rows = customer_exposure(company=company)

    assert rows == [
        {
            "currency": "CNY",
            "loans": Decimal("350000"),
            "loan_count": 2,
            "undrawn": Decimal("0"),
            "facility_count": 0,
            "in_approval": Decimal("800000"),
            "in_approval_count": 1,
            "approved": Decimal("500000"),
            "approved_count": 2,
            "total": Decimal("1650000"),
        },
        {
            "currency": "USD",
            "loans": Decimal("50000"),
            "loan_count": 1,
            "undrawn": Decimal("0"),
            "facility_count": 0,
            "in_approval": Decimal("0"),
            "in_approval_count": 0,
            "approved": Decimal("0"),
            "approved_count": 0,
            "total": Decimal("50000"),
        },
    ]


def test_a_new_customer_has_no_exposure(company):
    assert customer_exposure(company=company) == []
