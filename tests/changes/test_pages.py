"""The staff loan page and the owner's portal show a loan's changes and link both ways; a
change's page shows its light review."""

from django.test import Client
from django.urls import reverse

from tests.changes.conftest import file_change


def test_the_loan_and_change_pages_show_the_change(staff, loan, owner):
    change = file_change(staff, loan, kind="extension", extension_months=3, reason="Slow season")
    rm = Client()
    rm.force_login(staff["rm"])
    page = rm.get(reverse("application-detail", args=[loan.application_id]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="loan-changes"' in html and change["reference"] in html
    page = rm.get(reverse("application-detail", args=[change["id"]]))
    html = page.content.decode()
    assert 'id="change-panel"' in html and 'id="change-figures"' in html
    assert loan.application.reference in html and "Slow season" in html
    portal = Client()
    portal.force_login(owner)
    page = portal.get(reverse("portal-application", args=[loan.application_id]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="loan-changes"' in html and change["reference"] in html
