"""A payout's value date more than the configured days in the past or the future is refused,
with a message on the field (a loan value-dated years back was 981 days past due, classified
损失, the day it was confirmed)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from disbursement.models import Disbursement
from tests.factories import ApplicationFactory, make_signed_contracts

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _window(settings):
    settings.LOANFLOW_VALUE_DATE_MAX_PAST_DAYS = 15
    settings.LOANFLOW_VALUE_DATE_MAX_FUTURE_DAYS = 30


@pytest.fixture
def signed(staff, company):
    application = ApplicationFactory(
        company=company,
        status="contract_signed",
        filed_by=staff["rm"],
        amount=Decimal("120000.00"),
        language="en",
    )
    make_signed_contracts(application, prepared_by=staff["rm"], bank_signer=staff["head"])
    return application


def _record(api, staff, application, value_date):
    return api(staff["disburser"]).post(
        reverse("api-disbursement-record", args=[application.pk]),
        {
            "account_number": "6222020200112233",
            "amount": "120000.00",
            "value_date": value_date.isoformat(),
        },
        format="json",
    )


def test_a_value_date_years_in_the_past_is_refused_with_the_earliest_date_accepted(
    api, staff, signed
):
    response = _record(api, staff, signed, TODAY - timedelta(days=981))
    assert response.status_code == 400, response.data
    earliest = (TODAY - timedelta(days=15)).isoformat()
    assert response.data["value_date"] == [
        f"The value date is too far in the past: the earliest accepted is {earliest}."
    ]
    assert not Disbursement.objects.filter(application=signed).exists()


def test_a_value_date_too_far_ahead_is_refused(api, staff, signed):
    response = _record(api, staff, signed, TODAY + timedelta(days=31))
    assert response.status_code == 400, response.data
    latest = (TODAY + timedelta(days=30)).isoformat()
    assert response.data["value_date"] == [
        f"The value date is too far ahead: the latest accepted is {latest}."
    ]


@pytest.mark.parametrize("days", [-15, 0, 30])
def test_value_dates_inside_the_window_are_recorded(api, staff, signed, days):
    response = _record(api, staff, signed, TODAY + timedelta(days=days))
    assert response.status_code == 201, response.data
    assert Disbursement.objects.get(application=signed).value_date == TODAY + timedelta(days=days)


def test_the_window_is_the_banks_setting(api, staff, signed, settings):
    settings.LOANFLOW_VALUE_DATE_MAX_PAST_DAYS = 0
    assert _record(api, staff, signed, TODAY - timedelta(days=1)).status_code == 400
    assert _record(api, staff, signed, TODAY).status_code == 201


def test_the_staff_page_refuses_it_with_the_message_and_offers_only_the_window(staff, signed):
    client = Client()
    client.force_login(staff["disburser"])
    response = client.post(
        f"/disbursement/{signed.pk}/record/",
        {
            "account_number": "6222",
            "amount": "120,000.00",
            "value_date": (TODAY - timedelta(days=400)).isoformat(),
        },
    )
    assert response.status_code == 400
    assert "The value date is too far in the past" in response.content.decode()
    page = client.get(f"/disbursement/{signed.pk}/").content.decode()
    assert f'min="{(TODAY - timedelta(days=15)).isoformat()}"' in page
    assert f'max="{(TODAY + timedelta(days=30)).isoformat()}"' in page


def test_the_refusal_is_in_chinese_for_a_chinese_reader(api, staff, signed):
    # The request activates Chinese in this thread; the override puts the language back after.
    with translation.override("en"):
        response = api(staff["disburser"]).post(
            reverse("api-disbursement-record", args=[signed.pk]),
            {
                "account_number": "6222020200112233",
                "amount": "120000.00",
                "value_date": (TODAY - timedelta(days=981)).isoformat(),
            },
            format="json",
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
    assert response.status_code == 400
    earliest = (TODAY - timedelta(days=15)).isoformat()
    assert response.data["value_date"] == [f"起息日过早：最早可为 {earliest}。"]
