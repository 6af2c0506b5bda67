from celery import shared_task

from postloan.daily import clocks_catch_up, daily_job_run


@shared_task(name="postloan.tasks.daily_job")
def daily_job() -> dict:
    """Beat, daily at 01:30: positions, classification floors, inspections, warnings, then
    the owners' repayment reminders (from the positions just computed), then the clocks that
    could not be started earlier (broker outage)."""
    return daily_job_run()


@shared_task(name="postloan.tasks.start_missing_clocks")
def start_missing_clocks() -> int:
    """After a daily run that created many inspections: start their SLA clocks in batches."""
    return clocks_catch_up()


@shared_task(name="postloan.tasks.exposure_snapshot_refresh")
def exposure_snapshot_refresh(snapshot_id: int) -> int | None:
    """After a risk officer's "Refresh now" commits: take the requested exposure snapshot
    (postloan.snapshot)."""
    from postloan.snapshot import exposure_snapshot_refresh_take

    snapshot = exposure_snapshot_refresh_take(snapshot_id=snapshot_id)
    return snapshot.pk if snapshot else None
