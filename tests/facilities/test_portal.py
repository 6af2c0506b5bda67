"""The owner sees their company's facilities with what is available, and draws online."""

from decimal import Decimal

import pytest
from django.urls import reverse

from facilities.models import Drawdown
from tests.factories import CompanyFactory, make_applicant

pytestmark = pytest.mark.django_db


def test_the_owner_sees_their_facilities_with_the_available_amount(
    api, owner, branch, make_facility
):
    mine = make_facility(amount="1000000.00")
    make_facility(of_company=CompanyFactory(home_branch=branch))

    listed = api(owner).get(reverse("api-portal-facilities"))

    assert listed.status_code == 200
    assert [row["id"] for row in listed.data] == [mine.pk]
    assert Decimal(listed.data[0]["availability"]["available"]) == Decimal("1000000.00")
    assert "status_reason" not in listed.data[0]


def test_the_owner_requests_a_drawdown_online(api, owner, make_facility):
    facility = make_facility(amount="1000000.00")

    response = api(owner).post(
        reverse("api-portal-facility-drawdowns", args=[facility.pk]),
        {"amount": "250000.00", "term_months": 6, "purpose": "Raw materials"},
        format="json",
    )

    assert response.status_code == 201, response.data
    assert response.data["status"] == "approved"
    drawdown = Drawdown.objects.get(pk=response.data["id"])
    assert drawdown.requested_by == owner
    assert drawdown.application.channel == "online"
    shown = api(owner).get(reverse("api-portal-facility", args=[facility.pk]))
    assert Decimal(shown.data["availability"]["available"]) == Decimal("750000.00")
    assert [row["id"] for row in shown.data["drawdowns"]] == [drawdown.pk]


def test_another_companys_facility_is_not_found_and_staff_endpoints_are_refused(
    api, owner, branch, make_facility
):
    theirs = make_facility(of_company=CompanyFactory(home_branch=branch))
    other_owner = make_applicant(theirs.company)
    client = api(owner)

    assert client.get(reverse("api-portal-facility", args=[theirs.pk])).status_code == 404
    drawn = client.post(
        reverse("api-portal-facility-drawdowns", args=[theirs.pk]),
        {"amount": "1000.00", "term_months": 3},
        format="json",
    )
    assert drawn.status_code == 404
    assert client.get(reverse("api-facilities")).status_code == 403
    assert api(other_owner).get(reverse("api-portal-facility", args=[theirs.pk])).status_code == 200


def test_the_portal_page_shows_the_available_amount_and_takes_a_drawdown(
    client, owner, make_facility
):
    facility = make_facility(amount="1000000.00")
    client.force_login(owner)

    page = client.get(reverse("portal-facilities"))
    assert page.status_code == 200
    assert "1000000.00" in page.content.decode()

    too_much = client.post(
        reverse("portal-facilities"),
        {"facility": facility.pk, "amount": "2000000", "term_months": "6"},
    )
    assert too_much.status_code == 400
    assert Drawdown.objects.count() == 0

    drawn = client.post(
        reverse("portal-facilities"),
        {"facility": facility.pk, "amount": "100000", "term_months": "6", "purpose": "Stock"},
    )
    assert drawn.status_code == 302
    assert Drawdown.objects.get().amount == Decimal("100000.00")
    assert "900000.00" in client.get(reverse("portal-facilities")).content.decode()
