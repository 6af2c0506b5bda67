"""A relationship manager completes an investigation in the browser and sends it to approval;
the memo is rendered by a real Celery worker after commit."""

import time

import pytest

from applications.models import LoanApplication
from investigation import demo
from investigation.models import CreditMemo
from tests import lifecycle
from tests.browser.accessibility import assert_accessible

pytestmark = pytest.mark.browser


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
    assert_accessible(page)

    page.fill("textarea[name=q_main_business]", "Cotton yarn spinning")
    page.fill("textarea[name=q_top_customers]", "Three garment makers, 60% of sales")
    page.select_option("select[name=q_premises]", "rented")
    page.select_option("select[name=q_other_bank_loans]", "no")
    page.fill("textarea[name=q_use_of_funds]", "Raw cotton for the winter season")
    page.click("button[name=save_answers]")
    page.wait_for_selector("text=Answers saved.")
    assert_accessible(page)

    form = page.locator("#financials-form")
    form.locator("select[name=period]").select_option("last_year")
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

    form = page.locator("#assessment-form")
    form.locator("select[name=repayment_record]").select_option("good")
    form.locator("select[name=tax_grade]").select_option("A")
    form.locator("select[name=industry_risk]").select_option("low")
    form.locator("textarea[name=opinion]").fill("Stable orders; recommend approval.")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("text=Assessment saved.")

    page.click("#run-score")
    page.wait_for_selector("#grade")
    grade = page.inner_text("#grade")
    assert grade in "ABCDE"
    assert_accessible(page)

    page.click("#generate-memo")
    page.wait_for_selector("text=The credit memo is being generated.")
    memo = CreditMemo.objects.get(application_id=pk)
    for _attempt in range(120):  # the worker renders it after commit
        if memo.status != "pending":
            break
        time.sleep(0.25)
        memo.refresh_from_db()
    assert memo.status == "ready", memo.error
    page.reload()
    assert_accessible(page)
    with page.expect_download() as download:
        page.locator("#memos a", has_text="Download").first.click()
    assert download.value.suggested_filename.endswith("-v1.pdf")

    page.click("#send-to-approval")
    page.wait_for_selector("text=Sent to approval.")
    assert_accessible(page)
    application = LoanApplication.objects.get(pk=pk)
    assert application.status == "in_approval"
    assert application.risk_grade == grade
