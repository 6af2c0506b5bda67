"""A disbursed loan with a real schedule, and a change walked through the API the way the
staff would: the loan's RM files it, a colleague reviews it, the route approves it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from postloan import demo
from postloan.models import Loan
from tests.conftest import api_for
from tests.lifecycle import approve
from tests.postloan.conftest import TODAY
from tests.postloan.prepayment_helpers import (
    pay_instalments_due_by,
    product_with,
    scheduled_loan,
)

D = Decimal


@pytest.fixture
def rules(db):
    demo.seed()


@pytest.fixture
def loan(staff, company, rules) -> Loan:
    """120,000 over 12 months at 6%, equal instalments, four months ago, paid up to date."""
    loan = scheduled_loan(
        company=company,
        rm=staff["rm"],
        checker=staff["checker"],
        product=product_with(),
        start=TODAY - timedelta(days=125),
    )
    pay_instalments_due_by(loan, TODAY, recorded_by=staff["checker"])
    return Loan.objects.select_related("application__product").get(pk=loan.pk)


def file_change(staff, loan: Loan, expect: int = 201, **payload):
    response = api_for(staff["rm"]).post(
        reverse("api-postloan-changes", args=[loan.application_id]), payload, format="json"
    )
    assert response.status_code == expect, response.data
    return response.data


def review_and_send(staff, pk: int, reviewer=None) -> None:
    """A colleague of the RM starts the review, confirms the figures and sends it on."""
    client = api_for(reviewer or staff["rm2"])
    r = client.post(reverse("api-application-start-investigation", args=[pk]), {}, format="json")
    assert r.status_code == 200, r.data
    r = client.post(
        reverse("api-postloan-change-review", args=[pk]),
        {"opinion": "Turnover steady, repaid on time.", "updated": {"annual_revenue": "6100000"}},
        format="json",
    )
    assert r.status_code == 200, r.data
    r = client.post(reverse("api-application-send-to-approval", args=[pk]), {}, format="json")
    assert r.status_code == 200, r.data


def approved_change(staff, loan: Loan, **payload) -> int:
    pk = file_change(staff, loan, **payload)["id"]
    review_and_send(staff, pk)
    approve(api_for, staff, pk)
    return pk
