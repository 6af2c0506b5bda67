"""A customer's exposure counts the undrawn part of its open facilities; what is drawn counts
once, as the loan's outstanding principal (drawn + undrawn = the limit)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from facilities.models import Facility
from postloan.selectors import exposure_after
from tests import lifecycle
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db


def _new_application(company, product, staff):
    return ApplicationFactory(
        company=company,
        product=product,
        amount=Decimal("500000.00"),
        status="investigation",
        filed_by=staff["rm"],
    )


def test_the_exposure_after_an_application_includes_the_undrawn_facility(
    staff, company, product, make_facility
):
    make_facility(amount="1000000.00")
    application = _new_application(company, product, staff)

    exposure = exposure_after(application=application)

    assert exposure.customer == Decimal("1500000.00")
    assert exposure.group == Decimal("1500000.00")


def test_a_disbursed_drawdown_does_not_count_twice(api, staff, company, product, make_facility):
    facility = make_facility(amount="1000000.00")
    response = api(staff["rm"]).post(
        reverse("api-facility-drawdowns", args=[facility.pk]),
        {"amount": "300000.00", "term_months": 6},
        format="json",
    )
    pk = response.data["application"]
    lifecycle.sign_contract(api, staff, pk)
    lifecycle.disburse(api, staff, pk)
    application = _new_application(company, product, staff)

    exposure = exposure_after(application=application)

    # 300,000 outstanding on the drawdown loan + 700,000 undrawn + 500,000 asked.
    assert exposure.customer == Decimal("1500000.00")


def test_closed_and_expired_facilities_no_longer_count(staff, company, product, make_facility):
    make_facility(amount="1000000.00", status=Facility.Status.CLOSED)
    make_facility(amount="2000000.00", status=Facility.Status.EXPIRED)
    frozen = make_facility(amount="400000.00", status=Facility.Status.FROZEN)
    application = _new_application(company, product, staff)

    exposure = exposure_after(application=application)

    assert exposure.customer == Decimal("500000.00") + frozen.amount
