"""The owner asks for a prepayment on the portal: a quote for a date they may ask for, with the
schedule that would follow a partial one; the request goes to the loan's relationship manager
(notified), who files it as a prepayment (prefilled from it; a checker confirms it as any
other) or declines it with a reason; the owner sees where it stands and the new schedule.
Another company's owner reaches none of it (404)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from notifications.models import Notification
from postloan.models import OwnerRequest, Prepayment
from tests.factories import CompanyFactory, make_applicant
from tests.postloan.conftest import TODAY
from tests.postloan.prepayment_helpers import (
    pay_instalments_due_by,
    product_with,
    schedule_of,
    scheduled_loan,
)

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def loan(staff, company):
    """120,000.00 over 12 months, three months paid; partial prepayment lowers the
    instalment only, with a 1% fee."""
    made = scheduled_loan(
        company=company,
        rm=staff["rm"],
        checker=staff["checker"],
        product=product_with(fee_rate="1", allow_shorten_term=False),
        start=TODAY - timedelta(days=100),
    )
    pay_instalments_due_by(made, TODAY, recorded_by=staff["rm"])
    return made


def _quote(api, user, loan, **params):
    return api(user).get(
        reverse("api-portal-payoff-quote", args=[loan.application_id]),
        {"value_date": TODAY.isoformat(), **params},
    )


def _ask(api, user, loan, **payload):
    return api(user).post(
        reverse("api-portal-prepayment-requests", args=[loan.application_id]),
        {"value_date": TODAY.isoformat(), **payload},
        format="json",
    )


def _requests(api, user, loan):
    return api(user).get(reverse("api-portal-prepayment-requests", args=[loan.application_id]))


def test_the_owner_asks_the_rm_files_it_a_checker_confirms_and_the_owner_sees_the_new_schedule(
    api, staff, owner, loan
):
    quoted = _quote(api, owner, loan, kind="lower_instalment", principal="30000")
    assert quoted.status_code == 200, quoted.data
    assert D(quoted.data["principal"]) == D("30000.00")
    assert D(quoted.data["fee"]) == D("300.00")
    after = quoted.data["schedule_after"]
    assert after[0]["due_date"] == TODAY.isoformat()
    assert D(after[0]["principal"]) >= D("30000.00")
    before = [i for i in schedule_of(loan) if i.due_date > TODAY]
    # A lower instalment: as many months, less each.
    assert D(after[1]["total"]) < before[0].total
    assert after[-1]["due_date"] == before[-1].due_date.isoformat()

    asked = _ask(api, owner, loan, kind="lower_instalment", principal="30000", note="Sold stock.")
    assert asked.status_code == 201, asked.data
    assert asked.data["status"] == "open" and asked.data["can_withdraw"] is True
    request = OwnerRequest.objects.get(pk=asked.data["id"])
    assert request.asked_by == owner and request.principal == D("30000.00")
    heard = Notification.objects.get(user=staff["rm"], kind="awaiting_you")
    assert loan.application.reference in heard.title
    assert AuditEvent.objects.filter(action="owner_request_ask", actor=owner).exists()
    # One open request a loan.
    again = _ask(api, owner, loan, kind="full")
    assert again.status_code == 409 and again.data["code"] == "open_request"

    # The RM's page is filled in from the request.
    rm_page = Client()
    rm_page.force_login(staff["rm"])
    page = rm_page.get(reverse("application-detail", args=[loan.application_id])).content.decode()
    assert 'id="owner-request-open"' in page
    assert f'name="request_id" value="{request.pk}"' in page
    assert 'id="pl-quote-total"' in page

    filed = api(staff["rm"]).post(
        reverse("api-postloan-prepayments", args=[loan.application_id]),
        {
            "kind": "lower_instalment",
            "value_date": TODAY.isoformat(),
            "principal": "30000",
            "request_id": request.pk,
        },
        format="json",
    )
    assert filed.status_code == 201, filed.data
    request.refresh_from_db()
    assert request.status == "filed" and request.prepayment_id == filed.data["id"]
    assert _requests(api, owner, loan).data[0]["status"] == "requested"
    # Maker-checker as for any prepayment: the RM does not confirm it.
    confirm_url = reverse("api-postloan-prepayment-confirm", args=[filed.data["id"]])
    assert api(staff["rm"]).post(confirm_url, {}, format="json").status_code == 403
    confirmed = api(staff["checker"]).post(confirm_url, {}, format="json")
    assert confirmed.status_code == 200, confirmed.data

    rows = _requests(api, owner, loan).data
    assert rows[0]["status"] == "confirmed" and not rows[0]["can_withdraw"]
    portal = api(owner).get(reverse("api-portal-application", args=[loan.application_id]))
    schedule = portal.data["schedule"]["rows"]
    assert [(r["due_date"], D(r["total"])) for r in schedule if r["due_date"] >= str(TODAY)] == [
        (row["due_date"], D(row["total"])) for row in after
    ]


def test_what_the_owner_may_not_ask_is_refused_by_the_field_or_the_state(
    api, staff, owner, loan, settings
):
    settings.LOANFLOW_VALUE_DATE_MAX_FUTURE_DAYS = 30
    cases = [
        ({"kind": "shorten_term", "principal": "1000"}, 409, "kind_not_allowed"),
        ({"kind": "full", "value_date": (TODAY - timedelta(days=1)).isoformat()}, 400, None),
        ({"kind": "full", "value_date": (TODAY + timedelta(days=31)).isoformat()}, 400, None),
        ({"kind": "lower_instalment"}, 400, None),  # no principal
        ({"kind": "lower_instalment", "principal": "500000"}, 400, None),
    ]
    for payload, status_code, code in cases:
        response = _ask(api, owner, loan, **payload)
        assert response.status_code == status_code, (payload, response.data)
        if code:
            assert response.data["code"] == code
    assert not OwnerRequest.objects.exists()
    quoted = _quote(api, owner, loan, value_date=(TODAY - timedelta(days=1)).isoformat())
    assert quoted.status_code == 400 and "value_date" in quoted.data
    # Staff file prepayments; they do not ask for them.
    assert _ask(api, staff["rm"], loan, kind="full").status_code == 403


def test_another_companys_owner_reaches_none_of_it(api, owner, loan):
    stranger = make_applicant(CompanyFactory(), username="sam_stranger")
    assert _quote(api, stranger, loan).status_code == 404
    assert _requests(api, stranger, loan).status_code == 404
    assert _ask(api, stranger, loan, kind="full").status_code == 404
    asked = _ask(api, owner, loan, kind="full")
    withdraw = reverse(
        "api-portal-prepayment-withdraw", args=[loan.application_id, asked.data["id"]]
    )
    assert api(stranger).post(withdraw).status_code == 404
    assert OwnerRequest.objects.get().status == "open"


def test_the_rm_declines_with_a_reason_the_owner_reads_and_the_owner_may_withdraw(
    api, staff, owner, loan
):
    asked = _ask(api, owner, loan, kind="full")
    decline = reverse(
        "api-postloan-prepayment-request-decline", args=[loan.application_id, asked.data["id"]]
    )
    assert api(staff["rm"]).post(decline, {"comment": " "}, format="json").status_code == 400
    declined = api(staff["rm"]).post(
        decline, {"comment": "Prepayment is taken only after six months."}, format="json"
    )
    assert declined.status_code == 200, declined.data
    row = _requests(api, owner, loan).data[0]
    assert row["status"] == "declined"
    assert row["reason"] == "Prepayment is taken only after six months."
    assert Notification.objects.filter(user=owner, kind="decision").exists()
    assert api(staff["rm"]).post(decline, {"comment": "again"}, format="json").status_code == 409

    asked = _ask(api, owner, loan, kind="full")
    assert asked.status_code == 201, asked.data
    withdraw = reverse(
        "api-portal-prepayment-withdraw", args=[loan.application_id, asked.data["id"]]
    )
    response = api(owner).post(withdraw)
    assert response.status_code == 200 and response.data["status"] == "withdrawn"
    assert api(owner).post(withdraw).status_code == 409
    assert not Prepayment.objects.exists()


def test_the_portal_page_quotes_shows_the_schedule_after_and_takes_the_request(client, owner, loan):
    client.force_login(owner)
    url = reverse("portal-application", args=[loan.application_id])
    page = client.get(
        url,
        {
            "prepay_date": TODAY.isoformat(),
            "prepay_kind": "lower_instalment",
            "prepay_principal": "30000",
        },
    ).content.decode()
    assert 'id="prepay-quote"' in page and 'id="prepay-schedule-after"' in page
    assert 'id="prepay-ask-form"' in page
    # The product does not shorten the term: not offered.
    assert 'value="shorten_term"' not in page
    for typed in ("NaN", "1e999", "abc"):
        refused = client.get(
            url,
            {"prepay_date": TODAY.isoformat(), "prepay_kind": "full", "prepay_principal": typed},
        )
        assert refused.status_code == 200 and 'id="prepay-problem"' in refused.content.decode()
        asked = client.post(
            reverse("portal-prepayment-request", args=[loan.application_id]),
            {"kind": "lower_instalment", "value_date": TODAY.isoformat(), "principal": typed},
        )
        assert asked.status_code == 302
    assert not OwnerRequest.objects.exists()
    response = client.post(
        reverse("portal-prepayment-request", args=[loan.application_id]),
        {
            "kind": "lower_instalment",
            "value_date": TODAY.isoformat(),
            "principal": "30000.00",
            "note": "",
        },
    )
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert 'id="owner-requests"' in page and 'data-status="open"' in page
