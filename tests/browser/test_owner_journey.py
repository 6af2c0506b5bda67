"""Issue 27's "Done when": an SME owner's whole journey on the portal, in a real browser.

A new owner signs up, binds their company, checks eligibility, applies, accepts the offer
with the code sent to them, sees the loan's repayment status, receives one due-date reminder
however often the nightly job runs, writes to the bank and reads its reply, and answers the
survey. Charlie, the owner of another company, is turned away (404) from every page and API
address of the journey's application: once in the middle, and all of them at the end.

The owner's steps go through the browser. The bank's part in the middle (materials review,
investigation, approval, disbursement) and the relationship manager's reply go through the
same API and services the staff pages call (tests/lifecycle.py), to keep the test fast; each
has its own browser test.
"""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from applications.models import LoanApplication
from customers.uscc import with_check_character
from disbursement.models import Instalment, Offer
from disbursement.services import offer_render
from intake.models import PrescreenRule
from loanflow.celery import app as celery_app
from messaging.services import message_post
from notifications.models import EmailDelivery, Notification
from postloan.daily import daily_job_run
from postloan.models import Loan, RepaymentReminder
from tests import lifecycle
from tests.browser.accessibility import assert_accessible
from tests.factories import make_applicant, make_resident_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
EMAIL = "wei.lan@example.cn"
PASSWORD = "Jade-River-2026"
COMPANY = "Hangzhou Jade River Textiles Co., Ltd."


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _on(base: str, path: str, fragment: str):
    """For page.wait_for_url: the page at `path`, scrolled to its #fragment."""
    return f"{base}{path}#{fragment}"


def _code() -> str:
    """The six-digit code of the last e-mail sent."""
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


def _unreachable_for(charlie, pages: set[str], posts: set[str]) -> dict[str, int]:
    """What another company's owner gets at each address: {address: status} of those that
    are not 404 (an empty dict when nothing is reachable)."""
    client = Client()
    client.force_login(charlie)
    reached = {}
    for url in sorted(pages):
        status = client.get(url).status_code
        if status != 404:
            reached[f"GET {url}"] = status
    for url in sorted(posts):
        status = client.post(url, {"body": "Hello", "stage": "decision", "score": "5"}).status_code
        if status != 404:
            reached[f"POST {url}"] = status
    return reached


def _disburse_today(api, staff, pk: int) -> None:
    """lifecycle.disburse, with today's value date: the schedule starts now, so nothing of
    the new loan is overdue when the owner looks."""
    lifecycle.sign_contracts(api, staff, pk)
    maker, checker = api(staff["disburser"]), api(staff["checker"])
    for condition in maker.get(reverse("api-disbursement-conditions", args=[pk])).data:
        if not condition["satisfied"]:
            satisfied = maker.post(
                reverse("api-disbursement-condition-satisfy", args=[pk, condition["id"]]),
                {},
                format="json",
            )
            assert satisfied.status_code == 200, satisfied.data
    recorded = maker.post(
        reverse("api-disbursement-record", args=[pk]),
        {
            "account_number": "6222020200112233",
            "amount": str(LoanApplication.objects.get(pk=pk).amount),
            "value_date": timezone.localdate().isoformat(),
        },
        format="json",
    )
    assert recorded.status_code == 201, recorded.data
    confirmed = checker.post(reverse("api-disbursement-confirm", args=[pk]), {}, format="json")
    assert confirmed.status_code == 200, confirmed.data


def _nightly_job(as_of) -> None:
    """The nightly job: the function the beat task, `manage.py postloan_daily` and the
    "Run the daily job now" API all run, with the e-mail worker's task run in-line."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        daily_job_run(as_of=as_of)
    finally:
        celery_app.conf.task_always_eager = eager


def test_a_new_owner_goes_from_sign_up_to_a_loan_and_nothing_of_another_company_is_reachable(
    browser, live_server, api, staff, branch, company, product
):
    charlie = make_applicant(company, username="charlie_owner")  # another company's owner
    PrescreenRule.objects.create(
        name="Two years", kind="min_years_in_business", min_years=2, description="Two years"
    )
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    base = live_server.url
    pages: set[str] = set()  # the journey's application's addresses the owner visited
    posts: set[str] = set()  # and those the owner's forms posted to

    # --- Sign up with the code e-mailed, and bind the company -------------------------------
    page.goto(f"{base}/portal/sign-up/")
    page.fill("input[name=address]", EMAIL)
    page.click("form[action$='sign-up/'] button[type=submit]")
    page.wait_for_url(f"{base}/portal/sign-up/verify/")
    assert_accessible(page)
    page.fill("input[name=code]", _code())
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("form[action$='verify/'] button[type=submit]")
    page.wait_for_url(f"{base}/portal/companies/")
    assert_accessible(page)
    credit_code = with_check_character("91330106MA2H7JR30")
    page.fill("input[name=credit_code]", credit_code)
    page.fill("input[name=company_name]", COMPANY)
    page.fill("input[name=legal_representative]", "Wei Lan")
    page.fill("input[name=legal_representative_id]", make_resident_id(31))
    page.fill("input[name=registration_date]", "2018-04-09")
    page.select_option("select[name=home_branch]", str(branch.pk))
    page.click("form[action$='companies/'] button[type=submit]")
    page.wait_for_url(f"{base}/portal/")
    assert f"You now act for {COMPANY}." in page.content()
    assert_accessible(page)

    # --- Check eligibility, then apply ------------------------------------------------------
    page.goto(f"{base}/portal/eligibility/?product={product.code}")
    assert_accessible(page)
    assert page.input_value("input[name=registration_date]") == "2018-04-09"
    page.fill("input[name=industry_code]", "C17")
    page.fill("input[name=amount]", "600000")
    page.fill("input[name=term_months]", "12")
    page.click("form[action$='eligibility/'] button[type=submit]")
    result = page.locator("#eligibility-result")
    assert "You meet every criterion of this loan." in result.inner_text()
    assert result.locator("li.not-met").count() == 0
    assert_accessible(page)
    assert not LoanApplication.objects.exists()  # checking made no application

    result.get_by_role("link", name="Apply online").click()
    page.wait_for_url(f"{base}/portal/apply/?product={product.code}")
    assert_accessible(page)
    page.fill("input[name=amount]", "600000")
    page.fill("input[name=term_months]", "12")
    page.get_by_role("button", name="Start the application").click()
    page.wait_for_url(re.compile(r"/portal/apply/\d+/$"))
    application = LoanApplication.objects.get()
    pk = application.pk
    assert application.company.name == COMPANY and application.channel == "online"
    pages |= {page.url.removeprefix(base), f"/api/v1/portal/applications/{pk}/"}
    page.click("button[name=submit]")
    assert page.inner_text("#status") == "Submitted"
    assert_accessible(page)

    # Charlie, midway: nothing of this application is his to see.
    assert _unreachable_for(charlie, pages, posts) == {}

    # --- The bank takes it through: materials, investigation, approval ----------------------
    lifecycle.prepare_materials(api, staff, pk)
    lifecycle.start_investigation(api, staff, pk)
    lifecycle.send_to_approval(api, staff, pk)
    lifecycle.approve(api, staff, pk)
    offer_render(offer_id=Offer.objects.get(application_id=pk).pk)  # the worker's task

    # --- Accept the offer, knowingly, with the code -----------------------------------------
    application_url = f"/portal/applications/{pk}/"
    pages |= {
        application_url,
        f"/api/v1/portal/applications/{pk}/offer/pdf/",
        f"/api/v1/portal/applications/{pk}/messages/",
        f"/api/v1/portal/applications/{pk}/survey/",
    }
    page.goto(f"{base}{application_url}")
    panel = page.locator("#offer-panel")
    assert panel.is_visible()
    assert_accessible(page)
    page.click("#offer-code button[type=submit]")
    page.wait_for_url(_on(base, application_url, "offer-panel"))
    assert "We sent a code to" in page.content()
    page.check("#id_read_confirmed")
    page.fill("#id_otp", _code())
    page.click("#accept-offer button[type=submit]")
    page.locator("#contract-signed").wait_for()
    assert_accessible(page)
    posts |= {
        f"{application_url}offer/code/",
        f"{application_url}offer/accept/",
    }
    offer = Offer.objects.get(application_id=pk)
    assert offer.accepted_by.username == EMAIL
    assert LoanApplication.objects.get(pk=pk).status == "contract_signed"

    # --- Disbursed: the loan's repayment status --------------------------------------------
    _disburse_today(api, staff, pk)
    loan = Loan.objects.get(application_id=pk)
    first = Instalment.objects.filter(application_id=pk).order_by("number").first()
    page.goto(f"{base}{application_url}")
    assert page.locator("#loan").is_visible()
    assert "0 of 12 instalments" in page.inner_text("#loan-paid")
    assert f"due on {first.due_date.isoformat()}" in page.inner_text("#loan-next")
    assert page.inner_text("#loan-overdue-amount") == "Nothing is overdue."
    assert "600,000.00" in page.inner_text("#loan-outstanding")
    assert page.locator("#loan-overdue").count() == 0
    assert _fits(page)
    assert_accessible(page)
    pages.add(f"/api/v1/portal/applications/{pk}/schedule/pdf/")

    # --- Two days before the first due date, the nightly job runs twice --------------------
    mail.outbox.clear()
    night = first.due_date - timedelta(days=2)
    _nightly_job(night)
    _nightly_job(night)
    assert list(RepaymentReminder.objects.filter(loan=loan).values_list("kind", flat=True)) == [
        "before_due"
    ]
    owner = offer.accepted_by
    reminders = Notification.objects.filter(user=owner, kind="repayment")
    assert [n.title for n in reminders] == [f"Repayment due on {first.due_date.isoformat()}"]
    assert EmailDelivery.objects.filter(notification__kind="repayment").count() == 1
    reminder_mails = [m for m in mail.outbox if "Repayment due on" in m.subject]
    assert [m.to for m in reminder_mails] == [[EMAIL]]
    page.goto(f"{base}/notifications/")
    assert f"Repayment due on {first.due_date.isoformat()}" in page.content()
    assert_accessible(page)
    page.get_by_role("link", name=f"Repayment due on {first.due_date.isoformat()}").click()
    page.wait_for_url(f"{base}{application_url}")

    # --- A message to the bank, and the relationship manager's reply ------------------------
    page.fill("#message-body", "Can the first instalment be paid from our second account?")
    page.click("form[action$='messages/'] button[type=submit]")
    page.wait_for_url(_on(base, application_url, "messages"))
    assert "Your message was sent." in page.content()
    posts.add(f"{application_url}messages/")
    rm = LoanApplication.objects.get(pk=pk).relationship_manager
    assert Notification.objects.filter(user=rm, kind="message").exists()
    message_post(
        actor=rm,
        application_id=pk,
        body="Yes: any account in the company's name, as long as it arrives by the due date.",
    )
    page.reload()
    thread = page.locator("#thread")
    assert "any account in the company's name" in thread.inner_text()
    assert thread.locator(".message-bank .badge").count() == 1  # new to the owner
    assert Notification.objects.filter(user=owner, kind="message").count() == 1
    assert_accessible(page)

    # --- The survey, answered once -----------------------------------------------------------
    survey = page.locator("#survey form:has(input[name=stage][value=disbursement])")
    survey.locator("input[name=score][value='5']").check()
    survey.locator("textarea[name=comment]").fill("Quick and clear.")
    survey.locator("button[type=submit]").click()
    page.wait_for_url(_on(base, application_url, "survey"))
    assert "Thank you for your answer." in page.content()
    assert page.locator("#survey form:has(input[name=stage][value=disbursement])").count() == 0
    assert_accessible(page)
    posts.add(f"{application_url}survey/")
    again = api(owner).post(
        reverse("api-portal-survey", args=[pk]), {"stage": "disbursement", "score": 4}
    )
    assert again.status_code == 409, again.data

    # --- Charlie, at the end: every address of the journey is a 404 -------------------------
    # (while the owner reaches every one of them: the addresses are real)
    own = Client()
    own.force_login(owner)
    assert {url: own.get(url).status_code for url in pages} == dict.fromkeys(pages, 200)
    assert _unreachable_for(charlie, pages, posts) == {}
    other = Client()
    other.force_login(charlie)
    assert COMPANY not in other.get("/portal/companies/").content.decode()
    assert COMPANY not in other.get("/notifications/").content.decode()
    chose = other.post("/portal/companies/choose/", {"company": application.company_id})
    assert chose.status_code == 404
    context.close()
