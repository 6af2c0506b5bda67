"""An applicant accepts the loan offer on the portal and sees the contract signed; the
disbursement officer finds it in the queue."""

from decimal import Decimal

import pytest

from applications.models import LoanApplication
from disbursement import services
from disbursement.models import Contract
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

    page.click("#accept-offer button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/portal/applications/{application.pk}/")
    assert page.locator("#contract-signed").is_visible()
    assert page.locator("#accept-offer").count() == 0
    assert_accessible(page)

    application.refresh_from_db()
    assert application.status == "contract_signed"
    assert Contract.objects.get(application=application).recorded_by == owner
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
