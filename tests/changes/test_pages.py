"""The staff pages file and review a change, the staff loan page and the owner's portal show
a loan's changes and link both ways, and a change's page shows its light review."""

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from applications.models import LoanApplication
from postloan.models import LoanChange
from tests.changes.conftest import approved_change, pay_out_today
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


def _html(client, name: str, pk: int) -> str:
    response = client.get(reverse(name, args=[pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_an_extension_then_a_renewal_are_read_from_either_loan_by_staff_and_owner(
    staff, loan, owner
):
    """The old loan shows its extension (applied) and the renewal that repaid it (paid out),
    each schedule it replaced naming the change; the renewal's loan shows the loan it renewed,
    closed as repaid that day, with that loan's earlier changes."""
    extension = approved_change(staff, loan, kind="extension", extension_months=2)
    applied = api_for(staff["rm"]).post(
        reverse("api-postloan-change-apply", args=[extension]),
        {"agreement_reference": "SA-12"},
        format="json",
    )
    assert applied.status_code == 200, applied.data
    renewal = approved_change(staff, loan, kind="renewal_without_repayment", term_months=12)
    pay_out_today(staff, renewal)
    old_ref = loan.application.reference
    ext, new = (LoanApplication.objects.get(pk=pk) for pk in (extension, renewal))
    today = timezone.localdate().isoformat()

    rm = Client()
    rm.force_login(staff["rm"])
    html = _html(rm, "application-detail", loan.application_id)
    changes = html[html.index('id="loan-changes"') :]
    assert ext.reference in changes and new.reference in changes
    assert "Change applied" in changes and "Disbursed" in changes
    renewed_by = html[html.index('id="loan-renewed-by"') :]
    assert "repaid by the Renewal without first repaying the principal" in renewed_by
    assert new.reference in renewed_by and f"paid out on {today}" in renewed_by
    earlier = html[html.index("Earlier schedules") :]
    assert f"by the Extension (展期) {ext.reference}" in earlier
    assert new.reference in earlier[earlier.index("Version 2") :]

    html = _html(rm, "application-detail", renewal)
    assert old_ref in html[html.index('id="loan-change-of"') :]
    state = html[html.index('id="loan-change-of-state"') :]
    assert f"Loan {old_ref}: Closed (repaid) on {today}." in state
    assert ext.reference in html[html.index('id="loan-change-of-changes"') :]
    assert (
        new.reference not in html[html.index('id="loan-change-of-changes"') :].split("</table>")[0]
    )

    portal = Client()
    portal.force_login(owner)
    html = _html(portal, "portal-application", loan.application_id)
    listed = html[html.index('id="loan-changes"') :]
    assert f"{ext.reference}</a> · Extension (展期) · Change applied · applied on {today}" in (
        listed
    )
    assert f"paid out on {today}" in listed
    assert new.reference in html[html.index('id="loan-renewed-by"') :]
    revisions = html[html.index('id="loan-revisions"') :]
    assert f"Version 1, replaced on {today} · by the Extension (展期) {ext.reference}" in revisions
    assert f"Version 2, replaced on {today} · by the Renewal" in revisions
    html = _html(portal, "portal-application", renewal)
    assert old_ref in html[html.index('id="loan-change-of"') :]
    assert f"Your loan {old_ref}: Closed (repaid) on {today}." in html
    assert ext.reference in html[html.index('id="loan-change-of-changes"') :]
    # The API answers the same links.
    both = api_for(staff["rm"]).get(reverse("api-postloan-changes", args=[renewal])).data
    assert both["change_of"] == loan.application_id and both["change_of_status"] == "closed"
    old = api_for(staff["rm"]).get(reverse("api-postloan-changes", args=[loan.application_id])).data
    assert old["renewed_by"] == renewal
    assert [c["id"] for c in old["changes"]] == [extension, renewal]


def test_a_restructuring_applied_is_on_the_staff_page_and_the_owners_loan_card(staff, loan, owner):
    pk = approved_change(
        staff,
        loan,
        kind="restructuring",
        interest_rate="5.000",
        term_months=12,
        grace_months=3,
        repayment_method="equal_principal",
        reason="Orders lost",
    )
    applied = api_for(staff["rm"]).post(
        reverse("api-postloan-change-apply", args=[pk]),
        {"agreement_reference": "RS-3"},
        format="json",
    )
    assert applied.status_code == 200, applied.data
    change = LoanApplication.objects.get(pk=pk)
    today = timezone.localdate().isoformat()
    rm = Client()
    rm.force_login(staff["rm"])
    html = _html(rm, "application-detail", loan.application_id)
    row = html[html.index(change.reference, html.index('id="loan-changes"')) :].split("</tr>")[0]
    assert "Restructuring" in row and "Change applied" in row and today in row
    assert (
        f"by the Restructuring (重组) {change.reference}" in html[html.index("Earlier schedules") :]
    )
    assert 'id="loan-renewed-by"' not in html
    portal = Client()
    portal.force_login(owner)
    html = _html(portal, "portal-application", loan.application_id)
    assert (
        f"{change.reference}</a> · Restructuring (重组) · Change applied · applied on {today}"
        in (html)
    )
    assert (
        f"by the Restructuring (重组) {change.reference}"
        in html[html.index('id="loan-revisions"') :]
    )
    # The change's own page, for the owner too.
    assert _html(portal, "portal-application", pk)
