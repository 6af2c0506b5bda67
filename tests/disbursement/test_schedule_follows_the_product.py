"""The offer's schedule and the one fixed at confirmation follow the product's conventions as
the application was filed under them, and the branch's business calendar."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from disbursement import services
from disbursement.models import Instalment, Offer
from sla.models import CalendarDay
from tests.factories import ApplicationFactory, ProductFactory, make_signed_contracts

pytestmark = pytest.mark.django_db

D = Decimal
SPRING_FESTIVAL_2026 = [date(2026, 2, day) for day in (16, 17, 18, 19, 20, 23)]


@pytest.fixture
def spring_festival(branch):
    for day in SPRING_FESTIVAL_2026:
        CalendarDay.objects.create(region=branch.region, date=day, kind="holiday")


@pytest.fixture
def working_capital():
    return ProductFactory(
        code="SME-WC-360",
        repayment_day=20,
        day_count="actual_360",
        business_day_convention="following",
    )


def _disburse(application, staff, value_date):
    make_signed_contracts(application, prepared_by=staff["rm"], bank_signer=staff["head"])
    services.disbursement_record(
        application_id=application.pk,
        actor=staff["disburser"],
        account_number="6222020200112233",
        amount=application.amount,
        value_date=value_date,
    )
    services.disbursement_confirm(application_id=application.pk, actor=staff["checker"])
    return list(Instalment.objects.filter(application=application).order_by("number"))


def test_the_fixed_schedule_falls_on_the_repayment_day_and_moves_off_the_holiday(
    staff, company, working_capital, spring_festival
):
    application = ApplicationFactory(
        company=company,
        product=working_capital,
        status="contract_signed",
        filed_by=staff["rm"],
        amount=D("500000.00"),
        interest_rate=D("4.350"),
        term_months=3,
        repayment_method="interest_only_bullet",
    )
    instalments = _disburse(application, staff, date(2026, 1, 5))
    # 20 February is in the Spring Festival: due on Tuesday the 24th. Interest runs to the
    # 20th all the same: 46 days from 5 January, then 28 and 31 days, at 4.35% / 360.
    assert [i.due_date for i in instalments] == [
        date(2026, 2, 24),
        date(2026, 3, 20),
        date(2026, 4, 20),
    ]
    assert [i.interest for i in instalments] == [D("2779.17"), D("1691.67"), D("1872.92")]
    assert instalments[-1].principal == D("500000.00")


def test_a_later_change_of_the_product_does_not_change_a_filed_applications_schedule(
    staff, company, working_capital
):
    application = ApplicationFactory(
        company=company,
        product=working_capital,
        status="contract_signed",
        filed_by=staff["rm"],
        amount=D("120000.00"),
        interest_rate=D("6.000"),
        term_months=12,
        repayment_method="equal_principal",
    )
    working_capital.repayment_day = None
    working_capital.day_count = "thirty_360"
    working_capital.save()
    instalments = _disburse(application, staff, date(2026, 3, 5))
    assert {i.due_date.day for i in instalments} <= {20, 21, 22}  # the 20th, or moved on
    assert instalments[0].interest == D("920.00")  # 46 days at 6% / 360 on 120,000


def test_the_offer_shows_the_schedule_the_product_draws(staff, company, branch):
    product = ProductFactory(code="SME-Q", repayment_day=20, business_day_convention="none")
    application = ApplicationFactory(
        company=company,
        product=product,
        status="approved",
        filed_by=staff["rm"],
        amount=D("1000000.00"),
        interest_rate=D("3.650"),
        term_months=12,
        repayment_method="quarterly_interest_bullet",
    )
    offer = services.offer_create(application=application)
    offer = Offer.objects.get(pk=offer.pk)
    due = [date.fromisoformat(row["due_date"]) for row in offer.schedule]
    assert all(day.day == 20 for day in due)
    assert all(day.month in (3, 6, 9, 12) for day in due[:-1])
    assert offer.schedule[-1]["principal"] == "1000000.00"


def test_the_product_catalogue_publishes_how_its_schedules_are_drawn(working_capital):
    response = APIClient().get(reverse("api-product", args=[working_capital.code]))
    assert response.status_code == 200, response.data
    assert response.data["business_day_convention"] == "following"
    assert response.data["day_count"] == "actual_360"
    assert response.data["repayment_day"] == 20
