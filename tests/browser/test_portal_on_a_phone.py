"""Every page of the owner's portal works on a phone (390×844): nothing makes the page itself
scroll sideways; a wide table scrolls inside its own box. The owner here has a loan with a
twelve-row schedule, an overdue instalment, repayments and reminders, and a draft."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from disbursement.models import Instalment
from postloan.reminders import repayment_reminders_send
from postloan.services import loan_open, repayment_record
from tests.browser.conftest import PASSWORD
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _loan(staff, company):
    """A 1,200,000.00 loan in twelve monthly instalments, three paid, the fourth missed."""
    today = timezone.localdate()
    application = ApplicationFactory(
        company=company,
        status="disbursed",
        amount=Decimal("1200000.00"),
        filed_by=staff["rm"],
        disbursed_at=timezone.now(),
    )
    start = today - timedelta(days=125)
    loan = loan_open(
        application=application,
        actor=staff["checker"],
        data={"value_date": start.isoformat(), "amount": "1200000.00"},
    )
    Instalment.objects.bulk_create(
        Instalment(
            application=application,
            number=n,
            due_date=start + timedelta(days=30 * n),
            principal=Decimal("100000.00"),
            interest=Decimal("12345.67"),
            total=Decimal("112345.67"),
            currency="CNY",
        )
        for n in range(1, 13)
    )
    for n in range(1, 4):
        repayment_record(
            application_id=application.pk,
            actor=staff["rm"],
            amount=Decimal("112345.67"),
            value_date=start + timedelta(days=30 * n),
        )
    repayment_reminders_send(as_of=start + timedelta(days=121))
    return loan


def _pages(live_server, loan, draft, product) -> dict[str, str]:
    return {
        "home": "/portal/",
        "loan": f"/portal/applications/{loan.application_id}/",
        "draft": f"/portal/applications/{draft.pk}/",
        "products": "/portal/products/",
        "product": f"/portal/products/{product.code}/",
        "apply": "/portal/apply/",
        "apply-application": f"/portal/apply/{draft.pk}/",
        "notifications": "/notifications/",
    }


def _page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.django_db(transaction=True)
def test_every_portal_page_fits_a_phone_without_sideways_scrolling(
    browser, live_server, staff, company, owner, product
):
    loan = _loan(staff, company)
    draft = ApplicationFactory(company=company, product=product, status="draft", filed_by=owner)
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()

    page.goto(f"{live_server.url}/portal/login/")
    assert _page_width(page) <= PHONE["width"], "login"
    page.fill("input[name=username]", owner.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/portal/login/'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/portal/login/" not in page.url

    widths = {}
    for language in ("en", "zh-hans"):
        context.add_cookies(
            [{"name": "django_language", "value": language, "url": live_server.url}]
        )
        for name, path in _pages(live_server, loan, draft, product).items():
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == 200, (name, response.status)
            assert page.locator("html").get_attribute("lang") == language, name
            widths[(language, name)] = _page_width(page)
    assert {key: width for key, width in widths.items() if width > PHONE["width"]} == {}

    # The loan's page is the one with the wide schedule: it is there, and scrolls in its box.
    page.goto(f"{live_server.url}/portal/applications/{loan.application_id}/")
    table = page.locator("#schedule-table")
    assert table.locator("tbody tr").count() == 12
    box = table.locator("xpath=..")
    assert box.evaluate("el => getComputedStyle(el).overflowX") == "auto"
    assert page.locator("#loan-overdue").is_visible()
    context.close()
