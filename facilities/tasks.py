from celery import shared_task

from facilities.services import facilities_expire


@shared_task(name="facilities.tasks.expire_facilities")
def expire_facilities() -> int:
    """Beat, daily at 00:30: facilities past their expiry expire."""
    return facilities_expire()
