from celery import shared_task

from postloan.daily import clocks_catch_up, daily_run


@shared_task(name="postloan.tasks.daily_job")
def daily_job() -> dict:
    """Beat, daily at 01:30: positions, classification floors, inspections, warnings."""
    counts = daily_run()
    # Also picks up inspections whose clock could not be started earlier (broker outage).
    counts["clocks_started"] = clocks_catch_up()
    return counts


@shared_task(name="postloan.tasks.start_missing_clocks")
def start_missing_clocks() -> int:
    """After a daily run that created many inspections: start their SLA clocks in batches."""
    return clocks_catch_up()
