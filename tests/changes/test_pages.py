"""The staff pages file and review a change, the staff loan page and the owner's portal show
a loan's changes and link both ways, and a change's page shows its light review."""

from django.test import Client
from django.urls import reverse

from applications.models import LoanApplication
from postloan.models import LoanChange
from tests.conftest import api_for


def test_filed_and_reviewed_on_the_pages_and_shown_on_both_sides(staff, loan, owner):
    rm = Client()
    rm.force_login(staff["rm"])
    page = rm.get(reverse("application-detail", args=[loan.application_id]))
    assert 'id="change-file"' in page.content.decode()
    response = rm.post(
        reverse("postloan-loan-action", args=[loan.application_id, "change"]),
        {"kind": "extension", "extension_months": "3", "reason": "Slow season"},
    )
    change = LoanApplication.objects.get(change_of_id=loan.application_id)
    assert response.status_code == 302 and response.url.endswith(f"/{change.pk}/")
    assert change.status == "submitted" and change.change_kind == "extension"
    html = rm.get(reverse("application-detail", args=[loan.application_id])).content.decode()
    assert 'id="loan-changes"' in html and change.reference in html
    # A colleague starts the review and confirms the figures on the change's page.
    r = api_for(staff["rm2"]).post(
        reverse("api-application-start-investigation", args=[change.pk]), {}, format="json"
    )
    assert r.status_code == 200, r.data
    reviewer = Client()
    reviewer.force_login(staff["rm2"])
    html = reviewer.get(reverse("application-detail", args=[change.pk])).content.decode()
    assert 'id="change-panel"' in html and 'id="change-review"' in html
    assert loan.application.reference in html and "Slow season" in html
    reviewer.post(
        reverse("postloan-loan-action", args=[change.pk, "change-review"]),
        {"opinion": "Seasonal dip only", "annual_revenue": "5900000"},
    )
    reviewed = LoanChange.objects.get(application=change)
    assert reviewed.reviewed_by == staff["rm2"]
    assert reviewed.review["updated"] == {"annual_revenue": "5900000"}
    portal = Client()
    portal.force_login(owner)
    page = portal.get(reverse("portal-application", args=[loan.application_id]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="loan-changes"' in html and change.reference in html
