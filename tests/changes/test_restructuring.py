"""Restructuring (重组): new rate, term, interest-only months and method; the principal still
owed of instalments due is capitalised into the new schedule; the interest past due is paid
first or capitalised too, by the product's rule; the loan is marked restructured, which sets
a classification floor and a monitoring period that the nightly job keeps (idempotent) and
that no upgrade goes below."""

from datetime import timedelta
from decimal import Decimal

from django.test import Client
from django.urls import reverse

from disbursement.models import Instalment
from disbursement.schedule import add_months
from postloan.daily import daily_run
from postloan.models import (
    CLASS_RANK,
    ChangeTerms,
    ClassificationChange,
    Loan,
    LoanChange,
    Repayment,
)
from tests.changes.conftest import TODAY, approved_change, file_change
from tests.conftest import api_for
from tests.postloan.prepayment_helpers import pay_instalments_due_by, product_with, scheduled_loan

D = Decimal


def _struggling_loan(staff, company):
    """Four months in, the last instalment due unpaid; its product capitalises the interest
    past due at a restructuring."""
    loan = scheduled_loan(
        company=company,
        rm=staff["rm"],
        checker=staff["checker"],
        product=product_with(),
        start=TODAY - timedelta(days=125),
    )
    ChangeTerms.objects.create(
        product=loan.application.product,
        restructuring_arrears=ChangeTerms.RestructuringArrears.CAPITALISE,
    )
    pay_instalments_due_by(loan, TODAY - timedelta(days=35), recorded_by=staff["checker"])
    loan.refresh_from_db()
    assert loan.days_past_due > 0
    return loan


def _four_days_behind(staff, company, *, arrears: str) -> Loan:
    """120,000.00 at 6% over 12 months (30/360: instalments of 10,327.97), the fourth
    instalment (principal 9,874.62, interest 453.35) due a few days ago and unpaid. The
    product charges overdue interest at the contract rate + 50%: one nightly run has
    accrued yesterday's, 9,874.62 x 9% / 360 = 2.47."""
    due = TODAY - timedelta(days=4)
    while due.day > 28:  # on a day every month has
        due -= timedelta(days=1)
    loan = scheduled_loan(
        company=company,
        rm=staff["rm"],
        checker=staff["checker"],
        product=product_with(fee_rate="0"),
        start=add_months(due, -4),
    )
    ChangeTerms.objects.create(product=loan.application.product, restructuring_arrears=arrears)
    pay_instalments_due_by(loan, due - timedelta(days=1), recorded_by=staff["checker"])
    loan.refresh_from_db()
    assert loan.outstanding_principal == D("90669.93")
    assert loan.overdue_interest_unpaid == D("2.47")
    return loan


def _restructure(staff, loan, expect: int = 200, **terms):
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
    assert r.status_code == expect, r.data
    return pk if expect == 200 else (pk, r.data)


def test_restructuring_draws_new_terms_and_capitalises_the_principal_owed(staff, company, rules):
    loan = _struggling_loan(staff, company)
    outstanding = loan.outstanding_principal
    pk = _restructure(staff, loan)
    interest = LoanChange.objects.get(application_id=pk).capitalised_interest
    assert interest > 0
    rows = list(Instalment.objects.filter(application=loan.application).order_by("number"))
    kept = [r for r in rows if r.due_date <= TODAY]
    new = [r for r in rows if r.due_date > TODAY]
    # Every principal still owed, and the interest past due, is in the new schedule, which
    # sums to it exactly.
    assert sum(r.principal for r in new) == outstanding + interest
    # The kept instalments keep only the principal paid of them: the schedule sums to the
    # loan's principal and the interest capitalised.
    assert sum(r.principal for r in rows) == D("120000.00") + interest
    # Three months of interest only, then equal principal.
    assert [r.principal for r in new[:3]] == [D("0.00")] * 3
    assert all(r.interest > 0 for r in new[:3])
    assert len({r.principal for r in new[3:-1]}) == 1
    assert len(new) == 12
    application = loan.application.__class__.objects.get(pk=loan.application_id)
    assert application.interest_rate == D("5.000")
    assert application.repayment_method == "equal_principal"
    loan = Loan.objects.get(pk=loan.pk)
    # The loan carries its new terms too (the book's yield and margin read them there).
    assert (loan.interest_rate, loan.term_months) == (
        application.interest_rate,
        application.term_months,
    )
    assert loan.restructured_on == TODAY
    assert CLASS_RANK[loan.classification] >= CLASS_RANK["special_mention"]
    assert loan.monitoring_until > TODAY + timedelta(days=170)
    # Nothing is left overdue.
    assert loan.outstanding_principal == outstanding + interest
    assert loan.days_past_due == 0
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


def test_a_product_that_has_interest_paid_first_refuses_the_restructuring_with_the_amount_due(
    staff, company, rules
):
    loan = _four_days_behind(staff, company, arrears="pay_first")
    pk, refused = _restructure(staff, loan, expect=409)
    # The fourth instalment's interest and the overdue interest accrued on its principal.
    assert refused["code"] == "interest_past_due"
    assert (refused["amount"], refused["interest"], refused["overdue_interest"]) == (
        "455.82",
        "453.35",
        "2.47",
    )
    assert "455.82" in refused["detail"]
    assert not Repayment.objects.filter(loan=loan, source="capitalised").exists()
    assert Loan.objects.get(pk=loan.pk).restructured_on is None
    # Paid, the restructuring is applied: only the principal past due is capitalised.
    Repayment.objects.create(
        loan=loan, amount=D("455.82"), currency="CNY", value_date=TODAY, recorded_by=staff["rm"]
    )
    r = api_for(staff["rm"]).post(
        reverse("api-postloan-change-apply", args=[pk]),
        {"agreement_reference": "RS-8"},
        format="json",
    )
    assert r.status_code == 200, r.data
    assert (
        r.data["capitalised_principal"],
        r.data["capitalised_interest"],
        r.data["capitalised_overdue_interest"],
    ) == ("9874.62", "0.00", "0.00")
    new = Instalment.objects.filter(application=loan.application, due_date__gt=TODAY)
    assert sum(row.principal for row in new) == D("90669.93")
    loan = Loan.objects.get(pk=loan.pk)
    assert (loan.days_past_due, loan.overdue_interest_unpaid) == (0, D("0.00"))
    assert loan.outstanding_principal == D("90669.93")


def test_with_two_instalments_behind_paying_first_asks_what_the_allocation_needs_to_clear_the_interest(
    staff, company, rules
):
    """The allocation pays the third instalment's principal before the fourth's interest, so
    the amount asked includes it; paid, nothing is past due and the restructuring applies."""
    due = TODAY - timedelta(days=4)
    while due.day > 28:
        due -= timedelta(days=1)
    loan = scheduled_loan(
        company=company,
        rm=staff["rm"],
        checker=staff["checker"],
        product=product_with(fee_rate="0"),
        start=add_months(due, -4),
    )
    ChangeTerms.objects.create(product=loan.application.product, restructuring_arrears="pay_first")
    pay_instalments_due_by(loan, add_months(due, -1) - timedelta(days=1), recorded_by=staff["rm"])
    third, fourth = Instalment.objects.filter(
        application=loan.application, number__in=(3, 4)
    ).order_by("number")
    overdue_interest = Loan.objects.get(pk=loan.pk).overdue_interest_unpaid
    assert overdue_interest > 0

    pk, refused = _restructure(staff, loan, expect=409)

    assert (refused["interest"], refused["principal"], refused["overdue_interest"]) == (
        str(third.interest + fourth.interest),
        str(third.principal),
        str(overdue_interest),
    )
    assert D(refused["amount"]) == overdue_interest + third.total + fourth.interest
    Repayment.objects.create(
        loan=loan,
        amount=D(refused["amount"]),
        currency="CNY",
        value_date=TODAY,
        recorded_by=staff["rm"],
    )
    r = api_for(staff["rm"]).post(
        reverse("api-postloan-change-apply", args=[pk]),
        {"agreement_reference": "RS-9"},
        format="json",
    )
    assert r.status_code == 200, r.data
    assert (r.data["capitalised_principal"], r.data["capitalised_interest"]) == (
        str(fourth.principal),
        "0.00",
    )
    loan = Loan.objects.get(pk=loan.pk)
    assert (loan.days_past_due, loan.overdue_interest_unpaid) == (0, D("0.00"))


def test_a_product_that_capitalises_makes_the_past_due_interest_principal_of_the_new_schedule(
    staff, company, rules, owner
):
    loan = _four_days_behind(staff, company, arrears="capitalise")
    pk = _restructure(staff, loan)
    change = LoanChange.objects.get(application_id=pk)
    assert (
        change.capitalised_principal,
        change.capitalised_interest,
        change.capitalised_overdue_interest,
    ) == (D("9874.62"), D("453.35"), D("2.47"))
    # The new schedule draws the principal owed and the interest past due: 90,669.93 +
    # 453.35 + 2.47.
    rows = Instalment.objects.filter(application=loan.application).order_by("number")
    assert sum(row.principal for row in rows if row.due_date > TODAY) == D("91125.75")
    # The interest is settled by the capitalisation, no money moving, by the one allocation
    # rule: the loan is no longer past due, on principal, interest or overdue interest.
    settled = Repayment.objects.get(loan=loan, source="capitalised")
    assert (settled.amount, settled.value_date) == (D("455.82"), TODAY)
    loan = Loan.objects.get(pk=loan.pk)
    assert (loan.days_past_due, loan.overdue_interest_unpaid) == (0, D("0.00"))
    assert loan.outstanding_principal == D("91125.75")
    # A second nightly run accrues nothing more.
    daily_run(loan_ids=[loan.pk])
    assert Loan.objects.get(pk=loan.pk).overdue_interest_unpaid == D("0.00")
    # The change's history says what became principal.
    page = Client()
    page.force_login(staff["rm"])
    html = page.get(reverse("application-detail", args=[loan.application_id])).content.decode()
    assert "453.35" in html and "2.47" in html and "9,874.62" in html
    html = page.get(reverse("application-detail", args=[pk])).content.decode()
    assert 'id="change-capitalised"' in html
    # The owner's repayments are the money they paid: the capitalisation is not one.
    portal = Client()
    portal.force_login(owner)
    html = portal.get(reverse("portal-application", args=[loan.application_id])).content.decode()
    # The loan card's changes say what became principal.
    changes = html.split('id="loan-changes"', 1)[1].split("</ul>", 1)[0]
    assert "453.35" in changes and "2.47" in changes
    repayments = html.split('id="repayments"', 1)[1].split("</table>", 1)[0]
    assert "455.82" not in repayments and "10,327.97" in repayments
