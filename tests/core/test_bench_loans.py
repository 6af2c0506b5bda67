"""The benchmark's loan loader (bench.stages.load_loans) writes loans the nightly job reads as
the real services would have left them: overdue interest on the products that charge it, and
restructured loans as postloan.changes.change_apply leaves them."""

from decimal import Decimal

import pytest
from django.utils import timezone

from applications.models import ChangeKind, Status
from bench import stages
from bench.load import Bank, load_core
from bench.measures import daily_job_exercised
from disbursement.models import Instalment
from disbursement.schedule import add_months
from postloan.changes import change_terms_for
from postloan.daily import daily_run
from postloan.models import (
    CLASS_RANK,
    Loan,
    LoanChange,
    OverdueInterestAccrual,
    ScheduleRevision,
)

pytestmark = pytest.mark.django_db

FIGURES = ("scheduled_total", "paid_total", "outstanding_principal", "paid_instalments")


@pytest.fixture
def bank(monkeypatch):
    # Every loan that can have been restructured is, so that the smallest bank has some.
    monkeypatch.setattr(stages, "RESTRUCTURED_SHARE", 0.5)
    bank = Bank(scale=0.0002)
    load_core(bank)
    stages.load_loans(bank)
    return bank


def test_the_loaded_loans_figures_are_the_ones_the_nightly_job_computes(bank):
    loaded = {row["id"]: row for row in Loan.objects.values("id", *FIGURES)}
    assert bank.timings["restructured_loans"] > 0

    daily_run()

    after = {row["id"]: row for row in Loan.objects.values("id", *FIGURES)}
    assert after == loaded
    assert Instalment.objects.count() == bank.timings["instalments"]


def test_every_loaded_loan_carries_its_applications_customer_and_terms(bank):
    loans = Loan.objects.values_list(
        "company_id",
        "interest_rate",
        "term_months",
        "application__company_id",
        "application__interest_rate",
        "application__term_months",
    )
    assert loans.count() > 0
    assert all(row[:3] == row[3:] for row in loans)


def test_restructured_loans_are_written_as_an_applied_restructuring_leaves_them(bank):
    restructured = Loan.objects.filter(restructured_on__isnull=False).select_related(
        "application__product"
    )
    assert restructured.count() == bank.timings["restructured_loans"]
    for loan in restructured:
        terms = change_terms_for(loan.application.product)
        assert loan.restructured_floor == terms.restructured_floor
        assert loan.monitoring_until == add_months(loan.restructured_on, terms.monitoring_months)
        change = LoanChange.objects.get(loan=loan)
        assert change.applied_on == loan.restructured_on
        assert change.application.change_of_id == loan.application_id
        assert change.application.change_kind == ChangeKind.RESTRUCTURING
        assert change.application.status == Status.CHANGE_APPLIED
        revision = ScheduleRevision.objects.get(loan=loan)
        assert revision.change_id == change.application_id
        # The schedule replaced is kept whole; the new one runs past today.
        assert [i["number"] for i in revision.instalments] == list(
            range(1, len(revision.instalments) + 1)
        )
        last = Instalment.objects.filter(application_id=loan.application_id).latest("number")
        assert last.due_date > timezone.localdate()
        assert loan.outstanding_principal > 0


def test_the_nightly_job_holds_monitored_restructured_loans_at_their_floor(bank):
    daily_run()

    today = timezone.localdate()
    monitored = Loan.objects.filter(monitoring_until__gte=today)
    assert monitored.exists()
    for loan in monitored:
        assert CLASS_RANK[loan.classification] >= CLASS_RANK[loan.restructured_floor]
    exercised = daily_job_exercised()
    assert exercised["restructured"] == bank.timings["restructured_loans"]
    assert exercised["held_by_floor"] > 0


def test_loans_behind_on_a_product_that_charges_it_accrue_overdue_interest(bank):
    daily_run()

    accrued = OverdueInterestAccrual.objects.select_related("loan__application__product")
    assert accrued.exists()
    assert {a.loan.application.product.code for a in accrued} <= {"SME-WC", "SME-EQ"}
    assert all(a.amount > Decimal("0") for a in accrued)
    # A second run the same day adds nothing.
    again = daily_run()
    assert again["overdue_interest_accrued"] == 0
    assert again["positions_updated"] == 0
