"""A proposed classification change runs the classification_review clock: the decision stops
it, and a change left undecided escalates through the SLA sweep like any other step."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from notifications.models import Notification
from sla import services as sla_services
from sla.models import Deadline
from sla.selectors import deadline_for
from tests.postloan.conftest import TODAY

pytestmark = pytest.mark.django_db
SUBJECT = "postloan.classificationchange"


def _propose(api, staff, loan):
    response = api(staff["rm"]).post(
        reverse("api-postloan-classification-propose", args=[loan.application_id]),
        {"to_classification": "special_mention", "reason": "Cash flow weakening"},
        format="json",
    )
    assert response.status_code == 201, response.data
    return response.data["id"]


@pytest.fixture
def loan(make_loan):
    return make_loan([(TODAY + timedelta(days=30), Decimal("1000.00"), Decimal("0.00"))])


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_a_proposal_runs_a_review_clock_that_the_decision_stops(loan, api, staff, decision):
    change_id = _propose(api, staff, loan)
    deadline = deadline_for(SUBJECT, change_id)
    assert deadline is not None
    assert (deadline.step, deadline.role) == ("classification_review", "risk_officer")
    assert deadline.application_id == loan.application_id
    response = api(staff["risk"]).post(
        reverse(f"api-postloan-classification-{decision}", args=[change_id]),
        {"comment": "Seen"},
        format="json",
    )
    assert response.status_code == 200, response.data
    assert deadline_for(SUBJECT, change_id) is None
    assert Deadline.objects.get(pk=deadline.pk).status == "stopped"


def test_a_proposal_left_undecided_escalates_to_the_branch_head(
    loan, api, staff, django_capture_on_commit_callbacks
):
    change_id = _propose(api, staff, loan)
    deadline = deadline_for(SUBJECT, change_id)
    with django_capture_on_commit_callbacks(execute=True):
        sla_services.sla_sweep(now=deadline.due_at + timedelta(minutes=1))
    escalation = deadline.events.get(kind="escalation", level=1)
    assert escalation.recipients == [staff["head"].pk]
    assert Notification.objects.filter(kind="escalation", user=staff["head"]).exists()
