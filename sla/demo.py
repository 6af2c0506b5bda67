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
}


def seed() -> None:
    from sla.seeding import seed_calendar

    BusinessHours.objects.get_or_create(region="CN")
    year = timezone.localdate().year
    seed_calendar(years=[year, year + 1])
    for step, (target, unit, reminder, esc2) in DEFAULT_POLICIES.items():
        SlaPolicy.objects.get_or_create(
            step=step, product=None,
            defaults={"target": target, "unit": unit, "reminder_percent": reminder,
                      "escalation2_after_hours": esc2},
        )
