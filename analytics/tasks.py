from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from analytics.services import loan_month_ends_record


@shared_task(name="analytics.tasks.record_loan_month_ends")
def record_loan_month_ends() -> int:
    """Beat, monthly on the 1st at 02:30: every loan's position at the month just ended."""
    last_month_end = timezone.localdate().replace(day=1) - timedelta(days=1)
    return loan_month_ends_record(month_end=last_month_end)
