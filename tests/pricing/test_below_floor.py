"""Approving a proposed rate below the pricing floor needs the authority for it (403
without) and a reason (400 without), both on the record with the pricing version; a rate at
or above the floor needs neither, and every approval names the version it was priced with."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from approvals.models import ApprovalTask
from audit.models import AuditEvent
from intake.models import Collateral
from investigation.models import Investigation, Scorecard, ScoreResult
from pricing.models import PricingVersion
from tests.second_factor import mark_verified

pytestmark = pytest.mark.django_db


def _task(application, step):
    return ApprovalTask.objects.get(
        application=application, step=step, kind="step", status__in=("open", "claimed")
    )


def _decide(api, user, task, **payload):
    return api(user).post(f"/api/v1/approvals/tasks/{task.pk}/decide/", payload, format="json")


@pytest.fixture
def priced(matrix, in_approval, staff, api):
    """priced(pd=..., collateral=...): an application at 4.35% for 800,000 over 12 months,
    scored with that PD, past credit review and waiting at tier 1 (its last step)."""

    def make(pd, collateral=None):
        application = in_approval()
        investigation = Investigation.objects.create(application=application)
        scorecard = Scorecard.objects.get_or_create(version=1, defaults={"name": "SME v1"})[0]
        ScoreResult.objects.create(
            investigation=investigation,
            application=application,
            scorecard=scorecard,
            scorecard_version=1,
            score=40,
            max_score=100,
            grade="B",
            pd_pct=Decimal(pd),
        )
        if collateral:
            Collateral.objects.create(
                application=application,
                kind="real_estate",
                description="Workshop",
                declared_value=Decimal(collateral),
                valuation=Decimal(collateral),
                valuation_date=date(2026, 11, 1),
                haircut_pct=Decimal("0"),
            )
        reviewed = _decide(
            api, staff["reviewer"], _task(application, "credit_review"), decision="approve"
        )
        assert reviewed.status_code == 200, reviewed.data
        return application

    return make


def _grant_below_floor(role: str) -> None:
    Group.objects.get(name=role).permissions.add(
        Permission.objects.get(content_type__app_label="pricing", codename="approve_below_floor")
    )


def test_a_rate_below_the_floor_without_the_authority_is_forbidden(priced, staff, api):
    # Floor: 1.95 (12 months) + 1.0 + 10 x 45% = 7.45% > 4.35%.
    application = priced(pd="10")
    task = _task(application, "tier1")
    response = _decide(
        api, staff["approver"], task, decision="approve", below_floor_reason="Strategic client"
    )
    assert response.status_code == 403, response.data
    assert response.data["code"] == "below_pricing_floor"
    assert "7.4500" in response.data["detail"]
    assert _task(application, "tier1").status in ("open", "claimed")
    application.refresh_from_db()
    assert application.status == "in_approval"


def test_a_rate_below_the_floor_without_a_reason_is_refused_by_the_field(priced, staff, api):
    _grant_below_floor("approver")
    application = priced(pd="10")
    response = _decide(api, staff["approver"], _task(application, "tier1"), decision="approve")
    assert response.status_code == 400
    assert "below_floor_reason" in str(response.data)
    application.refresh_from_db()
    assert application.status == "in_approval"


def test_a_rate_below_the_floor_with_authority_and_reason_is_approved_and_recorded(
    priced, staff, api
):
    _grant_below_floor("approver")
    application = priced(pd="10")
    task = _task(application, "tier1")
    response = _decide(
        api,
        staff["approver"],
        task,
        decision="approve",
        below_floor_reason="Whole payroll moves to us; priced on the relationship.",
    )
    assert response.status_code == 200, response.data
    application.refresh_from_db()
    assert application.status == "approved"
    version = PricingVersion.objects.get(is_active=True)
    event = AuditEvent.objects.get(action="step_approve", data__step="tier1")
    pricing = event.data["pricing"]
    assert pricing["version"] == version.number
    assert pricing["below_floor"] is True
    assert pricing["reason"] == "Whole payroll moves to us; priced on the relationship."
    assert pricing["figures"]["floor_rate_pct"] == "7.4500"
    assert pricing["figures"]["proposed_rate_pct"] == "4.350"


def test_a_rate_at_or_above_the_floor_needs_no_reason_and_records_the_version(priced, staff, api):
    # Floor: 1.95 + 1.0 + 0.5 x 45% = 3.175% < 4.35%.
    application = priced(pd="0.5")
    response = _decide(api, staff["approver"], _task(application, "tier1"), decision="approve")
    assert response.status_code == 200, response.data
    version = PricingVersion.objects.get(is_active=True)
    for step in ("credit_review", "tier1"):
        event = AuditEvent.objects.get(action="step_approve", data__step=step)
        assert event.data["pricing"] == {"version": version.number}


def test_collateral_that_brings_the_floor_under_the_rate_needs_no_authority(priced, staff, api):
    # Unsecured the floor would be 1.95 + 1.0 + 5 x 45% = 5.20% > 4.35%; fully secured it is
    # 2.95%.
    application = priced(pd="5", collateral="800000")
    response = _decide(api, staff["approver"], _task(application, "tier1"), decision="approve")
    assert response.status_code == 200, response.data


def test_the_page_asks_for_the_reason_and_shows_the_refusal_by_the_field(priced, staff, client):
    _grant_below_floor("approver")
    application = priced(pd="10")
    task = _task(application, "tier1")
    client.force_login(staff["approver"])
    mark_verified(client, staff["approver"])
    page = client.get(reverse("approvals-task", args=[task.pk])).content.decode()
    assert 'name="below_floor_reason"' in page
    refused = client.post(
        reverse("approvals-task-action", args=[task.pk, "decide"]), {"decision": "approve"}
    )
    assert refused.status_code == 400
    assert 'id="below-floor-reason-errors"' in refused.content.decode()
