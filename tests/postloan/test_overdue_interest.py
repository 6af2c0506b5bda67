"""Overdue interest (罚息): the nightly job accrues it day by day on the overdue principal at
the contract rate plus the product's surcharge, recomputed here independently; a rerun adds
nothing; staff and the owner see it."""

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.urls import reverse

from postloan.daily import daily_run
from postloan.models import Loan, OverdueInterestAccrual, Repayment, ServicingTerms
from tests.postloan.conftest import TODAY

pytestmark = pytest.mark.django_db
D = Decimal
DUE = TODAY - timedelta(days=12)


def _cents(value):
    return value.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def _loan(make_loan, *, surcharge="50", compound=False, day_count=None):
    loan = make_loan(
        [
            (DUE, D("10000.00"), D("450.00")),
            (TODAY + timedelta(days=18), D("10000.00"), D("150.00")),
        ],
        start=DUE - timedelta(days=30),
    )
    application = loan.application
    ServicingTerms.objects.create(
        product=application.product,
        overdue_surcharge_rate=D(surcharge),
        compound_overdue_interest=compound,
    )
    if day_count:
        application.product_snapshot = {**application.product_snapshot, "day_count": day_count}
        application.save(update_fields=["product_snapshot"])
    return loan


def _run_nights(loan, first, last):
    for day in range((last - first).days + 1):
        daily_run(loan_ids=[loan.pk], as_of=first + timedelta(days=day))


@pytest.mark.parametrize(
    ("surcharge", "compound", "day_count", "basis"),
    [
        ("50", False, None, 360),
        ("30", True, None, 360),
        ("50", False, "actual_365", 365),
    ],
)
def test_overdue_interest_accrues_daily_on_the_overdue_principal(
    make_loan, surcharge, compound, day_count, basis
):
    loan = _loan(make_loan, surcharge=surcharge, compound=compound, day_count=day_count)
    rate = loan.application.interest_rate  # the contract rate, 4.35 by the factory
    # Nights from the due date on: the night after day d accrues day d, and the first day
    # overdue is the day after the due date.
    _run_nights(loan, DUE, TODAY)
    base = D("10000.00") + (D("450.00") if compound else D("0"))
    per_day = _cents(base * rate * (100 + D(surcharge)) / D(100) / D(100) / basis)
    days = (TODAY - DUE).days - 1
    rows = list(OverdueInterestAccrual.objects.filter(loan=loan).order_by("accrued_on"))
    assert [row.accrued_on for row in rows] == [DUE + timedelta(days=n) for n in range(1, days + 1)]
    assert all(row.amount == per_day > 0 for row in rows)
    assert all(row.overdue_principal == D("10000.00") for row in rows)
    assert rows[0].annual_rate == rate * (100 + D(surcharge)) / 100
    loan.refresh_from_db()
    assert loan.overdue_interest == per_day * days
    assert loan.overdue_interest_unpaid == per_day * days
    # Running the night again changes nothing.
    assert daily_run(loan_ids=[loan.pk], as_of=TODAY)["overdue_interest_accrued"] == 0
    assert OverdueInterestAccrual.objects.filter(loan=loan).count() == days
    assert Loan.objects.get(pk=loan.pk).overdue_interest == per_day * days


def test_a_product_without_servicing_terms_charges_no_overdue_interest(make_loan):
    loan = make_loan([(DUE, D("10000.00"), D("450.00"))], start=DUE - timedelta(days=30))
    _run_nights(loan, DUE, TODAY)
    assert not OverdueInterestAccrual.objects.filter(loan=loan).exists()
    loan.refresh_from_db()
    assert loan.days_past_due == 12 and loan.overdue_interest == 0


def test_paying_the_instalment_and_the_overdue_interest_stops_the_accrual(api, staff, make_loan):
    loan = _loan(make_loan)
    _run_nights(loan, DUE, TODAY)
    loan.refresh_from_db()
    owed = loan.overdue_interest_unpaid
    assert owed > 0
    # The instalment alone leaves it overdue: the overdue interest is paid first.
    paid = api(staff["rm"]).post(
        reverse("api-postloan-repayments", args=[loan.application_id]),
        {"amount": "10450.00", "value_date": TODAY.isoformat()},
        format="json",
    )
    assert paid.status_code == 201, paid.data
    assert paid.data["loan"]["overdue_interest_unpaid"] == "0.00"
    assert paid.data["loan"]["days_past_due"] == 12
    assert D(paid.data["instalments"][0]["paid"]) == D("10450.00") - owed
    Repayment.objects.create(
        loan=loan, amount=owed, currency="CNY", value_date=TODAY, recorded_by=staff["rm"]
    )
    daily_run(loan_ids=[loan.pk], as_of=TODAY + timedelta(days=1))
    loan.refresh_from_db()
    assert loan.days_past_due == 0
    # Today (paid off by its end) accrues nothing.
    assert not OverdueInterestAccrual.objects.filter(loan=loan, accrued_on=TODAY).exists()


def test_staff_and_the_owner_see_the_overdue_interest(api, staff, make_loan, owner, client):
    loan = _loan(make_loan)
    _run_nights(loan, DUE, TODAY)
    loan.refresh_from_db()
    staff_view = api(staff["rm"]).get(reverse("api-postloan-loan", args=[loan.application_id]))
    assert staff_view.data["loan"]["overdue_interest"] == str(loan.overdue_interest)
    owner_view = api(owner).get(reverse("api-portal-application", args=[loan.application_id]))
    assert owner_view.status_code == 200
    assert owner_view.data["loan"]["overdue_interest"] == str(loan.overdue_interest_unpaid)
    quote = api(owner).get(reverse("api-portal-payoff-quote", args=[loan.application_id]))
    assert quote.data["overdue_interest"] == str(loan.overdue_interest_unpaid)
    client.force_login(owner)
    page = client.get(reverse("portal-application", args=[loan.application_id]))
    assert page.status_code == 200
    assert f"{loan.overdue_interest_unpaid:,.2f}" in page.content.decode()
