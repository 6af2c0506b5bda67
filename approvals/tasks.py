"""Thin Celery entry points over approvals.services."""

from celery import shared_task


@shared_task(name="approvals.tasks.fast_track_decide")
def fast_track_decide(application_id: int) -> bool:
    from approvals.services import approval_fast_track_decide

    return approval_fast_track_decide(application_id=application_id)


@shared_task(name="approvals.tasks.release_stale_claims")
def release_stale_claims() -> dict:
    """Every minute (beat): stale claims back to their queue, and fast-track decisions that
    were never taken (broker outage)."""
    from approvals.services import approvals_sweep

    return approvals_sweep()
