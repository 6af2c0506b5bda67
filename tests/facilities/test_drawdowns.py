"""Drawdowns under a facility: approved at once within its rules or by a drawdown approver,
refused beyond what is available, beyond the longest term, while frozen; after a repayment a
revolving facility has the principal back, a non-revolving one does not."""

from decimal import Decimal

import pytest
from django.urls import reverse

from applications.models import LoanApplication
from audit.models import AuditEvent
from disbursement.models import Offer
from facilities.models import Drawdown, DrawdownApproval
from facilities.selectors import SUBJECT_TYPE, facility_availability
from notifications.models import Notification
from tests import lifecycle

pytestmark = pytest.mark.django_db


def _draw(client, facility, amount="300000.00", term_months=6, **extra):
    return client.post(
        reverse("api-facility-drawdowns", args=[facility.pk]),
        {"amount": amount, "term_months": term_months, **extra},
        format="json",
    )


def test_a_drawdown_within_the_rules_is_approved_at_once_and_offered_as_a_loan(
    api, staff, make_facility
):
    facility = make_facility()

    response = _draw(api(staff["rm"]), facility)

    assert response.status_code == 201, response.data
    assert response.data["status"] == "approved"
    drawdown = Drawdown.objects.get(pk=response.data["id"])
    loan_application = drawdown.application
    assert loan_application.status == "approved"
    assert loan_application.amount == Decimal("300000.00")
    assert loan_application.term_months == 6
    assert loan_application.company_id == facility.company_id
    assert Offer.objects.filter(application=loan_application).exists()
    approved = AuditEvent.objects.get(application=loan_application, action="approve_drawdown")
    assert (approved.from_state, approved.to_state, approved.actor_role) == (
        "draft",
        "approved",
        "system",
    )
    trail = AuditEvent.objects.filter(subject_type=SUBJECT_TYPE, subject_id=facility.pk)
    assert list(trail.order_by("id").values_list("action", flat=True)) == [
        "drawdown_request",
        "drawdown_approve",
    ]
    # The approved drawdown reserves its amount until its loan is paid out.
    availability = facility_availability(facility=facility)
    assert (availability.pending, availability.available) == (
        Decimal("300000.00"),
        Decimal("700000.00"),
    )


def test_a_drawdown_above_the_automatic_limit_waits_for_a_drawdown_approver(
    api, staff, make_facility
):
    facility = make_facility(auto_limit="200000.00")

    response = _draw(api(staff["rm"]), facility, amount="300000.00")

    assert response.status_code == 201, response.data
    assert response.data["status"] == "requested"
    assert response.data["approval_reasons"] == ["above_automatic_limit"]
    drawdown = Drawdown.objects.get(pk=response.data["id"])
    assert drawdown.application is None
    # The approvers serving the branch hear of it.
    told = Notification.objects.get(user=staff["approver"], kind="awaiting_you")
    assert told.url == f"{reverse('drawdown-queue')}#drawdown-{response.data['id']}"
    assert facility_availability(facility=facility).available == Decimal("700000.00")
    url = reverse("api-drawdown-decide", args=[drawdown.pk])
    # The relationship manager who requested it does not decide it (403, nothing changes).
    assert api(staff["rm"]).post(url, {"decision": "approve"}, format="json").status_code == 403

    decided = api(staff["approver"]).post(
        url, {"decision": "approve", "comment": "Within plan"}, format="json"
    )

    assert decided.status_code == 200, decided.data
    drawdown.refresh_from_db()
    assert drawdown.status == Drawdown.Status.APPROVED
    assert drawdown.decided_by == staff["approver"]
    assert drawdown.application.status == "approved"
    event = AuditEvent.objects.get(application=drawdown.application, action="approve_drawdown")
    assert (event.actor, event.actor_role) == (staff["approver"], "approver")
    assert (
        api(staff["approver"]).post(url, {"decision": "approve"}, format="json").status_code == 409
    )


def test_a_facility_ruled_by_an_approver_declines_with_a_reason_and_frees_the_amount(
    api, staff, make_facility
):
    facility = make_facility(approval=DrawdownApproval.APPROVER)
    response = _draw(api(staff["rm"]), facility)
    assert response.data["approval_reasons"] == ["facility_rule"]
    url = reverse("api-drawdown-decide", args=[response.data["id"]])
    approver = api(staff["approver"])

    assert approver.post(url, {"decision": "decline"}, format="json").status_code == 400
    declined = approver.post(
        url, {"decision": "decline", "comment": "Use of funds unclear"}, format="json"
    )

    assert declined.status_code == 200, declined.data
    assert declined.data["status"] == "declined"
    assert declined.data["application"] is None
    assert facility_availability(facility=facility).available == Decimal("1000000.00")


def test_a_drawdown_beyond_what_is_available_or_the_longest_term_is_refused(
    api, staff, make_facility
):
    facility = make_facility()
    client = api(staff["rm"])
    assert _draw(client, facility, amount="800000.00").status_code == 201

    too_much = _draw(client, facility, amount="200000.01")
    too_long = _draw(client, facility, amount="1000.00", term_months=13)
    bad_rate = _draw(client, facility, amount="1000.00", interest_rate="9.000")

    assert too_much.status_code == 400
    assert "amount" in too_much.data
    assert too_long.status_code == 400
    assert "term_months" in too_long.data
    assert bad_rate.status_code == 400
    assert "interest_rate" in bad_rate.data
    assert Drawdown.objects.filter(facility=facility).count() == 1


def test_a_freeze_stops_a_drawdown_at_once_and_the_payout_of_one_approved_before(
    api, staff, make_facility
):
    facility = make_facility()
    approved = _draw(api(staff["rm"]), facility)
    pk = approved.data["application"]
    lifecycle.sign_contract(api, staff, pk)
    lifecycle.sign_contracts(api, staff, pk)
    frozen = api(staff["risk"]).post(
        reverse("api-facility-freeze", args=[facility.pk]), {"reason": "Alert"}, format="json"
    )
    assert frozen.status_code == 200

    refused = _draw(api(staff["rm"]), facility)

    assert refused.status_code == 409
    assert refused.data["code"] == "facility_not_active"
    assert Drawdown.objects.filter(facility=facility).count() == 1
    # The drawdown approved before the freeze is not paid out while it lasts.
    maker, checker = api(staff["disburser"]), api(staff["checker"])
    recorded = maker.post(
        reverse("api-disbursement-record", args=[pk]),
        {"account_number": "6222020200112233", "amount": "300000.00", "value_date": "2026-01-15"},
        format="json",
    )
    assert recorded.status_code == 201, recorded.data
    confirmed = checker.post(reverse("api-disbursement-confirm", args=[pk]), {}, format="json")
    assert confirmed.status_code == 409
    assert LoanApplication.objects.get(pk=pk).status == "contract_signed"


@pytest.mark.parametrize(
    ("revolving", "available_after_repayment"),
    [(True, Decimal("1000000.00")), (False, Decimal("700000.00"))],
)
def test_repaid_principal_is_available_again_only_under_a_revolving_facility(
    api, staff, make_facility, revolving, available_after_repayment
):
    facility = make_facility(revolving=revolving)
    pk = _draw(api(staff["rm"]), facility, amount="300000.00", term_months=3).data["application"]
    lifecycle.sign_contract(api, staff, pk)
    lifecycle.disburse(api, staff, pk)
    drawn = facility_availability(facility=facility)
    assert (drawn.drawn, drawn.pending, drawn.available) == (
        Decimal("300000.00"),
        Decimal("0.00"),
        Decimal("700000.00"),
    )

    lifecycle.close(api, staff, pk)

    assert facility_availability(facility=facility).available == available_after_repayment


def test_nothing_is_drawn_while_a_loan_of_the_company_is_non_performing(
    api, staff, company, product, make_facility
):
    from postloan.models import Loan

    facility = make_facility()
    pk = lifecycle.file_draft(api, staff, company, product)
    lifecycle.walk_to(api, staff, pk, "disbursed")
    Loan.objects.filter(application_id=pk).update(classification="substandard")

    refused = _draw(api(staff["rm"]), facility)

    assert refused.status_code == 409
    assert refused.data["code"] == "classification"


def test_a_drawdown_decision_needs_a_fresh_second_factor(api, staff, make_facility):
    from tests.conftest import api_for

    facility = make_facility(approval=DrawdownApproval.APPROVER)
    drawdown_id = _draw(api(staff["rm"]), facility).data["id"]

    response = api_for(staff["approver"], second_factor=False).post(
        reverse("api-drawdown-decide", args=[drawdown_id]), {"decision": "approve"}, format="json"
    )

    assert response.status_code == 403
    assert Drawdown.objects.get(pk=drawdown_id).status == Drawdown.Status.REQUESTED
