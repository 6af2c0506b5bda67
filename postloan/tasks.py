from celery import shared_task


@shared_task(name="postloan.tasks.daily_job")
def daily_job() -> dict:
    """Beat, daily at 01:30: positions, classification floors, inspections, warnings."""
    from postloan.daily import daily_run

    return daily_run()
