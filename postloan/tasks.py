from celery import shared_task
from django.utils import timezone

from postloan.daily import clocks_catch_up, daily_run
from postloan.reminders import repayment_reminders_send


@shared_task(name="postloan.tasks.daily_job")
def daily_job() -> dict:
    """Beat, daily at 01:30: positions, classification floors, inspections, warnings, then
    the owners' repayment reminders (from the positions just computed)."""
    as_of = timezone.localdate()
    counts = daily_run(as_of=as_of)
    counts["reminders_sent"] = repayment_reminders_send(as_of=as_of)
    # Also picks up inspections whose clock could not be started earlier (broker outage).
    counts["clocks_started"] = clocks_catch_up()
    return counts


@shared_task(name="postloan.tasks.start_missing_clocks")
def start_missing_clocks() -> int:
    """After a daily run that created many inspections: start their SLA clocks in batches."""
    return clocks_catch_up()
