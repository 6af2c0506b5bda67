"""A customer's total exposure with the bank: what its active loans still owe in principal, the
undrawn part of its open facilities (tests/facilities/test_exposure_overview.py) and what its
applications in approval ask for, per currency; nobody else's."""

from decimal import Decimal

import pytest

from postloan.selectors import customer_exposure
from tests.factories import ApplicationFactory, CompanyFactory, make_loan

pytestmark = pytest.mark.django_db


def test_exposure_adds_active_loans_applications_in_approval_and_loans_approved_not_paid_out(
    company, staff, django_assert_max_num_queries
):
    make_loan(company, outstanding="250000")
    make_loan(company, outstanding="100000")
    make_loan(company, outstanding="0", status="closed")
    make_loan(company, outstanding="50000", currency="USD")
    ApplicationFactory(company=company, status="in_approval", amount=Decimal("800000"))
    ApplicationFactory(company=company, status="investigation", amount=Decimal("900000"))
    ApplicationFactory(company=company, status="declined", amount=Decimal("700000"))
    # Approved (or its contract signed) and not paid out yet: the bank has committed it.
    ApplicationFactory(company=company, status="approved", amount=Decimal("300000"))
    ApplicationFactory(company=company, status="contract_signed", amount=Decimal("200000"))
    other = CompanyFactory(home_branch=company.home_branch)
    make_loan(other, outstanding="999999")
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
