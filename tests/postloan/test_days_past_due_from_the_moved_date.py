"""Days past due count from the due date as moved off a non-working day: an instalment due on
17 February 2026, in the Spring Festival, is due on the 24th and not overdue that day."""

from datetime import date
from decimal import Decimal

import pytest

from disbursement import services
from disbursement.models import Instalment
from postloan.daily import daily_run
from postloan.models import Loan
from postloan.selectors import loan_position_for
from sla.models import CalendarDay
from tests.factories import ApplicationFactory, make_signed_contracts

pytestmark = pytest.mark.django_db


@pytest.fixture
def loan(staff, company, branch):
    for day in (16, 17, 18, 19, 20, 23):
        CalendarDay.objects.create(region=branch.region, date=date(2026, 2, day), kind="holiday")
    application = ApplicationFactory(
        company=company,
        status="contract_signed",
        filed_by=staff["rm"],
        amount=Decimal("120000.00"),
        interest_rate=Decimal("6.000"),
        term_months=3,
        repayment_method="equal_principal",
    )
    make_signed_contracts(application, prepared_by=staff["rm"], bank_signer=staff["head"])
    services.disbursement_record(
        application_id=application.pk,
        actor=staff["disburser"],
        account_number="6222020200112233",
        amount=application.amount,
        value_date=date(2026, 1, 17),
    )
    services.disbursement_confirm(application_id=application.pk, actor=staff["checker"])
    return Loan.objects.get(application=application)


def _days_past_due(loan, as_of) -> int:
    daily_run(as_of=as_of, loan_ids=[loan.pk])
    loan.refresh_from_db()
    return loan.days_past_due


def test_the_first_instalment_is_stored_on_the_moved_date(loan):
    first = Instalment.objects.get(application=loan.application, number=1)
    assert first.due_date == date(2026, 2, 24)


def test_an_instalment_moved_past_the_spring_festival_is_not_overdue_on_its_moved_date(loan):
    assert _days_past_due(loan, date(2026, 2, 24)) == 0
    assert _days_past_due(loan, date(2026, 2, 25)) == 1
    assert _days_past_due(loan, date(2026, 3, 3)) == 7


def test_the_loans_page_counts_the_same_days_as_the_daily_job(loan):
    on_the_day = loan_position_for(loan=loan, as_of=date(2026, 2, 24))
    assert on_the_day.days_past_due == 0
    assert on_the_day.instalments[0].status == "due"
    after = loan_position_for(loan=loan, as_of=date(2026, 2, 25))
    assert after.days_past_due == 1
    assert after.instalments[0].status == "overdue"
