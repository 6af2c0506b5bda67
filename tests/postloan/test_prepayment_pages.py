"""The loan page quotes a payoff for a date, files a prepayment and offers its confirmation
to a second person; the schedule it replaced stays readable there."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from postloan.models import Loan, Prepayment
from tests.postloan.conftest import TODAY
from tests.postloan.prepayment_helpers import (
    pay_instalments_due_by,
    product_with,
    scheduled_loan,
)

pytestmark = pytest.mark.django_db
D = Decimal


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_quote_file_and_confirm_a_prepayment_on_the_loan_page(staff, company, rules):
    loan = scheduled_loan(
        company=company,
        rm=staff["rm"],
        checker=staff["checker"],
        product=product_with(fee_rate="1"),
        start=TODAY - timedelta(days=40),
    )
    pay_instalments_due_by(loan, TODAY, recorded_by=staff["rm"])
    page_url = reverse("application-detail", args=[loan.application_id])
    rm = client_for(staff["rm"])
    page = rm.get(
        page_url,
        {"quote_kind": "lower_instalment", "quote_principal": "20000", "quote_date": TODAY},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="pl-quote"' in html and "File prepayment" in html
    # The fee: 1% of the 20,000 prepaid.
    assert "200.00" in html
    bad = rm.get(page_url, {"quote_date": "someday"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="pl-quote-problem"' in bad
    for principal in ("NaN", "1e999", "-5", "12.345"):
        odd = rm.get(page_url, {"quote_kind": "shorten_term", "quote_principal": principal})
        assert odd.status_code == 200 and 'id="pl-quote-problem"' in odd.content.decode()
    filed = rm.post(
        reverse("postloan-loan-action", args=[loan.application_id, "prepayment"]),
        {
            "kind": "lower_instalment",
            "value_date": TODAY.isoformat(),
            "principal": "20000",
            "next": page_url,
        },
    )
    assert filed.status_code == 302
    prepayment = Prepayment.objects.get(loan=loan)
    assert prepayment.status == "requested" and prepayment.fee == D("200.00")
    confirm_url = reverse("postloan-prepayment-decide", args=[prepayment.pk, "confirm"])
    # The filer is not offered the confirmation; the checker is.
    assert confirm_url not in rm.get(page_url).content.decode()
    checker = client_for(staff["checker"])
    assert confirm_url in checker.get(page_url).content.decode()
    assert checker.post(confirm_url, {"next": page_url}).status_code == 302
    prepayment.refresh_from_db()
    assert prepayment.status == "confirmed"
    page = checker.get(page_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Earlier schedules" in page and "Version 1, replaced on" in page
    assert Loan.objects.get(pk=loan.pk).status == "active"


def test_the_owner_reads_what_repaying_early_would_cost(staff, company, rules, owner):
    loan = scheduled_loan(
        company=company,
        rm=staff["rm"],
        checker=staff["checker"],
        product=product_with(),
        start=TODAY - timedelta(days=10),
    )
    client = client_for(owner)
    page = client.get(
        reverse("portal-application", args=[loan.application_id]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="loan-payoff"' in html and "To repay the whole loan on" in html
    assert "120,000.00" in html
