from celery import shared_task

from sla.services import calendar_coverage_warn, sla_sweep


@shared_task(name="sla.tasks.sweep", acks_late=True, ignore_result=True)
def sweep() -> int:
    """Every minute (beat): fire due reminders and escalations. Idempotent."""
    return sla_sweep()


@shared_task(name="sla.tasks.calendar_coverage", ignore_result=True)
def calendar_coverage() -> int:
    """Every morning (beat): warn when this year's or next year's holidays are missing."""
    return len(calendar_coverage_warn())
