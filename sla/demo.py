"""Default SLA configuration: calendar, working hours and a policy per step."""

from django.utils import timezone

from sla.models import BusinessHours, SlaPolicy

# step: (target, unit, reminder %, second escalation after N business hours)
DEFAULT_POLICIES = {
    "intake_check": (1, "days", 75, 4),
    "investigation": (5, "days", 75, 8),
    "credit_review": (2, "days", 75, 8),
    "tier1": (2, "days", 75, 8),
    "tier2": (3, "days", 75, 8),
    "committee": (5, "days", 80, 16),
    "contract": (5, "days", 75, 8),
    "disbursement": (2, "days", 75, 8),
    "first_check": (10, "days", 75, 16),
    "periodic_inspection": (10, "days", 75, 16),
    "warning_review": (2, "days", 50, 8),
    "classification_review": (5, "days", 75, 16),
    # The regulator expects a complaint answered within 15 days of receipt: 10 working days
    # keeps within that over an ordinary weekend or two.
    "complaint_answer": (10, "days", 50, 8),
    # A change to a live loan (renewal, extension, restructuring, top-up): a light review of
    # what changed since the loan's investigation, and an extension's or restructuring's
    # supplementary agreement (postloan.changes).
    "change_review": (3, "days", 75, 8),
    "change_agreement": (5, "days", 75, 8),
}


def seed() -> None:
    from sla.seeding import seed_calendar

    BusinessHours.objects.get_or_create(region="CN")
    year = timezone.localdate().year
    seed_calendar(years=[year, year + 1])
    for step, (target, unit, reminder, esc2) in DEFAULT_POLICIES.items():
        SlaPolicy.objects.get_or_create(
            step=step,
            product=None,
            defaults={
                "target": target,
                "unit": unit,
                "reminder_percent": reminder,
                "escalation2_after_hours": esc2,
            },
        )


def seed_history(applications) -> None:
    """Start the clock of each demo application's current step at the time it entered that
    status, as the transition would have (idempotent: clock_start is)."""
    from sla.services import APPLICATION, STEP_FOR_STATUS, clock_start

    for application in applications:
        wanted = STEP_FOR_STATUS.get(application.status)
        if not wanted:
            continue
        step, role = wanted
        owner = (
            application.investigator or application.relationship_manager
            if step != "disbursement"
            else None
        )
        clock_start(
            subject_type=APPLICATION,
            subject_id=application.pk,
            step=step,
            application=application,
            owner=owner,
            role=role,
            branch=application.branch,
            started_at=application.status_changed_at,
        )
