"""A write-off approval needs a fresh second factor (step-up); a rejection does not."""

import pytest
from django.urls import reverse

from applications.models import LoanApplication
from org.roles import Role
from postloan.models import WriteOff
from tests.factories import make_staff
from tests.second_factor import age_step_up, api_with_old_code, code_of, enrol

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposed(api, staff, make_loan, head_office):
    """A write-off proposed by one risk officer, and the second one who may approve it."""
    loan = make_loan()
    response = api(staff["risk"]).post(
        reverse("api-postloan-write-off-propose", args=[loan.application_id]),
        {"reason": "Borrower insolvent, collateral realised"},
        format="json",
    )
    assert response.status_code == 201, response.data
    second = make_staff(Role.RISK_OFFICER, head_office, username="oscar_risk")
    return WriteOff.objects.get(pk=response.data["id"]), second


def test_a_write_off_approval_through_the_api_needs_a_fresh_code(proposed):
    write_off, second = proposed
    client = api_with_old_code(second, minutes=6)
    url = reverse("api-postloan-write-off-approve", args=[write_off.pk])
    refused = client.post(url, {}, format="json")
    assert refused.status_code == 403 and refused.data["code"] == "step_up_required"
    assert LoanApplication.objects.get(pk=write_off.loan.application_id).status == "disbursed"
    done = client.post(url, {"otp": code_of(enrol(second))}, format="json")
    assert done.status_code == 200, done.data
    assert LoanApplication.objects.get(pk=write_off.loan.application_id).status == "written_off"


def test_a_write_off_approval_on_its_page_needs_a_fresh_code(proposed, client):
    write_off, second = proposed
    client.force_login(second)
    age_step_up(client, second, minutes=6)
    url = reverse("postloan-write-off-decide", args=[write_off.pk, "approve"])
    asked = client.post(url, {"next": "/postloan/"})
    assert asked.status_code == 302
    assert asked.url == f"{reverse('second-factor-verify')}?next=%2Fpostloan%2F"
    assert LoanApplication.objects.get(pk=write_off.loan.application_id).status == "disbursed"
    client.post(url, {"next": "/postloan/", "otp": code_of(enrol(second))})
    assert LoanApplication.objects.get(pk=write_off.loan.application_id).status == "written_off"


def test_a_write_off_rejection_needs_no_fresh_code(proposed):
    write_off, second = proposed
    client = api_with_old_code(second, minutes=60)
    url = reverse("api-postloan-write-off-reject", args=[write_off.pk])
    assert client.post(url, {"comment": "Collect first"}, format="json").status_code == 200


def test_the_write_off_approval_on_the_queue_asks_for_a_code_when_the_last_is_too_old(
    proposed, client
):
    _write_off, second = proposed
    client.force_login(second)
    assert 'name="otp"' not in client.get(reverse("postloan-queue")).content.decode()
    age_step_up(client, second, minutes=6)
    assert 'name="otp"' in client.get(reverse("postloan-queue")).content.decode()
