"""An approver may approve on other terms: a lower amount, another term or rate within the
product's ranges, said why. Later steps decide on them, the pricing floor is checked on them,
and the application, its offer and schedule take them; the owner sees what changed."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from applications.models import LoanApplication
from approvals.models import ApprovalRecord, ApprovalTask
from audit.models import AuditEvent
from disbursement.models import Offer
from investigation.models import Investigation, Scorecard, ScoreResult
from tests.pricing.conftest import pricing_v1  # noqa: F401

pytestmark = pytest.mark.django_db


def _task(application, step):
    return ApprovalTask.objects.get(
        application=application, step=step, kind="step", status__in=("open", "claimed")
    )


def _decide(api, user, task, **payload):
    return api(user).post(f"/api/v1/approvals/tasks/{task.pk}/decide/", payload, format="json")


@pytest.fixture
def at_tier1(matrix, in_approval, staff, api, company):
    """An application of the owner's company asking 800,000 at 4.35% over 12 months, scored
    with PD 1% (floor 1.95 + 1.0 + 1 x 45% = 3.40%), past credit review, at tier 1."""

    def make(**review):
        application = in_approval(company=company)
        investigation = Investigation.objects.create(application=application)
        scorecard = Scorecard.objects.get_or_create(version=1, defaults={"name": "SME v1"})[0]
        ScoreResult.objects.create(
            investigation=investigation,
            application=application,
            scorecard=scorecard,
            scorecard_version=1,
            score=60,
            max_score=100,
            grade="B",
            pd_pct=Decimal("1"),
        )
        reviewed = _decide(
            api,
            staff["reviewer"],
            _task(application, "credit_review"),
            decision="approve",
            **review,
        )
        assert reviewed.status_code == 200, reviewed.data
        return application

    return make


def test_an_approval_on_a_lower_amount_and_other_term_and_rate_is_what_the_offer_says(
    at_tier1, staff, api, owner, django_capture_on_commit_callbacks
):
    application = at_tier1()
    assert (application.amount, application.term_months) == (Decimal("800000.00"), 12)
    asked_rate = application.interest_rate
    with django_capture_on_commit_callbacks(execute=False):
        response = _decide(
            api,
            staff["approver"],
            _task(application, "tier1"),
            decision="approve",
            comment="Cash flow carries 600K over 24 months, not 800K over 12.",
            amount="600000",
            term_months=24,
            interest_rate="5.1",
        )
    assert response.status_code == 200, response.data
    application = LoanApplication.objects.get(pk=application.pk)
    assert application.status == "approved"
    assert (application.amount, application.term_months, application.interest_rate) == (
        Decimal("600000.00"),
        24,
        Decimal("5.100"),
    )
    assert (application.requested_amount, application.requested_term_months) == (
        Decimal("800000.00"),
        12,
    )
    assert application.requested_interest_rate == asked_rate
    offer = Offer.objects.get(application=application)
    assert (offer.amount, offer.term_months, offer.interest_rate) == (
        Decimal("600000.00"),
        24,
        Decimal("5.100"),
    )
    assert len(offer.schedule) == 24
    assert sum(Decimal(row["principal"]) for row in offer.schedule) == Decimal("600000.00")
    event = AuditEvent.objects.get(
        application=application, action="step_approve", data__step="tier1"
    )
    assert event.data["terms"] == {
        "amount": "600000.00",
        "term_months": 24,
        "interest_rate": "5.100",
    }
    # The owner sees what was asked and what was approved.
    with translation.override(None):
        portal = api(owner).get(reverse("api-portal-application", args=[application.pk]))
    assert portal.status_code == 200, portal.data
    changed = {row["field"]: row for row in portal.data["offer"]["terms_changed"]}
    assert set(changed) == {"amount", "term_months", "interest_rate"}
    assert Decimal(changed["amount"]["asked"]) == Decimal("800000")
    assert Decimal(changed["amount"]["approved"]) == Decimal("600000")


def test_terms_an_approver_may_not_give_are_refused_by_the_field_and_nothing_changes(
    at_tier1, staff, api
):
    application = at_tier1()
    task = _task(application, "tier1")
    cases = [
        ({"amount": "900000", "comment": "More"}, "amount"),
        ({"term_months": 48, "comment": "Longer"}, "term_months"),
        ({"interest_rate": "15", "comment": "Dearer"}, "interest_rate"),
        ({"amount": "700000"}, "comment"),
        (
            {"amount": "700000", "decision": "return_to_investigation", "comment": "Look again"},
            "terms",
        ),
    ]
    for payload, field in cases:
        payload = {"decision": "approve", **payload}
        response = _decide(api, staff["approver"], task, **payload)
        assert response.status_code == 400, (payload, response.data)
        assert field in str(response.data), (payload, response.data)
    application.refresh_from_db()
    assert application.status == "in_approval"
    assert application.requested_amount is None
    assert ApprovalRecord.objects.get(application=application, status="in_progress").terms == {}
    # A bad number is a 400, not a 500.
    response = _decide(api, staff["approver"], task, decision="approve", amount="1e999")
    assert response.status_code == 400


def test_a_later_step_decides_on_the_terms_an_earlier_step_changed(at_tier1, staff, api, client):
    application = at_tier1(amount="500000", comment="Half the stock purchase is enough.")
    record = ApprovalRecord.objects.get(application=application, status="in_progress")
    assert record.terms == {"amount": "500000.00"}
    application.refresh_from_db()
    assert application.amount == Decimal("800000.00")  # the application's, until approved
    task = _task(application, "tier1")
    client.force_login(staff["approver"])
    with translation.override("en"):
        page = client.get(reverse("approvals-task", args=[task.pk]))
    assert 'placeholder="500000.00"' in page.content.decode()
    with translation.override("en"):
        refused = client.post(
            reverse("approvals-task-action", args=[task.pk, "decide"]),
            {"decision": "approve", "amount": "800000", "comment": "Back up"},
        )
    assert refused.status_code == 400
    assert 'id="amount-errors"' in refused.content.decode()
    raised = _decide(
        api, staff["approver"], task, decision="approve", amount="800000", comment="Back up"
    )
    assert raised.status_code == 400 and "amount" in raised.data
    assert _decide(api, staff["approver"], task, decision="approve").status_code == 200
    application.refresh_from_db()
    assert application.status == "approved"
    assert (application.amount, application.requested_amount) == (
        Decimal("500000.00"),
        Decimal("800000.00"),
    )


def test_a_rate_lowered_below_the_floor_needs_the_authority_to_price_below_it(at_tier1, staff, api):
    # Asked 4.35%, above the floor of 3.40%; 3.2% is within the product's range but below it.
    application = at_tier1()
    response = _decide(
        api,
        staff["approver"],
        _task(application, "tier1"),
        decision="approve",
        interest_rate="3.2",
        comment="Match the other bank's rate.",
    )
    assert response.status_code == 403, response.data
    assert response.data["code"] == "below_pricing_floor"
    application.refresh_from_db()
    assert application.status == "in_approval"
