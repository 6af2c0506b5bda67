"""A partial prepayment shortens the term or lowers the instalment, as the borrower chose:
the instalments already paid stay, one instalment on the value date takes the principal
prepaid and the interest to that date, and the rest of the principal is drawn again from the
value date, with no instalment of nothing. The schedule before is kept as a version."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from postloan.models import Loan, Prepayment, ScheduleRevision
from tests.postloan.conftest import TODAY
from tests.postloan.prepayment_helpers import (
    cents,
    pay_instalments_due_by,
    product_with,
    schedule_of,
    scheduled_loan,
)

pytestmark = pytest.mark.django_db
D = Decimal


def _month(day):
    return day.year * 12 + day.month


def _prepay(api, staff, loan, kind, principal, value_date=TODAY):
    filed = api(staff["rm"]).post(
        reverse("api-postloan-prepayments", args=[loan.application_id]),
        {"kind": kind, "value_date": value_date.isoformat(), "principal": principal},
        format="json",
    )
    assert filed.status_code == 201, filed.data
    confirmed = api(staff["checker"]).post(
        reverse("api-postloan-prepayment-confirm", args=[filed.data["id"]]),
        {"comment": "Money received"},
        format="json",
    )
    assert confirmed.status_code == 200, confirmed.data
    return confirmed.data


def _loan(staff, company, method="equal_instalments", days=100):
    loan = scheduled_loan(
        company=company,
        rm=staff["rm"],
        checker=staff["checker"],
        product=product_with(),
        method=method,
        start=TODAY - timedelta(days=days),
    )
    pay_instalments_due_by(loan, TODAY, recorded_by=staff["rm"])
    return loan


@pytest.mark.parametrize("method", ["equal_instalments", "equal_principal"])
def test_shorter_term_and_lower_instalment_rebuild_the_rest_of_the_schedule(
    api, staff, company, rules, method
):
    results = {}
    for kind in ("shorten_term", "lower_instalment"):
        loan = _loan(staff, company, method)
        before = schedule_of(loan)
        kept = [i for i in before if i.due_date <= TODAY]
        later = [i for i in before if i.due_date > TODAY]
        outstanding = D("120000.00") - sum((i.principal for i in kept), D("0"))
        data = _prepay(api, staff, loan, kind, "30000.00")
        after = schedule_of(loan)
        # The paid instalments are as they were.
        assert [(i.number, i.due_date, i.total) for i in after[: len(kept)]] == [
            (i.number, i.due_date, i.total) for i in kept
        ]
        prepaid_row, *rest = after[len(kept) :]
        assert prepaid_row.due_date == TODAY
        assert prepaid_row.principal == D("30000.00")
        assert prepaid_row.interest == D(data["interest"])
        # The principal prepaid bears 6% from the last due date to today (actual days over
        # 360); the rest bears a whole month's in the first rebuilt instalment (30/360).
        days = (TODAY - kept[-1].due_date).days
        assert prepaid_row.interest == cents(D("30000.00") * 6 * days / 36000)
        remaining = outstanding - D("30000.00")
        assert rest[0].interest == cents(remaining * 6 / 1200)
        assert rest[0].due_date.day == later[0].due_date.day
        # The rest of the principal, and all of it, over instalments of something.
        assert sum((i.principal for i in rest), D("0")) == outstanding - D("30000.00")
        assert sum((i.principal for i in after), D("0")) == D("120000.00")
        assert all(i.total > 0 and i.principal >= 0 for i in rest)
        assert [i.number for i in after] == list(range(1, len(after) + 1))
        assert all(i.due_date > TODAY for i in rest)
        loan.refresh_from_db()
        assert loan.outstanding_principal == outstanding - D("30000.00")
        assert loan.days_past_due == 0 and loan.status == "active"
        assert loan.paid_instalments == len(kept) + 1
        revision = ScheduleRevision.objects.get(loan=loan)
        assert revision.number == 1
        assert [row["total"] for row in revision.instalments] == [str(i.total) for i in before]
        assert AuditEvent.objects.filter(
            action="prepayment_confirm", subject_id=data["id"]
        ).exists()
        results[kind] = (later, rest)
    old_later, shorter = results["shorten_term"]
    _old, lower = results["lower_instalment"]
    # Lower instalment: the same maturity, smaller instalments.
    assert _month(lower[-1].due_date) == _month(old_later[-1].due_date)
    if method == "equal_instalments":
        assert lower[1].total < old_later[1].total
        assert max(i.total for i in shorter[:-1]) <= old_later[1].total
    else:
        assert lower[1].principal < old_later[1].principal
        assert max(i.principal for i in shorter[:-1]) <= old_later[1].principal
    # Shorter term: fewer instalments, ending earlier.
    assert len(shorter) < len(old_later)
    assert shorter[-1].due_date < old_later[-1].due_date


def test_a_second_prepayment_keeps_both_earlier_schedules(api, staff, company, rules):
    loan = _loan(staff, company)
    first = schedule_of(loan)
    _prepay(api, staff, loan, "lower_instalment", "10000.00")
    second = schedule_of(loan)
    _prepay(api, staff, loan, "shorten_term", "10000.00")
    versions = list(ScheduleRevision.objects.filter(loan=loan).order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert len(versions[0].instalments) == len(first)
    assert [row["due_date"] for row in versions[1].instalments] == [
        i.due_date.isoformat() for i in second
    ]
    loan = Loan.objects.get(pk=loan.pk)
    kept = sum((i.principal for i in first if i.due_date <= TODAY), D("0"))
    assert loan.outstanding_principal == D("120000.00") - kept - D("20000.00")


def test_an_interest_only_loan_may_lower_the_instalment_but_not_shorten_the_term(
    api, staff, company, rules
):
    loan = _loan(staff, company, "interest_only_bullet")
    response = api(staff["rm"]).post(
        reverse("api-postloan-prepayments", args=[loan.application_id]),
        {"kind": "shorten_term", "value_date": TODAY.isoformat(), "principal": "20000.00"},
        format="json",
    )
    assert response.status_code == 400 and "kind" in response.data
    _prepay(api, staff, loan, "lower_instalment", "20000.00")
    rest = [i for i in schedule_of(loan) if i.due_date > TODAY]
    assert sum((i.principal for i in rest), D("0")) == D("100000.00")
    assert all(i.principal == 0 for i in rest[:-1]) and rest[-1].principal == D("100000.00")
    assert Prepayment.objects.get(loan=loan).status == "confirmed"
