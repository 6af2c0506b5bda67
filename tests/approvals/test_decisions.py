"""Decisions at a step: approve, with conditions, decline with reasons, return, request
information — each with a comment, in the audit trail."""

import pytest

from applications.models import LoanApplication
from approvals.models import ApprovalCondition, ApprovalRecord, ApprovalTask
from audit.models import AuditEvent
from tests import lifecycle

pytestmark = pytest.mark.django_db


def _decide(api, user, task, **payload):
    return api(user).post(f"/api/v1/approvals/tasks/{task.pk}/decide/", payload, format="json")


def _task(application, step):
    return ApprovalTask.objects.get(
        application=application, step=step, kind="step", status__in=("open", "claimed")
    )


def test_approving_each_step_moves_on_and_the_last_approves_with_conditions(
    matrix, in_approval, staff, api
):
    application = in_approval()
    response = _decide(
        api,
        staff["reviewer"],
        _task(application, "credit_review"),
        decision="approve",
        comment="Figures verified",
    )
    assert response.status_code == 200 and response.data["status"] == "done"
    assert AuditEvent.objects.filter(
        action="step_approve", subject_type="approvals.task", comment="Figures verified"
    ).exists()
    application.refresh_from_db()
    assert application.status == "in_approval"
    response = _decide(
        api,
        staff["approver"],
        _task(application, "tier1"),
        decision="approve_with_conditions",
        comment="Good, with collateral",
        conditions=["Register the mortgage", "  "],
    )
    assert response.status_code == 200, response.data
    application.refresh_from_db()
    assert application.status == "approved"
    assert [c.text for c in application.approval_conditions.all()] == ["Register the mortgage"]
    assert ApprovalCondition.objects.get().satisfied_at is None
    assert ApprovalRecord.objects.get(application=application).status == "approved"


def test_a_decline_needs_reason_codes_and_records_them(matrix, in_approval, staff, api):
    application = in_approval()
    task = _task(application, "credit_review")
    assert (
        _decide(api, staff["reviewer"], task, decision="decline", comment="No").status_code == 400
    )
    assert (
        _decide(
            api, staff["reviewer"], task, decision="decline", comment="No", reasons=["made_up"]
        ).status_code
        == 400
    )
    response = _decide(
        api,
        staff["reviewer"],
        task,
        decision="decline",
        comment="Cash flow too thin",
        reasons=["insufficient_cash_flow"],
    )
    assert response.status_code == 200, response.data
    application.refresh_from_db()
    assert application.status == "declined"
    assert application.decline_reasons == ["insufficient_cash_flow"]
    event = AuditEvent.objects.get(application=application, action="decline")
    assert event.actor == staff["reviewer"] and event.comment == "Cash flow too thin"


def test_returning_to_the_investigator_needs_questions_and_cancels_the_route(
    matrix, in_approval, staff, api
):
    application = in_approval()
    task = _task(application, "credit_review")
    assert (
        _decide(
            api, staff["reviewer"], task, decision="return_to_investigation", comment=""
        ).status_code
        == 400
    )
    response = _decide(
        api,
        staff["reviewer"],
        task,
        decision="return_to_investigation",
        comment="Please verify the 2025 revenue",
    )
    assert response.status_code == 200, response.data
    application.refresh_from_db()
    assert application.status == "investigation"
    assert ApprovalRecord.objects.get(application=application).status == "returned"


def test_requesting_information_parks_the_task_until_the_applicant_answers(
    matrix, in_approval, staff, api
):
    from applications.services import application_transition

    application = in_approval()
    task = _task(application, "credit_review")
    response = _decide(
        api,
        staff["reviewer"],
        task,
        decision="request_information",
        comment="Send the lease contract",
    )
    assert response.status_code == 200, response.data
    task.refresh_from_db()
    assert task.status == "waiting"
    assert LoanApplication.objects.get(pk=application.pk).status == "info_requested"
    application_transition(application_id=application.pk, transition="resume", actor=staff["rm"])
    task.refresh_from_db()
    assert task.status == "claimed" and task.claimed_by == staff["reviewer"]
    assert _decide(api, staff["reviewer"], task, decision="approve").status_code == 200


def test_a_committee_step_cannot_be_decided_alone(matrix, in_approval, staff, api):
    application = in_approval(grade="D")
    task = ApprovalTask.objects.get(application=application)
    ApprovalTask.objects.filter(pk=task.pk).update(step_index=3, step="committee")
    response = _decide(api, staff["committee"], task, decision="approve")
    assert response.status_code == 409


def test_the_shared_walk_clears_the_route_with_distinct_people(matrix, api, staff, in_approval):
    application = in_approval(
        amount="12000000",
        grade="A",
        product=__import__("tests.factories", fromlist=["x"]).ProductFactory(
            code="BIG", max_amount=50_000_000
        ),
    )
    lifecycle.approve(api, staff, application.pk)
    application.refresh_from_db()
    assert application.status == "approved"
    deciders = list(
        ApprovalTask.objects.filter(application=application, kind="step").values_list(
            "step", "decided_by__username"
        )
    )
    assert [s for s, _ in deciders] == ["credit_review", "tier1", "tier2", "committee"]
    assert len({u for _, u in deciders}) == 4


def test_the_panel_renders_route_reason_and_steps(matrix, in_approval, staff, client):
    from django.template.loader import render_to_string

    application = in_approval(amount="3200000")
    html = render_to_string(
        "approvals/application_panel.html", {"application": application, "user": staff["reviewer"]}
    )
    assert "3.2M above 3M" in html and "Tier-2 approval" in html


def test_each_step_runs_an_sla_clock_that_stops_when_decided(matrix, in_approval, staff, api):
    from sla import selectors as sla_selectors

    application = in_approval()
    task = _task(application, "credit_review")
    deadline = sla_selectors.deadline_for("approvals.task", task.pk)
    assert deadline is not None and deadline.due_at == task.due_at
    assert _decide(api, staff["reviewer"], task, decision="approve").status_code == 200
    assert sla_selectors.deadline_for("approvals.task", task.pk) is None
    tier1 = _task(application, "tier1")
    assert sla_selectors.deadline_for("approvals.task", tier1.pk) is not None
