"""Five-category classification: DPD floors applied automatically; other changes need a
proposal by the RM and approval by a different risk officer."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from postloan.daily import daily_run
from postloan.models import ClassificationChange
from tests.postloan.conftest import TODAY

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("dpd", "expected"),
    [
        (0, "normal"),
        (1, "special_mention"),
        (90, "special_mention"),
        (91, "substandard"),
        (270, "substandard"),
        (271, "doubtful"),
        (360, "doubtful"),
        (361, "loss"),
    ],
)
def test_the_days_past_due_floor_sets_the_classification(make_loan, dpd, expected):
    loan = make_loan([(TODAY - timedelta(days=dpd), Decimal("1000.00"), Decimal("0.00"))])
    daily_run(loan_ids=[loan.pk])
    loan.refresh_from_db()
    assert loan.days_past_due == dpd
    assert loan.classification == expected
    changes = ClassificationChange.objects.filter(loan=loan, kind="automatic")
    assert changes.count() == (0 if expected == "normal" else 1)


def test_a_floor_never_improves_a_loan_and_is_audited(make_loan, api, staff):
    loan = make_loan(
        [
            (TODAY - timedelta(days=100), Decimal("1000.00"), Decimal("0.00")),
            (TODAY + timedelta(days=30), Decimal("1000.00"), Decimal("0.00")),
        ]
    )
    daily_run(loan_ids=[loan.pk])
    loan.refresh_from_db()
    assert loan.classification == "substandard"
    assert (
        AuditEvent.objects.filter(
            application=loan.application, action="classification_floor"
        ).count()
        == 1
    )
    response = api(staff["rm"]).post(
        reverse("api-postloan-repayments", args=[loan.application_id]),
        {"amount": "1000.00", "value_date": TODAY.isoformat()},
        format="json",
    )
    assert response.status_code == 201
    loan.refresh_from_db()
    assert loan.days_past_due == 0
    assert loan.classification == "substandard"


def _propose(api, user, loan, to, reason="Cash flow weakening"):
    return api(user).post(
        reverse("api-postloan-classification-propose", args=[loan.application_id]),
        {"to_classification": to, "reason": reason},
        format="json",
    )


def test_a_proposed_change_needs_a_different_approving_user(make_loan, api, staff, head_office):
    from org.roles import Role
    from tests.factories import make_staff

    loan = make_loan([(TODAY + timedelta(days=30), Decimal("1000.00"), Decimal("0.00"))])
    # A risk officer who also holds the RM role proposes; the same person may not approve.
    maker = make_staff(
        [Role.RELATIONSHIP_MANAGER, Role.RISK_OFFICER], head_office, username="nina_both"
    )
    response = _propose(api, maker, loan, "special_mention")
    assert response.status_code == 201, response.data
    change_id = response.data["id"]
    url = reverse("api-postloan-classification-approve", args=[change_id])
    refused = api(maker).post(url, {}, format="json")
    assert refused.status_code == 403
    assert refused.data["code"] == "segregation_of_duties"
    assert AuditEvent.objects.filter(
        application=loan.application, kind="refusal", action="classification_decide"
    ).exists()
    loan.refresh_from_db()
    assert loan.classification == "normal"
    # An RM may not approve at all.
    assert api(staff["rm2"]).post(url, {}, format="json").status_code == 403
    approved = api(staff["risk"]).post(url, {"comment": "Agreed"}, format="json")
    assert approved.status_code == 200, approved.data
    assert approved.data["status"] == "applied"
    loan.refresh_from_db()
    assert loan.classification == "special_mention"
    history = list(
        ClassificationChange.objects.filter(loan=loan).values_list("status", "to_classification")
    )
    assert history == [("applied", "special_mention")]


def test_a_proposal_below_the_floor_is_refused(make_loan, api, staff):
    loan = make_loan([(TODAY - timedelta(days=95), Decimal("1000.00"), Decimal("0.00"))])
    daily_run(loan_ids=[loan.pk])
    response = _propose(api, staff["rm"], loan, "normal")
    assert response.status_code == 400
    assert "to_classification" in response.data


def test_a_risk_officer_can_reject_and_only_one_proposal_waits_at_a_time(make_loan, api, staff):
    loan = make_loan([(TODAY + timedelta(days=30), Decimal("1000.00"), Decimal("0.00"))])
    first = _propose(api, staff["rm"], loan, "substandard")
    assert first.status_code == 201
    assert _propose(api, staff["rm"], loan, "doubtful").status_code == 409
    rejected = api(staff["risk"]).post(
        reverse("api-postloan-classification-reject", args=[first.data["id"]]),
        {"comment": "Not supported by the figures"},
        format="json",
    )
    assert rejected.status_code == 200
    loan.refresh_from_db()
    assert loan.classification == "normal"


def test_a_decided_change_answers_409_and_moves_only_by_its_transitions(make_loan, api, staff):
    from django_fsm import TransitionNotAllowed

    loan = make_loan([(TODAY + timedelta(days=30), Decimal("1000.00"), Decimal("0.00"))])
    proposed = _propose(api, staff["rm"], loan, "substandard")
    reject = reverse("api-postloan-classification-reject", args=[proposed.data["id"]])
    approve = reverse("api-postloan-classification-approve", args=[proposed.data["id"]])
    assert api(staff["risk"]).post(reject, {}, format="json").status_code == 200
    again = api(staff["risk"]).post(approve, {}, format="json")
    assert again.status_code == 409 and again.data["code"] == "already_decided"
    change = ClassificationChange.objects.get(pk=proposed.data["id"])
    with pytest.raises(AttributeError):
        change.status = "applied"
    with pytest.raises(TransitionNotAllowed):
        change.apply(by=staff["risk"], from_classification="normal")
    loan.refresh_from_db()
    assert (change.status, loan.classification) == ("rejected", "normal")
