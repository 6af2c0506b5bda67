"""The contracts pages under the enforced Content-Security-Policy: the relationship manager
opens the staff contracts page of a case, the owner opens the portal's contracts page and signs
the loan contract with the one-time code e-mailed to them; the browser reports no violation."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from playwright.sync_api import expect

from applications.models import LoanApplication
from applications.services import application_transition
from contracts.models import ContractDocument, ContractKind, Party, Signature
from contracts.services import contract_render, contract_template_defaults_ensure, contracts_prepare
from intake.models import Guarantor
from tests.browser.conftest import PASSWORD
from tests.factories import ApplicationFactory, make_resident_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def violations(page):
    """What the browser refused under the policy, as reported in the console and by the
    securitypolicyviolation event (recorded per page in window.__cspViolations)."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', e =>"
        " window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )

    def collected() -> list[str]:
        return seen + page.evaluate("window.__cspViolations")

    return collected


@pytest.fixture
def prepared(staff, company):
    """An approved application with a guarantor, its contracts prepared and rendered."""
    contract_template_defaults_ensure()
    application = ApplicationFactory(
        company=company,
        status="in_approval",
        filed_by=staff["rm"],
        amount=Decimal("120000.00"),
        interest_rate=Decimal("6.000"),
        repayment_method="equal_principal",
        guarantee_type="guarantee",
        language="en",
    )
    Guarantor.objects.create(
        application=application,
        name="Zhang Wei",
        id_number=make_resident_id(778),
        guaranteed_amount=Decimal("120000.00"),
    )
    application_transition(
        application_id=application.pk, transition="approve", actor=None, system=True
    )
    contracts_prepare(application_id=application.pk, actor=staff["rm"])
    for contract in ContractDocument.objects.filter(application=application):
        assert contract_render(contract_id=contract.pk).pdf_status == "ready"
    return LoanApplication.objects.get(pk=application.pk)


def test_the_staff_and_portal_contracts_pages_and_a_signature_under_the_policy(
    page, live_server, login, staff, owner, prepared, violations
):
    pk = prepared.pk
    loan = ContractDocument.objects.get(application=prepared, kind=ContractKind.LOAN)
    guarantee = ContractDocument.objects.get(application=prepared, kind=ContractKind.GUARANTEE)

    # The relationship manager's page: every contract, the loan file's section.
    login(page, staff["rm"])
    page.goto(f"{live_server.url}/contracts/{pk}/")
    expect(page.locator("body")).to_contain_text(loan.number)
    expect(page.locator("body")).to_contain_text(guarantee.number)
    expect(page.locator("#loan-file")).to_be_visible()
    assert violations() == []
    page.context.clear_cookies()

    # The owner, on the portal, asks for a code and signs the loan contract with it.
    page.goto(f"{live_server.url}/portal/login/")
    page.fill("input[name=username]", owner.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/portal/login/'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/portal/login/" not in page.url
    page.goto(f"{live_server.url}/portal/applications/{pk}/contracts/")
    card = page.locator(f"#contract-{loan.pk}")
    expect(card).to_contain_text(loan.number)
    assert violations() == []

    sent = len(mail.outbox)
    card.locator("form[action$='/code/'] button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert len(mail.outbox) == sent + 1
    assert mail.outbox[-1].to == [owner.email]
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)

    card = page.locator(f"#contract-{loan.pk}")
    card.locator("input[name=read_confirmed]").check()
    card.locator("input[name=otp]").fill(code)
    card.locator("form[action$='/sign/'] button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(f"#contract-{loan.pk}")).to_contain_text("you signed on")
    assert violations() == []

    signature = Signature.objects.get(contract=loan, party=Party.BORROWER)
    assert signature.method == Signature.Method.PORTAL
    assert signature.user == owner
    loan.refresh_from_db()
    assert signature.document_sha256 == loan.sha256
