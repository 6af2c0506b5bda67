from celery import shared_task

from sla.services import sla_sweep


@shared_task(name="sla.tasks.sweep", acks_late=True, ignore_result=True)
def sweep() -> int:
    """Every minute (beat): fire due reminders and escalations. Idempotent."""
    return sla_sweep()
