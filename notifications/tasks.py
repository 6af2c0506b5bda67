from celery import shared_task

from notifications import services


@shared_task(name="notifications.tasks.send_email", acks_late=True, ignore_result=True)
def send_email(delivery_id: int) -> str:
    """Send one email; a failure is recorded on the delivery and retried by the sweep with
    backoff (no long countdown timers in the broker)."""
    return services.email_delivery_send(delivery_id=delivery_id)


@shared_task(name="notifications.tasks.send_emails", acks_late=True, ignore_result=True)
def send_emails(delivery_ids: list[int]) -> int:
    """Send a batch of emails queued together (one task per notify_many, not one per email).
    Each is sent and recorded on its own, so a failure affects only that delivery, and a
    delivery another worker already sent is skipped. Returns how many were sent."""
    return services.email_deliveries_send(delivery_ids=delivery_ids)


@shared_task(name="notifications.tasks.requeue_undelivered", ignore_result=True)
def requeue_undelivered() -> int:
    return services.email_requeue_undelivered()
