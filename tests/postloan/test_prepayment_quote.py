"""A payoff quote for a date, recomputed from the loan's parameters: outstanding principal,
interest due and accrued to the date at the contract rate by the product's day count, and
the product's prepayment fee."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from disbursement.models import Instalment
from tests.postloan.conftest import TODAY
from tests.postloan.prepayment_helpers import (
    cents,
    pay_instalments_due_by,
    product_with,
    scheduled_loan,
)

pytestmark = pytest.mark.django_db
D = Decimal


def _quote(api, user, loan, **params):
    return api(user).get(
        reverse("api-postloan-payoff-quote", args=[loan.application_id]),
        {k: str(v) for k, v in params.items()},
    )


def _independent_quote(
    *, amount, paid_principal, instalments, value_date, start, rate, basis, fee_rate
):
    """From the schedule's rows alone: the last due date on or before the value date, the
    principal of the rows after it, actual days over the year's basis."""
    due = [i for i in instalments if i.due_date <= value_date]
    later = [i for i in instalments if i.due_date > value_date]
    accrued_from = max((i.due_date for i in due), default=start)
    balance = sum((i.principal for i in later), D("0"))
    days = (value_date - accrued_from).days
    accrued = cents(balance * rate * days / (100 * basis))
    principal = amount - paid_principal
    fee = cents(principal * fee_rate / 100)
    return principal, accrued, fee


@pytest.mark.parametrize(
    ("day_count", "basis", "method"),
    [
        ("thirty_360", 360, "equal_instalments"),
        ("actual_360", 360, "equal_principal"),
        ("actual_365", 365, "equal_principal"),
    ],
)
def test_the_quote_is_principal_interest_to_the_date_and_the_fee(
    api, staff, company, rules, day_count, basis, method
):
    start = TODAY - timedelta(days=100)
    product = product_with(day_count=day_count, fee_rate="1.500")
    loan = scheduled_loan(
        company=company,
        rm=staff["rm"],
        checker=staff["checker"],
        product=product,
        amount="120000.00",
        rate="6.000",
        method=method,
        start=start,
    )
    paid = pay_instalments_due_by(loan, TODAY, recorded_by=staff["rm"])
    instalments = list(Instalment.objects.filter(application=loan.application))
    for value_date in (TODAY, TODAY + timedelta(days=7)):
        principal, accrued, fee = _independent_quote(
            amount=D("120000.00"),
            paid_principal=paid,
            instalments=instalments,
            value_date=value_date,
            start=start,
            rate=D("6.000"),
            basis=basis,
            fee_rate=D("1.500"),
        )
        response = _quote(api, staff["rm"], loan, value_date=value_date.isoformat())
        assert response.status_code == 200, response.data
        data = response.data
        assert D(data["principal"]) == principal
        assert D(data["interest_accrued"]) == accrued > 0
        assert D(data["interest_due"]) == 0
        assert D(data["interest"]) == accrued
        assert D(data["fee"]) == fee
        assert D(data["total"]) == principal + accrued + fee
        assert data["day_count"] == day_count


def test_instalments_already_due_and_unpaid_are_in_the_quote(api, staff, company, rules):
    start = TODAY - timedelta(days=75)
    loan = scheduled_loan(
        company=company,
        rm=staff["rm"],
        checker=staff["checker"],
        product=product_with(),
        method="equal_principal",
        start=start,
    )
    instalments = list(Instalment.objects.filter(application=loan.application))
    due = [i for i in instalments if i.due_date <= TODAY]
    assert len(due) == 2
    data = _quote(api, staff["rm"], loan).data
    # Nothing paid: all the principal, the unpaid interest of the two instalments due and
    # 30/360's actual days over 360 since the second due date on the principal after it.
    principal, accrued, _fee = _independent_quote(
        amount=D("120000.00"),
        paid_principal=D("0"),
        instalments=instalments,
        value_date=TODAY,
        start=start,
        rate=D("6.000"),
        basis=360,
        fee_rate=D("0"),
    )
    assert D(data["principal"]) == principal == D("120000.00")
    assert D(data["interest_due"]) == sum((i.interest for i in due), D("0"))
    assert D(data["interest_accrued"]) == accrued
    assert D(data["fee"]) == 0
    assert D(data["total"]) == principal + D(data["interest_due"]) + accrued


def test_a_partial_quote_charges_the_fee_on_the_principal_prepaid(api, staff, company, rules):
    loan = scheduled_loan(
        company=company,
        rm=staff["rm"],
        checker=staff["checker"],
        product=product_with(fee_rate="2"),
        start=TODAY - timedelta(days=40),
    )
    pay_instalments_due_by(loan, TODAY, recorded_by=staff["rm"])
    data = _quote(api, staff["rm"], loan, kind="lower_instalment", principal="30000.00").data
    assert D(data["principal"]) == D("30000.00")
    assert D(data["fee"]) == D("600.00")
    assert D(data["total"]) == D("30600.00") + D(data["interest"])
    assert data["kinds_allowed"] == ["full", "shorten_term", "lower_instalment"]
    chinese = api(staff["rm"]).get(
        reverse("api-postloan-payoff-quote", args=[loan.application_id]),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert chinese.data["note"] == "任一工作日均可提前还款。"


def test_a_quote_for_a_partial_prepayment_of_everything_is_refused(api, staff, company, rules):
    loan = scheduled_loan(
        company=company,
        rm=staff["rm"],
        checker=staff["checker"],
        product=product_with(),
        start=TODAY - timedelta(days=10),
    )
    response = api(staff["rm"]).get(
        reverse("api-postloan-payoff-quote", args=[loan.application_id]),
        {"kind": "shorten_term", "principal": "120000.00"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "prepay in full" in response.data["principal"][0]
    assert _quote(api, staff["rm"], loan, kind="shorten_term").status_code == 400


def test_the_owner_sees_a_quote_on_the_portal_and_not_for_another_company(
    api, staff, company, rules, owner, branch
):
    from tests.factories import CompanyFactory

    loan = scheduled_loan(
        company=company,
        rm=staff["rm"],
        checker=staff["checker"],
        product=product_with(),
        start=TODAY - timedelta(days=10),
    )
    other = scheduled_loan(
        company=CompanyFactory(home_branch=branch),
        rm=staff["rm"],
        checker=staff["checker"],
        product=product_with(),
        start=TODAY - timedelta(days=10),
    )
    response = api(owner).get(reverse("api-portal-payoff-quote", args=[loan.application_id]))
    assert response.status_code == 200
    assert D(response.data["principal"]) == D("120000.00")
    staff_view = _quote(api, staff["rm"], loan).data
    assert response.data["total"] == staff_view["total"]
    assert (
        api(owner).get(reverse("api-portal-payoff-quote", args=[other.application_id])).status_code
        == 404
    )
    assert _quote(api, owner, loan).status_code == 403
