"""The owner prepays part of their loan on the portal, on a phone: quotes a lower instalment,
reads the schedule that would follow, asks the bank, and sees the request with their
relationship manager."""

from datetime import timedelta

import pytest
from django.utils import timezone

from postloan.models import OwnerRequest
from tests.browser.accessibility import assert_accessible
from tests.postloan.prepayment_helpers import (
    pay_instalments_due_by,
    product_with,
    scheduled_loan,
)

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_the_owner_quotes_a_partial_prepayment_and_asks_the_bank_for_it(
    page, live_server, login, staff, company, owner
):
    today = timezone.localdate()
    loan = scheduled_loan(
        company=company,
        rm=staff["rm"],
        checker=staff["checker"],
        product=product_with(fee_rate="1", allow_shorten_term=False),
        start=today - timedelta(days=100),
    )
    pay_instalments_due_by(loan, today, recorded_by=staff["rm"])
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, owner, portal=True)
    page.goto(f"{live_server.url}/portal/applications/{loan.application_id}/#prepay")
    form = page.locator("#prepay-quote-form")
    form.locator("select[name=prepay_kind]").select_option("lower_instalment")
    form.locator("input[name=prepay_principal]").fill("30000")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#prepay-quote")
    assert "30,000.00" in page.locator("#prepay-quote").inner_text()
    assert page.locator("#prepay-schedule-after tbody tr").count() >= 2
    assert_accessible(page)
    page.locator("#prepay-ask-form textarea[name=note]").fill("We sold the old stock.")
    page.locator("#prepay-ask-form button[type=submit]").click()
    page.wait_for_selector("#owner-requests")
    assert page.locator('#owner-requests [data-status="open"]').count() == 1
    request = OwnerRequest.objects.get(loan=loan)
    assert request.kind == "lower_instalment" and request.note == "We sold the old stock."
