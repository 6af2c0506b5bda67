"""A small hand-computed fixture: stage visits with known durations, applications in known
states, so every figure can be checked against numbers worked out by hand."""

from datetime import datetime, timedelta

import pytest
from django.db.models import Max, Q
from django.utils import timezone

from analytics.models import StageVisit
from applications.models import LoanApplication
from audit.services import audit_record
from tests.factories import ApplicationFactory, CompanyFactory

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
    # rework visit of it; and the same over all its stages.
    last = {"left": Max("left_at"), "rework": Max("left_at", filter=Q(is_rework=True))}
    earlier = StageVisit.objects.filter(application=application, left_at__lt=left)
    previous = earlier.filter(stage=stage).aggregate(**last)
    any_stage = earlier.aggregate(**last)
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
        relationship_manager_id=application.relationship_manager_id,
        is_rework=rework,
        actor=actor,
        outcome=outcome,
        previous_left_at=previous["left"],
        previous_rework_left_at=previous["rework"],
        application_previous_left_at=any_stage["left"],
        application_previous_rework_left_at=any_stage["rework"],
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


@pytest.fixture
def history(make_app, staff, other_branch):
    """Applications A-H in Beijing (submitted in November) and E in Shanghai.

    investigation (business h): A 1 (rework), A 2, B 3, C 4, D 10 (rework); calendar = 2x.
    in_approval: A 5, B 7.  One investigation visit of October (100 h) is outside the period.
    """
    rm, rm2 = staff["rm"], staff["rm2"]
    a = make_app(
        "disbursed",
        decided_at=at(2) + timedelta(hours=10),
        disbursed_at=at(2) + timedelta(hours=100),
    )
    b = make_app("approved", decided_at=at(2) + timedelta(hours=20))
    c = make_app(
        "declined",
        decided_at=at(2) + timedelta(hours=30),
        decline_reasons=["low_cash_flow", "incomplete_materials"],
    )
    d = make_app(
        "declined", decided_at=at(2) + timedelta(hours=40), decline_reasons=["low_cash_flow"]
    )
    f = make_app("contract_signed")
    g = make_app("withdrawn")
    h = make_app("in_approval")
    e = make_app(
        "investigation", branch=other_branch, company=CompanyFactory(home_branch=other_branch)
    )
    old = make_app("disbursed", submitted=at(2) - timedelta(days=40))
    make_visit(
        a,
        "investigation",
        1,
        calendar_hours=2,
        left=at(3),
        rework=True,
        actor=rm,
        outcome="info_requested",
    )
    make_visit(a, "investigation", 2, calendar_hours=4, left=at(5), actor=rm)
    make_visit(b, "investigation", 3, calendar_hours=6, left=at(6), actor=rm)
    make_visit(c, "investigation", 4, calendar_hours=8, left=at(7), actor=rm2)
    make_visit(
        d,
        "investigation",
        10,
        calendar_hours=20,
        left=at(8),
        rework=True,
        actor=rm2,
        outcome="info_requested",
    )
    make_visit(a, "in_approval", 5, left=at(9), actor=staff["approver"])
    make_visit(b, "in_approval", 7, left=at(10), actor=staff["approver"])
    make_visit(old, "investigation", 100, left=at(2) - timedelta(days=30), actor=rm)
    make_visit(e, "investigation", 50, left=at(4), actor=rm)
    # The system approved B (fast track): an approve transition without an actor.
    audit_record(
        action="approve", actor=None, application=b, from_state="in_approval", to_state="approved"
    )
    audit_record(
        action="approve",
        actor=staff["approver"],
        application=a,
        from_state="in_approval",
        to_state="approved",
    )
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "g": g, "h": h, "old": old}


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
