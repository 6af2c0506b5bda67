"""The demo's complaints: a dozen over the last three months in every state, with their
trails, loaded once however often the demo is seeded, and counted by the scorecard."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from analytics.models import ScorecardMetric
from audit.models import AuditEvent
from complaints.models import Complaint
from tests.analytics.test_figures import figure

pytestmark = pytest.mark.django_db


def test_the_demo_has_complaints_in_every_state_and_the_scorecard_counts_them():
    call_command("seed_demo", applications=40, strict=True, stdout=StringIO(), stderr=StringIO())
    call_command("seed_demo", applications=40, strict=True, stdout=StringIO(), stderr=StringIO())

    complaints = list(Complaint.objects.all())
    assert len(complaints) == 12
    assert {c.status for c in complaints} == {"received", "acknowledged", "resolved", "rejected"}
    assert {c.channel for c in complaints} >= {"portal", "phone"}
    for c in complaints:
        trail = list(
            AuditEvent.objects.filter(subject_type="complaints.complaint", subject_id=c.pk)
            .order_by("at", "id")
            .values_list("to_state", "at")
        )
        assert trail[0] == ("received", c.received_at)
        assert trail[-1][0] == c.status
        assert c.branch == c.company.home_branch
        assert c.response or c.status in ("received", "acknowledged")
    metric = ScorecardMetric.objects.get(code="complaints")
    assert metric.name == "Complaints received in the period"
    assert metric.name_zh == "本期受理投诉数"

    from django.contrib.auth.models import User

    today = timezone.localdate()
    rows = figure(
        User.objects.get(username="risk"),
        "scorecard",
        date_from=(today - timedelta(days=29)).isoformat(),
        date_to=today.isoformat(),
    )["rows"]
    values = {r["metric"]: r for r in rows}
    recent = [
        c
        for c in complaints
        if timezone.localtime(c.received_at).date() > today - timedelta(days=29)
    ]
    assert values["complaints"]["value"] == len(recent) > 0
    assert values["complaint_hours_median"]["value"] is not None
