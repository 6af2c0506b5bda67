"""Enqueue Celery tasks after commit without ever failing or hanging a request.

The database is the source of truth: every task enqueued here must be re-creatable by a sweep
(email deliveries are re-queued by `notifications.tasks.requeue_undelivered`, SLA deadlines
live in the database). So when the broker is down we log and move on.
"""

import logging

from django.db import transaction

logger = logging.getLogger("common.queue")

# Publisher policy: one quick retry, then give up (the sweep picks the work up later).
# The socket timeouts themselves are CELERY_BROKER_TRANSPORT_OPTIONS (settings).
PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}


def enqueue_now(task, *args, **kwargs) -> bool:
    """Publish `task` now; True if the broker accepted it, False (logged) if not."""
    try:
        task.apply_async(args=args, kwargs=kwargs, retry=True, retry_policy=PUBLISH_RETRY_POLICY)
    except Exception as exc:  # noqa: BLE001 - any broker error (kombu, redis, OSError)
        logger.warning(
            "Could not enqueue %s%r: %s; a sweep will pick the work up.",
            getattr(task, "name", task),
            args,
            exc,
        )
        return False
    return True


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Schedule `task.apply_async(args, kwargs)` after the current transaction commits
    (immediately outside a transaction). Never raises when the broker is unavailable."""
    transaction.on_commit(lambda: enqueue_now(task, *args, **kwargs))
