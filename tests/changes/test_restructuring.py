"""Restructuring (重组): new rate, term, interest-only months and method; the principal still
owed of instalments due is capitalised into the new schedule; the loan is marked
restructured, which sets a classification floor and a monitoring period that the nightly
job keeps (idempotent) and that no upgrade goes below."""

from datetime import timedelta
from decimal import Decimal

from django.urls import reverse

from disbursement.models import Instalment
from postloan.daily import daily_run
from postloan.models import CLASS_RANK, ChangeTerms, ClassificationChange, Loan
from tests.changes.conftest import TODAY, approved_change, file_change
from tests.conftest import api_for
from tests.postloan.prepayment_helpers import pay_instalments_due_by, product_with, scheduled_loan

D = Decimal


def _struggling_loan(staff, company):
    """Four months in, the last instalment due unpaid."""
    loan = scheduled_loan(
        company=company,
        rm=staff["rm"],
        checker=staff["checker"],
        product=product_with(),
        start=TODAY - timedelta(days=125),
    )
    pay_instalments_due_by(loan, TODAY - timedelta(days=35), recorded_by=staff["checker"])
    loan.refresh_from_db()
    assert loan.days_past_due > 0
    return loan


def _restructure(staff, loan, **terms):
    pk = approved_change(
        staff,
        loan,
        kind="restructuring",
        interest_rate="5.000",
        term_months=12,
        grace_months=3,
        repayment_method="equal_principal",
        reason="Orders lost to a customer's bankruptcy",
        **terms,
    )
    r = api_for(staff["rm"]).post(
        reverse("api-postloan-change-apply", args=[pk]),
        {"agreement_reference": "RS-7"},
        format="json",
    )
    assert r.status_code == 200, r.data
    return pk


def test_restructuring_draws_new_terms_and_capitalises_the_principal_owed(staff, company, rules):
    loan = _struggling_loan(staff, company)
    outstanding = loan.outstanding_principal
    _restructure(staff, loan)
    rows = list(Instalment.objects.filter(application=loan.application).order_by("number"))
    kept = [r for r in rows if r.due_date <= TODAY]
    new = [r for r in rows if r.due_date > TODAY]
    # Every principal still owed is in the new schedule, which sums to it exactly.
    assert sum(r.principal for r in new) == outstanding
    # The kept instalments keep only the principal paid of them: the schedule still sums to
    # the loan's principal.
    assert sum(r.principal for r in rows) == D("120000.00")
    # Three months of interest only, then equal principal.
    assert [r.principal for r in new[:3]] == [D("0.00")] * 3
    assert all(r.interest > 0 for r in new[:3])
    assert len({r.principal for r in new[3:-1]}) == 1
    assert len(new) == 12
    application = loan.application.__class__.objects.get(pk=loan.application_id)
    assert application.interest_rate == D("5.000")
    assert application.repayment_method == "equal_principal"
    loan = Loan.objects.get(pk=loan.pk)
    assert loan.restructured_on == TODAY
    assert CLASS_RANK[loan.classification] >= CLASS_RANK["special_mention"]
    assert loan.monitoring_until > TODAY + timedelta(days=170)
    # The overdue principal is gone: what is left overdue is interest only.
    assert loan.outstanding_principal == outstanding
    assert kept and all(r.principal <= r.total for r in kept)


def test_the_nightly_floor_holds_and_is_idempotent(staff, loan):
    """A loan paid up to date (no days-past-due floor) restructured: only the floor of the
    restructuring holds it down."""
    ChangeTerms.objects.create(
        product=loan.application.product, restructured_floor="substandard", monitoring_months=3
    )
    _restructure(staff, loan)
    assert Loan.objects.get(pk=loan.pk).days_past_due == 0
    assert Loan.objects.get(pk=loan.pk).classification == "substandard"
    # Set back to normal behind the job's back: the nightly job restores the floor, once.
    Loan.objects.filter(pk=loan.pk).update(classification="normal")
    first = daily_run(loan_ids=[loan.pk])
    changes = ClassificationChange.objects.filter(loan=loan).count()
    assert Loan.objects.get(pk=loan.pk).classification == "substandard"
    assert first["classifications_raised"] == 1
    second = daily_run(loan_ids=[loan.pk])
    assert second["classifications_raised"] == 0
    assert ClassificationChange.objects.filter(loan=loan).count() == changes
    assert Loan.objects.get(pk=loan.pk).classification == "substandard"
    # Once the monitoring period is over the floor no longer holds.
    Loan.objects.filter(pk=loan.pk).update(
        classification="normal", monitoring_until=TODAY - timedelta(days=1)
    )
    daily_run(loan_ids=[loan.pk])
    assert Loan.objects.get(pk=loan.pk).classification == "normal"


def test_no_upgrade_below_the_floor_while_monitored(staff, company, rules):
    loan = _struggling_loan(staff, company)
    _restructure(staff, loan)
    # Pay what is due so the days past due do not hold the loan down themselves.
    pay_instalments_due_by(loan, TODAY, recorded_by=staff["checker"])
    assert Loan.objects.get(pk=loan.pk).days_past_due == 0
    r = api_for(staff["rm"]).post(
        reverse("api-postloan-classification-propose", args=[loan.application_id]),
        {"to_classification": "normal", "reason": "Paying again"},
        format="json",
    )
    assert r.status_code == 400, r.data
    assert "to_classification" in r.data and "restructured" in str(r.data["to_classification"])


def test_new_terms_outside_the_product_are_400_on_their_fields(staff, company, rules):
    loan = _struggling_loan(staff, company)
    data = file_change(
        staff,
        loan,
        expect=400,
        kind="restructuring",
        interest_rate="99.000",
        term_months=12,
        grace_months=12,
    )
    assert "interest_rate" in data and "grace_months" in data
