"""The whole life of an application through the API, draft to closed."""

import pytest
from django.urls import reverse

from applications.models import LoanApplication
from audit.models import AuditEvent
from tests import lifecycle

pytestmark = pytest.mark.django_db


def test_an_application_walks_from_draft_to_closed_with_an_audit_row_per_transition(
    api, staff, company, product
):
    pk = lifecycle.file_draft(api, staff, company, product)
    lifecycle.walk_to(api, staff, pk, "closed")

    application = LoanApplication.objects.get(pk=pk)
    assert application.status == "closed"
    assert application.investigator == staff["rm"]
    assert application.submitted_at and application.decided_at and application.disbursed_at
    transitions = list(
        AuditEvent.objects.filter(application=application, kind="transition")
        .order_by("at", "id")
        .values_list("from_state", "to_state")
    )
    states = [
        "draft",
        "submitted",
        "investigation",
        "in_approval",
        "approved",
        "contract_signed",
        "disbursed",
        "closed",
    ]
    # Stage apps may add steps in between (approval steps are actions, not transitions), but
    # the record's own transitions are exactly the walk.
    assert transitions == list(zip(states, states[1:], strict=False))
    first = AuditEvent.objects.filter(application=application, kind="transition").first()
    assert first.actor == staff["rm"]
    assert first.actor_role == "relationship_manager"


def test_the_timeline_shows_each_step_with_who_did_it(api, staff, company, product):
    pk = lifecycle.file_draft(api, staff, company, product)
    lifecycle.walk_to(api, staff, pk, "investigation")
    response = api(staff["rm"]).get(reverse("api-application-timeline", args=[pk]))
    assert response.status_code == 200
    actions = [row["action"] for row in response.data]
    assert actions[0] == "create"
    assert "submit" in actions and "start_investigation" in actions
    assert {row["actor"] for row in response.data} == {staff["rm"].get_full_name()}


def test_info_requested_returns_to_the_stage_it_came_from(api, staff, company, product):
    pk = lifecycle.file_draft(api, staff, company, product)
    lifecycle.walk_to(api, staff, pk, "investigation")
    client = api(staff["rm"])
    response = client.post(
        reverse("api-application-request-information", args=[pk]),
        {"comment": "Please send the 2025 tax return"},
        format="json",
    )
    assert response.status_code == 200, response.data
    assert response.data["status"] == "info_requested"
    response = client.post(reverse("api-application-resume", args=[pk]), {}, format="json")
    assert response.status_code == 200, response.data
    assert response.data["status"] == "investigation"


def test_a_second_open_application_for_the_same_product_is_refused_with_a_link(
    api, staff, company, product
):
    first = lifecycle.file_draft(api, staff, company, product)
    response = api(staff["rm"]).post(
        reverse("api-applications"),
        {
            "company": company.pk,
            "product": product.pk,
            "amount": "500000.00",
            "term_months": 12,
            "interest_rate": "4.350",
            "repayment_method": "equal_instalments",
            "guarantee_type": "credit",
        },
        format="json",
    )
    assert response.status_code == 409
    assert response.data["existing_id"] == first
    assert LoanApplication.objects.filter(company=company).count() == 1


def test_an_amount_outside_the_product_is_answered_400_with_a_field_message(
    api, staff, company, product
):
    response = api(staff["rm"]).post(
        reverse("api-applications"),
        {
            "company": company.pk,
            "product": product.pk,
            "amount": "9000000.00",
            "term_months": 48,
            "interest_rate": "4.350",
            "repayment_method": "equal_instalments",
            "guarantee_type": "credit",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "amount" in response.data and "term_months" in response.data
    assert not LoanApplication.objects.exists()
