"""The foundation end to end in chromium: an RM files and submits a draft and finds it in the
list with its timeline; an SME owner sees only their own company's application."""

import re

import pytest
from playwright.sync_api import expect

from applications.models import LoanApplication, Status
from tests.browser.accessibility import assert_accessible
from tests.factories import CompanyFactory, make_applicant
from tests.lifecycle import file_draft, prepare_materials

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_rm_files_a_draft_submits_it_and_finds_it_in_the_list(
    page, live_server, login, staff, company, product, api
):
    login(page, staff["rm"])
    page.goto(f"{live_server.url}/applications/new/simple/")
    assert_accessible(page)
    page.select_option("select[name=company]", str(company.pk))
    page.select_option("select[name=product]", str(product.pk))
    page.fill("input[name=amount]", "600000")
    page.fill("input[name=term_months]", "12")
    page.fill("input[name=interest_rate]", "4.35")
    page.fill("textarea[name=purpose]", "Raw materials for the spring orders")
    page.click("form[action='/applications/new/simple/'] button[type=submit]")
    page.wait_for_url(re.compile(r"/applications/\d+/$"))
    application = LoanApplication.objects.get(company=company)
    assert application.status == Status.DRAFT

    # Whatever the product's checklist needs before submission (the intake stage's gate).
    prepare_materials(api, staff, application.pk)
    page.reload()
    assert_accessible(page)
    page.fill("#comment-submit", "All papers in")
    page.click("button[value=submit]")
    expect(page.locator("#status")).to_have_text("Submitted")
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED

    page.click("nav >> text=Applications")
    row = page.locator("tr", has_text=application.reference)
    expect(row).to_contain_text("Submitted")
    assert_accessible(page)
    row.locator("a").first.click()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Filed the application")
    expect(timeline).to_contain_text("Submit")
    expect(timeline).to_contain_text("All papers in")
    assert_accessible(page)


def test_an_owner_sees_only_their_own_application_in_the_portal(
    page, live_server, login, staff, company, branch, product, api
):
    mine = file_draft(api, staff, company, product)
    other_company = CompanyFactory(home_branch=branch, name="Somebody Else Ltd")
    theirs = file_draft(api, staff, other_company, product)
    owner = make_applicant(company, username="olivia_owner")
    login(page, owner, portal=True)
    expect(page).to_have_url(re.compile(r"/portal/$"))
    references = {pk: LoanApplication.objects.get(pk=pk).reference for pk in (mine, theirs)}
    body = page.locator("main")
    expect(body).to_contain_text(references[mine])
    expect(body).not_to_contain_text(references[theirs])
    page.click(f"text={references[mine]}")
    expect(page.locator("#status-text")).to_contain_text("relationship manager")
    assert_accessible(page)
    response = page.goto(f"{live_server.url}/portal/applications/{theirs}/")
    assert response.status == 404
