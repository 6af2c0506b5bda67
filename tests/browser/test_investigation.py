"""A relationship manager completes an investigation in the browser, moving between its
sections and saving each in place, and sends it to approval; the memo is rendered by a real
Celery worker after commit."""

import time

import pytest

from applications.models import LoanApplication
from investigation import demo
from investigation.models import CreditMemo
from tests import lifecycle

pytestmark = pytest.mark.browser

FIGURES = (
    "revenue",
    "net_profit",
    "total_assets",
    "total_liabilities",
    "current_assets",
    "current_liabilities",
    "bank_inflows_12m",
    "tax_paid",
)


def section(page, anchor: str) -> None:
    """Choose a section in the workspace's navigation; it alone is shown."""
    page.click(f".ws-nav a[data-section={anchor}]")
    page.wait_for_selector(f"#{anchor}", state="visible")
    assert page.get_attribute(f".ws-nav a[data-section={anchor}]", "aria-current") == "location"


@pytest.mark.django_db(transaction=True)
def test_an_rm_completes_an_investigation_and_sends_it_to_approval(
    page, live_server, login, api, staff, company, product, live_celery_worker
):
    demo.seed_questionnaire(product)
    demo.seed_scorecard()
    demo.seed_policy()
    pk = lifecycle.file_draft(api, staff, company, product)
    lifecycle.submit(api, staff, pk)
    lifecycle.start_investigation(api, staff, pk)

    login(page, staff["rm"])
    page.goto(f"{live_server.url}/investigation/{pk}/")
    assert "Still missing before approval" in page.content()
    # one section at a time: the first, until another is chosen in the navigation
    assert page.locator("#questionnaire").is_visible()
    assert not page.locator("#financials").is_visible()
    # a save in place keeps the page: this mark would be gone after a reload
    page.evaluate("window.savedInPlace = true")

    page.fill("textarea[name=q_main_business]", "Cotton yarn spinning")
    page.fill("textarea[name=q_top_customers]", "Three garment makers, 60% of sales")
    page.select_option("select[name=q_premises]", "rented")
    page.select_option("select[name=q_other_bank_loans]", "no")
    page.fill("textarea[name=q_use_of_funds]", "Raw cotton for the winter season")
    page.click("button[name=save_answers]")
    page.wait_for_selector("text=Answers saved.")

    section(page, "financials")
    form = page.locator("#financials-form")
    form.locator("select[name=period]").select_option("last_year")
    form.locator("input[name=revenue]").fill("-1")
    for name in FIGURES[1:]:
        form.locator(f"input[name={name}]").fill("1")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#financials .section-error")
    assert "This figure cannot be negative." in page.inner_text("#financials")
    assert page.input_value("#financials-form input[name=revenue]") == "-1"  # typed, kept
    form = page.locator("#financials-form")
    for name, value in (
        ("revenue", "6000000"),
        ("net_profit", "600000"),
        ("total_assets", "8000000"),
        ("total_liabilities", "3000000"),
        ("current_assets", "4000000"),
        ("current_liabilities", "2000000"),
        ("bank_inflows_12m", "5800000"),
        ("tax_paid", "180000"),
    ):
        form.locator(f"input[name={name}]").fill(value)
    form.locator("button[type=submit]").click()
    page.wait_for_selector("text=Financial figures saved.")
    assert page.evaluate("window.savedInPlace") is True
    assert page.evaluate("window.location.hash") == "#financials"

    section(page, "verification")
    form = page.locator("#verification-form")
    for fact, source in (
        ("registration", "registry"),
        ("legal_representative", "registry"),
        ("address", "site_visit"),
        ("revenue", "tax_record"),
        ("tax", "tax_record"),
        ("bank_flows", "bank_statement"),
        ("collateral", "registry"),
    ):
        form.locator(f"select[name=status_{fact}]").select_option("verified")
        form.locator(f"select[name=source_{fact}]").select_option(source)
    page.click("button[name=save_verification]")
    page.wait_for_selector("text=Verification saved.")

    section(page, "assessment")
    form = page.locator("#assessment-form")
    form.locator("select[name=repayment_record]").select_option("good")
    form.locator("select[name=tax_grade]").select_option("A")
    form.locator("select[name=industry_risk]").select_option("low")
    form.locator("textarea[name=opinion]").fill("Stable orders; recommend approval.")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("text=Assessment saved.")

    section(page, "score")
    page.click("#run-score")
    page.wait_for_selector("#grade")
    grade = page.inner_text("#grade")
    assert grade in "ABCDE"

    section(page, "memos")
    page.click("#generate-memo")
    page.wait_for_selector("text=The credit memo is being generated.")
    memo = CreditMemo.objects.get(application_id=pk)
    for _attempt in range(120):  # the worker renders it after commit
        if memo.status != "pending":
            break
        time.sleep(0.25)
        memo.refresh_from_db()
    assert memo.status == "ready", memo.error
    assert page.evaluate("window.savedInPlace") is True
    page.reload()  # the address keeps the section: the memo's section again
    with page.expect_download() as download:
        page.locator("#memos a", has_text="Download").first.click()
    assert download.value.suggested_filename.endswith("-v1.pdf")

    page.click("#send-to-approval")
    page.wait_for_selector("text=Sent to approval.")
    application = LoanApplication.objects.get(pk=pk)
    assert application.status == "in_approval"
    assert application.risk_grade == grade


@pytest.mark.django_db(transaction=True)
def test_a_guarantor_entered_in_the_wizard_is_completed_in_the_workspace_without_retyping(
    page, live_server, login, api, staff, company, product
):
    from intake.models import Guarantor

    demo.seed_questionnaire(product)
    pk = lifecycle.file_draft(api, staff, company, product, guarantee_type="guarantee")
    login(page, staff["rm"])
    page.goto(f"{live_server.url}/applications/{pk}/file/parties/")
    page.fill("input[name=g-name]", "Wang Wu")
    page.fill("input[name=g-id_number]", "110101198001010010")
    page.fill("input[name=g-relationship]", "Shareholder")
    page.click("form:has(input[value=guarantor]) button[type=submit]")
    assert "Wang Wu" in page.content()
    lifecycle.submit(api, staff, pk)
    lifecycle.start_investigation(api, staff, pk)
    guarantor = Guarantor.objects.get(application_id=pk)

    refused = []  # the workspace's script runs under the Content-Security-Policy
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{live_server.url}/investigation/{pk}/")
    assert "Guarantor Wang Wu has not been assessed." in page.inner_text("#missing")
    section(page, "guarantors")
    row = page.locator(f"#guarantor-{guarantor.pk}")
    assert "Wang Wu" in row.inner_text() and "To assess" in row.inner_text()
    # only the investigator's own figures: the name and the number are already there
    row.locator(f"input[name=g{guarantor.pk}-guaranteed_amount]").fill("800000")
    row.locator(f"input[name=g{guarantor.pk}-own_exposure]").fill("150000")
    row.locator("button[name=assess_guarantor]").click()
    page.wait_for_selector("#guarantors .section-saved")
    assert "Guarantor assessed." in page.inner_text("#guarantors")
    assert "Wang Wu has not been assessed" not in page.inner_text("#missing")
    assert page.evaluate("window.location.hash") == "#guarantors"
    guarantor.refresh_from_db()
    assert guarantor.guaranteed_amount == 800000 and guarantor.own_exposure == 150000
    assert Guarantor.objects.filter(application_id=pk).count() == 1
    assert refused == []
