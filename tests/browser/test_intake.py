"""Intake in a real browser: an RM files with documents and submits; an owner applies
online, then uploads a requested document and sees the status change."""

import pytest
from django.urls import reverse

from applications.models import LoanApplication
from intake.models import ChecklistItem, DocumentType, InfoRequest
from intake.services import info_request_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def licence_checklist(product):
    licence = DocumentType.objects.create(code="business_licence", name="Business licence")
    ChecklistItem.objects.create(product=product, stage="submit", document_type=licence)
    DocumentType.objects.create(code="tax_returns", name="Tax returns")
    return licence


def test_a_relationship_manager_files_an_application_with_documents_and_submits(
    page, live_server, login, staff, company, product, licence_checklist, tmp_path
):
    scan = tmp_path / "licence.pdf"
    scan.write_bytes(PDF)
    login(page, staff["rm"])
    page.goto(f"{live_server.url}{reverse('application-new')}")
    page.fill(
        "input[name=credit_code]",
        company.credit_code[:17] + "0"
        if company.credit_code[17] != "0"
        else company.credit_code[:17] + "1",
    )
    page.click("button[type=submit]")
    assert "check character" in page.content()
    page.fill("input[name=credit_code]", company.credit_code)
    page.click("button[type=submit]")
    page.select_option("select[name=product]", str(product.pk))
    page.fill("input[name=amount]", "9000000")
    page.fill("input[name=term_months]", "12")
    page.fill("input[name=interest_rate]", "4.35")
    page.fill("textarea[name=purpose]", "Raw materials")
    page.click("button[type=submit]")
    assert "The amount must be between" in page.content()
    page.fill("input[name=amount]", "800000")
    page.click("button[type=submit]")
    page.fill("input[name=g-name]", "Wang Wu")
    page.fill("input[name=g-id_number]", "110101198001010010")
    page.click("form:has(input[value=guarantor]) button[type=submit]")
    assert "Wang Wu" in page.content()
    page.click("#to-documents")
    page.click("form:has(button[name=submit]) button[type=submit]")
    assert "Missing document: Business licence." in page.content()
    page.set_input_files("tr[data-doc=business_licence] input[type=file]", str(scan))
    page.click("tr[data-doc=business_licence] button[type=submit]")
    assert "Waiting for review" in page.content()
    page.click("form:has(button[name=submit]) button[type=submit]")
    assert page.inner_text("#status") == "Submitted"
    application = LoanApplication.objects.get()
    assert application.status == "submitted" and application.guarantors.count() == 1


def test_new_application_on_my_work_opens_the_wizard_which_shows_the_current_step(
    page, live_server, login, staff, company, product
):
    login(page, staff["rm"])
    page.goto(f"{live_server.url}{reverse('home')}")
    page.click("a.btn:text-is('New application')")
    assert page.url.endswith(reverse("application-new"))
    current = page.locator(".steps [aria-current=step]")
    assert current.count() == 1 and current.inner_text() == "Company"
    page.fill("input[name=credit_code]", company.credit_code)
    page.click("button[type=submit]")
    assert page.locator(".steps [aria-current=step]").inner_text() == "Request"
    page.select_option("select[name=product]", str(product.pk))
    page.fill("input[name=amount]", "800000")
    page.fill("input[name=term_months]", "12")
    page.fill("input[name=interest_rate]", "4.35")
    page.fill("textarea[name=purpose]", "Raw materials")
    page.click("button[type=submit]")
    assert page.locator(".steps [aria-current=step]").inner_text() == "Guarantors and collateral"
    page.click("#to-documents")
    assert page.locator(".steps [aria-current=step]").inner_text() == "Documents"
    # a completed step is a link back to it
    page.click(".steps a:text-is('Guarantors and collateral')")
    application = LoanApplication.objects.get()
    assert page.url.endswith(reverse("application-file-parties", args=[application.pk]))
    assert page.locator(".steps [aria-current=step]").inner_text() == "Guarantors and collateral"


def test_an_owner_applies_online_then_uploads_a_requested_document(
    page, live_server, login, staff, owner, product, licence_checklist, tmp_path
):
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(PDF)
    login(page, owner, portal=True)
    page.goto(f"{live_server.url}{reverse('portal-apply')}?product={product.code}")
    page.fill("input[name=amount]", "300000")
    page.fill("input[name=term_months]", "12")
    page.click("button[type=submit]")
    application = LoanApplication.objects.get()
    assert application.channel == "online"
    assert application.relationship_manager in (staff["rm"], staff["rm2"])
    page.set_input_files("li[data-kind=document] input[type=file]", str(scan))
    page.click("li[data-kind=document] button[type=submit]")
    page.click("button[name=submit]")
    assert page.inner_text("#status") == "Submitted"

    info_request_create(
        actor=application.relationship_manager,
        application_id=application.pk,
        items=[
            {"kind": "document", "document_type": "tax_returns", "text": "Your 2025 tax return"}
        ],
    )
    page.reload()
    assert page.inner_text("#status") == "Waiting for the applicant"
    assert "Your 2025 tax return" in page.content()
    page.set_input_files("li[data-kind=document] input[type=file]", str(scan))
    page.click("li[data-kind=document] button[type=submit]")
    assert page.inner_text("#status") == "Submitted"
    assert InfoRequest.objects.get().status == "answered"
