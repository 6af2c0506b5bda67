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


# --- Rechecked at confirmation; the maker corrects it -----------------------------------------


def _weeks_later(monkeypatch, days=21):
    """The calendar moves on while the payout waits for its checker."""
    later = TODAY + timedelta(days=days)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: later)
    return later


def _confirm(api, user, application):
    return api(user).post(
        reverse("api-disbursement-confirm", args=[application.pk]), {}, format="json"
    )


def _correct(api, user, application, value_date, comment="Paid out today, not on the 1st."):
    return api(user).post(
        reverse("api-disbursement-value-date", args=[application.pk]),
        {"value_date": value_date.isoformat(), "comment": comment},
        format="json",
    )


def test_a_payout_whose_value_date_left_the_window_while_it_waited_is_refused_at_confirmation(
    api, staff, signed, monkeypatch
):
    assert _record(api, staff, signed, TODAY).status_code == 201
    later = _weeks_later(monkeypatch)
    response = _confirm(api, staff["checker"], signed)
    assert response.status_code == 409, response.data
    assert response.data["code"] == "value_date_outside_window"
    earliest = (later - timedelta(days=15)).isoformat()
    assert TODAY.isoformat() in response.data["detail"]
    assert f"the earliest accepted is {earliest}" in response.data["detail"]
    assert Disbursement.objects.get(application=signed).status == "recorded"
    signed.refresh_from_db()
    assert signed.status == "contract_signed"
    assert not signed.instalments.exists()


def test_the_maker_corrects_the_value_date_audited_and_the_checker_then_confirms(
    api, staff, signed, branch, monkeypatch
):
    from audit.models import AuditEvent
    from org.roles import Role
    from tests.factories import make_staff

    assert _record(api, staff, signed, TODAY).status_code == 201
    later = _weeks_later(monkeypatch)
    # Not the checker, nor another officer: the one who recorded the payout.
    assert _correct(api, staff["checker"], signed, later).status_code == 403
    other = make_staff(Role.DISBURSEMENT_OFFICER, branch, username="olga_officer")
    response = _correct(api, other, signed, later)
    assert response.status_code == 403 and response.data["code"] == "not_maker"
    # Inside today's window, and said why.
    response = _correct(api, staff["disburser"], signed, later - timedelta(days=16))
    assert response.status_code == 400 and "value_date" in response.data
    response = _correct(api, staff["disburser"], signed, later, comment=" ")
    assert response.status_code == 400 and "comment" in response.data
    assert Disbursement.objects.get(application=signed).value_date == TODAY

    response = _correct(api, staff["disburser"], signed, later)
    assert response.status_code == 200, response.data
    event = AuditEvent.objects.get(action="disbursement_value_date_corrected")
    assert event.data == {"from": TODAY.isoformat(), "to": later.isoformat()}
    assert event.actor == staff["disburser"] and event.comment == "Paid out today, not on the 1st."

    response = _confirm(api, staff["checker"], signed)
    assert response.status_code == 200, response.data
    first = signed.instalments.order_by("number").first()
    assert first.due_date > later
    # Confirmed: nothing to correct any more.
    response = _correct(api, staff["disburser"], signed, later - timedelta(days=1))
    assert response.status_code == 409 and response.data["code"] == "already_confirmed"


def test_the_page_says_why_it_waits_and_offers_the_maker_the_correction(
    api, staff, signed, monkeypatch
):
    assert _record(api, staff, signed, TODAY).status_code == 201
    _weeks_later(monkeypatch)
    maker, checker = Client(), Client()
    maker.force_login(staff["disburser"])
    checker.force_login(staff["checker"])
    page = checker.get(f"/disbursement/{signed.pk}/").content.decode()
    assert 'id="value-date-outside"' in page and 'id="value-date-form"' not in page
    page = maker.get(f"/disbursement/{signed.pk}/").content.decode()
    assert 'id="value-date-outside"' in page and 'id="value-date-form"' in page
