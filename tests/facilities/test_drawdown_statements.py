"""A drawdown approver's decision runs a fixed number of statements (issue 28's benchmark,
docs/performance.md): the facility found through the drawdown and locked with its application
and product, the drawdown read once after that lock with its requester, the loan application
made and approved on the row just inserted (not read again), the stage visits inserted
together. Each statement below is one the decision needs; a new one is a regression."""

from decimal import Decimal

import pytest
from django.urls import reverse

from analytics.models import StageVisit
from audit.models import AuditEvent
from disbursement.models import Offer
from facilities.models import Drawdown, DrawdownApproval
from facilities.selectors import SUBJECT_TYPE, facility_availability
from org.roles import Role
from sla.calendar import get_calendar
from tests.factories import BranchFactory, make_staff

pytestmark = pytest.mark.django_db

# The step-up check, the atomic block (savepoint, release), the approver's branch subtree,
# the facility locked (with its application and product), the drawdown locked (with its
# requester's profile and branch), the requester's roles; the loan application inserted,
# its creation audited, the drawdown updated; approve_drawdown: the application updated and
# audited, its data route and approval record looked up, the offer (the conditions read,
# inserted, audited), the SLA clocks (the draft's stopped, the contract's policy read and
# its deadline inserted in a savepoint), the requester told (read, notification, e-mail),
# the stage visits inserted; the facility's audit.
APPROVE_STATEMENTS = 28


def _waiting_drawdown(api, staff, make_facility, by="rm", client=None) -> Drawdown:
    facility = make_facility(approval=DrawdownApproval.APPROVER)
    response = (client or api(staff[by])).post(
        reverse("api-facility-drawdowns", args=[facility.pk]),
        {"amount": "300000.00", "term_months": 6},
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["status"] == "requested"
    return Drawdown.objects.get(pk=response.data["id"])


def test_a_drawdown_approvers_approval_runs_a_fixed_number_of_statements(
    api, staff, make_facility, django_assert_num_queries
):
    drawdown = _waiting_drawdown(api, staff, make_facility)
    client = api(staff["approver"])
    url = reverse("api-drawdown-decide", args=[drawdown.pk])
    get_calendar("CN")  # cached in a running process (sla.calendar)

    with django_assert_num_queries(APPROVE_STATEMENTS):
        response = client.post(
            url, {"decision": "approve", "comment": "Within plan"}, format="json"
        )

    assert response.status_code == 200, response.data
    drawdown.refresh_from_db()
    # Every write is still there: the decision with its comment (one UPDATE), the approved
    # loan application with its audit, offer and stage visits, the facility's audit.
    assert (drawdown.status, drawdown.decided_by, drawdown.decision_comment) == (
        Drawdown.Status.APPROVED,
        staff["approver"],
        "Within plan",
    )
    loan = drawdown.application
    assert (loan.status, loan.branch_id, loan.relationship_manager_id) == (
        "approved",
        drawdown.facility.branch_id,
        drawdown.facility.application.relationship_manager_id,
    )
    assert list(
        AuditEvent.objects.filter(application=loan).order_by("id").values_list("action", "actor")
    ) == [
        ("create", staff["rm"].pk),
        ("approve_drawdown", staff["approver"].pk),
        ("offer_created", None),
    ]
    assert Offer.objects.filter(application=loan).exists()
    assert list(
        StageVisit.objects.filter(application=loan)
        .order_by("entered_at", "id")
        .values_list("stage", "outcome")
    ) == [("draft", "approved"), ("approved", "")]
    assert AuditEvent.objects.filter(
        subject_type=SUBJECT_TYPE, subject_id=drawdown.facility_id, action="drawdown_approve"
    ).exists()
    assert facility_availability(facility=drawdown.facility).pending == Decimal("300000.00")


def test_a_drawdown_the_owner_requested_is_approved_in_as_many_statements(
    api, staff, owner, make_facility, django_assert_num_queries
):
    drawdown = _waiting_drawdown(api, staff, make_facility)
    Drawdown.objects.filter(pk=drawdown.pk).update(requested_by=owner)
    client = api(staff["approver"])
    get_calendar("CN")

    with django_assert_num_queries(APPROVE_STATEMENTS):
        response = client.post(
            reverse("api-drawdown-decide", args=[drawdown.pk]),
            {"decision": "approve"},
            format="json",
        )

    assert response.status_code == 200, response.data
    drawdown.refresh_from_db()
    assert drawdown.application.channel == "online"
    assert drawdown.application.filed_by == owner


def test_a_drawdown_outside_the_approvers_branches_is_not_found_and_stays_waiting(
    api, staff, head_office, make_facility
):
    drawdown = _waiting_drawdown(api, staff, make_facility)
    elsewhere = make_staff(
        Role.APPROVER, BranchFactory(code="SH", name="Shanghai branch", parent=head_office)
    )

    refused = api(elsewhere).post(
        reverse("api-drawdown-decide", args=[drawdown.pk]), {"decision": "approve"}, format="json"
    )
    missing = api(staff["approver"]).post(
        reverse("api-drawdown-decide", args=[drawdown.pk + 1000]),
        {"decision": "approve"},
        format="json",
    )

    assert (refused.status_code, missing.status_code) == (404, 404)
    drawdown.refresh_from_db()
    assert (drawdown.status, drawdown.application) == (Drawdown.Status.REQUESTED, None)
