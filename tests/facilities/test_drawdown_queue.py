"""The drawdown approver's queue: the drawdowns waiting for an approver in their branch scope,
with what the decision rests on, approved or declined from the page (with a fresh second
factor, never by whoever requested it or manages the facility), the same list over the API,
and the link in the menu for the roles that approve drawdowns."""

from decimal import Decimal

import pytest
from django.urls import reverse

from facilities.models import Drawdown, DrawdownApproval
from postloan.models import Classification, Loan
from tests.factories import CompanyFactory
from tests.second_factor import age_step_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(api, staff, make_facility):
    """A drawdown of 300,000 for 6 months waiting for an approver (the facility's rule),
    requested by the relationship manager."""
    facility = make_facility(approval=DrawdownApproval.APPROVER)
    response = api(staff["rm"]).post(
        reverse("api-facility-drawdowns", args=[facility.pk]),
        {"amount": "300000.00", "term_months": 6, "purpose": "Raw materials"},
        format="json",
    )
    assert response.status_code == 201, response.data
    return Drawdown.objects.get(pk=response.data["id"])


def test_the_approver_sees_a_waiting_drawdown_with_what_the_decision_rests_on(
    client, staff, waiting
):
    client.force_login(staff["approver"])

    page = client.get(reverse("drawdown-queue"))

    assert page.status_code == 200
    html = page.content.decode()
    facility = waiting.facility
    assert f'data-drawdown="{waiting.pk}"' in html
    assert facility.company.name in html
    assert facility.application.reference in html
    # Available: 1,000,000 less the 300,000 this drawdown reserves.
    assert 'class="drawdown-available">700,000.00 CNY' in html
    assert "for 6 months at 4.350% a year" in html
    assert "The facility&#x27;s drawdowns are approved by a drawdown approver." in html
    assert str(Classification.NORMAL.label) in html
    # The exposure: the facility's undrawn limit (the drawdown is part of it).
    assert 'class="drawdown-exposure">1,000,000.00 CNY' in html
    assert f'action="{reverse("drawdown-decide", args=[waiting.pk])}"' in html


def test_the_api_lists_the_company_standing_and_its_exposure_after_the_drawdown(
    api, staff, company, product, make_facility
):
    from tests import lifecycle

    facility = make_facility()
    pk = lifecycle.file_draft(api, staff, company, product, amount="200000.00")
    lifecycle.walk_to(api, staff, pk, "disbursed")
    Loan.objects.filter(application_id=pk).update(classification=Classification.SPECIAL_MENTION)
    outstanding = Loan.objects.get(application_id=pk).outstanding_principal
    drawn = api(staff["rm"]).post(
        reverse("api-facility-drawdowns", args=[facility.pk]),
        {"amount": "300000.00", "term_months": 6},
        format="json",
    )
    assert drawn.data["status"] == "requested", drawn.data

    response = api(staff["approver"]).get(reverse("api-drawdown-queue"))

    assert response.status_code == 200
    [row] = response.data
    assert row["drawdown"]["id"] == drawn.data["id"]
    assert row["company_name"] == company.name
    assert Decimal(row["availability"]["available"]) == Decimal("700000.00")
    assert row["classification"] == Classification.SPECIAL_MENTION
    assert row["open_alerts"] == 0
    assert row["drawdown"]["approval_reasons"] == ["classification"]
    # The loan's outstanding principal and the facility's undrawn limit (the drawdown only
    # turns part of it into a loan).
    assert Decimal(row["exposure_after"]) == outstanding + Decimal("1000000.00")
    assert row["may_decide"] is True


def test_an_approver_approves_from_the_page(client, staff, waiting):
    client.force_login(staff["approver"])

    response = client.post(
        reverse("drawdown-decide", args=[waiting.pk]), {"decision": "approve", "comment": ""}
    )

    assert response.status_code == 302
    assert response.url == reverse("drawdown-queue")
    waiting.refresh_from_db()
    assert waiting.status == Drawdown.Status.APPROVED
    assert waiting.decided_by == staff["approver"]
    assert waiting.application.status == "approved"
    assert f'data-drawdown="{waiting.pk}"' not in client.get(response.url).content.decode()


def test_a_decline_without_a_reason_is_refused_by_the_field(client, staff, waiting):
    client.force_login(staff["approver"])

    response = client.post(reverse("drawdown-decide", args=[waiting.pk]), {"decision": "decline"})

    assert response.status_code == 400
    assert "Give the reason for declining." in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == Drawdown.Status.REQUESTED


def test_an_old_second_factor_sends_the_approver_to_confirm_first(client, staff, waiting):
    client.force_login(staff["approver"])
    age_step_up(client, staff["approver"], minutes=60)

    response = client.post(reverse("drawdown-decide", args=[waiting.pk]), {"decision": "approve"})

    assert response.status_code == 302
    assert response.url.startswith(reverse("second-factor-verify"))
    waiting.refresh_from_db()
    assert waiting.status == Drawdown.Status.REQUESTED


def test_who_manages_the_facility_sees_it_but_may_not_decide(client, staff, waiting):
    from org.roles import Role
    from tests.factories import make_staff

    # An approver who is also the facility's relationship manager.
    both = make_staff(Role.APPROVER, waiting.facility.branch, username="mallory_both")
    from django.contrib.auth.models import Group

    both.groups.add(Group.objects.get(name=Role.RELATIONSHIP_MANAGER))
    application = waiting.facility.application
    application.relationship_manager = both
    application.save(update_fields=["relationship_manager"])
    client.force_login(both)

    page = client.get(reverse("drawdown-queue")).content.decode()
    refused = client.post(reverse("drawdown-decide", args=[waiting.pk]), {"decision": "approve"})

    assert f'data-drawdown="{waiting.pk}"' in page
    assert f'action="{reverse("drawdown-decide", args=[waiting.pk])}"' not in page
    assert refused.status_code == 403
    waiting.refresh_from_db()
    assert waiting.status == Drawdown.Status.REQUESTED


def test_only_drawdown_approvers_of_the_branch_see_the_queue(
    client, api, staff, waiting, other_branch
):
    from org.roles import Role
    from tests.factories import make_staff

    client.force_login(staff["disburser"])
    assert client.get(reverse("drawdown-queue")).status_code == 403
    # Nor does a refused form bring the queue back to them.
    declined = client.post(reverse("drawdown-decide", args=[waiting.pk]), {"decision": "decline"})
    assert declined.status_code == 403
    assert api(staff["rm"]).get(reverse("api-drawdown-queue")).status_code == 403
    elsewhere = make_staff(Role.APPROVER, other_branch, username="oscar_approver")
    assert api(elsewhere).get(reverse("api-drawdown-queue")).data == []
    # The risk officer at head office approves drawdowns too, bank-wide.
    assert [
        row["drawdown"]["id"] for row in api(staff["risk"]).get(reverse("api-drawdown-queue")).data
    ] == [waiting.pk]


def test_the_menu_links_the_queue_for_the_roles_that_approve_drawdowns(client, staff):
    link = f'href="{reverse("drawdown-queue")}"'
    for who, shown in (("approver", True), ("risk", True), ("rm", False), ("disburser", False)):
        client.force_login(staff[who])
        assert (link in client.get(reverse("home")).content.decode()) is shown, who


def test_another_companys_decided_drawdowns_do_not_wait(api, staff, make_facility, waiting):
    other = make_facility(
        approval=DrawdownApproval.AUTOMATIC,
        of_company=CompanyFactory(home_branch=waiting.facility.branch),
    )
    drawn = api(staff["rm"]).post(
        reverse("api-facility-drawdowns", args=[other.pk]),
        {"amount": "1000.00", "term_months": 3},
        format="json",
    )
    assert drawn.data["status"] == "approved"
    ids = [
        row["drawdown"]["id"]
        for row in api(staff["approver"]).get(reverse("api-drawdown-queue")).data
    ]
    assert ids == [waiting.pk]
