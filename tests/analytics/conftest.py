"""A small hand-computed fixture: stage visits with known durations, applications in known
states, so every figure can be checked against numbers worked out by hand."""

from datetime import datetime, timedelta

import pytest
from django.db.models import Max, Q
from django.utils import timezone

from analytics.models import StageVisit
from applications.models import LoanApplication
from tests.factories import ApplicationFactory

HOUR = 3600


def at(day: int, hour: int = 12) -> datetime:
    """A moment in November 2026 (bank time)."""
    return timezone.make_aware(datetime(2026, 11, day, hour, 0))


def make_visit(
    application: LoanApplication,
    stage: str,
    hours: float,
    *,
    left: datetime,
    calendar_hours: float | None = None,
    rework: bool = False,
    actor=None,
    outcome: str = "",
) -> StageVisit:
    calendar_hours = hours if calendar_hours is None else calendar_hours
    # As the service records them: when the application last left this stage, and its last
    # rework visit of it.
    earlier = StageVisit.objects.filter(application=application, stage=stage, left_at__lt=left)
    previous = earlier.aggregate(
        left=Max("left_at"), rework=Max("left_at", filter=Q(is_rework=True))
    )
    return StageVisit.objects.create(
        application=application,
        stage=stage,
        entered_at=left - timedelta(hours=calendar_hours),
        left_at=left,
        business_seconds=int(hours * HOUR),
        calendar_seconds=int(calendar_hours * HOUR),
        business_time_exact=True,
        branch_id=application.branch_id,
        product_id=application.product_id,
        route=application.route_recommendation,
        is_rework=rework,
        actor=actor,
        outcome=outcome,
        previous_left_at=previous["left"],
        previous_rework_left_at=previous["rework"],
    )


@pytest.fixture
def make_app(company, product, staff):
    def make(status: str = "submitted", *, branch=None, submitted=None, **extra):
        kwargs = {
            "company": company,
            "product": product,
            "status": status,
            "filed_by": staff["rm"],
            "relationship_manager": staff["rm"],
            "submitted_at": submitted or at(2),
            **extra,
        }
        if branch is not None:
            kwargs["branch"] = branch
        return ApplicationFactory(**kwargs)

    return make


# The period every figure test asks for: November 2026.
PERIOD = {"date_from": "2026-11-01", "date_to": "2026-11-30"}


def make_metric(
    figure: str,
    perspective: str = "internal_process",
    target="0",
    direction: str = "higher",
    *,
    weight="1",
    order: int = 0,
    code: str | None = None,
):
    """A scorecard metric record following `figure` (as an administrator configures one)."""
    from decimal import Decimal

    from analytics.models import ScorecardMetric

    return ScorecardMetric.objects.create(
        code=code or figure,
        name=figure.replace("_", " "),
        perspective=perspective,
        figure=figure,
        target=Decimal(str(target)),
        direction=direction,
        weight=Decimal(str(weight)),
        order=order,
    )
