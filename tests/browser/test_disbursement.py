"""An applicant accepts the loan offer on the portal, knowingly (the box ticked, the code
e-mailed to them), and sees the contract signed; the disbursement officer finds it in the
queue."""

import re
from decimal import Decimal

import pytest
from django.core import mail

from applications.models import LoanApplication
from disbursement import services
from disbursement.models import Contract, Offer
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import PASSWORD
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_an_applicant_accepts_the_offer_on_the_portal_and_the_officer_finds_the_contract(
    page, live_server, login, new_context, staff, company, owner
):
    application = ApplicationFactory(
        company=company,
        status="approved",
        filed_by=staff["rm"],
        amount=Decimal("100000.00"),
        interest_rate=Decimal("12.000"),
        language="en",
    )
    offer = services.offer_create(application=application)
    services.offer_render(offer_id=offer.pk)

    # The shared `login` fixture clicks the first submit button on the page, which is now the
    # header's language switch; log in through the portal form itself.
    page.set_viewport_size({"width": 390, "height": 844})  # on a phone
    page.goto(f"{live_server.url}/portal/login/")
    page.fill("input[name=username]", owner.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/portal/login/'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/portal/login/" not in page.url
    page.goto(f"{live_server.url}/portal/applications/{application.pk}/")
    panel = page.locator("#offer-panel")
    assert panel.is_visible()
    assert_accessible(page)
    assert "8884.88" in panel.locator("#schedule-table").inner_text()
    assert panel.locator("#offer-status a").get_attribute("href") == (
        f"/disbursement/{application.pk}/offer.pdf"
    )

    shown = panel.locator("#documents-sha256").inner_text()
    # The acceptance form and the long fingerprint make nothing scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # Without the box ticked and a code, nothing is signed.
    page.click("#accept-offer button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert (
        "Confirm that you have read the offer"
        in page.locator("#read-confirmed-errors").inner_text()
    )
    assert "Enter the code we sent you." in page.locator("#otp-errors").inner_text()
    assert LoanApplication.objects.get(pk=application.pk).status == "approved"

    page.click("#offer-code button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "We sent a code to" in page.content()
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    page.check("#id_read_confirmed")
    page.fill("#id_otp", code)
    page.click("#accept-offer button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert f"/portal/applications/{application.pk}/" in page.url
    assert page.locator("#contract-signed").is_visible()
    assert page.locator("#accept-offer").count() == 0
    assert_accessible(page)

    application.refresh_from_db()
    assert application.status == "contract_signed"
    assert Contract.objects.get(application=application).recorded_by == owner
    offer = Offer.objects.get(application=application)
    assert offer.accepted_by == owner and offer.accepted_documents_sha256 == shown
    assert offer.accepted_user_agent  # the browser's own

    assert LoanApplication.objects.get(pk=application.pk).status == "contract_signed"

    # The disbursement officer finds the signed contract in the queue and opens its page.
    officer = login(new_context().new_page(), staff["disburser"])
    officer.locator("nav").get_by_role("link", name="Disbursement").click()
    officer.wait_for_url(f"{live_server.url}/disbursement/")
    assert_accessible(officer)
    officer.get_by_role("link", name=application.reference).first.click()
    officer.wait_for_url(f"{live_server.url}/disbursement/{application.pk}/")
    assert application.reference in officer.locator("h1").inner_text()
    assert_accessible(officer)
