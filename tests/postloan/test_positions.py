"""Schedules plus repayments give the right balances and days past due (API and daily job)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from postloan.daily import daily_run
from tests.postloan.conftest import TODAY

pytestmark = pytest.mark.django_db

D = Decimal


def _dues():
    # Three instalments of 1,100 (1,000 principal + 100 interest), due 40, 10 and -20 days.
    return [
        (TODAY - timedelta(days=40), D("1000.00"), D("100.00")),
        (TODAY - timedelta(days=10), D("1000.00"), D("100.00")),
        (TODAY + timedelta(days=20), D("1000.00"), D("100.00")),
    ]


def _pay(api, staff, loan, amount, ext=None, when=None):
    return api(staff["rm"]).post(
        reverse("api-postloan-repayments", args=[loan.application_id]),
        {"amount": amount, "value_date": (when or TODAY).isoformat(), "external_id": ext or ""},
        format="json",
    )


def test_with_nothing_paid_days_past_due_count_from_the_oldest_due_instalment(make_loan):
    loan = make_loan(_dues())
    daily_run(loan_ids=[loan.pk])
    loan.refresh_from_db()
    assert loan.days_past_due == 40
    assert loan.paid_instalments == 0
    assert loan.outstanding_total == D("3300.00")
    assert loan.outstanding_principal == D("3000.00")


def test_a_partial_payment_leaves_the_oldest_instalment_overdue(api, staff, make_loan):
    loan = make_loan(_dues())
    response = _pay(api, staff, loan, "600.00")
    assert response.status_code == 201, response.data
    loan.refresh_from_db()
    assert loan.days_past_due == 40
    assert loan.paid_instalments == 0
    # Interest first within an instalment: 100 interest, then 500 principal.
    assert loan.outstanding_principal == D("2500.00")
    rows = response.data["instalments"]
    assert [r["status"] for r in rows] == ["overdue", "overdue", "due"]
    assert rows[0]["paid"] == "600.00"


def test_paying_the_oldest_in_full_moves_the_clock_to_the_next_one(api, staff, make_loan):
    loan = make_loan(_dues())
    assert _pay(api, staff, loan, "600.00").status_code == 201
    assert _pay(api, staff, loan, "500.00").status_code == 201
    loan.refresh_from_db()
    assert loan.paid_instalments == 1
    assert loan.days_past_due == 10
    assert loan.oldest_unpaid_due == TODAY - timedelta(days=10)


def test_an_early_payment_covers_the_next_instalment_and_leaves_no_arrears(api, staff, make_loan):
    loan = make_loan(_dues())
    assert _pay(api, staff, loan, "2200.00").status_code == 201
    loan.refresh_from_db()
    assert loan.days_past_due == 0
    # Early: part of the instalment not yet due.
    assert _pay(api, staff, loan, "300.00").status_code == 201
    loan.refresh_from_db()
    assert loan.days_past_due == 0
    assert loan.paid_instalments == 2
    assert loan.outstanding_total == D("800.00")
    assert loan.outstanding_principal == D("800.00")


def test_an_instalment_due_today_is_not_yet_overdue(make_loan):
    loan = make_loan([(TODAY, D("1000.00"), D("0.00"))])
    daily_run(loan_ids=[loan.pk])
    loan.refresh_from_db()
    assert loan.days_past_due == 0
    daily_run(loan_ids=[loan.pk], as_of=TODAY + timedelta(days=1))
    loan.refresh_from_db()
    assert loan.days_past_due == 1


def test_a_repayment_above_the_outstanding_amount_is_refused(api, staff, make_loan):
    loan = make_loan(_dues())
    response = _pay(api, staff, loan, "3300.01")
    assert response.status_code == 400
    assert not loan.repayments.exists()


def test_a_future_value_date_and_a_duplicate_core_banking_id_are_refused(api, staff, make_loan):
    loan = make_loan(_dues())
    assert _pay(api, staff, loan, "10.00", when=TODAY + timedelta(days=1)).status_code == 400
    assert _pay(api, staff, loan, "10.00", ext="CB-1").status_code == 201
    assert _pay(api, staff, loan, "10.00", ext="CB-1").status_code == 409
    assert loan.repayments.count() == 1


def test_an_applicant_or_another_branch_cannot_record_repayments(
    api, staff, make_loan, owner, other_branch
):
    from org.roles import Role
    from tests.factories import make_staff

    loan = make_loan(_dues())
    stranger = make_staff(Role.RELATIONSHIP_MANAGER, other_branch, username="mallory_rm")
    url = reverse("api-postloan-repayments", args=[loan.application_id])
    payload = {"amount": "10.00", "value_date": TODAY.isoformat()}
    assert api(stranger).post(url, payload, format="json").status_code == 404
    assert api(owner).post(url, payload, format="json").status_code == 403
    assert not loan.repayments.exists()


def _allocated(dues, repaid, overdue_interest=None):
    """An independent reading of the rule: pay the overdue interest accrued first, then walk
    the instalments oldest first, paying interest before principal."""
    overdue_interest = overdue_interest or D("0")
    rows, left = [], repaid - min(repaid, overdue_interest)
    for due_date, principal, interest in dues:
        to_interest = min(interest, left)
        left -= to_interest
        to_principal = min(principal, left)
        left -= to_principal
        rows.append((due_date, principal, interest, to_interest + to_principal, to_principal))
    return rows


def test_the_page_the_month_end_and_the_nightly_job_read_one_allocation(api, staff, make_loan):
    from analytics.models import LoanMonthEnd
    from analytics.services import loan_month_ends_record, month_end_of
    from postloan.models import Repayment
    from postloan.selectors import loan_position_for

    dues = [
        (TODAY - timedelta(days=95), D("1000.00"), D("130.00")),
        (TODAY - timedelta(days=65), D("1000.00"), D("120.00")),
        (TODAY - timedelta(days=35), D("1000.00"), D("110.00")),
        (TODAY + timedelta(days=25), D("1000.00"), D("100.00")),
    ]
    loan = make_loan(dues, start=TODAY - timedelta(days=125))
    month_end = month_end_of(TODAY - timedelta(days=70))
    # One repayment before that month end, one after it.
    early = Repayment.objects.create(
        loan=loan,
        amount=D("1200.00"),
        currency="CNY",
        value_date=month_end - timedelta(days=1),
        recorded_by=staff["rm"],
    )
    Repayment.objects.create(
        loan=loan, amount=D("700.00"), currency="CNY", value_date=TODAY, recorded_by=staff["rm"]
    )
    daily_run(loan_ids=[loan.pk])
    loan.refresh_from_db()
    position = loan_position_for(loan=loan, as_of=TODAY)

    expected = _allocated(dues, D("1900.00"))
    assert [row.paid for row in position.instalments] == [paid for *_x, paid, _p in expected]
    principal_left = sum(p for _d, p, _i in dues) - sum(p for *_x, p in expected)
    assert position.outstanding_principal == loan.outstanding_principal == principal_left
    oldest_unpaid = next(d for d, p, i, paid, _p in expected if paid < p + i)
    assert position.days_past_due == loan.days_past_due == (TODAY - oldest_unpaid).days
    assert [row.status for row in position.instalments] == ["paid", "overdue", "overdue", "due"]

    assert loan_month_ends_record(month_end=month_end) == 1
    at_month_end = LoanMonthEnd.objects.get(loan=loan, month_end=month_end)
    then = _allocated(dues, early.amount)
    assert at_month_end.outstanding_principal == sum(p for _d, p, _i in dues) - sum(
        p for *_x, p in then
    )
    oldest_then = next(d for d, p, i, paid, _p in then if paid < p + i)
    assert at_month_end.days_past_due == max(0, (month_end - oldest_then).days)


def test_repayments_pay_the_overdue_interest_before_the_instalments(api, staff, make_loan):
    from postloan.models import OverdueInterestAccrual, Repayment
    from postloan.selectors import loan_position_for

    dues = [
        (TODAY - timedelta(days=40), D("1000.00"), D("100.00")),
        (TODAY - timedelta(days=10), D("1000.00"), D("100.00")),
        (TODAY + timedelta(days=20), D("1000.00"), D("100.00")),
    ]
    loan = make_loan(dues)
    # Overdue interest the nightly job accrued on three days (one day after the business
    # date does not count yet).
    for days_ago, amount in ((3, "7.25"), (2, "7.25"), (1, "8.50"), (0, "9.00")):
        OverdueInterestAccrual.objects.create(
            loan=loan,
            accrued_on=TODAY - timedelta(days=days_ago),
            overdue_principal=D("2000.00"),
            overdue_interest=D("0.00"),
            annual_rate=D("6.525"),
            amount=D(amount),
        )
    charged = D("23.00")
    for repaid in (D("0.00"), D("20.00"), D("1150.00")):
        Repayment.objects.all().delete()
        if repaid:
            Repayment.objects.create(
                loan=loan, amount=repaid, currency="CNY", value_date=TODAY, recorded_by=staff["rm"]
            )
        daily_run(loan_ids=[loan.pk])
        loan.refresh_from_db()
        position = loan_position_for(loan=loan, as_of=TODAY)
        expected = _allocated(dues, repaid, charged)
        assert [row.paid for row in position.instalments] == [paid for *_x, paid, _p in expected]
        unpaid = charged - min(repaid, charged)
        assert position.overdue_interest_unpaid == loan.overdue_interest_unpaid == unpaid
        principal_left = sum(p for _d, p, _i in dues) - sum(p for *_x, p in expected)
        assert position.outstanding_principal == loan.outstanding_principal == principal_left
        assert loan.outstanding_total == D("3300.00") - (repaid - min(repaid, charged)) + unpaid


def test_a_repayment_never_pays_overdue_interest_that_accrued_after_it(api, staff, make_loan):
    from postloan.models import OverdueInterestAccrual, Repayment
    from postloan.selectors import loan_position_for

    dues = [
        (TODAY - timedelta(days=40), D("1000.00"), D("100.00")),
        (TODAY - timedelta(days=10), D("1000.00"), D("100.00")),
        (TODAY + timedelta(days=20), D("1000.00"), D("100.00")),
    ]
    loan = make_loan(dues)
    # The first instalment paid on its due date; the second is overdue and accrues.
    Repayment.objects.create(
        loan=loan,
        amount=D("1100.00"),
        currency="CNY",
        value_date=dues[0][0],
        recorded_by=staff["rm"],
    )
    for days_ago in (3, 2, 1):
        OverdueInterestAccrual.objects.create(
            loan=loan,
            accrued_on=TODAY - timedelta(days=days_ago),
            overdue_principal=D("1000.00"),
            overdue_interest=D("0.00"),
            annual_rate=D("6.525"),
            amount=D("5.00"),
        )
    daily_run(loan_ids=[loan.pk])
    loan.refresh_from_db()
    position = loan_position_for(loan=loan, as_of=TODAY)
    # The first instalment stays paid: the overdue interest is the second one's, still owed.
    assert [row.paid for row in position.instalments] == [D("1100.00"), D("0"), D("0")]
    assert position.overdue_interest_unpaid == loan.overdue_interest_unpaid == D("15.00")
    assert position.days_past_due == loan.days_past_due == 10

    # A later repayment pays the interest accrued before it first, then the instalment.
    Repayment.objects.create(
        loan=loan, amount=D("500.00"), currency="CNY", value_date=TODAY, recorded_by=staff["rm"]
    )
    daily_run(loan_ids=[loan.pk])
    loan.refresh_from_db()
    position = loan_position_for(loan=loan, as_of=TODAY)
    assert [row.paid for row in position.instalments] == [D("1100.00"), D("485.00"), D("0")]
    assert position.overdue_interest_unpaid == loan.overdue_interest_unpaid == D("0.00")
