"""The credit committee is the authority to price below the floor: its approval records the
pricing version, and below the floor the figures with its deliberation as the reason."""

from decimal import Decimal

import pytest

from approvals.models import ApprovalTask, ApproverLimit
from audit.models import AuditEvent
from investigation.models import Investigation, Scorecard, ScoreResult
from org.roles import Role
from tests.approvals.test_committee import _to_committee
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


def test_a_committee_approval_below_the_floor_records_the_figures_and_its_reason(
    matrix, in_approval, staff, branch, api, pricing_v1
):
    application = in_approval(amount="1000000", grade="D")
    ScoreResult.objects.create(
        investigation=Investigation.objects.create(application=application),
        application=application,
        scorecard=Scorecard.objects.create(version=1, name="SME v1"),
        scorecard_version=1,
        score=30,
        max_score=100,
        grade="D",
        pd_pct=Decimal("10"),
    )
    ApproverLimit.objects.create(user=staff["approver"], grade="D", max_amount=2_000_000)
    task = _to_committee(api, staff, branch, application)
    chair = staff["committee"]
    members = [make_staff(Role.COMMITTEE_MEMBER, branch, username=f"m{i}") for i in range(2)]
    assert api(chair).post(f"/api/v1/approvals/tasks/{task.pk}/claim/").status_code == 200
    for member in [chair, *members]:
        response = api(member).post(
            f"/api/v1/approvals/tasks/{task.pk}/vote/", {"vote": "approve"}, format="json"
        )
        assert response.status_code == 200, response.data
    response = api(chair).post(
        f"/api/v1/approvals/tasks/{task.pk}/close-vote/",
        {"comment": "Anchor client of the industrial park"},
        format="json",
    )
    assert response.status_code == 200, response.data
    pricing = AuditEvent.objects.get(action="committee_close", subject_id=task.pk).data["pricing"]
    assert pricing["version"] == pricing_v1.number and pricing["below_floor"] is True
    assert "Anchor client of the industrial park" in pricing["reason"]
    assert pricing["figures"]["floor_rate_pct"] == "7.4500"
    # The approvers before the committee passed it on without the authority: only the last
    # step decides the price.
    assert ApprovalTask.objects.get(application=application, step="tier1").decision == "approve"
