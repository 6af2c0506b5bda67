"""A risk officer works through the post-loan queue: completes an overdue inspection and
triages an early-warning alert (acknowledge, action plan, close)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from disbursement.models import Instalment
from postloan import demo
from postloan.daily import daily_run
from postloan.models import Alert, InspectionTask
from postloan.services import loan_open
from tests.browser.accessibility import assert_accessible
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.browser


def _loan(staff, company, *, overdue_days: int, amount: str):
    today = timezone.localdate()
    application = ApplicationFactory(
        company=company,
        status="disbursed",
        amount=Decimal(amount),
        filed_by=staff["rm"],
        disbursed_at=timezone.now(),
    )
    loan = loan_open(
        application=application, data={"value_date": (today - timedelta(days=120)).isoformat()}
    )
    Instalment.objects.create(
        application=application,
        number=1,
        due_date=today - timedelta(days=overdue_days),
        principal=Decimal(amount),
        interest=Decimal("0.00"),
        total=Decimal(amount),
        currency="CNY",
    )
    return loan


@pytest.mark.django_db(transaction=True)
def test_a_risk_officer_works_through_overdue_tasks_and_an_alert(
    page, live_server, login, staff, company
):
    demo.seed()
    worst = _loan(staff, company, overdue_days=45, amount="300000.00")
    other = _loan(staff, company, overdue_days=0, amount="900000.00")
    InspectionTask.objects.filter(loan=other).update(
        due_date=timezone.localdate() - timedelta(days=2)
    )
    daily_run()
    alert = Alert.objects.get(loan=worst, rule__code="dpd-30")

    login(page, staff["risk"])
    page.goto(f"{live_server.url}/postloan/")
    rows = page.locator("#overdue-tasks tbody tr")
    assert rows.count() == 2
    # Worst first: the inspection overdue longest comes first.
    assert worst.application.reference in rows.nth(0).inner_text()
    assert page.locator("#npl-ratio").is_visible()
    assert_accessible(page)

    rows.nth(0).locator("a").click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.fill("textarea[name=q_use_of_funds]", "Part of the loan paid an old supplier debt")
    page.fill("#findings", "Funds partly diverted; stock down by half")
    page.select_option("#outcome", "negative")
    page.click("button[type=submit].btn")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/postloan/")
    assert page.locator("#overdue-tasks tbody tr").count() == 1
    assert_accessible(page)
    task = InspectionTask.objects.get(loan=worst, kind="first_use_of_funds")
    assert task.status == "done" and task.completed_by == staff["risk"]
    # The negative finding raised its own alert.
    assert Alert.objects.filter(loan=worst, rule__code="negative-finding").exists()

    page.goto(f"{live_server.url}/postloan/alerts/{alert.pk}/")
    assert_accessible(page)
    page.click("#acknowledge")
    page.wait_for_load_state("networkidle")
    assert "Acknowledged" in page.locator("#alert-status").inner_text()
    page.fill("#action_plan", "Call the owner; demand a repayment plan within 7 days")
    page.click("#save-plan")
    page.wait_for_load_state("networkidle")
    assert "repayment plan" in page.locator("#action-plan").inner_text()
    assert_accessible(page)
    page.fill("#close-comment", "Owner agreed a plan; monitored monthly")
    page.click("#close-alert")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/postloan/")
    alert.refresh_from_db()
    assert alert.status == "closed" and alert.closed_by == staff["risk"]
    assert alert.action_plan.startswith("Call the owner")
