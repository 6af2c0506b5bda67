"""The owner asks for a change on the portal; the loan's RM sees it on the loan page and
files it as a change application (or declines it, saying why)."""

from django.test import Client
from django.urls import reverse

from applications.models import LoanApplication
from notifications.models import Notification
from postloan.models import OwnerRequest
from tests.changes.conftest import file_change
from tests.conftest import api_for
from tests.factories import CompanyFactory, make_applicant


def test_the_owner_asks_and_the_rm_files_it(staff, loan, owner):
    portal = api_for(owner)
    url = reverse("api-portal-change-requests", args=[loan.application_id])
    asked = portal.post(url, {"kind": "extension", "note": "Harvest is late"}, format="json")
    assert asked.status_code == 201, asked.data
    # The loan's RM hears of it, with a link to the loan's page.
    heard = Notification.objects.get(user=loan.relationship_manager, kind="awaiting_you")
    assert loan.application.reference in str(heard.title)
    assert heard.url == reverse("application-detail", args=[loan.application_id])
    again = portal.post(url, {"kind": "top_up"}, format="json")
    assert again.status_code == 409 and again.data["code"] == "open_request"
    # Another company's owner cannot ask for it (nor learn it exists).
    charlie = make_applicant(CompanyFactory(home_branch=loan.branch), username="charlie_owner")
    assert api_for(charlie).post(url, {"kind": "extension"}, format="json").status_code == 404
    rm = Client()
    rm.force_login(staff["rm"])
    html = rm.get(reverse("application-detail", args=[loan.application_id])).content.decode()
    assert 'id="owner-requests"' in html and "Harvest is late" in html
    request_id = asked.data["id"]
    # Filed as another kind than asked: 400; as asked: the request points to its change.
    file_change(staff, loan, expect=400, kind="top_up", amount="1000.00", request_id=request_id)
    change = file_change(staff, loan, kind="extension", extension_months=2, request_id=request_id)
    filed = OwnerRequest.objects.get(pk=request_id)
    assert filed.status == "filed" and filed.change_id == change["id"]
    assert LoanApplication.objects.get(pk=change["id"]).change_of_id == loan.application_id


def test_the_rm_declines_with_a_reason_the_owner_reads(staff, loan, owner):
    url = reverse("api-portal-change-requests", args=[loan.application_id])
    request_id = api_for(owner).post(url, {"kind": "top_up"}, format="json").data["id"]
    decline = reverse("api-postloan-change-request-decline", args=[request_id])
    assert api_for(staff["rm2"]).post(decline, {"comment": "No"}, format="json").status_code == 403
    r = api_for(staff["rm"]).post(decline, {"comment": ""}, format="json")
    assert r.status_code == 400 and "comment" in r.data
    r = api_for(staff["rm"]).post(
        decline, {"comment": "Turnover too low for more credit now."}, format="json"
    )
    assert r.status_code == 200 and r.data["status"] == "declined"
    page = Client()
    page.force_login(owner)
    html = page.get(reverse("portal-application", args=[loan.application_id])).content.decode()
    assert "Turnover too low for more credit now." in html
