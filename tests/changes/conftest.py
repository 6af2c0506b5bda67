"""A disbursed loan with a real schedule, and a change walked through the API the way the
staff would: the loan's RM files it, a colleague reviews it, the route approves it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from postloan import demo
from postloan.daily import daily_run
from postloan.models import Alert, Loan
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
    # Made four months late in one go, the loan was overdue when first computed: as a loan
    # always paid on time, it is normal and has no alerts.
    # Its inspections were done, too.
    Loan.objects.filter(pk=loan.pk).update(
        classification="normal", last_inspection_on=TODAY, next_inspection_due=None
    )
    loan.tasks.update(status="done", completed_at=timezone.now())
    Alert.objects.filter(loan=loan).update(status=Alert.Status.CLOSED)
    daily_run(loan_ids=[loan.pk])
    assert not Alert.objects.filter(loan=loan).exclude(status=Alert.Status.CLOSED).exists()
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


def pay_out_today(staff, pk: int) -> None:
    """Contract and payout of an approved change that is a new loan (renewal, top-up), with
    today's value date: the RM records the signed contract, every contract is signed, the
    officer records the payout and a checker confirms it."""
    from django.utils import timezone

    from applications.models import LoanApplication
    from tests import lifecycle

    lifecycle.sign_contract(api_for, staff, pk)
    lifecycle.sign_contracts(api_for, staff, pk)
    maker, checker = api_for(staff["disburser"]), api_for(staff["checker"])
    for condition in maker.get(reverse("api-disbursement-conditions", args=[pk])).data:
        if not condition["satisfied"]:
            satisfied = maker.post(
                reverse("api-disbursement-condition-satisfy", args=[pk, condition["id"]]),
                {},
                format="json",
            )
            assert satisfied.status_code == 200, satisfied.data
    recorded = maker.post(
        reverse("api-disbursement-record", args=[pk]),
        {
            "account_number": "6222020200112233",
            "amount": str(LoanApplication.objects.get(pk=pk).amount),
            "value_date": timezone.localdate().isoformat(),
        },
        format="json",
    )
    assert recorded.status_code == 201, recorded.data
    confirmed = checker.post(reverse("api-disbursement-confirm", args=[pk]), {}, format="json")
    assert confirmed.status_code == 200, confirmed.data
